package native

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/native/rtpengine"
)

// bridge is a mediacore bridge on an engine bridge.
type bridge struct {
	id  mediacore.BridgeID
	eb  *rtpengine.Bridge
	rec mediacore.RecordingID // guarded by Backend.mu
	// members and their roles, for Bridges; guarded by Backend.mu.
	members map[mediacore.ChannelID]mediacore.Member
}

// setMember records (or with m == nil forgets) a member of br.
func (b *Backend) setMember(br *bridge, ch mediacore.ChannelID, m *mediacore.Member) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m == nil {
		delete(br.members, ch)
		return
	}
	br.members[ch] = *m
}

// playback maps a mediacore playback to the engine's.
type playback struct {
	id     mediacore.PlaybackID
	engine rtpengine.PlaybackID
	ch     *channel // nil for a bridge playback
	br     *bridge
}

// recording is one recording file.
type recording struct {
	id   mediacore.RecordingID
	path string
	file *os.File
	rec  *rtpengine.Recording
	ch   *channel
	br   *bridge
}

// Play implements mediacore.Backend.
func (b *Backend) Play(ctx context.Context, t mediacore.Target, req mediacore.PlayRequest) (mediacore.PlaybackID, error) {
	src, err := b.source(ctx, req.Media)
	if err != nil {
		return "", err
	}
	id := req.ID
	if id == "" {
		id = mediacore.PlaybackID(newID("pb-"))
	}
	pb := &playback{id: id}
	// b.mu is held across the engine call so the PlaybackFinished event
	// (which looks the playback up under b.mu) cannot overtake the mapping.
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.playbacks[id]; dup {
		return "", fmt.Errorf("%w: playback %s exists", mediacore.ErrInvalidArgument, id)
	}
	switch {
	case t.Channel != "":
		c := b.channels[t.Channel]
		if c == nil {
			return "", fmt.Errorf("%w: %s", mediacore.ErrNoSuchChannel, t.Channel)
		}
		pb.ch = c
		pb.engine, err = c.leg.Play(src, req.Loop)
	default:
		br := b.bridges[t.Bridge]
		if br == nil {
			return "", fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, t.Bridge)
		}
		pb.br = br
		pb.engine, err = br.eb.Play(src, req.Loop)
	}
	if err != nil {
		gone := mediacore.ErrNoSuchChannel
		if pb.br != nil {
			gone = mediacore.ErrNoSuchBridge
		}
		return "", engineErr("play", err, gone)
	}
	b.playbacks[id] = pb
	b.enginePB[pb.engine] = pb
	return id, nil
}

func (b *Backend) finishPlayback(id rtpengine.PlaybackID) *playback {
	b.mu.Lock()
	defer b.mu.Unlock()
	pb := b.enginePB[id]
	if pb != nil {
		delete(b.enginePB, id)
		delete(b.playbacks, pb.id)
	}
	return pb
}

// StopPlayback implements mediacore.Backend.
func (b *Backend) StopPlayback(ctx context.Context, id mediacore.PlaybackID) error {
	b.mu.Lock()
	pb := b.playbacks[id]
	b.mu.Unlock()
	if pb == nil {
		return fmt.Errorf("%w: %s", mediacore.ErrNoSuchPlayback, id)
	}
	var err error
	if pb.ch != nil {
		err = pb.ch.leg.StopPlayback(pb.engine)
	} else {
		err = pb.br.eb.StopPlayback(pb.engine)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %w", mediacore.ErrNoSuchPlayback, id, err)
	}
	return nil
}

// recordMode maps a request to what the engine writes: a channel's mono
// recording holds both directions mixed, or one of them (Source); a
// bridge's mono recording is its mix.
func recordMode(t mediacore.Target, req mediacore.RecordRequest) rtpengine.RecordMode {
	switch {
	case req.Stereo:
		return rtpengine.RecordStereo
	case t.Channel == "":
		return rtpengine.RecordReceived
	case req.Source == mediacore.RecordRead:
		return rtpengine.RecordReceived
	case req.Source == mediacore.RecordWrite:
		return rtpengine.RecordSent
	}
	return rtpengine.RecordMixed
}

// Record implements mediacore.Backend. Files go under RecordingsDir; a
// channel recording in stereo has what the channel said on the left and
// what it heard on the right; in mono both mixed, or one direction
// (RecordRequest.Source). A channel or bridge records one file at a time:
// a second Record gives ErrChannelState and leaves the first untouched.
func (b *Backend) Record(ctx context.Context, t mediacore.Target, req mediacore.RecordRequest) (mediacore.RecordingID, error) {
	if req.Source < mediacore.RecordBoth || req.Source > mediacore.RecordWrite {
		return "", fmt.Errorf("%w: record source %d", mediacore.ErrInvalidArgument, req.Source)
	}
	id := req.ID
	if id == "" {
		id = mediacore.RecordingID(newID("rec-"))
	}
	name := req.Name
	if name == "" {
		name = time.Now().UTC().Format("2006/01/02/") + string(id) + ".wav"
	}
	path := filepath.Join(b.cfg.RecordingsDir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", fileErr("recording dir", err)
	}
	r := &recording{id: id, path: path}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.recordings[id]; dup {
		return "", fmt.Errorf("%w: recording %s exists", mediacore.ErrInvalidArgument, id)
	}
	if _, dup := b.finished.paths[id]; dup {
		return "", fmt.Errorf("%w: recording %s exists", mediacore.ErrInvalidArgument, id)
	}
	var c *channel
	var br *bridge
	if t.Channel != "" {
		if c = b.channels[t.Channel]; c == nil {
			return "", fmt.Errorf("%w: %s", mediacore.ErrNoSuchChannel, t.Channel)
		}
	} else if br = b.bridges[t.Bridge]; br == nil {
		return "", fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, t.Bridge)
	}
	// Claim the target's recording slot first: the engine refuses a
	// second recording too, but the slot names the recording whose
	// RecordingFinished the engine will raise, and must not be lost.
	var busy mediacore.RecordingID
	if c != nil {
		c.mu.Lock()
		if busy = c.rec; busy == "" {
			c.rec = id
		}
		c.mu.Unlock()
	} else if busy = br.rec; busy == "" {
		br.rec = id
	}
	if busy != "" {
		return "", fmt.Errorf("%w: %s%s is already recording (%s)", mediacore.ErrChannelState, t.Channel, t.Bridge, busy)
	}
	release := func() {
		if c != nil {
			c.mu.Lock()
			if c.rec == id {
				c.rec = ""
			}
			c.mu.Unlock()
		} else if br.rec == id {
			br.rec = ""
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		release()
		return "", fileErr("recording file", err)
	}
	r.file, r.ch, r.br = f, c, br
	if c != nil {
		r.rec, err = c.leg.RecordMode(f, recordMode(t, req))
	} else {
		r.rec, err = br.eb.Record(f, req.Stereo)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		release()
		gone := mediacore.ErrNoSuchChannel
		if br != nil {
			gone = mediacore.ErrNoSuchBridge
		}
		return "", engineErr("record", err, gone)
	}
	b.recordings[id] = r
	return id, nil
}

// finishRecording closes a finished recording's file (synced to disk).
func (b *Backend) finishRecording(id mediacore.RecordingID, e rtpengine.RecordingFinished) *recording {
	if id == "" {
		return nil
	}
	b.mu.Lock()
	r := b.recordings[id]
	delete(b.recordings, id)
	b.mu.Unlock()
	if r == nil {
		return nil
	}
	if err := r.file.Sync(); err != nil {
		b.log.Warn("recording sync", "recording", id, "err", err)
	}
	if err := r.file.Close(); err != nil {
		b.log.Warn("recording close", "recording", id, "err", err)
	}
	b.mu.Lock()
	b.finished.add(id, r.path)
	b.mu.Unlock()
	return r
}

func (b *Backend) recording(id mediacore.RecordingID) (*recording, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.recordings[id]
	if r == nil {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchRecording, id)
	}
	return r, nil
}

// PauseRecording implements mediacore.Backend.
func (b *Backend) PauseRecording(ctx context.Context, id mediacore.RecordingID) error {
	r, err := b.recording(id)
	if err != nil {
		return err
	}
	r.rec.Pause()
	return nil
}

// ResumeRecording implements mediacore.Backend.
func (b *Backend) ResumeRecording(ctx context.Context, id mediacore.RecordingID) error {
	r, err := b.recording(id)
	if err != nil {
		return err
	}
	r.rec.Resume()
	return nil
}

// StopRecording implements mediacore.Backend. RecordingFinished follows
// from the engine.
func (b *Backend) StopRecording(ctx context.Context, id mediacore.RecordingID) error {
	r, err := b.recording(id)
	if err != nil {
		return err
	}
	if _, err := r.rec.Stop(); err != nil {
		// ErrClosed: it finished meanwhile. Anything else is a write or
		// sync failure, also reported in RecordingFinished.Err.
		return engineErr("stop recording", err, mediacore.ErrNoSuchRecording)
	}
	return nil
}

// CreateBridge implements mediacore.Backend.
func (b *Backend) CreateBridge(ctx context.Context, id mediacore.BridgeID) error {
	if err := b.ready(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return mediacore.ErrClosed
	}
	if _, dup := b.bridges[id]; dup {
		return fmt.Errorf("%w: bridge %s exists", mediacore.ErrInvalidArgument, id)
	}
	br := &bridge{id: id, eb: b.eng.NewBridge(string(id)), members: map[mediacore.ChannelID]mediacore.Member{}}
	br.eb.OnEvent(func(ev rtpengine.LegEvent) { b.onBridgeEvent(br, ev) })
	b.bridges[id] = br
	return nil
}

func (b *Backend) onBridgeEvent(br *bridge, ev rtpengine.LegEvent) {
	emit := func(e mediacore.Event) {
		e.Bridge = br.id
		e.Time = time.Now()
		b.emit(e)
	}
	switch e := ev.(type) {
	case rtpengine.PlaybackFinished:
		if pb := b.finishPlayback(e.ID); pb != nil {
			emit(mediacore.Event{Type: mediacore.EventPlaybackFinished, Playback: pb.id})
		}
	case rtpengine.RecordingFinished:
		b.mu.Lock()
		id := br.rec
		br.rec = ""
		b.mu.Unlock()
		if r := b.finishRecording(id, e); r != nil {
			emit(mediacore.Event{Type: mediacore.EventRecordingFinished, Recording: r.id, Path: r.path, Duration: e.Duration, Err: errString(e.Err)})
		}
	}
}

func engineRole(r mediacore.Role) rtpengine.Role {
	switch r {
	case mediacore.RoleListen:
		return rtpengine.ListenOnly
	case mediacore.RoleWhisper:
		return rtpengine.Whisper
	}
	return rtpengine.Speak
}

// memberArgs resolves a bridge, a channel and its whisper target.
func (b *Backend) memberArgs(bid mediacore.BridgeID, cid mediacore.ChannelID, m mediacore.Member) (*bridge, *channel, *channel, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.bridges[bid]
	if br == nil {
		return nil, nil, nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, bid)
	}
	c := b.channels[cid]
	if c == nil {
		return nil, nil, nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchChannel, cid)
	}
	var to *channel
	if m.Role == mediacore.RoleWhisper {
		if to = b.channels[m.WhisperTo]; to == nil {
			return nil, nil, nil, fmt.Errorf("%w: whisper target %s", mediacore.ErrNoSuchChannel, m.WhisperTo)
		}
	}
	return br, c, to, nil
}

// AddToBridge implements mediacore.Backend.
func (b *Backend) AddToBridge(ctx context.Context, bid mediacore.BridgeID, cid mediacore.ChannelID, m mediacore.Member) error {
	br, c, to, err := b.memberArgs(bid, cid, m)
	if err != nil {
		return err
	}
	if c.getState() != stateUp {
		return fmt.Errorf("%w: %s is not answered", mediacore.ErrChannelState, cid)
	}
	c.mu.Lock()
	cur := c.bridge
	c.mu.Unlock()
	if cur == bid {
		return b.SetMemberRole(ctx, bid, cid, m)
	}
	if cur != "" {
		if err := b.RemoveFromBridge(ctx, cur, cid); err != nil {
			return err
		}
	}
	var toLeg *rtpengine.Leg
	if to != nil {
		toLeg = to.leg
	}
	if err := br.eb.Add(c.leg, engineRole(m.Role), toLeg); err != nil {
		return engineErr("add to bridge", err, mediacore.ErrNoSuchBridge)
	}
	c.mu.Lock()
	c.bridge = bid
	c.mu.Unlock()
	b.setMember(br, cid, &m)
	c.emit(mediacore.Event{Type: mediacore.EventBridgeJoined, Bridge: bid, Member: m})
	return nil
}

// SetMemberRole implements mediacore.Backend.
func (b *Backend) SetMemberRole(ctx context.Context, bid mediacore.BridgeID, cid mediacore.ChannelID, m mediacore.Member) error {
	br, c, to, err := b.memberArgs(bid, cid, m)
	if err != nil {
		return err
	}
	var toLeg *rtpengine.Leg
	if to != nil {
		toLeg = to.leg
	}
	if err := br.eb.SetRole(c.leg, engineRole(m.Role), toLeg); err != nil {
		return engineErr("set member role", err, mediacore.ErrNoSuchBridge)
	}
	b.setMember(br, cid, &m)
	return nil
}

// RemoveFromBridge implements mediacore.Backend.
func (b *Backend) RemoveFromBridge(ctx context.Context, bid mediacore.BridgeID, cid mediacore.ChannelID) error {
	br, c, _, err := b.memberArgs(bid, cid, mediacore.Member{Role: mediacore.RoleSpeak})
	if err != nil {
		return err
	}
	if err := br.eb.Remove(c.leg); err != nil {
		return engineErr("remove from bridge", err, mediacore.ErrNoSuchBridge)
	}
	c.mu.Lock()
	if c.bridge == bid {
		c.bridge = ""
	}
	c.mu.Unlock()
	b.setMember(br, cid, nil)
	c.emit(mediacore.Event{Type: mediacore.EventBridgeLeft, Bridge: bid})
	return nil
}

// DestroyBridge implements mediacore.Backend.
func (b *Backend) DestroyBridge(ctx context.Context, bid mediacore.BridgeID) error {
	b.mu.Lock()
	br := b.bridges[bid]
	delete(b.bridges, bid)
	var members []*channel
	for _, c := range b.channels {
		members = append(members, c)
	}
	b.mu.Unlock()
	if br == nil {
		return fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, bid)
	}
	var left []*channel
	for _, c := range members {
		c.mu.Lock()
		if c.bridge == bid {
			c.bridge = ""
			left = append(left, c)
		}
		c.mu.Unlock()
	}
	br.eb.Close()
	b.mu.Lock()
	clear(br.members)
	b.mu.Unlock()
	for _, c := range left {
		c.emit(mediacore.Event{Type: mediacore.EventBridgeLeft, Bridge: bid})
	}
	return nil
}

// Hold implements mediacore.Backend: re-INVITE with a=sendonly (RFC 3264
// §8.4), then music into the held leg (in a bridge the engine gives a
// SendOnly leg only its own playback). The music is loaded before the
// re-INVITE, and a failure to start it takes the far end off hold again,
// so an error always leaves the channel as it was and Hold is emitted only
// on success.
func (b *Backend) Hold(ctx context.Context, id mediacore.ChannelID, music *mediacore.Media) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	if c.getState() != stateUp {
		return fmt.Errorf("%w: %s not answered", mediacore.ErrChannelState, id)
	}
	var src audio.Source
	if music != nil {
		if src, err = b.source(ctx, []mediacore.Media{*music}); err != nil {
			return fmt.Errorf("hold music: %w", err)
		}
	}
	c.mu.Lock()
	already := c.held
	c.held = true
	c.mu.Unlock()
	if already {
		return nil
	}
	undo := func() {
		c.mu.Lock()
		c.held = false
		c.mu.Unlock()
	}
	if err := b.reinvite(ctx, c, dirSendOnly); err != nil {
		undo()
		return sipErr("hold", err)
	}
	if src != nil {
		pbID, err := c.leg.Play(src, true)
		if err != nil {
			undo()
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if rerr := b.reinvite(rctx, c, dirSendRecv); rerr != nil {
				b.log.Warn("hold: resuming after failed music", "channel", id, "err", rerr)
			}
			cancel()
			return engineErr("hold music", err, mediacore.ErrNoSuchChannel)
		}
		c.mu.Lock()
		c.holdPB = pbID
		c.mu.Unlock()
	}
	c.emit(mediacore.Event{Type: mediacore.EventHold})
	return nil
}

// Unhold implements mediacore.Backend.
func (b *Backend) Unhold(ctx context.Context, id mediacore.ChannelID) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	held, pb := c.held, c.holdPB
	c.held, c.holdPB = false, 0
	c.mu.Unlock()
	if !held {
		return nil
	}
	if pb != 0 {
		_ = c.leg.StopPlayback(pb)
	}
	if err := b.reinvite(ctx, c, dirSendRecv); err != nil {
		return sipErr("unhold", err)
	}
	c.emit(mediacore.Event{Type: mediacore.EventUnhold})
	return nil
}
