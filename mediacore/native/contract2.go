package native

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"hotline/mediacore"
)

// The media contract's version 2: early media, reconcile listings,
// channel variables, bridge membership events and the capability markers.
// REFER is in transfer.go, OpenRecording in recordings.go, SetTrunks in
// trunks.go.

var (
	_ mediacore.Backend         = (*Backend)(nil)
	_ mediacore.Whisperer       = (*Backend)(nil)
	_ mediacore.TTSPlayer       = (*Backend)(nil)
	_ mediacore.StereoRecorder  = (*Backend)(nil)
	_ mediacore.ReinviteHolder  = (*Backend)(nil)
	_ mediacore.DTMFDetector    = (*Backend)(nil)
	_ mediacore.TrunkConfigurer = (*Backend)(nil)
	_ mediacore.MediaUploader   = (*Backend)(nil)
)

// SupportsWhisper implements mediacore.Whisperer: the mixer has RoleWhisper.
func (b *Backend) SupportsWhisper() {}

// SupportsTTS implements mediacore.TTSPlayer: MediaTTS goes through
// Config.TTS (espeak-ng by default).
func (b *Backend) SupportsTTS() {}

// SupportsStereo implements mediacore.StereoRecorder.
func (b *Backend) SupportsStereo() {}

// SupportsReinviteHold implements mediacore.ReinviteHolder.
func (b *Backend) SupportsReinviteHold() {}

// SetDTMFDetection implements mediacore.DTMFDetector over the leg's
// in-band (Goertzel) detector. In-band detection is off until armed,
// whatever the SDP negotiated (rtpengine.Leg.SetInbandDTMF): the
// controller arms it while it listens for digits (IVR, gather, feature
// code) on a leg without telephone-event and disarms it after, so a
// two-party bridge stays on the relay fast path. RFC 4733 digits are
// reported either way.
func (b *Backend) SetDTMFDetection(ctx context.Context, id mediacore.ChannelID, on bool) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	c.leg.SetInbandDTMF(on)
	return nil
}

// Progress implements mediacore.Backend: 183 Session Progress with our SDP
// answer on an unanswered inbound call (RFC 3261 §13.3.1.1, early media as
// in RFC 3960's gateway model, without reliable provisionals). Media flows
// both ways from then on, so Play is heard before Answer; the 200 repeats
// the same SDP. Calling it again is a no-op.
func (b *Backend) Progress(ctx context.Context, id mediacore.ChannelID) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	return b.setupCommand(ctx, c, setupCmd{kind: cmdProgress})
}

// progress runs on the INVITE handler's goroutine (it owns the responses).
func (b *Backend) progress(c *channel, sess *sipgo.DialogServerSession, offer mediaOffer) error {
	c.mu.Lock()
	done := c.early
	c.mu.Unlock()
	if done {
		return nil
	}
	if err := b.applyRemote(c, offer, dirSendRecv); err != nil {
		return engineErr("progress", err, mediacore.ErrNoSuchChannel)
	}
	body, err := b.localDescription(c, offer, dirSendRecv)
	if err != nil {
		return fmt.Errorf("%w: native: progress: %w", mediacore.ErrBackendUnavailable, err)
	}
	if err := sess.Respond(sip.StatusSessionInProgress, "Session Progress", body, sip.NewHeader("Content-Type", "application/sdp")); err != nil {
		return sipErr("progress", err)
	}
	c.mu.Lock()
	c.early, c.earlySDP = true, body
	c.mu.Unlock()
	c.emit(mediacore.Event{Type: mediacore.EventProgress})
	return nil
}

// answerSDP is the body of the 200 answering an inbound call: the SDP of
// the 183 when early media was sent (the same answer, RFC 3264 §5), else a
// new answer, with the remote media applied.
func (b *Backend) answerSDP(c *channel, offer mediaOffer) ([]byte, error) {
	c.mu.Lock()
	early := c.earlySDP
	c.mu.Unlock()
	if early != nil {
		return early, nil
	}
	if err := b.applyRemote(c, offer, dirSendRecv); err != nil {
		return nil, err
	}
	return b.localDescription(c, offer, dirSendRecv)
}

// earlyMedia handles a 183 with SDP to an INVITE we sent: the early
// answer's media is applied so the far end's announcements or ringback
// flow (into a bridge too), and Progress is emitted once.
func (b *Backend) earlyMedia(c *channel, res *sip.Response) {
	if res.StatusCode != sip.StatusSessionInProgress || len(res.Body()) == 0 {
		return
	}
	m, err := parseOffer(res.Body())
	if err != nil {
		b.log.Debug("early media: bad SDP", "channel", c.id, "err", err)
		return
	}
	if err := b.applyRemote(c, m, dirSendRecv); err != nil {
		b.log.Debug("early media", "channel", c.id, "err", err)
		return
	}
	c.mu.Lock()
	first := !c.early
	c.early = true
	c.media = m
	c.mu.Unlock()
	if first {
		c.emit(mediacore.Event{Type: mediacore.EventProgress})
	}
}

// setInfo records what Channels reports and the variables a channel
// starts with: for inbound calls the X- headers of the INVITE, for
// originated ones the request's Variables.
func (c *channel) setInfo(caller, called string, vars map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.caller, c.called, c.created = caller, called, time.Now()
	for k, v := range vars {
		if c.dir == mediacore.Inbound && !isXHeader(k) {
			continue
		}
		if c.vars == nil {
			c.vars = map[string]string{}
		}
		c.vars[varKey(k)] = v
	}
}

func isXHeader(name string) bool {
	return len(name) > 2 && strings.EqualFold(name[:2], "x-")
}

// varKey normalises a variable name: names are case-insensitive and an
// "X-" prefix is ignored, so the INVITE header "X-Account: 42" reads as
// "X-Account", "x-account" or "Account".
func varKey(name string) string {
	if isXHeader(name) {
		name = name[2:]
	}
	return strings.ToLower(name)
}

// Limits on SetVariable (a controller bug must not grow a channel
// without bound).
const (
	maxVars     = 256
	maxVarValue = 4096
)

// Variable implements mediacore.Backend: a variable set by SetVariable,
// an X- header of the initial INVITE (inbound) or an originate variable
// (outbound). See varKey for names.
func (b *Backend) Variable(ctx context.Context, id mediacore.ChannelID, name string) (string, error) {
	c, err := b.channel(id)
	if err != nil {
		return "", err
	}
	k := varKey(name)
	if k == "" {
		return "", fmt.Errorf("%w: empty variable name", mediacore.ErrInvalidArgument)
	}
	c.mu.Lock()
	v, ok := c.vars[k]
	c.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("%w: %q on %s", mediacore.ErrNoSuchVariable, name, id)
	}
	return v, nil
}

// SetVariable implements mediacore.Backend: the value is kept for the
// channel's lifetime (it overrides a header of the same name).
func (b *Backend) SetVariable(ctx context.Context, id mediacore.ChannelID, name, value string) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	k := varKey(name)
	if k == "" || len(value) > maxVarValue {
		return fmt.Errorf("%w: variable %q (%d bytes)", mediacore.ErrInvalidArgument, name, len(value))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.vars[k]; !ok && len(c.vars) >= maxVars {
		return fmt.Errorf("%w: more than %d variables on %s", mediacore.ErrInvalidArgument, maxVars, id)
	}
	if c.vars == nil {
		c.vars = map[string]string{}
	}
	c.vars[k] = value
	return nil
}

// Channels implements mediacore.Backend: every channel not ended, sorted
// by creation.
func (b *Backend) Channels(ctx context.Context) ([]mediacore.ChannelInfo, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	chans := make([]*channel, 0, len(b.channels))
	for _, c := range b.channels {
		chans = append(chans, c)
	}
	b.mu.Unlock()
	out := make([]mediacore.ChannelInfo, 0, len(chans))
	for _, c := range chans {
		c.mu.Lock()
		info := mediacore.ChannelInfo{
			ID: c.id, Direction: c.dir, Caller: c.caller, Called: c.called,
			Bridge: c.bridge, Created: c.created, Answered: c.answered,
		}
		remoteHold := c.media.dir == dirSendOnly || c.media.dir == dirInactive || c.media.hold
		switch {
		case c.state == stateEnded:
			c.mu.Unlock()
			continue
		case c.state == stateSetup && c.early:
			info.State = mediacore.ChannelEarly
		case c.state == stateSetup:
			info.State = mediacore.ChannelRinging
		case c.held || remoteHold:
			info.State = mediacore.ChannelHeld
		default:
			info.State = mediacore.ChannelUp
		}
		c.mu.Unlock()
		out = append(out, info)
	}
	slices.SortFunc(out, func(x, y mediacore.ChannelInfo) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return strings.Compare(string(x.ID), string(y.ID))
	})
	return out, nil
}

// Bridges implements mediacore.Backend: every bridge with its members and
// their roles, sorted by id.
func (b *Backend) Bridges(ctx context.Context) ([]mediacore.BridgeInfo, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	out := make([]mediacore.BridgeInfo, 0, len(b.bridges))
	for _, br := range b.bridges {
		info := mediacore.BridgeInfo{ID: br.id, Members: make(map[mediacore.ChannelID]mediacore.Member, len(br.members))}
		for ch, m := range br.members {
			info.Members[ch] = m
		}
		out = append(out, info)
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(x, y mediacore.BridgeInfo) int { return strings.Compare(string(x.ID), string(y.ID)) })
	return out, nil
}

// SupportsTransferRequests implements mediacore.TransferReporter: a
// phone's REFER becomes EventTransferRequested, answered by AnswerTransfer.
func (b *Backend) SupportsTransferRequests() {}
