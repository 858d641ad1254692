package asterisk

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"hotline/mediacore"
)

// Recordings. A channel is recorded through a snoop channel (ARI refuses
// to record a bridged channel directly): spy=both for RecordBoth, in for
// RecordRead (what the far end sends), out for RecordWrite (what it
// hears). Asterisk records mono only, so the adapter does not claim
// StereoRecorder: Core records Read and Write separately and assembles
// the stereo file. A bridge is recorded with bridges/{id}/record.
// PauseRecording uses ARI's mute (Asterisk writes silence while muted),
// not its pause (which writes nothing, shortening the file). The audio
// is fetched over ARI (GET /recordings/stored/{name}/file), never from a
// shared disk. While a recording hears a channel's "in" direction (both,
// read), tones played to the channel are files, not tone: URIs, which
// would silence that direction (tone.go).

type recording struct {
	id       string
	name     string // ARI recording name (flat)
	snoop    string // snoop channel, "" for bridges
	hearsIn  bool   // counted in its channel's recIn (spy both or in)
	target   mediacore.Target
	started  time.Time
	finished bool
	dur      time.Duration
}

// recName turns a RecordRequest.Name ("calls/x.wav") into a flat ARI
// recording name ("calls_x"); empty: "hotline-<id>".
func recName(req mediacore.RecordRequest) (string, error) {
	if req.Name == "" {
		return "hotline-" + string(req.ID), nil
	}
	n := strings.TrimSuffix(req.Name, ".wav")
	if !isPath(n) {
		return "", fmt.Errorf("%w: recording name %q", mediacore.ErrInvalidArgument, req.Name)
	}
	return strings.ReplaceAll(n, "/", "_"), nil
}

// Record starts a recording; RecordingFinished follows StopRecording or
// the target's end.
func (b *Backend) Record(ctx context.Context, t mediacore.Target, req mediacore.RecordRequest) (mediacore.RecordingID, error) {
	if req.ID == "" {
		req.ID = mediacore.RecordingID(mediacore.NewID("rec"))
	}
	if err := mediacore.ValidateID(string(req.ID)); err != nil {
		return "", err
	}
	if req.Stereo {
		return "", fmt.Errorf("%w: Asterisk records mono (Core assembles stereo from two directions)", mediacore.ErrNotSupported)
	}
	spy := map[mediacore.RecordSource]string{mediacore.RecordBoth: "both", mediacore.RecordRead: "in", mediacore.RecordWrite: "out"}[req.Source]
	if spy == "" {
		return "", fmt.Errorf("%w: record source %d", mediacore.ErrInvalidArgument, req.Source)
	}
	name, err := recName(req)
	if err != nil {
		return "", err
	}
	path, err := b.targetPath(t)
	if err != nil {
		return "", err
	}
	r := &recording{id: string(req.ID), name: name, target: t}
	b.mu.Lock()
	if b.recs[r.id] != nil || b.recByName[name] != nil {
		b.mu.Unlock()
		return "", fmt.Errorf("%w: recording %s exists", mediacore.ErrInvalidArgument, r.id)
	}
	b.recs[r.id] = r
	b.recByName[name] = r
	if t.Channel != "" {
		r.snoop = helperPrefix + "rec-" + r.id
		b.helpers[r.snoop] = true
		// Counted before the snoop exists, so a tone started from now on
		// is a file (a tone: URI would silence the recording's caller),
		// and one playing goes on as a file (see waitItem).
		if c := b.chans[string(t.Channel)]; c != nil && spy != "out" {
			c.recIn++
			r.hearsIn = true
			for _, p := range b.playbacks {
				if p.target.Channel == t.Channel {
					select {
					case p.reroute <- struct{}{}:
					default:
					}
				}
			}
		}
	}
	b.mu.Unlock()
	fail := func(err error, notFound error) (mediacore.RecordingID, error) {
		b.mu.Lock()
		delete(b.recs, r.id)
		delete(b.recByName, name)
		b.unhearLocked(r)
		b.mu.Unlock()
		if r.snoop != "" {
			b.cleanupHelpers([]string{r.snoop})
		}
		return "", ariErr(err, notFound)
	}
	q := url.Values{"name": {name}, "format": {"wav"}, "ifExists": {"overwrite"}}
	if r.snoop != "" {
		wait := b.expectStasis(r.snoop)
		if err := b.ari.do(ctx, "POST", path+"/snoop", url.Values{"spy": {spy}, "whisper": {"none"}, "app": {b.cfg.App}, "snoopId": {r.snoop}}, nil, nil); err != nil {
			b.forgetStasis(r.snoop)
			return fail(err, mediacore.ErrNoSuchChannel)
		}
		if err := b.waitStasis(ctx, r.snoop, wait); err != nil {
			return fail(err, mediacore.ErrNoSuchChannel)
		}
		path = "/channels/" + seg(r.snoop)
	}
	b.mu.Lock()
	r.started = time.Now()
	b.mu.Unlock()
	if err := b.ari.do(ctx, "POST", path+"/record", q, nil, nil); err != nil {
		if t.Bridge != "" {
			return fail(err, mediacore.ErrNoSuchBridge)
		}
		return fail(err, mediacore.ErrNoSuchChannel)
	}
	return req.ID, nil
}

func (b *Backend) liveRec(id mediacore.RecordingID) (*recording, error) {
	if err := mediacore.ValidateID(string(id)); err != nil {
		return nil, err
	}
	if err := b.ready(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.recs[string(id)]
	if r == nil || r.finished {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchRecording, id)
	}
	return r, nil
}

func (b *Backend) recOp(ctx context.Context, id mediacore.RecordingID, method, op string) error {
	r, err := b.liveRec(id)
	if err != nil {
		return err
	}
	return ariErr(b.ari.do(ctx, method, "/recordings/live/"+seg(r.name)+op, nil, nil, nil), mediacore.ErrNoSuchRecording)
}

// PauseRecording mutes the recording: Asterisk writes silence.
func (b *Backend) PauseRecording(ctx context.Context, id mediacore.RecordingID) error {
	return b.recOp(ctx, id, "POST", "/mute")
}

// ResumeRecording unmutes it.
func (b *Backend) ResumeRecording(ctx context.Context, id mediacore.RecordingID) error {
	return b.recOp(ctx, id, "DELETE", "/mute")
}

// StopRecording stops it; RecordingFinished follows.
func (b *Backend) StopRecording(ctx context.Context, id mediacore.RecordingID) error {
	return b.recOp(ctx, id, "POST", "/stop")
}

// onRecordingEnd reports a finished (or failed) recording and hangs up
// its snoop channel.
func (b *Backend) onRecordingEnd(name, cause string) {
	b.mu.Lock()
	r := b.recByName[name]
	if r == nil || r.finished {
		b.mu.Unlock()
		return
	}
	r.finished = true
	r.dur = time.Since(r.started)
	b.unhearLocked(r)
	ev := mediacore.Event{Type: mediacore.EventRecordingFinished, Recording: mediacore.RecordingID(r.id),
		Path: r.name, Duration: r.dur, Err: cause}
	snoop := r.snoop
	b.mu.Unlock()
	if snoop != "" {
		b.cleanupHelpers([]string{snoop})
	}
	if r.target.Bridge != "" {
		ev.Bridge = r.target.Bridge
		b.emit(ev)
		return
	}
	b.channelEvent(string(r.target.Channel), ev)
}

// unhearLocked uncounts r from its channel's recIn (once); b.mu held.
func (b *Backend) unhearLocked(r *recording) {
	if !r.hearsIn {
		return
	}
	r.hearsIn = false
	if c := b.chans[string(r.target.Channel)]; c != nil {
		c.recIn--
	}
}

// hearsIn says whether a recording hears ch's "in" direction.
func (b *Backend) hearsIn(ch mediacore.ChannelID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.chans[string(ch)]
	return c != nil && c.recIn > 0
}

// OpenRecording streams a finished recording's WAV from ARI.
func (b *Backend) OpenRecording(ctx context.Context, id mediacore.RecordingID) (io.ReadCloser, error) {
	if err := mediacore.ValidateID(string(id)); err != nil {
		return nil, err
	}
	if err := b.ready(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	r := b.recs[string(id)]
	b.mu.Unlock()
	if r == nil || !r.finished {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchRecording, id)
	}
	rc, err := b.ari.open(ctx, "GET", "/recordings/stored/"+seg(r.name)+"/file", nil, nil)
	if err != nil {
		return nil, ariErr(err, mediacore.ErrNoSuchRecording)
	}
	return rc, nil
}
