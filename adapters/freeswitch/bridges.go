package freeswitch

import (
	"context"
	"fmt"
	"strings"
	"time"

	"hotline/mediacore"
)

// Bridges are mod_conference rooms named after the bridge id, in the
// ConferenceProfile. A channel joins with uuid_transfer to an inline
// dialplan "conference:<room>@<profile>,park" (so it parks again when it
// leaves); it leaves with uuid_transfer to "park". Roles: listen is the
// member flag mute; whisper to X is "relate <whisperer> <member> nospeak"
// towards every member but X.

// CreateBridge records an empty bridge; the room exists on the switch from
// its first member on.
func (b *Backend) CreateBridge(ctx context.Context, id mediacore.BridgeID) error {
	if err := checkID("bridge", string(id)); err != nil {
		return err
	}
	if _, err := b.current(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bridges[id] != nil {
		return fmt.Errorf("%w: bridge %s exists", mediacore.ErrInvalidArgument, id)
	}
	b.bridges[id] = &bridgeState{id: id, members: map[string]bool{}}
	return nil
}

func (b *Backend) bridgeOf(id mediacore.BridgeID) (*bridgeState, error) {
	if err := checkID("bridge", string(id)); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	br := b.bridges[id]
	if br == nil {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, id)
	}
	return br, nil
}

// join moves a channel into room and waits for its member id.
func (b *Backend) join(ctx context.Context, cs *chanState, room mediacore.BridgeID, m mediacore.Member, quiet bool) error {
	flags := ""
	if m.Role == mediacore.RoleListen {
		flags = "+flags{mute}"
	}
	b.mu.Lock()
	join := make(chan struct{})
	if cs.bridge != "" && cs.bridge != room && !quiet {
		// Moving: the old room's del-member must not report a leave
		// from the new one; report it now.
		old := cs.bridge
		if br := b.bridges[old]; br != nil {
			delete(br.members, cs.id)
		}
		cs.bridge = ""
		b.mu.Unlock()
		b.emit(mediacore.Event{Type: mediacore.EventBridgeLeft, Channel: mediacore.ChannelID(cs.id), Bridge: old})
		b.mu.Lock()
	}
	cs.joinCh = join
	cs.bridge, cs.member, cs.quiet = room, m, quiet
	if br := b.bridges[room]; br != nil {
		br.members[cs.id] = true
	}
	b.mu.Unlock()
	arg := "conference:" + string(room) + "@" + b.cfg.ConferenceProfile + flags + ",park inline"
	if _, err := b.api(ctx, "uuid_transfer "+cs.id+" "+arg); err != nil {
		b.mu.Lock()
		if br := b.bridges[room]; br != nil {
			delete(br.members, cs.id)
		}
		cs.bridge, cs.member, cs.joinCh = "", mediacore.Member{}, nil
		b.mu.Unlock()
		return err
	}
	select {
	case <-join:
	case <-cs.answerCh:
		b.mu.Lock()
		ended := cs.ended
		b.mu.Unlock()
		if ended {
			return fmt.Errorf("%w: %s ended", mediacore.ErrNoSuchChannel, cs.id)
		}
		select {
		case <-join:
		case <-ctx.Done():
			return fmt.Errorf("freeswitch: join %s: %w", room, ctx.Err())
		}
	case <-ctx.Done():
		return fmt.Errorf("freeswitch: join %s: %w", room, ctx.Err())
	}
	return b.applyRoles(ctx, room)
}

// applyRoles sets every member's relationships from the roles: whisperers
// are heard only by their target; all others clear.
func (b *Backend) applyRoles(ctx context.Context, room mediacore.BridgeID) error {
	type rel struct{ a, b, how string }
	var rels []rel
	b.mu.Lock()
	br := b.bridges[room]
	if br == nil {
		b.mu.Unlock()
		return nil
	}
	for w := range br.members {
		ws := b.chans[w]
		if ws == nil || ws.memberID == "" {
			continue
		}
		for o := range br.members {
			os := b.chans[o]
			if o == w || os == nil || os.memberID == "" {
				continue
			}
			how := "clear"
			if ws.member.Role == mediacore.RoleWhisper && string(ws.member.WhisperTo) != o {
				how = "nospeak"
			}
			rels = append(rels, rel{ws.memberID, os.memberID, how})
		}
	}
	b.mu.Unlock()
	for _, r := range rels {
		if !isWord(r.a) || !isWord(r.b) {
			continue
		}
		if _, err := b.api(ctx, "conference "+string(room)+" relate "+r.a+" "+r.b+" "+r.how); err != nil {
			if r.how == "clear" && memberNotInRoom(err) {
				// The member left the room (hung up, moved) since its
				// add-member: it has no relationship left to clear.
				continue
			}
			return err
		}
	}
	return nil
}

// AddToBridge puts an answered channel into the bridge with a role.
func (b *Backend) AddToBridge(ctx context.Context, id mediacore.BridgeID, ch mediacore.ChannelID, m mediacore.Member) error {
	if _, err := b.bridgeOf(id); err != nil {
		return err
	}
	cs, err := b.chanOf(ch)
	if err != nil {
		return err
	}
	if err := checkMember(m); err != nil {
		return err
	}
	if b.unanswered(cs) {
		return fmt.Errorf("%w: %s is not answered", mediacore.ErrChannelState, ch)
	}
	return b.join(ctx, cs, id, m, false)
}

func checkMember(m mediacore.Member) error {
	switch m.Role {
	case mediacore.RoleSpeak, mediacore.RoleListen:
		return nil
	case mediacore.RoleWhisper:
		return checkID("whisper target", string(m.WhisperTo))
	}
	return fmt.Errorf("%w: role %d", mediacore.ErrInvalidArgument, m.Role)
}

// SetMemberRole changes a member's role (mute/unmute, relationships).
func (b *Backend) SetMemberRole(ctx context.Context, id mediacore.BridgeID, ch mediacore.ChannelID, m mediacore.Member) error {
	if _, err := b.bridgeOf(id); err != nil {
		return err
	}
	cs, err := b.chanOf(ch)
	if err != nil {
		return err
	}
	if err := checkMember(m); err != nil {
		return err
	}
	b.mu.Lock()
	if cs.bridge != id || cs.memberID == "" {
		b.mu.Unlock()
		return fmt.Errorf("%w: %s is not in %s", mediacore.ErrChannelState, ch, id)
	}
	cs.member = m
	mid := cs.memberID
	b.mu.Unlock()
	verb := "unmute"
	if m.Role == mediacore.RoleListen {
		verb = "mute"
	}
	if _, err := b.api(ctx, "conference "+string(id)+" "+verb+" "+mid); err != nil {
		return err
	}
	return b.applyRoles(ctx, id)
}

// RemoveFromBridge parks the channel again (it leaves the room).
func (b *Backend) RemoveFromBridge(ctx context.Context, id mediacore.BridgeID, ch mediacore.ChannelID) error {
	if _, err := b.bridgeOf(id); err != nil {
		return err
	}
	cs, err := b.chanOf(ch)
	if err != nil {
		return err
	}
	b.mu.Lock()
	in := cs.bridge == id
	b.mu.Unlock()
	if !in {
		return fmt.Errorf("%w: %s is not in %s", mediacore.ErrChannelState, ch, id)
	}
	_, err = b.api(ctx, "uuid_transfer "+cs.id+" park inline")
	return err
}

// DestroyBridge parks every member and forgets the bridge.
func (b *Backend) DestroyBridge(ctx context.Context, id mediacore.BridgeID) error {
	br, err := b.bridgeOf(id)
	if err != nil {
		return err
	}
	b.mu.Lock()
	var members []string
	for m := range br.members {
		members = append(members, m)
	}
	b.mu.Unlock()
	var firstErr error
	for _, m := range members {
		if _, err := b.api(ctx, "uuid_transfer "+m+" park inline"); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	b.mu.Lock()
	delete(b.bridges, id)
	var pending []mediacore.PlaybackID
	for _, pid := range br.plays {
		if b.plays[pid] != nil {
			delete(b.plays, pid)
			pending = append(pending, pid)
		}
	}
	b.mu.Unlock()
	for _, pid := range pending {
		b.emit(mediacore.Event{Type: mediacore.EventPlaybackFinished, Bridge: id, Playback: pid})
	}
	return firstErr
}

// Hold re-INVITEs the far end with a=sendonly and loops the music into
// the channel: a channel in a bridge leaves its room quietly first (it
// still belongs to the bridge). The re-INVITE is a media renegotiation
// (uuid_media_reneg) whose offer takes its direction from the one-shot
// variable origination_audio_mode; Hold returns once the far end's answer
// (switch_r_sdp) is recvonly or inactive, and emits EventHold. Not
// uuid_hold: it re-INVITEs with a=sendonly too but sets CF_HOLD and
// CF_SUSPEND, under which the switch sends the channel no RTP, so the held
// party would hear no music.
func (b *Backend) Hold(ctx context.Context, ch mediacore.ChannelID, music *mediacore.Media) error {
	cs, err := b.chanOf(ch)
	if err != nil {
		return err
	}
	url := ""
	if music != nil {
		if url, err = b.mediaURL(*music); err != nil {
			return err
		}
	}
	b.mu.Lock()
	if cs.answered.IsZero() || cs.held || cs.localHold || cs.holdPlay != "" {
		b.mu.Unlock()
		return fmt.Errorf("%w: %s is not up or already held", mediacore.ErrChannelState, ch)
	}
	cs.localHold = true
	inRoom := cs.bridge != "" && cs.memberID != ""
	parked := make(chan struct{})
	if inRoom {
		cs.quiet = true
		cs.parkCh = parked
	}
	b.mu.Unlock()
	if inRoom {
		if err := b.park(ctx, cs, parked); err != nil {
			b.mu.Lock()
			cs.localHold = false
			b.mu.Unlock()
			return err
		}
	}
	if err := b.renegotiate(ctx, cs, "sendonly"); err != nil {
		return err
	}
	if url != "" {
		pid := mediacore.PlaybackID("hold-" + randomID())
		b.mu.Lock()
		cs.holdPlay = pid
		b.mu.Unlock()
		if err := b.startPlay(ctx, cs.id, pid, url, true, true); err != nil {
			return err
		}
	}
	b.emit(mediacore.Event{Type: mediacore.EventHold, Channel: ch})
	return nil
}

// Unhold stops the music, re-INVITEs with a=sendrecv, rejoins the bridge
// with the channel's role and emits EventUnhold.
func (b *Backend) Unhold(ctx context.Context, ch mediacore.ChannelID) error {
	cs, err := b.chanOf(ch)
	if err != nil {
		return err
	}
	b.mu.Lock()
	if !cs.localHold {
		b.mu.Unlock()
		return fmt.Errorf("%w: %s is not on hold", mediacore.ErrChannelState, ch)
	}
	cs.localHold = false
	pid := cs.holdPlay
	cs.holdPlay = ""
	room, m := cs.bridge, cs.member
	b.mu.Unlock()
	if pid != "" {
		if _, err := b.api(ctx, "uuid_break "+cs.id+" all"); err != nil {
			return err
		}
	}
	if err := b.renegotiate(ctx, cs, "sendrecv"); err != nil {
		return err
	}
	if room != "" {
		if err := b.join(ctx, cs, room, m, true); err != nil {
			return err
		}
	}
	b.emit(mediacore.Event{Type: mediacore.EventUnhold, Channel: ch})
	return nil
}

// renegotiate re-INVITEs the channel's far end with an offer of direction
// mode ("sendonly" or "sendrecv") and waits until its answer is the
// matching one (recvonly/inactive, or neither), polling switch_r_sdp.
func (b *Backend) renegotiate(ctx context.Context, cs *chanState, mode string) error {
	if _, err := b.api(ctx, "uuid_setvar "+cs.id+" origination_audio_mode "+mode); err != nil {
		return err
	}
	if _, err := b.api(ctx, "uuid_media_reneg "+cs.id); err != nil {
		return err
	}
	for delay := 10 * time.Millisecond; ; delay = min(2*delay, 200*time.Millisecond) {
		sdp, err := b.api(ctx, "uuid_getvar "+cs.id+" switch_r_sdp")
		if err != nil {
			return err
		}
		if sdpHeld(sdp) == (mode == "sendonly") {
			return nil
		}
		b.mu.Lock()
		ended := cs.ended
		b.mu.Unlock()
		if ended {
			return fmt.Errorf("%w: %s ended", mediacore.ErrNoSuchChannel, cs.id)
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("freeswitch: %s: no answer to the %s re-INVITE: %w", cs.id, mode, ctx.Err())
		}
	}
}

// sdpHeld reports whether an answer SDP holds the media: a=recvonly or
// a=inactive at session or media level (RFC 3264 §8.4).
func sdpHeld(sdp string) bool {
	for _, l := range strings.Split(sdp, "\n") {
		switch strings.TrimSpace(l) {
		case "a=recvonly", "a=inactive":
			return true
		}
	}
	return false
}

// park transfers a channel to park and waits until it is parked (a hold
// sent before would be undone by the transfer).
func (b *Backend) park(ctx context.Context, cs *chanState, parked chan struct{}) error {
	if _, err := b.api(ctx, "uuid_transfer "+cs.id+" park inline"); err != nil {
		return err
	}
	select {
	case <-parked:
		return nil
	case <-cs.answerCh:
		select {
		case <-parked:
			return nil
		default:
		}
		b.mu.Lock()
		ended := cs.ended
		b.mu.Unlock()
		if ended {
			return fmt.Errorf("%w: %s ended", mediacore.ErrNoSuchChannel, cs.id)
		}
		select {
		case <-parked:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("freeswitch: park: %w", ctx.Err())
		}
	case <-ctx.Done():
		return fmt.Errorf("freeswitch: park: %w", ctx.Err())
	}
}

// memberNotInRoom: mod_conference answers "relationship A->B not found"
// when member A is not in the room (conference_api_sub_relate looks the
// member up first), which under load happens between a member's leaving
// and its del-member event reaching the adapter.
func memberNotInRoom(err error) bool {
	low := strings.ToLower(err.Error())
	return strings.Contains(low, "relationship") && strings.Contains(low, "not found")
}
