package mediacore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// chanOp validates and routes a command on one channel to its node.
func (c *Core) chanOp(ctx context.Context, op string, ch ChannelID, f func(ctx context.Context, n *node, raw ChannelID) error) error {
	n, raw, err := c.channel(ch)
	if err != nil {
		return c.invalid(op, err)
	}
	return c.do(ctx, op, func(ctx context.Context) error { return f(ctx, n, raw) })
}

// Ring sends a ringing indication on an inbound channel.
func (c *Core) Ring(ctx context.Context, ch ChannelID) error {
	return c.chanOp(ctx, "ring", ch, func(ctx context.Context, n *node, raw ChannelID) error { return n.b.Ring(ctx, raw) })
}

// Answer answers an inbound channel.
func (c *Core) Answer(ctx context.Context, ch ChannelID) error {
	return c.chanOp(ctx, "answer", ch, func(ctx context.Context, n *node, raw ChannelID) error { return n.b.Answer(ctx, raw) })
}

// Progress starts early media on an unanswered inbound channel (SIP 183);
// Play works on it before Answer from then on. EventProgress follows.
func (c *Core) Progress(ctx context.Context, ch ChannelID) error {
	return c.chanOp(ctx, "progress", ch, func(ctx context.Context, n *node, raw ChannelID) error { return n.b.Progress(ctx, raw) })
}

// Hangup ends a channel with a cause.
func (c *Core) Hangup(ctx context.Context, ch ChannelID, cause Cause) error {
	return c.chanOp(ctx, "hangup", ch, func(ctx context.Context, n *node, raw ChannelID) error { return n.b.Hangup(ctx, raw, cause) })
}

// SendDTMF sends digits (0-9 * # A-D, at most 64).
func (c *Core) SendDTMF(ctx context.Context, ch ChannelID, digits string) error {
	if err := ValidateDigits(digits); err != nil {
		return c.invalid("send_dtmf", err)
	}
	return c.chanOp(ctx, "send_dtmf", ch, func(ctx context.Context, n *node, raw ChannelID) error { return n.b.SendDTMF(ctx, raw, digits) })
}

// Variable reads a channel variable. name follows ValidateVariable's key
// rule (letters, digits, '-', '_'); an unset variable gives
// ErrNoSuchVariable.
func (c *Core) Variable(ctx context.Context, ch ChannelID, name string) (string, error) {
	if err := validateVariableName(name); err != nil {
		return "", c.invalid("variable", err)
	}
	var v string
	err := c.chanOp(ctx, "variable", ch, func(ctx context.Context, n *node, raw ChannelID) error {
		var err error
		v, err = n.b.Variable(ctx, raw, name)
		return err
	})
	return v, err
}

// SetVariable sets a channel variable for the channel's lifetime. Name and
// value follow ValidateVariable, as originate variables do: the value must
// pass ValidateDialString (no spaces, quotes, separators or "${"), so a
// backend can put it in a dial string or a header as is; encode anything
// else (URL or base64url encoding) first.
func (c *Core) SetVariable(ctx context.Context, ch ChannelID, name, value string) error {
	if err := ValidateVariable(name, value); err != nil {
		return c.invalid("set_variable", err)
	}
	return c.chanOp(ctx, "set_variable", ch, func(ctx context.Context, n *node, raw ChannelID) error {
		return n.b.SetVariable(ctx, raw, name, value)
	})
}

// AnswerTransfer answers an EventTransferRequested of channel ch: accept
// (SIP 202 then NOTIFY 200) or refuse (603). Core never carries out a
// transfer: the controller does, with the other operations. A backend that
// is not a TransferReporter (its switch refuses REFER itself and reports
// none) answers ErrNotSupported.
func (c *Core) AnswerTransfer(ctx context.Context, ch ChannelID, id TransferID, accept bool) error {
	if err := ValidateID(string(id)); err != nil {
		return c.invalid("answer_transfer", err)
	}
	return c.chanOp(ctx, "answer_transfer", ch, func(ctx context.Context, n *node, raw ChannelID) error {
		return n.b.AnswerTransfer(ctx, raw, id, accept)
	})
}

// SetDTMFDetection switches in-band DTMF detection on a channel on or off
// when its node's backend is a DTMFDetector; on a node without it, it
// returns nil and the backend decides on its own.
func (c *Core) SetDTMFDetection(ctx context.Context, ch ChannelID, on bool) error {
	return c.chanOp(ctx, "set_dtmf_detection", ch, func(ctx context.Context, n *node, raw ChannelID) error {
		d, ok := n.b.(DTMFDetector)
		if !ok {
			return nil
		}
		return d.SetDTMFDetection(ctx, raw, on)
	})
}

// Originate validates req (endpoint, caller id, variables), applies the
// default ring timeout, chooses the node and starts the call. It returns
// once the channel exists; Answered or Hangup follow as events.
//
// The channel id is always Core's: req.ChannelID, or a new random id
// (NewID("ch")) when empty; it is registered on the chosen node before the
// backend is asked, so even a ChannelCreated the backend emits inside
// Originate reaches the Handler with a known id and its Node. A
// req.ChannelID Core already knows is ErrInvalidArgument.
//
// The node is req.Node when set (ErrNoSuchNode if unknown), else the node
// of req.Near when set (ErrNoSuchChannel if unknown), else the one
// Options.Placement picks; a node that is down is never used
// (ErrBackendUnavailable).
func (c *Core) Originate(ctx context.Context, req OriginateRequest) (ChannelID, error) {
	if err := c.validateOriginate(&req); err != nil {
		return "", c.invalid("originate", err)
	}
	if req.ChannelID != "" {
		c.mu.Lock()
		inUse := c.chans[req.ChannelID] != nil
		c.mu.Unlock()
		if inUse {
			return "", c.invalid("originate", fmt.Errorf("%w: channel id %s is in use", ErrInvalidArgument, req.ChannelID))
		}
	}
	n, err := c.placeOriginate(req)
	if err != nil {
		return "", c.invalid("originate", err)
	}
	id := req.ChannelID
	c.mu.Lock()
	if id == "" {
		for id == "" || c.chans[id] != nil {
			id = ChannelID(NewID("ch"))
		}
	} else if c.chans[id] != nil {
		c.mu.Unlock()
		return "", c.invalid("originate", fmt.Errorf("%w: channel id %s is in use", ErrInvalidArgument, id))
	}
	if old := n.chans[id]; old != nil {
		c.unbindChannel(old)
	}
	e := c.bindChannel(n, id, id, true)
	c.mu.Unlock()

	breq := req
	breq.ChannelID, breq.Near, breq.Node = id, "", ""
	breq.Endpoint = c.reachFrom(n, req.Endpoint)
	var got ChannelID
	err = c.do(ctx, "originate", func(ctx context.Context) error {
		var err error
		got, err = n.b.Originate(ctx, breq)
		return err
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if !e.created {
			c.unbindChannel(e)
		}
		return "", err
	}
	if got != "" && got != id && n.chans[got] == nil {
		// The backend did not keep the id: its events name got.
		c.log.Warn("backend ignored the channel id Core chose", "node", n.name, "want", id, "got", got)
		n.chans[got] = e
		delete(n.chans, e.raw)
		e.raw = got
	}
	return id, nil
}

// placeOriginate chooses the node of a new call.
func (c *Core) placeOriginate(req OriginateRequest) (*node, error) {
	var n *node
	switch {
	case req.Node != "":
		n = c.byName[req.Node]
		if n == nil {
			return nil, fmt.Errorf("%w: %q", ErrNoSuchNode, req.Node)
		}
	case req.Near != "":
		c.mu.Lock()
		e := c.chans[req.Near]
		c.mu.Unlock()
		switch {
		case e != nil:
			n = e.node
		case len(c.nodes) == 1:
			n = c.nodes[0]
		default:
			return nil, fmt.Errorf("%w: near %s", ErrNoSuchChannel, req.Near)
		}
	default:
		c.mu.Lock()
		st := c.nodeStatusLocked()
		c.mu.Unlock()
		name, err := c.opts.Placement.Place(req, st)
		if err != nil {
			return nil, err
		}
		n = c.byName[name]
		if n == nil {
			return nil, fmt.Errorf("%w: placement chose %q", ErrNoSuchNode, name)
		}
	}
	c.mu.Lock()
	up := n.up
	c.mu.Unlock()
	if !up {
		return nil, fmt.Errorf("%w: node %s is down", ErrBackendUnavailable, n.name)
	}
	return n, nil
}

// Play plays media into a channel or bridge. The playback id is
// req.ID, or a new random one.
//
// MediaTTS on a node whose backend is not a TTSPlayer is rendered with
// Options.TTS, uploaded once per node through MediaUploader as
// "tts/<sha256 of voice and text>.wav" and played as that file; without a
// Synthesizer or a MediaUploader it is ErrNotSupported.
func (c *Core) Play(ctx context.Context, t Target, req PlayRequest) (PlaybackID, error) {
	var err error
	if req.ID != "" {
		err = ValidateID(string(req.ID))
	}
	if err == nil && (len(req.Media) == 0 || len(req.Media) > 64) {
		err = fmt.Errorf("%w: %d media", ErrInvalidArgument, len(req.Media))
	}
	for i := 0; err == nil && i < len(req.Media); i++ {
		err = ValidateMedia(req.Media[i])
	}
	if err != nil {
		return "", c.invalid("play", validateTargetFirst(t, err))
	}
	n, bt, err := c.target(t)
	if err != nil {
		return "", c.invalid("play", err)
	}
	if err := c.checkTTS(n, req.Media); err != nil {
		return "", c.invalid("play", err)
	}
	e, err := c.newPlayback(n, req.ID, false)
	if err != nil {
		return "", c.invalid("play", err)
	}
	err = c.do(ctx, "play", func(ctx context.Context) error {
		media, err := c.resolveTTS(ctx, n, req.Media)
		if err != nil {
			return err
		}
		breq := req
		breq.ID, breq.Media = e.raw, media
		got, err := n.b.Play(ctx, bt, breq)
		if err == nil {
			c.rebindPlayback(e, got)
		}
		return err
	})
	if err != nil {
		c.mu.Lock()
		c.unbindPlayback(e)
		c.mu.Unlock()
		return "", err
	}
	return e.id, nil
}

// validateTargetFirst reports a target error before another validation
// error, as Core always did.
func validateTargetFirst(t Target, err error) error {
	if terr := validateTarget(t); terr != nil {
		return terr
	}
	return err
}

// newPlayback registers a playback id (id, or a new random one) on node n.
func (c *Core) newPlayback(n *node, id PlaybackID, internal bool) (*pbEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id == "" {
		for id == "" || c.pbs[id] != nil {
			id = PlaybackID(NewID("pb"))
		}
	} else if c.pbs[id] != nil {
		return nil, fmt.Errorf("%w: playback id %s is in use", ErrInvalidArgument, id)
	}
	if old := n.pbs[id]; old != nil {
		c.unbindPlayback(old)
	}
	e := &pbEntry{id: id, raw: id, node: n, internal: internal}
	c.pbs[id] = e
	n.pbs[id] = e
	return e, nil
}

func (c *Core) rebindPlayback(e *pbEntry, raw PlaybackID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if raw == "" || raw == e.raw {
		return
	}
	if e.node.pbs[e.raw] == e {
		delete(e.node.pbs, e.raw)
	}
	e.raw = raw
	e.node.pbs[raw] = e
}

// StopPlayback stops a playback.
func (c *Core) StopPlayback(ctx context.Context, id PlaybackID) error {
	if err := ValidateID(string(id)); err != nil {
		return c.invalid("stop_playback", err)
	}
	c.mu.Lock()
	e := c.pbs[id]
	var n *node
	raw := id
	switch {
	case e != nil:
		n, raw = e.node, e.raw
	case len(c.nodes) == 1:
		n = c.nodes[0]
	}
	c.mu.Unlock()
	if n == nil {
		return c.invalid("stop_playback", fmt.Errorf("%w: %s", ErrNoSuchPlayback, id))
	}
	return c.do(ctx, "stop_playback", func(ctx context.Context) error { return n.b.StopPlayback(ctx, raw) })
}

// Record starts recording a channel or a bridge. The recording id is
// req.ID, or a new random one.
//
// Stereo on a channel whose node's backend is not a StereoRecorder is
// recorded as two mono recordings (RecordRead and RecordWrite) under the
// one id returned: Pause, Resume and Stop act on both, one
// RecordingFinished (with an empty Path) follows when both have finished,
// and OpenRecording assembles the stereo WAV (left: the channel's far end,
// right: what it hears). Stereo on a bridge needs StereoRecorder
// (ErrNotSupported).
func (c *Core) Record(ctx context.Context, t Target, req RecordRequest) (RecordingID, error) {
	var err error
	if req.ID != "" {
		err = ValidateID(string(req.ID))
	}
	if err == nil && req.Name != "" {
		if verr := ValidateMedia(File(req.Name)); verr != nil || !strings.HasSuffix(req.Name, ".wav") {
			err = fmt.Errorf("%w: recording name %q", ErrInvalidArgument, req.Name)
		}
	}
	if err == nil && (req.Source < RecordBoth || req.Source > RecordWrite) {
		err = fmt.Errorf("%w: record source %d", ErrInvalidArgument, req.Source)
	}
	if err != nil {
		return "", c.invalid("record", validateTargetFirst(t, err))
	}
	n, bt, err := c.target(t)
	if err != nil {
		return "", c.invalid("record", err)
	}
	if _, ok := n.b.(StereoRecorder); req.Stereo && !ok {
		if t.Bridge != "" {
			return "", c.invalid("record", fmt.Errorf("%w: stereo recording of a bridge on node %s (backend %s)", ErrNotSupported, n.name, n.kind))
		}
		return c.recordStereo(ctx, n, t.Channel, bt.Channel, req)
	}
	e, err := c.newRecording(n, req.ID)
	if err != nil {
		return "", c.invalid("record", err)
	}
	err = c.do(ctx, "record", func(ctx context.Context) error {
		breq := req
		breq.ID = e.raw
		got, err := n.b.Record(ctx, bt, breq)
		if err == nil {
			c.mu.Lock()
			c.rebindRecording(e, got)
			c.mu.Unlock()
		}
		return err
	})
	if err != nil {
		c.mu.Lock()
		c.unbindRecording(e)
		c.mu.Unlock()
		return "", err
	}
	return e.id, nil
}

// newRecording registers a recording id (id, or a new random one) on node
// n.
func (c *Core) newRecording(n *node, id RecordingID) (*recEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.newRecordingLocked(n, id)
}

func (c *Core) newRecordingLocked(n *node, id RecordingID) (*recEntry, error) {
	if id == "" {
		for id == "" || c.recs[id] != nil {
			id = RecordingID(NewID("rec"))
		}
	} else if c.recs[id] != nil {
		return nil, fmt.Errorf("%w: recording id %s is in use", ErrInvalidArgument, id)
	}
	if old := n.recs[id]; old != nil {
		c.unbindRecording(old)
	}
	e := &recEntry{id: id, raw: id, node: n}
	c.recs[id] = e
	n.recs[id] = e
	return e, nil
}

// PauseRecording makes a recording write silence (R6.5).
func (c *Core) PauseRecording(ctx context.Context, id RecordingID) error {
	return c.recOp(ctx, "pause_recording", id, func(b Backend) func(context.Context, RecordingID) error { return b.PauseRecording })
}

// ResumeRecording resumes a paused recording.
func (c *Core) ResumeRecording(ctx context.Context, id RecordingID) error {
	return c.recOp(ctx, "resume_recording", id, func(b Backend) func(context.Context, RecordingID) error { return b.ResumeRecording })
}

// StopRecording finishes a recording; RecordingFinished follows.
func (c *Core) StopRecording(ctx context.Context, id RecordingID) error {
	return c.recOp(ctx, "stop_recording", id, func(b Backend) func(context.Context, RecordingID) error { return b.StopRecording })
}

// recOp routes a recording command; on an assembled stereo recording it
// acts on both parts.
func (c *Core) recOp(ctx context.Context, op string, id RecordingID, method func(Backend) func(context.Context, RecordingID) error) error {
	if err := ValidateID(string(id)); err != nil {
		return c.invalid(op, err)
	}
	c.mu.Lock()
	e := c.recs[id]
	var (
		n    *node
		raws []RecordingID
	)
	switch {
	case e != nil && e.stereo != nil:
		n, raws = e.node, []RecordingID{e.stereo.read.raw, e.stereo.write.raw}
	case e != nil:
		n, raws = e.node, []RecordingID{e.raw}
	case len(c.nodes) == 1:
		n, raws = c.nodes[0], []RecordingID{id}
	}
	c.mu.Unlock()
	if n == nil {
		return c.invalid(op, fmt.Errorf("%w: %s", ErrNoSuchRecording, id))
	}
	f := method(n.b)
	return c.do(ctx, op, func(ctx context.Context) error {
		var errs []error
		for _, raw := range raws {
			if err := f(ctx, raw); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) == 2 && errors.Is(errs[0], ErrNoSuchRecording) && errors.Is(errs[1], ErrNoSuchRecording) {
			return errs[0]
		}
		return errors.Join(errs...)
	})
}

// CreateBridge creates an empty bridge. With one node the bridge is made
// on it at once. With several nodes it is lazy: Core reserves the id, and
// the first AddToBridge creates it on that channel's node (use
// CreateBridgeOn to place it now). A bridge Core already knows is
// ErrInvalidArgument.
func (c *Core) CreateBridge(ctx context.Context, id BridgeID) error {
	if err := ValidateID(string(id)); err != nil {
		return c.invalid("create_bridge", err)
	}
	if len(c.nodes) == 1 {
		return c.CreateBridgeOn(ctx, id, c.nodes[0].name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bridges[id] != nil {
		return c.invalid("create_bridge", fmt.Errorf("%w: bridge id %s is in use", ErrInvalidArgument, id))
	}
	c.bridges[id] = &bridgeEntry{id: id, raw: id, members: map[ChannelID]Member{}}
	c.m.commands.WithLabelValues("create_bridge", "ok").Inc()
	return nil
}

// CreateBridgeOn creates an empty bridge on the named node now.
func (c *Core) CreateBridgeOn(ctx context.Context, id BridgeID, nodeName string) error {
	if err := ValidateID(string(id)); err != nil {
		return c.invalid("create_bridge", err)
	}
	n := c.byName[nodeName]
	if n == nil {
		return c.invalid("create_bridge", fmt.Errorf("%w: %q", ErrNoSuchNode, nodeName))
	}
	c.mu.Lock()
	if c.bridges[id] != nil {
		c.mu.Unlock()
		return c.invalid("create_bridge", fmt.Errorf("%w: bridge id %s is in use", ErrInvalidArgument, id))
	}
	if old := n.bridges[id]; old != nil {
		c.unbindBridge(old)
	}
	e := &bridgeEntry{id: id, raw: id, node: n, ready: make(chan struct{}), members: map[ChannelID]Member{}}
	c.bridges[id] = e
	n.bridges[id] = e
	c.mu.Unlock()
	err := c.do(ctx, "create_bridge", func(ctx context.Context) error { return n.b.CreateBridge(ctx, id) })
	c.mu.Lock()
	defer c.mu.Unlock()
	close(e.ready)
	e.ready = nil
	if err != nil {
		c.unbindBridge(e)
	}
	return err
}

// placeBridge returns the node and backend id of bridge b for a member on
// node cn, creating a lazy bridge on cn. Channels of two nodes never meet
// in one bridge: ErrNotSupported.
func (c *Core) placeBridge(ctx context.Context, b BridgeID, cn *node) (*node, BridgeID, error) {
	for {
		c.mu.Lock()
		e := c.bridges[b]
		if e == nil {
			c.mu.Unlock()
			if len(c.nodes) == 1 {
				return c.nodes[0], b, nil
			}
			return nil, "", fmt.Errorf("%w: %s", ErrNoSuchBridge, b)
		}
		if ready := e.ready; ready != nil {
			// Being created: wait for it.
			c.mu.Unlock()
			select {
			case <-ready:
				continue
			case <-ctx.Done():
				return nil, "", ctx.Err()
			}
		}
		if e.node == nil {
			// Lazy: place it on the first member's node.
			e.node, e.ready = cn, make(chan struct{})
			cn.bridges[e.raw] = e
			ready := e.ready
			c.mu.Unlock()
			err := cn.b.CreateBridge(ctx, e.raw)
			c.mu.Lock()
			close(ready)
			e.ready = nil
			if err != nil {
				delete(cn.bridges, e.raw)
				e.node = nil
			}
			c.mu.Unlock()
			if err != nil {
				return nil, "", err
			}
			return cn, e.raw, nil
		}
		n, raw := e.node, e.raw
		c.mu.Unlock()
		if n != cn {
			return nil, "", fmt.Errorf("%w: bridge %s is on node %s and the channel on node %s: channels of two nodes cannot share a bridge (originate the leg with Near)", ErrNotSupported, b, n.name, cn.name)
		}
		return n, raw, nil
	}
}

// AddToBridge adds a channel to a bridge with a role. RoleWhisper on a
// node whose backend is not a Whisperer is ErrNotSupported. A lazy bridge
// (see CreateBridge) is created on the channel's node first.
func (c *Core) AddToBridge(ctx context.Context, b BridgeID, ch ChannelID, m Member) error {
	return c.memberOp(ctx, "add_to_bridge", b, ch, m, func(ctx context.Context, n *node, rb BridgeID, rc ChannelID, rm Member) error {
		return n.b.AddToBridge(ctx, rb, rc, rm)
	})
}

// SetMemberRole changes a member's role; RoleWhisper as in AddToBridge.
func (c *Core) SetMemberRole(ctx context.Context, b BridgeID, ch ChannelID, m Member) error {
	return c.memberOp(ctx, "set_member_role", b, ch, m, func(ctx context.Context, n *node, rb BridgeID, rc ChannelID, rm Member) error {
		return n.b.SetMemberRole(ctx, rb, rc, rm)
	})
}

func (c *Core) memberOp(ctx context.Context, op string, b BridgeID, ch ChannelID, m Member,
	f func(ctx context.Context, n *node, rb BridgeID, rc ChannelID, rm Member) error) error {
	err := ValidateID(string(b))
	if err == nil {
		err = ValidateID(string(ch))
	}
	if err == nil {
		err = validateMember(m)
	}
	if err == nil && m.WhisperTo == ch {
		err = fmt.Errorf("%w: a member cannot whisper to itself", ErrInvalidArgument)
	}
	if err != nil {
		return c.invalid(op, err)
	}
	cn, rc, err := c.channel(ch)
	if err != nil {
		return c.invalid(op, err)
	}
	rm := m
	if m.Role == RoleWhisper {
		if _, ok := cn.b.(Whisperer); !ok {
			return c.invalid(op, fmt.Errorf("%w: whisper role on node %s (backend %s)", ErrNotSupported, cn.name, cn.kind))
		}
		wn, rw, err := c.channel(m.WhisperTo)
		if err != nil {
			return c.invalid(op, err)
		}
		if wn != cn {
			return c.invalid(op, fmt.Errorf("%w: whisper to a channel of another node", ErrNotSupported))
		}
		rm.WhisperTo = rw
	}
	err = c.do(ctx, op, func(ctx context.Context) error {
		n, rb, err := c.placeBridge(ctx, b, cn)
		if err != nil {
			return err
		}
		return f(ctx, n, rb, rc, rm)
	})
	if err == nil {
		c.mu.Lock()
		c.joinBridge(b, ch, m)
		c.mu.Unlock()
	}
	return err
}

// RemoveFromBridge takes a channel out of a bridge.
func (c *Core) RemoveFromBridge(ctx context.Context, b BridgeID, ch ChannelID) error {
	err := ValidateID(string(b))
	if err != nil {
		return c.invalid("remove_from_bridge", err)
	}
	cn, rc, err := c.channel(ch)
	if err != nil {
		return c.invalid("remove_from_bridge", err)
	}
	err = c.do(ctx, "remove_from_bridge", func(ctx context.Context) error {
		n, rb, err := c.existingBridge(b, cn)
		if err != nil {
			return err
		}
		return n.b.RemoveFromBridge(ctx, rb, rc)
	})
	if err == nil {
		c.mu.Lock()
		c.leaveBridge(ch, b)
		c.mu.Unlock()
	}
	return err
}

// existingBridge resolves a placed bridge for a member on node cn.
func (c *Core) existingBridge(b BridgeID, cn *node) (*node, BridgeID, error) {
	e, n, raw, err := c.bridge(b)
	if err != nil {
		return nil, "", err
	}
	if e != nil && e.node == nil {
		return nil, "", fmt.Errorf("%w: bridge %s has no member", ErrChannelState, b)
	}
	if cn != nil && n != cn {
		return nil, "", fmt.Errorf("%w: channel is on node %s, bridge %s on node %s", ErrChannelState, cn.name, b, n.name)
	}
	return n, raw, nil
}

// DestroyBridge removes a bridge; its members stay up. A lazy bridge that
// never had a member is just forgotten.
func (c *Core) DestroyBridge(ctx context.Context, b BridgeID) error {
	e, n, raw, err := c.bridge(b)
	if err != nil {
		return c.invalid("destroy_bridge", err)
	}
	if e != nil && e.node == nil {
		c.mu.Lock()
		c.unbindBridge(e)
		c.mu.Unlock()
		c.m.commands.WithLabelValues("destroy_bridge", "ok").Inc()
		return nil
	}
	err = c.do(ctx, "destroy_bridge", func(ctx context.Context) error { return n.b.DestroyBridge(ctx, raw) })
	if err == nil || errors.Is(err, ErrNoSuchBridge) {
		c.mu.Lock()
		if e != nil {
			c.unbindBridge(e)
		}
		for ch, mb := range c.members {
			if mb == b {
				delete(c.members, ch)
			}
		}
		c.mu.Unlock()
	}
	return err
}

// BridgeOf returns the bridge a channel is in, as Core knows it (from its
// own commands and EventBridgeJoined/Left).
func (c *Core) BridgeOf(ch ChannelID) (BridgeID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.members[ch]
	return b, ok
}

// Snoop attaches a supervisor's answered channel spy to target (R5.2). When
// the target's node implements Snooper it is used (both channels must be
// on that node); otherwise spy joins the bridge target is in as RoleListen
// (SnoopListen), RoleWhisper to target (SnoopWhisper, which needs a
// Whisperer node) or RoleSpeak (SnoopBarge); a target in no bridge gives
// ErrChannelState. Changing mode later is SetMemberRole on that bridge, or
// Snoop again.
func (c *Core) Snoop(ctx context.Context, target, spy ChannelID, mode SnoopMode) error {
	err := ValidateID(string(target))
	if err == nil {
		err = ValidateID(string(spy))
	}
	if err == nil && target == spy {
		err = fmt.Errorf("%w: a channel cannot snoop on itself", ErrInvalidArgument)
	}
	var m Member
	switch mode {
	case SnoopListen:
		m = Member{Role: RoleListen}
	case SnoopWhisper:
		m = Member{Role: RoleWhisper, WhisperTo: target}
	case SnoopBarge:
		m = Member{Role: RoleSpeak}
	default:
		if err == nil {
			err = fmt.Errorf("%w: snoop mode %d", ErrInvalidArgument, mode)
		}
	}
	if err != nil {
		return c.invalid("snoop", err)
	}
	tn, rt, err := c.channel(target)
	if err != nil {
		return c.invalid("snoop", err)
	}
	if s, ok := tn.b.(Snooper); ok {
		sn, rs, err := c.channel(spy)
		if err != nil {
			return c.invalid("snoop", err)
		}
		if sn != tn {
			return c.invalid("snoop", fmt.Errorf("%w: spy on node %s, target on node %s", ErrNotSupported, sn.name, tn.name))
		}
		return c.do(ctx, "snoop", func(ctx context.Context) error { return s.Snoop(ctx, rt, rs, mode) })
	}
	b, ok := c.BridgeOf(target)
	if !ok {
		return c.invalid("snoop", fmt.Errorf("%w: channel %s is in no bridge to snoop on", ErrChannelState, target))
	}
	if cur, in := c.BridgeOf(spy); in && cur == b {
		return c.SetMemberRole(ctx, b, spy, m)
	}
	return c.AddToBridge(ctx, b, spy, m)
}

// SetTrunks hands trunks to every node whose backend implements
// TrunkConfigurer; nodes without it keep their own configuration. The
// error joins the nodes' failures.
func (c *Core) SetTrunks(ctx context.Context, trunks []TrunkConfig) error {
	var errs []error
	for _, n := range c.nodes {
		tc, ok := n.b.(TrunkConfigurer)
		if !ok {
			continue
		}
		if err := c.do(ctx, "set_trunks", func(ctx context.Context) error { return tc.SetTrunks(ctx, trunks) }); err != nil {
			if len(c.nodes) > 1 {
				err = fmt.Errorf("node %s: %w", n.name, err)
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// OpenRecording returns the audio (a WAV file) of a finished recording,
// from the node that made it. Opening is bounded by the command timeout;
// reading is not (only by ctx): close the reader when done. An assembled
// stereo recording (see Record) is built from its two parts into a
// temporary file first.
func (c *Core) OpenRecording(ctx context.Context, id RecordingID) (io.ReadCloser, error) {
	if err := ValidateID(string(id)); err != nil {
		return nil, c.invalid("open_recording", err)
	}
	c.mu.Lock()
	e := c.recs[id]
	var (
		n   *node
		raw = id
		s   *stereoRec
	)
	switch {
	case e != nil && e.stereo != nil:
		n, s = e.node, e.stereo
	case e != nil:
		n, raw = e.node, e.raw
	case len(c.nodes) == 1:
		n = c.nodes[0]
	}
	c.mu.Unlock()
	if n == nil {
		return nil, c.invalid("open_recording", fmt.Errorf("%w: %s", ErrNoSuchRecording, id))
	}
	if s != nil {
		return c.openStereo(ctx, n, s)
	}
	return c.open(ctx, n, raw)
}
