package mediacore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"hotline/mediacore/audio"
)

// Synthesizer renders text to speech for nodes whose backend does not
// (see Options.TTS and Core.Play).
type Synthesizer interface {
	// Synthesize returns a mono WAV (16-bit PCM or G.711 at 8 kHz, or
	// 16-bit PCM at 16 kHz) speaking text with voice ("" for the default
	// voice). It must return when ctx is done.
	Synthesize(ctx context.Context, voice, text string) ([]byte, error)
}

// TTSMediaName is the media name a TTS prompt is uploaded under:
// "tts/<hex sha256 of voice, NUL, text>.wav".
func TTSMediaName(voice, text string) string {
	sum := sha256.Sum256([]byte(voice + "\x00" + text))
	return "tts/" + hex.EncodeToString(sum[:]) + ".wav"
}

// checkTTS refuses MediaTTS early on a node that can play it neither
// itself nor through the fallback.
func (c *Core) checkTTS(n *node, media []Media) error {
	if _, ok := n.b.(TTSPlayer); ok {
		return nil
	}
	for _, m := range media {
		if m.Kind != MediaTTS {
			continue
		}
		if _, ok := n.b.(MediaUploader); !ok || c.opts.TTS == nil {
			return fmt.Errorf("%w: text to speech on node %s (backend %s plays no TTS and Core has no Synthesizer and upload path)", ErrNotSupported, n.name, n.kind)
		}
	}
	return nil
}

// resolveTTS replaces MediaTTS by uploaded files on a node that is not a
// TTSPlayer (checkTTS has passed).
func (c *Core) resolveTTS(ctx context.Context, n *node, media []Media) ([]Media, error) {
	if _, ok := n.b.(TTSPlayer); ok {
		return media, nil
	}
	var out []Media
	for i, m := range media {
		if m.Kind != MediaTTS {
			continue
		}
		if out == nil {
			out = append([]Media(nil), media...)
		}
		name, err := c.ttsFile(ctx, n, m)
		if err != nil {
			return nil, err
		}
		out[i] = Media{Kind: MediaFile, File: name, Duration: m.Duration}
	}
	if out == nil {
		return media, nil
	}
	return out, nil
}

// ttsFile renders and uploads one prompt to node n unless it was uploaded
// there already, and returns its media name.
func (c *Core) ttsFile(ctx context.Context, n *node, m Media) (string, error) {
	up, ok := n.b.(MediaUploader)
	if !ok || c.opts.TTS == nil {
		return "", fmt.Errorf("%w: text to speech on node %s", ErrNotSupported, n.name)
	}
	name := TTSMediaName(m.Voice, m.Text)
	c.mu.Lock()
	e := n.tts[name]
	if e == nil {
		e = &ttsEntry{}
		n.tts[name] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return name, nil
	}
	wav, err := c.opts.TTS.Synthesize(ctx, m.Voice, m.Text)
	if err != nil {
		return "", fmt.Errorf("mediacore: tts: %w", err)
	}
	if _, err := audio.NewWAVSource(bytes.NewReader(wav)); err != nil {
		return "", fmt.Errorf("mediacore: tts: the synthesizer's audio is no playable WAV: %w", err)
	}
	if err := up.PutMedia(ctx, name, bytes.NewReader(wav)); err != nil {
		return "", fmt.Errorf("mediacore: tts upload to node %s: %w", n.name, err)
	}
	e.done = true
	return name, nil
}

// stereoRec is a stereo recording Core assembles from two mono parts.
// Fields are guarded by Core.mu.
type stereoRec struct {
	id          RecordingID
	ch          ChannelID // Core id
	read, write *recEntry
	failed      bool // the second part did not start: hide everything
	dur         time.Duration
}

// partName derives a part's file name from the stereo recording's name.
func partName(name, part string) string {
	if name == "" {
		return ""
	}
	return strings.TrimSuffix(name, ".wav") + "-" + part + ".wav"
}

// recordStereo starts the two mono parts of a stereo channel recording.
func (c *Core) recordStereo(ctx context.Context, n *node, ch, raw ChannelID, req RecordRequest) (RecordingID, error) {
	c.mu.Lock()
	parent, err := c.newRecordingLocked(n, req.ID)
	if err != nil {
		c.mu.Unlock()
		return "", c.invalid("record", err)
	}
	read, _ := c.newRecordingLocked(n, "")
	write, _ := c.newRecordingLocked(n, "")
	s := &stereoRec{id: parent.id, ch: ch, read: read, write: write}
	parent.stereo, read.part, write.part = s, s, s
	parent.raw = "" // no backend recording of its own
	delete(n.recs, parent.id)
	c.mu.Unlock()

	err = c.do(ctx, "record", func(ctx context.Context) error {
		got, err := n.b.Record(ctx, ChannelTarget(raw), RecordRequest{ID: read.raw, Name: partName(req.Name, "read"), Source: RecordRead})
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.rebindRecording(read, got)
		c.mu.Unlock()
		got, err = n.b.Record(ctx, ChannelTarget(raw), RecordRequest{ID: write.raw, Name: partName(req.Name, "write"), Source: RecordWrite})
		if err != nil {
			c.mu.Lock()
			s.failed = true
			c.mu.Unlock()
			if serr := n.b.StopRecording(ctx, read.raw); serr != nil {
				c.log.Warn("stop the read part of a failed stereo recording", "node", n.name, "recording", read.raw, "err", serr)
			}
			return err
		}
		c.mu.Lock()
		c.rebindRecording(write, got)
		c.mu.Unlock()
		return nil
	})
	if err != nil {
		c.mu.Lock()
		c.unbindRecording(parent)
		if !s.failed {
			c.unbindRecording(read)
		}
		c.unbindRecording(write)
		c.mu.Unlock()
		return "", err
	}
	return parent.id, nil
}

// stereoPartEvent hides the events of a stereo recording's parts and
// returns the stereo recording's one RecordingFinished once both parts
// have finished. c.mu must be held.
func (c *Core) stereoPartEvent(part *recEntry, ev Event) []Event {
	s := part.part
	if ev.Type != EventRecordingFinished || part.finished {
		return nil
	}
	c.recordingFinished(part)
	s.dur = max(s.dur, ev.Duration)
	if s.failed || !s.read.finished || !s.write.finished {
		return nil
	}
	parent := c.recs[s.id]
	if parent == nil || parent.stereo != s {
		return nil
	}
	c.recordingFinished(parent)
	ev.Recording, ev.Path, ev.Duration = s.id, "", s.dur
	if ev.Channel == "" {
		ev.Channel = s.ch
	}
	return []Event{ev}
}

// open opens a backend recording. Only the open is bounded by the command
// timeout: the reader lives until Close, under the caller's ctx.
func (c *Core) open(ctx context.Context, n *node, raw RecordingID) (rc io.ReadCloser, err error) {
	const op = "open_recording"
	start := time.Now()
	defer func() {
		c.m.commands.WithLabelValues(op, resultLabel(err)).Inc()
		c.m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	}()
	if c.isClosed() {
		return nil, fmt.Errorf("%s: %w", op, ErrClosed)
	}
	octx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(c.opts.CommandTimeout, cancel)
	rc, err = n.b.OpenRecording(octx, raw)
	if !timer.Stop() {
		if rc != nil {
			_ = rc.Close()
		}
		cancel()
		return nil, fmt.Errorf("%w: %s: %w", ErrTimeout, op, context.DeadlineExceeded)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return &cancelReadCloser{ReadCloser: rc, cancel: cancel}, nil
}

// cancelReadCloser ends the open's context when the reader is closed.
type cancelReadCloser struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (r *cancelReadCloser) Close() error {
	err := r.ReadCloser.Close()
	r.cancel()
	return err
}

// openStereo assembles a stereo WAV (8 kHz, 16-bit; left the read part,
// right the write part, the shorter padded with silence) into an unlinked
// temporary file and returns it positioned at its start.
func (c *Core) openStereo(ctx context.Context, n *node, s *stereoRec) (io.ReadCloser, error) {
	c.mu.Lock()
	done := s.read.finished && s.write.finished
	readRaw, writeRaw := s.read.raw, s.write.raw
	c.mu.Unlock()
	if !done {
		return nil, fmt.Errorf("%w: stereo recording %s has not finished", ErrNoSuchRecording, s.id)
	}
	left, err := c.open(ctx, n, readRaw)
	if err != nil {
		return nil, err
	}
	defer left.Close()
	right, err := c.open(ctx, n, writeRaw)
	if err != nil {
		return nil, err
	}
	defer right.Close()
	f, err := os.CreateTemp(c.opts.TempDir, "hotline-stereo-*.wav")
	if err != nil {
		return nil, fmt.Errorf("mediacore: stereo recording: %w", err)
	}
	// Unlinked at once: the open file is all that holds the audio.
	_ = os.Remove(f.Name())
	if err := assembleStereo(ctx, f, left, right); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("mediacore: stereo recording %s: %w", s.id, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("mediacore: stereo recording: %w", err)
	}
	return f, nil
}

// assembleStereo writes a stereo WAV to w from two mono WAVs.
func assembleStereo(ctx context.Context, w io.WriteSeeker, left, right io.Reader) error {
	ls, err := audio.NewWAVSource(left)
	if err != nil {
		return fmt.Errorf("read part: %w", err)
	}
	rs, err := audio.NewWAVSource(right)
	if err != nil {
		return fmt.Errorf("write part: %w", err)
	}
	ww, err := audio.NewWAVWriter(w, 2, audio.SampleRate)
	if err != nil {
		return err
	}
	var lb, rb [audio.FrameSamples]int16
	lEOF, rEOF := false, false
	for i := 0; !lEOF || !rEOF; i++ {
		if i%256 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		ln, rn := 0, 0
		if !lEOF {
			if ln, err = ls.ReadFrame(lb[:]); errors.Is(err, io.EOF) {
				lEOF = true
			} else if err != nil {
				return fmt.Errorf("read part: %w", err)
			}
		}
		if !rEOF {
			if rn, err = rs.ReadFrame(rb[:]); errors.Is(err, io.EOF) {
				rEOF = true
			} else if err != nil {
				return fmt.Errorf("write part: %w", err)
			}
		}
		k := max(ln, rn)
		if k == 0 {
			continue
		}
		clear(lb[ln:k])
		clear(rb[rn:k])
		if err := ww.WriteStereo(lb[:k], rb[:k]); err != nil {
			return err
		}
	}
	return ww.Close()
}

// softHold is the Hold fallback's state of one channel: the music
// playback Core started and the bridge membership it took away.
type softHold struct {
	pb       *pbEntry
	bridge   BridgeID
	member   Member
	inBridge bool
}

// Hold puts a channel on hold with music (nil: silence).
//
// On a node whose backend is a ReinviteHolder, the backend signals the far
// end (re-INVITE a=sendonly) and plays the music. On another node Core
// falls back to a local hold: it takes the channel out of its bridge (so
// neither side hears the other), plays the music looped into the channel,
// and emits EventHold itself. The far end is not told (no re-INVITE) and
// its audio still reaches the node; Unhold stops the music, puts the
// channel back in its bridge with its role and emits EventUnhold.
func (c *Core) Hold(ctx context.Context, ch ChannelID, music *Media) error {
	if music != nil {
		if err := ValidateMedia(*music); err != nil {
			return c.invalid("hold", validateTargetFirst(ChannelTarget(ch), err))
		}
	}
	n, raw, err := c.channel(ch)
	if err != nil {
		return c.invalid("hold", err)
	}
	if music != nil {
		if err := c.checkTTS(n, []Media{*music}); err != nil {
			return c.invalid("hold", err)
		}
	}
	return c.do(ctx, "hold", func(ctx context.Context) error {
		m := music
		if m != nil {
			r, err := c.resolveTTS(ctx, n, []Media{*m})
			if err != nil {
				return err
			}
			m = &r[0]
		}
		if _, ok := n.b.(ReinviteHolder); ok {
			return n.b.Hold(ctx, raw, m)
		}
		return c.softHold(ctx, n, ch, raw, m)
	})
}

func (c *Core) softHold(ctx context.Context, n *node, ch, raw ChannelID, music *Media) error {
	c.mu.Lock()
	if c.holds[ch] != nil {
		c.mu.Unlock()
		return fmt.Errorf("%w: channel %s is on hold", ErrChannelState, ch)
	}
	h := &softHold{}
	h.bridge, h.inBridge = c.members[ch]
	var rb BridgeID
	if h.inBridge {
		if be := c.bridges[h.bridge]; be != nil {
			h.member, rb = be.members[ch], be.raw
		} else {
			rb = h.bridge
		}
	}
	c.mu.Unlock()
	if h.member.Role == 0 {
		h.member = Member{Role: RoleSpeak}
	}
	if h.inBridge {
		if err := n.b.RemoveFromBridge(ctx, rb, raw); err != nil {
			return err
		}
		c.mu.Lock()
		c.leaveBridge(ch, h.bridge)
		c.mu.Unlock()
	}
	if music != nil {
		pb, err := c.newPlayback(n, "", true)
		if err != nil {
			return err
		}
		got, err := n.b.Play(ctx, ChannelTarget(raw), PlayRequest{ID: pb.raw, Media: []Media{*music}, Loop: true})
		if err != nil {
			c.mu.Lock()
			c.unbindPlayback(pb)
			c.mu.Unlock()
			if h.inBridge {
				if rerr := n.b.AddToBridge(ctx, rb, raw, h.member); rerr == nil {
					c.mu.Lock()
					c.joinBridge(h.bridge, ch, h.member)
					c.mu.Unlock()
				}
			}
			return err
		}
		c.rebindPlayback(pb, got)
		h.pb = pb
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holds[ch] = h
	c.synth(n, Event{Type: EventHold, Channel: ch})
	return nil
}

// Unhold takes a channel off hold (see Hold for a node that is not a
// ReinviteHolder).
func (c *Core) Unhold(ctx context.Context, ch ChannelID) error {
	n, raw, err := c.channel(ch)
	if err != nil {
		return c.invalid("unhold", err)
	}
	if _, ok := n.b.(ReinviteHolder); ok {
		return c.do(ctx, "unhold", func(ctx context.Context) error { return n.b.Unhold(ctx, raw) })
	}
	return c.do(ctx, "unhold", func(ctx context.Context) error {
		c.mu.Lock()
		h := c.holds[ch]
		delete(c.holds, ch)
		c.mu.Unlock()
		if h == nil {
			return fmt.Errorf("%w: channel %s is not on hold", ErrChannelState, ch)
		}
		var errs []error
		if h.pb != nil {
			c.mu.Lock()
			pbRaw := h.pb.raw
			c.mu.Unlock()
			if err := n.b.StopPlayback(ctx, pbRaw); err != nil && !errors.Is(err, ErrNoSuchPlayback) {
				errs = append(errs, err)
			}
		}
		if h.inBridge {
			c.mu.Lock()
			be := c.bridges[h.bridge]
			c.mu.Unlock()
			if be != nil && be.node == n {
				if err := n.b.AddToBridge(ctx, be.raw, raw, h.member); err != nil {
					errs = append(errs, err)
				} else {
					c.mu.Lock()
					c.joinBridge(h.bridge, ch, h.member)
					c.mu.Unlock()
				}
			} else if be == nil && len(c.nodes) == 1 {
				if err := n.b.AddToBridge(ctx, h.bridge, raw, h.member); err != nil {
					errs = append(errs, err)
				}
			}
		}
		c.mu.Lock()
		c.synth(n, Event{Type: EventUnhold, Channel: ch})
		c.mu.Unlock()
		return errors.Join(errs...)
	})
}
