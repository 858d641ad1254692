package asterisk

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"hotline/mediacore"
)

// Bridges are ARI mixing bridges with DTMF events. Roles:
//   - speak: a plain member;
//   - listen: a member whose audio the bridge drops (addChannel mute=true);
//   - whisper to X: the member is not put in the Asterisk bridge; a snoop
//     channel on X (spy=both: it hears X and what X hears, i.e. the
//     bridge; whisper=out: what it is given X alone hears) shares a hidden
//     bridge with the member. The adapter reports the membership itself
//     (BridgeJoined/Left, Bridges, Channels). Hidden channels and bridges
//     carry ids starting with "hl-" and never reach Core. (A snoop's "in"
//     direction goes silent in Asterisk 22.10 while a tone: playback runs
//     on its channel, see tone.go.)

// helperPrefix starts every id of a hidden snoop channel or bridge.
const helperPrefix = "hl-"

// CreateBridge creates an empty mixing bridge with Core's id.
func (b *Backend) CreateBridge(ctx context.Context, id mediacore.BridgeID) error {
	if err := mediacore.ValidateID(string(id)); err != nil {
		return err
	}
	if strings.HasPrefix(string(id), helperPrefix) {
		return fmt.Errorf("%w: bridge ids starting with %q are the adapter's", mediacore.ErrInvalidArgument, helperPrefix)
	}
	if err := b.ready(); err != nil {
		return err
	}
	b.mu.Lock()
	if b.bridges[string(id)] != nil {
		b.mu.Unlock()
		return fmt.Errorf("%w: bridge %s exists", mediacore.ErrInvalidArgument, id)
	}
	b.bridges[string(id)] = &bridge{id: string(id), members: map[string]mediacore.Member{}}
	b.mu.Unlock()
	var err error
	for try := 0; ; try++ {
		err = b.ari.do(ctx, "POST", "/bridges", url.Values{"type": {"mixing,dtmf_events"}, "bridgeId": {string(id)}, "name": {string(id)}}, nil, nil)
		var se *statusError
		if try == 20 || !errors.As(err, &se) || se.code != 409 {
			break
		}
		// 409: a bridge of that id is still being torn down (ARI's
		// DELETE returns before Asterisk has let it go).
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-time.After(50 * time.Millisecond):
			continue
		}
		break
	}
	if err != nil {
		b.mu.Lock()
		delete(b.bridges, string(id))
		b.mu.Unlock()
		return ariErr(err, mediacore.ErrNoSuchBridge)
	}
	return nil
}

func (b *Backend) knownBridge(id mediacore.BridgeID) error {
	if err := mediacore.ValidateID(string(id)); err != nil {
		return err
	}
	if err := b.ready(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bridges[string(id)] == nil {
		return fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, id)
	}
	return nil
}

func validMember(m mediacore.Member) error {
	switch m.Role {
	case mediacore.RoleSpeak, mediacore.RoleListen:
		if m.WhisperTo != "" {
			return fmt.Errorf("%w: WhisperTo with role %v", mediacore.ErrInvalidArgument, m.Role)
		}
		return nil
	case mediacore.RoleWhisper:
		return mediacore.ValidateID(string(m.WhisperTo))
	}
	return fmt.Errorf("%w: role %d", mediacore.ErrInvalidArgument, m.Role)
}

// AddToBridge adds ch to bridge with role m, moving it out of another
// bridge first.
func (b *Backend) AddToBridge(ctx context.Context, br mediacore.BridgeID, ch mediacore.ChannelID, m mediacore.Member) error {
	if err := validMember(m); err != nil {
		return err
	}
	if err := b.knownBridge(br); err != nil {
		return err
	}
	c, err := b.known(ch)
	if err != nil {
		return err
	}
	if m.Role == mediacore.RoleWhisper {
		if m.WhisperTo == ch {
			return fmt.Errorf("%w: a channel cannot whisper to itself", mediacore.ErrInvalidArgument)
		}
		if _, err := b.known(m.WhisperTo); err != nil {
			return err
		}
	}
	b.mu.Lock()
	old := c.bridge
	b.mu.Unlock()
	if old != "" {
		if err := b.RemoveFromBridge(ctx, mediacore.BridgeID(old), ch); err != nil {
			return err
		}
	}
	return b.join(ctx, br, ch, m, false)
}

// join adds ch with role m; quiet hides the join (a role change).
func (b *Backend) join(ctx context.Context, br mediacore.BridgeID, ch mediacore.ChannelID, m mediacore.Member, quiet bool) error {
	if m.Role == mediacore.RoleWhisper {
		if err := b.snoopPath(ctx, m.WhisperTo, ch, "whisper", "out"); err != nil {
			return err
		}
		b.emitIf(ch, func(c *channel) bool {
			c.bridge, c.role, c.virtual = string(br), m, true
			if bb := b.bridges[string(br)]; bb != nil {
				bb.members[string(ch)] = m
			}
			return !quiet
		}, mediacore.Event{Type: mediacore.EventBridgeJoined, Bridge: br, Member: m})
		return nil
	}
	b.mu.Lock()
	if c := b.chans[string(ch)]; c != nil {
		mm := m
		c.pendingRole = &mm
		if quiet {
			c.swallow++
		}
	}
	b.mu.Unlock()
	q := url.Values{"channel": {string(ch)}}
	if m.Role != mediacore.RoleSpeak {
		q.Set("mute", "true")
	}
	if err := b.ari.do(ctx, "POST", "/bridges/"+seg(string(br))+"/addChannel", q, nil, nil); err != nil {
		b.mu.Lock()
		if c := b.chans[string(ch)]; c != nil {
			c.pendingRole = nil
			if quiet {
				c.swallow--
			}
		}
		b.mu.Unlock()
		return ariErr(err, mediacore.ErrNoSuchBridge)
	}
	b.mu.Lock()
	if c := b.chans[string(ch)]; c != nil {
		c.bridge, c.role = string(br), m
		if bb := b.bridges[string(br)]; bb != nil {
			bb.members[string(ch)] = m
		}
	}
	b.mu.Unlock()
	return nil
}

// leaveVirtual ends a whisper membership: its hidden path goes, BridgeLeft
// unless quiet.
func (b *Backend) leaveVirtual(br mediacore.BridgeID, ch mediacore.ChannelID, quiet bool) {
	b.cleanupHelpers(b.takeHelpers(ch))
	b.emitIf(ch, func(c *channel) bool {
		c.bridge, c.role, c.virtual = "", mediacore.Member{}, false
		if bb := b.bridges[string(br)]; bb != nil {
			delete(bb.members, string(ch))
		}
		return !quiet
	}, mediacore.Event{Type: mediacore.EventBridgeLeft, Bridge: br})
}

func (b *Backend) isVirtual(ch mediacore.ChannelID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.chans[string(ch)]
	return c != nil && c.virtual
}

// cleanupHelpers hangs up hidden channels and destroys hidden bridges
// (404s ignored: a snoop channel dies with its target).
func (b *Backend) cleanupHelpers(ids []string) {
	if len(ids) == 0 {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(b.ctx, b.cfg.CommandTimeout)
		defer cancel()
		for _, id := range ids {
			if strings.HasSuffix(id, "-br") {
				_ = b.ari.do(ctx, "DELETE", "/bridges/"+seg(id), nil, nil, nil)
			} else {
				_ = b.ari.do(ctx, "DELETE", "/channels/"+seg(id), nil, nil, nil)
			}
			b.dropHelper(id)
		}
	}()
}

func (b *Backend) dropHelper(id string) {
	b.mu.Lock()
	delete(b.helpers, id)
	b.mu.Unlock()
}

// takeHelpers removes and returns ch's hidden parts.
func (b *Backend) takeHelpers(ch mediacore.ChannelID) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.chans[string(ch)]
	if c == nil {
		return nil
	}
	h := c.helpers
	c.helpers = nil
	return h
}

// SetMemberRole changes a member's role: the bridge's mute is fixed at
// join, so the member leaves and joins again (those two events hidden).
func (b *Backend) SetMemberRole(ctx context.Context, br mediacore.BridgeID, ch mediacore.ChannelID, m mediacore.Member) error {
	if err := validMember(m); err != nil {
		return err
	}
	if err := b.knownBridge(br); err != nil {
		return err
	}
	c, err := b.known(ch)
	if err != nil {
		return err
	}
	b.mu.Lock()
	in := c.bridge == string(br)
	b.mu.Unlock()
	if !in {
		return fmt.Errorf("%w: %s is not in bridge %s", mediacore.ErrChannelState, ch, br)
	}
	if b.isVirtual(ch) || m.Role == mediacore.RoleWhisper {
		if b.isVirtual(ch) {
			b.leaveVirtual(br, ch, true)
		} else if err := b.ari.do(ctx, "POST", "/bridges/"+seg(string(br))+"/removeChannel", url.Values{"channel": {string(ch)}}, nil, nil); err != nil {
			return ariErr(err, mediacore.ErrNoSuchChannel)
		} else {
			b.mu.Lock()
			c.swallow++ // the Left of the real bridge
			b.mu.Unlock()
		}
		return b.join(ctx, br, ch, m, true)
	}
	b.mu.Lock()
	c.swallow++
	b.mu.Unlock()
	if err := b.ari.do(ctx, "POST", "/bridges/"+seg(string(br))+"/removeChannel", url.Values{"channel": {string(ch)}}, nil, nil); err != nil {
		b.mu.Lock()
		c.swallow--
		b.mu.Unlock()
		return ariErr(err, mediacore.ErrNoSuchChannel)
	}
	return b.join(ctx, br, ch, m, true)
}

// RemoveFromBridge takes ch out of bridge br.
func (b *Backend) RemoveFromBridge(ctx context.Context, br mediacore.BridgeID, ch mediacore.ChannelID) error {
	if err := b.knownBridge(br); err != nil {
		return err
	}
	if _, err := b.known(ch); err != nil {
		return err
	}
	if b.isVirtual(ch) {
		b.leaveVirtual(br, ch, false)
		return nil
	}
	err := b.ari.do(ctx, "POST", "/bridges/"+seg(string(br))+"/removeChannel", url.Values{"channel": {string(ch)}}, nil, nil)
	var se *statusError
	if err == nil || errors.As(err, &se) && se.code == 422 { // 422: already out
		b.mu.Lock()
		if c := b.chans[string(ch)]; c != nil && c.bridge == string(br) {
			c.bridge = "" // ChannelLeftBridge follows
		}
		b.mu.Unlock()
		return nil
	}
	return ariErr(err, mediacore.ErrNoSuchChannel)
}

// DestroyBridge removes every member (they stay up) and the bridge.
func (b *Backend) DestroyBridge(ctx context.Context, br mediacore.BridgeID) error {
	if err := b.knownBridge(br); err != nil {
		return err
	}
	b.mu.Lock()
	var members []mediacore.ChannelID
	for id := range b.bridges[string(br)].members {
		members = append(members, mediacore.ChannelID(id))
	}
	b.mu.Unlock()
	for _, ch := range members {
		if b.isVirtual(ch) {
			b.leaveVirtual(br, ch, false)
		}
	}
	err := b.ari.do(ctx, "DELETE", "/bridges/"+seg(string(br)), nil, nil, nil)
	if err == nil {
		b.mu.Lock()
		// Asterisk reports ChannelLeftBridge for each member; the
		// bridge record goes when they have (see onLeft).
		if bb := b.bridges[string(br)]; bb != nil && len(bb.members) == 0 {
			delete(b.bridges, string(br))
		} else if bb != nil {
			bb.destroyed = true
		}
		b.mu.Unlock()
	}
	return ariErr(err, mediacore.ErrNoSuchBridge)
}

// onEntered reports a join to a visible bridge with the role asked for.
func (b *Backend) onEntered(brID, chID string) {
	b.mu.Lock()
	c := b.chans[chID]
	bb := b.bridges[brID]
	if c == nil || bb == nil {
		b.mu.Unlock()
		return
	}
	m := mediacore.Member{Role: mediacore.RoleSpeak}
	if c.pendingRole != nil {
		m = *c.pendingRole
		c.pendingRole = nil
	}
	c.bridge, c.role = brID, m
	bb.members[chID] = m
	quiet := c.swallow > 0
	if quiet {
		c.swallow--
	}
	b.mu.Unlock()
	if !quiet {
		b.channelEvent(chID, mediacore.Event{Type: mediacore.EventBridgeJoined, Bridge: mediacore.BridgeID(brID), Member: m})
	}
}

func (b *Backend) onLeft(brID, chID string) {
	b.mu.Lock()
	c := b.chans[chID]
	bb := b.bridges[brID]
	if bb != nil {
		delete(bb.members, chID)
		if bb.destroyed && len(bb.members) == 0 {
			delete(b.bridges, brID)
		}
	}
	if c == nil || bb == nil {
		b.mu.Unlock()
		return
	}
	quiet := c.swallow > 0
	if quiet {
		c.swallow--
	}
	if c.bridge == brID && !quiet {
		c.bridge = ""
	}
	b.mu.Unlock()
	if !quiet {
		b.channelEvent(chID, mediacore.Event{Type: mediacore.EventBridgeLeft, Bridge: mediacore.BridgeID(brID)})
	}
}

// Snoop attaches spy (an answered channel in no bridge) to target with a
// snoop channel (spy=both; whisper none, out or both for listen, whisper,
// barge) bridged with spy in a hidden bridge.
func (b *Backend) Snoop(ctx context.Context, target, spy mediacore.ChannelID, mode mediacore.SnoopMode) error {
	whisper := map[mediacore.SnoopMode]string{mediacore.SnoopListen: "none", mediacore.SnoopWhisper: "out", mediacore.SnoopBarge: "both"}[mode]
	if whisper == "" {
		return fmt.Errorf("%w: snoop mode %d", mediacore.ErrInvalidArgument, mode)
	}
	if target == spy {
		return fmt.Errorf("%w: a channel cannot snoop on itself", mediacore.ErrInvalidArgument)
	}
	if _, err := b.known(target); err != nil {
		return err
	}
	if _, err := b.known(spy); err != nil {
		return err
	}
	return b.snoopPath(ctx, target, spy, "snoop", whisper)
}

// snoopPath puts spy in a hidden bridge with a snoop channel on target
// (spy=both, whisper as given). Its parts are owned by spy: they go when
// spy ends, leaves, changes role or snoops again (a new Snoop replaces the
// old path, which is torn down first). Each path gets fresh ids: Asterisk
// refuses a snoop channel whose id is still taken ("Snoop channel could
// not be created") while it tears the old one down.
func (b *Backend) snoopPath(ctx context.Context, target, spy mediacore.ChannelID, kind, whisper string) error {
	for _, id := range b.takeHelpers(spy) {
		if strings.HasSuffix(id, "-br") {
			_ = b.ari.do(ctx, "DELETE", "/bridges/"+seg(id), nil, nil, nil)
		} else {
			_ = b.ari.do(ctx, "DELETE", "/channels/"+seg(id), nil, nil, nil)
		}
		b.dropHelper(id)
	}
	b.mu.Lock()
	b.helperNo++
	base := fmt.Sprintf("%s%s-%s-%d", helperPrefix, kind, spy, b.helperNo)
	sc, hb := base+"-ch", base+"-br"
	b.helpers[sc], b.helpers[hb] = true, true
	if c := b.chans[string(spy)]; c != nil {
		c.helpers = append(c.helpers, sc, hb)
	}
	b.mu.Unlock()
	steps := []struct {
		path string
		q    url.Values
	}{
		{"/channels/" + seg(string(target)) + "/snoop", url.Values{"spy": {"both"}, "whisper": {whisper}, "app": {b.cfg.App}, "snoopId": {sc}}},
		{"/bridges", url.Values{"type": {"mixing"}, "bridgeId": {hb}, "name": {hb}}},
		{"/bridges/" + seg(hb) + "/addChannel", url.Values{"channel": {sc + "," + string(spy)}}},
	}
	wait := b.expectStasis(sc)
	for _, s := range steps {
		if strings.HasSuffix(s.path, "/addChannel") {
			if err := b.waitStasis(ctx, sc, wait); err != nil {
				b.cleanupHelpers(b.takeHelpers(spy))
				return err
			}
		}
		if err := b.ari.do(ctx, "POST", s.path, s.q, nil, nil); err != nil {
			b.forgetStasis(sc)
			b.cleanupHelpers(b.takeHelpers(spy))
			return ariErr(err, mediacore.ErrNoSuchChannel)
		}
	}
	return nil
}

// SupportsWhisper marks whisper members (snoop whisper, see above).
func (b *Backend) SupportsWhisper() {}
