package controller

import (
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"hotline/controller/store"
	"hotline/mediacore"
)

// conference carries a caller into a conference room (a number routed to
// {conference, <room id>}): answer, the PIN by DTMF when the room has one
// (conferencePINTries tries, then the call is refused), then the room. The
// call actor keeps its channel until the caller hangs up or is kicked; the
// CDR is answered from the join, with the room in its variables.
func (c *call) conference(roomID string) *store.Target {
	ctx, cancel := c.io()
	cfg, err := c.cc.ctl.st.Conferences().Get(ctx, roomID)
	cancel()
	if err != nil {
		c.log.Warn("conference room unavailable", "conference_id", roomID, "err", err)
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseUnallocated, store.SideSystem)
		return nil
	}
	c.vars["conference_id"] = roomID
	if err := c.answer(); err != nil {
		c.log.Warn("answer", "err", err)
	}
	c.setView(func(v *LiveCall) { v.State = "conference-pin" })
	moderator, ok := c.conferencePIN(cfg)
	if c.gone {
		c.cdr.Outcome = store.OutcomeAbandoned
		return nil
	}
	if !ok {
		c.vars["conference_refused"] = "pin"
		c.cdr.Outcome = store.OutcomeRejected
		c.sayAndWait([]mediacore.Media{mediacore.ToneFor(mediacore.ToneBusy, 1400*time.Millisecond)})
		c.hangupCaller(mediacore.CauseRejected, store.SideSystem)
		return nil
	}
	c.dtmf(false)
	err = c.cc.onRoom(c.ctx, roomID, true, func(r *room) error { return r.admitCall(c, moderator) })
	if err != nil {
		c.log.Warn("not admitted to the conference", "conference_id", roomID, "err", err)
		if errors.Is(err, ErrConferenceFull) {
			c.vars["conference_refused"] = "full"
			c.cdr.Outcome = store.OutcomeRejected
			c.sayAndWait([]mediacore.Media{mediacore.ToneFor(mediacore.ToneBusy, 1400*time.Millisecond)})
			c.hangupCaller(mediacore.CauseBusy, store.SideSystem)
			return nil
		}
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseFailure, store.SideSystem)
		return nil
	}
	if moderator {
		c.vars["conference_moderator"] = "true"
	}
	t := c.now()
	c.cdr.Answer = &t
	c.cdr.Outcome = store.OutcomeAnswered
	c.setView(func(v *LiveCall) { v.State = "conference"; v.Answer = c.cdr.Answer })
	star := false // the moderator pressed *: the next digit is a command
	for !c.gone {
		m, ok := c.next()
		if !ok {
			break
		}
		if ev, isEv := m.(mediacore.Event); moderator && isEv && ev.Type == mediacore.EventDTMF && ev.Channel == c.ch {
			star = c.moderatorKey(roomID, ev.Digit, star)
		}
	}
	c.talkEnd = c.now()
	c.cc.leaveRoom(roomID, c.ch)
	return nil
}

// The moderator's keypad in a room (RFC 4733 digits: in-band detection
// is off in the mix): * then 1 mutes every other member, * then 2
// unmutes them, as the REST mute does member by member.
const (
	ConferenceKeyMuteOthers   = "*1"
	ConferenceKeyUnmuteOthers = "*2"
)

// moderatorKey handles one digit of the moderator; star says the last
// digit was *, and the result whether this one is.
func (c *call) moderatorKey(roomID string, d byte, star bool) bool {
	if !star {
		return d == '*'
	}
	var mute bool
	switch "*" + string(d) {
	case ConferenceKeyMuteOthers:
		mute = true
	case ConferenceKeyUnmuteOthers:
	default:
		return d == '*'
	}
	me := c.ch
	err := c.cc.onRoom(c.ctx, roomID, false, func(r *room) error {
		var errs []error
		for _, m := range r.members {
			if m.ch != me && m.joined {
				_, err := r.mute(string(m.ch), mute)
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
	if err != nil {
		c.log.Warn("moderator key", "mute", mute, "err", err)
	}
	return false
}

// conferencePIN asks for the room's PIN: the moderator PIN admits as a
// moderator; with only a moderator PIN set, members join with an empty
// entry (#). ok is false when every try failed or the caller hung up.
func (c *call) conferencePIN(cfg store.Conference) (moderator, ok bool) {
	if cfg.PIN == "" && cfg.ModeratorPIN == "" {
		return false, true
	}
	prompt := "请输入会议密码，以井号键结束。"
	if c.lang == "en" {
		prompt = "Please enter the conference PIN, then press the pound key."
	}
	for try := range conferencePINTries {
		if try > 0 {
			prompt = "密码错误，请重新输入。"
			if c.lang == "en" {
				prompt = "Wrong PIN, please try again."
			}
		}
		digits := c.collectDigits(prompt, conferencePINMax, '#')
		if c.gone {
			return false, false
		}
		switch {
		case cfg.ModeratorPIN != "" && pinEqual(digits, cfg.ModeratorPIN):
			return true, true
		case cfg.PIN != "" && pinEqual(digits, cfg.PIN), cfg.PIN == "" && digits == "":
			return false, true
		}
		c.log.Info("wrong conference PIN", "try", try+1)
	}
	return false, false
}

func pinEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// collectDigits plays a spoken prompt and a beep (the beep alone when the
// node cannot speak) and collects up to max digits, until term, or a
// pause of conferenceInterDigit (conferenceFirstDigit before the first).
// A key stops the prompt (barge-in).
func (c *call) collectDigits(prompt string, max int, term byte) string {
	c.dtmf(true)
	beep := mediacore.ToneFor(mediacore.ToneBeep, 0)
	pb, err := c.play([]mediacore.Media{mediacore.TTS(c.voice(), prompt), beep}, false)
	if err != nil {
		c.log.Debug("spoken prompt not played; beep only", "err", err)
		if pb, err = c.play([]mediacore.Media{beep}, false); err != nil {
			c.log.Warn("prompt not played", "err", err)
			pb = ""
		}
	}
	var digits strings.Builder
	var timer uint64
	if pb == "" {
		timer = c.after(conferenceFirstDigit, "first-digit")
	}
	defer func() { c.stop(timer) }()
	for !c.gone {
		m, ok := c.next()
		if !ok {
			break
		}
		switch v := m.(type) {
		case timerMsg:
			if v.id == timer {
				c.stopPlayback(pb)
				return digits.String()
			}
		case mediacore.Event:
			switch {
			case v.Type == mediacore.EventPlaybackFinished && v.Playback == pb:
				pb = ""
				if digits.Len() == 0 {
					timer = c.after(conferenceFirstDigit, "first-digit")
				}
			case v.Type == mediacore.EventDTMF && v.Channel == c.ch:
				if pb != "" {
					c.stopPlayback(pb)
					pb = ""
				}
				if v.Digit == term {
					return digits.String()
				}
				digits.WriteByte(v.Digit)
				if digits.Len() >= max {
					return digits.String()
				}
				c.stop(timer)
				timer = c.after(conferenceInterDigit, "inter-digit")
			}
		}
	}
	return digits.String()
}
