package native

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/native/rtpengine"
)

// bridge is a mediacore bridge on an engine bridge.
type bridge struct {
	id  mediacore.BridgeID
	eb  *rtpengine.Bridge
	rec mediacore.RecordingID // guarded by Backend.mu
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
		return "", fmt.Errorf("native: play: %w", err)
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

// Record implements mediacore.Backend. Files go under RecordingsDir; a
// channel recording in stereo has what the channel said on the left and
// what it heard on the right.
func (b *Backend) Record(ctx context.Context, t mediacore.Target, req mediacore.RecordRequest) (mediacore.RecordingID, error) {
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
		return "", fmt.Errorf("native: recording dir: %w", err)
	}
	r := &recording{id: id, path: path}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.recordings[id]; dup {
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
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", fmt.Errorf("native: recording file: %w", err)
	}
	r.file, r.ch, r.br = f, c, br
	if c != nil {
		c.mu.Lock()
		c.rec = id
		c.mu.Unlock()
		r.rec, err = c.leg.Record(f, req.Stereo)
	} else {
		br.rec = id
		r.rec, err = br.eb.Record(f, req.Stereo)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		if c != nil {
			c.mu.Lock()
			c.rec = ""
			c.mu.Unlock()
		} else {
			br.rec = ""
		}
		return "", fmt.Errorf("native: record: %w", err)
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
		return fmt.Errorf("native: stop recording: %w", err)
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
	br := &bridge{id: id, eb: b.eng.NewBridge(string(id))}
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
		return fmt.Errorf("%w: %w", mediacore.ErrInvalidArgument, err)
	}
	c.mu.Lock()
	c.bridge = bid
	c.mu.Unlock()
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
		return fmt.Errorf("%w: %w", mediacore.ErrInvalidArgument, err)
	}
	return nil
}

// RemoveFromBridge implements mediacore.Backend.
func (b *Backend) RemoveFromBridge(ctx context.Context, bid mediacore.BridgeID, cid mediacore.ChannelID) error {
	br, c, _, err := b.memberArgs(bid, cid, mediacore.Member{Role: mediacore.RoleSpeak})
	if err != nil {
		return err
	}
	if err := br.eb.Remove(c.leg); err != nil {
		return fmt.Errorf("%w: %w", mediacore.ErrChannelState, err)
	}
	c.mu.Lock()
	if c.bridge == bid {
		c.bridge = ""
	}
	c.mu.Unlock()
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
	for _, c := range members {
		c.mu.Lock()
		if c.bridge == bid {
			c.bridge = ""
		}
		c.mu.Unlock()
	}
	br.eb.Close()
	return nil
}

// Hold implements mediacore.Backend: re-INVITE with a=sendonly (RFC 3264
// §8.4), then music into the held leg (in a bridge the engine gives a
// SendOnly leg only its own playback).
func (b *Backend) Hold(ctx context.Context, id mediacore.ChannelID, music *mediacore.Media) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	if c.getState() != stateUp {
		return fmt.Errorf("%w: %s not answered", mediacore.ErrChannelState, id)
	}
	c.mu.Lock()
	already := c.held
	c.held = true
	c.mu.Unlock()
	if already {
		return nil
	}
	if err := b.reinvite(ctx, c, dirSendOnly); err != nil {
		c.mu.Lock()
		c.held = false
		c.mu.Unlock()
		return fmt.Errorf("native: hold: %w", err)
	}
	if music != nil {
		src, err := b.source(ctx, []mediacore.Media{*music})
		if err != nil {
			return err
		}
		pbID, err := c.leg.Play(src, true)
		if err != nil {
			return fmt.Errorf("native: hold music: %w", err)
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
		return fmt.Errorf("native: unhold: %w", err)
	}
	c.emit(mediacore.Event{Type: mediacore.EventUnhold})
	return nil
}
