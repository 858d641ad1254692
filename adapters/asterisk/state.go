package asterisk

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"hotline/mediacore"
)

// ariChannel and ariBridge are the parts of ARI's Channel and Bridge
// models the listings use (ARI's JSON, rest-api/channels.json).
type ariChannel struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Caller struct {
		Name   string `json:"name"`
		Number string `json:"number"`
	} `json:"caller"`
	Dialplan struct {
		Exten   string `json:"exten"`
		AppName string `json:"app_name"`
		AppData string `json:"app_data"`
	} `json:"dialplan"`
	Created string `json:"creationtime"`
}

type ariBridge struct {
	ID       string   `json:"id"`
	Channels []string `json:"channels"`
}

// ariTime parses ARI's "2006-01-02T15:04:05.000-0700".
func ariTime(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05.000-0700", s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func (b *Backend) list(ctx context.Context) ([]ariChannel, []ariBridge, error) {
	var chans []ariChannel
	if err := b.ari.do(ctx, "GET", "/channels", nil, nil, &chans); err != nil {
		return nil, nil, ariErr(err, mediacore.ErrBackendUnavailable)
	}
	var brs []ariBridge
	if err := b.ari.do(ctx, "GET", "/bridges", nil, nil, &brs); err != nil {
		return nil, nil, ariErr(err, mediacore.ErrBackendUnavailable)
	}
	return chans, brs, nil
}

// ours says whether an ARI channel is a call of this app: one the
// adapter knows, or one in Stasis(app) (adopted after a restart of
// Hotline). Hidden helpers are never ours.
func (b *Backend) ours(c ariChannel) bool {
	if strings.HasPrefix(c.ID, helperPrefix) || b.helpers[c.ID] {
		return false
	}
	if b.chans[c.ID] != nil {
		return true
	}
	app, _, _ := strings.Cut(c.Dialplan.AppData, ",")
	return c.Dialplan.AppName == "Stasis" && app == b.cfg.App
}

// reconcile rebuilds the adapter's state from Asterisk's lists: known
// channels that are gone are forgotten (Core ends them as lost), channels
// in the app that the adapter did not know are adopted, bridge
// membership is refreshed.
func (b *Backend) reconcile(ctx context.Context) error {
	chans, brs, err := b.list(ctx)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	alive := map[string]bool{}
	for _, ac := range chans {
		alive[ac.ID] = true
		if !b.ours(ac) {
			continue
		}
		c := b.chans[ac.ID]
		if c == nil {
			c = &channel{id: ac.ID, dir: mediacore.Inbound, created: ariTime(ac.Created), caller: ac.Caller.Number,
				callerName: ac.Caller.Name, called: ac.Dialplan.Exten}
			b.chans[ac.ID] = c
		}
		c.state = ac.State
		if ac.State == "Up" && c.answered.IsZero() {
			c.answered = c.created
		}
		if !c.virtual {
			c.bridge = ""
		}
	}
	for id := range b.chans {
		if !alive[id] {
			delete(b.chans, id)
		}
	}
	for id := range b.helpers {
		if !alive[id] && !strings.HasSuffix(id, "-br") {
			delete(b.helpers, id)
		}
	}
	seen := map[string]bool{}
	for _, ab := range brs {
		seen[ab.ID] = true
		if strings.HasPrefix(ab.ID, helperPrefix) {
			continue
		}
		bb := b.bridges[ab.ID]
		if bb == nil {
			continue // not one of Hotline's bridges
		}
		members := map[string]mediacore.Member{}
		for ch, m := range bb.members {
			if c := b.chans[ch]; c != nil && c.virtual {
				members[ch] = m
			}
		}
		for _, ch := range ab.Channels {
			if c := b.chans[ch]; c != nil {
				m := bb.members[ch]
				if m.Role == 0 {
					m = mediacore.Member{Role: mediacore.RoleSpeak}
				}
				members[ch] = m
				c.bridge, c.role = ab.ID, m
			}
		}
		bb.members = members
	}
	for id := range b.bridges {
		if !seen[id] {
			delete(b.bridges, id)
		}
	}
	return nil
}

func (b *Backend) stateOf(ac ariChannel, c *channel) mediacore.ChannelState {
	switch {
	case ac.State == "Up":
		return mediacore.ChannelUp
	case c != nil && c.early:
		return mediacore.ChannelEarly
	}
	return mediacore.ChannelRinging
}

// Channels lists the app's channels with their states and bridges.
func (b *Backend) Channels(ctx context.Context) ([]mediacore.ChannelInfo, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	chans, _, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []mediacore.ChannelInfo
	for _, ac := range chans {
		if !b.ours(ac) {
			continue
		}
		c := b.chans[ac.ID]
		ci := mediacore.ChannelInfo{ID: mediacore.ChannelID(ac.ID), Direction: mediacore.Inbound, State: b.stateOf(ac, c),
			Caller: ac.Caller.Number, Called: ac.Dialplan.Exten, Created: ariTime(ac.Created)}
		if c != nil {
			ci.Direction, ci.Bridge, ci.Answered = c.dir, mediacore.BridgeID(c.bridge), c.answered
			if c.held {
				ci.State = mediacore.ChannelHeld
			}
			if c.dir == mediacore.Outbound {
				ci.Caller, ci.Called = c.caller, c.called
			}
			if !c.created.IsZero() && ci.Created.IsZero() {
				ci.Created = c.created
			}
		}
		if ci.State == mediacore.ChannelUp && ci.Answered.IsZero() {
			ci.Answered = ci.Created
		}
		out = append(out, ci)
	}
	return out, nil
}

// Bridges lists Hotline's bridges with their members and roles.
func (b *Backend) Bridges(ctx context.Context) ([]mediacore.BridgeInfo, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	_, brs, err := b.list(ctx)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []mediacore.BridgeInfo
	for _, ab := range brs {
		bb := b.bridges[ab.ID]
		if bb == nil {
			continue
		}
		bi := mediacore.BridgeInfo{ID: mediacore.BridgeID(ab.ID), Members: map[mediacore.ChannelID]mediacore.Member{}}
		for _, ch := range ab.Channels {
			if b.chans[ch] == nil {
				continue
			}
			m := bb.members[ch]
			if m.Role == 0 {
				m.Role = mediacore.RoleSpeak
			}
			bi.Members[mediacore.ChannelID(ch)] = m
		}
		for ch, m := range bb.members {
			if c := b.chans[ch]; c != nil && c.virtual {
				bi.Members[mediacore.ChannelID(ch)] = m
			}
		}
		out = append(out, bi)
	}
	return out, nil
}

// Hold indicates hold to the channel (ARI channels/{id}/hold; chan_pjsip
// sends no re-INVITE for it, so the adapter does not claim
// ReinviteHolder and Core holds locally) and plays music: the given
// media looped, or the MOH class.
func (b *Backend) Hold(ctx context.Context, ch mediacore.ChannelID, music *mediacore.Media) error {
	c, err := b.known(ch)
	if err != nil {
		return err
	}
	b.mu.Lock()
	held := c.held
	b.mu.Unlock()
	if held {
		return fmt.Errorf("%w: %s is on hold", mediacore.ErrChannelState, ch)
	}
	if err := b.chanPost(ctx, ch, "hold", nil); err != nil {
		return err
	}
	var pb mediacore.PlaybackID
	if music != nil {
		pb, err = b.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{ID: mediacore.PlaybackID("hl-hold-" + string(ch)), Media: []mediacore.Media{*music}, Loop: true})
	} else {
		err = b.chanPost(ctx, ch, "moh", url.Values{"mohClass": {b.cfg.MusicClass}})
	}
	if err != nil {
		return err
	}
	b.emitIf(ch, func(c *channel) bool {
		c.held, c.holdMusic = true, pb
		return true
	}, mediacore.Event{Type: mediacore.EventHold})
	return nil
}

// Unhold ends the hold indication and the music.
func (b *Backend) Unhold(ctx context.Context, ch mediacore.ChannelID) error {
	c, err := b.known(ch)
	if err != nil {
		return err
	}
	b.mu.Lock()
	held, pb := c.held, c.holdMusic
	b.mu.Unlock()
	if !held {
		return fmt.Errorf("%w: %s is not on hold", mediacore.ErrChannelState, ch)
	}
	if pb != "" {
		_ = b.StopPlayback(ctx, pb)
	} else {
		_ = ariErr(b.ari.do(ctx, "DELETE", "/channels/"+seg(string(ch))+"/moh", nil, nil, nil), mediacore.ErrNoSuchChannel)
	}
	if err := ariErr(b.ari.do(ctx, "DELETE", "/channels/"+seg(string(ch))+"/hold", nil, nil, nil), mediacore.ErrNoSuchChannel); err != nil {
		return err
	}
	b.emitIf(ch, func(c *channel) bool {
		c.held, c.holdMusic = false, ""
		return true
	}, mediacore.Event{Type: mediacore.EventUnhold})
	return nil
}

// AnswerTransfer answers ErrNotSupported (after checking its arguments):
// the adapter is not a mediacore.TransferReporter. Asterisk 22.10 hands a
// Stasis call's REFER to no application (no ChannelTransfer event) and
// would carry out a bridged call's REFER itself, so deploy/asterisk
// refuses REFER (allow_transfer = no: 603) and no EventTransferRequested
// is ever emitted; Hotline transfers through its own API.
func (b *Backend) AnswerTransfer(ctx context.Context, ch mediacore.ChannelID, id mediacore.TransferID, accept bool) error {
	if err := mediacore.ValidateID(string(id)); err != nil {
		return err
	}
	if _, err := b.known(ch); err != nil {
		return err
	}
	return fmt.Errorf("%w: asterisk refuses REFER itself (allow_transfer = no); no transfer %s on %s", mediacore.ErrNotSupported, id, ch)
}
