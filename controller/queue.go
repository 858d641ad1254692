package controller

import (
	"fmt"
	"strings"
	"time"

	"hotline/acd"
	"hotline/controller/ivr"
	"hotline/controller/store"
	"hotline/mediacore"
)

// holdTone is the music on hold of a queue without a music file: a soft
// two-note chime, looped.
var holdTone = mediacore.Tone{Freqs: []float64{523.25, 659.25}, On: 600 * time.Millisecond, Off: 1400 * time.Millisecond}

// queueWait is the state of one stay in a queue.
type queueWait struct {
	q        store.Queue
	announce uint64 // the position announcement timer
	annPB    mediacore.PlaybackID
	// pickup lets another agent's phone pick up a ringing offer;
	// offered are the agents offered the call (their extensions ring).
	pickup  *pbxWait
	offered map[string]store.Agent
}

// runQueue puts the call in a queue and serves it there: music on hold,
// position announcements, the callback and voicemail keys, the ACD's
// offers (ring the agent's device; bridge on answer) and its overflow.
// It returns the next target (an overflow) or nil when the call is over.
func (c *call) runQueue(idOrName string, prio int, skills []ivr.SkillReq) *store.Target {
	ctx, cancel := c.io()
	q, teams, ok, err := c.cc.ctl.storedQueue(ctx, idOrName)
	cancel()
	if err != nil || !ok {
		c.log.Error("queue target unusable", "queue", idOrName, "err", errNoQueue(idOrName), "cause", err)
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseFailure, store.SideSystem)
		return nil
	}
	c.queue, c.teams = &q, teams
	if prio == 0 {
		prio = q.Priority
	}
	if !c.answerOrFail() {
		return nil
	}
	now := c.now()
	c.cdr.Queue, c.cdr.QueueName = q.ID, q.Name
	if c.cdr.EnqueuedAt == nil {
		c.cdr.EnqueuedAt = &now
	}
	reqs := make([]acd.SkillReq, 0, len(skills))
	for _, s := range skills {
		reqs = append(reqs, acd.SkillReq{Skill: acd.Skill(s.Skill), MinLevel: s.MinLevel})
	}
	ctx, cancel = c.io()
	err = c.cc.ctl.acd.EnqueueCall(ctx, acd.Call{ID: acd.CallID(c.id), Queue: acd.QueueID(q.ID), Priority: prio,
		Skills: reqs, Caller: c.in.Caller, EnteredAt: *c.cdr.EnqueuedAt})
	cancel()
	if err != nil {
		c.log.Error("enqueue refused", "queue", q.ID, "err", err)
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseCongestion, store.SideSystem)
		return nil
	}
	enq := *c.cdr.EnqueuedAt
	c.setView(func(v *LiveCall) {
		v.State, v.Queue = "queued", q.ID
		c.viewEnq = enq
	})
	c.publish("call.queued", "", nil, map[string]any{"queue": q.ID, "queue_name": q.Name, "priority": prio,
		"caller": c.in.Caller})
	w := &queueWait{q: q, offered: map[string]store.Agent{}}
	c.queueing = true
	defer func() { c.queueing = false }()
	var unpick func()
	w.pickup, unpick = c.queuePickup()
	defer unpick()
	c.dtmf(true)
	c.startMOH(w)
	if q.Announcements.PositionEvery > 0 {
		w.announce = c.after(time.Duration(q.Announcements.PositionEvery)*time.Second, "announce")
	}
	for {
		c.syncQueuePickup(w.pickup, w.offered)
		if c.gone {
			c.leaveQueue(w)
			c.abandon()
			c.cdr.Outcome = store.OutcomeAbandoned
			return nil
		}
		m, ok := c.next()
		if !ok {
			return nil
		}
		if l := w.pickup.taken; l != nil {
			// Another agent's phone picked the offer up (handOff): the
			// ACD moved the offer to it; the ringing legs are
			// cancelled by connectAgent.
			c.leaveQueue(w)
			c.connectAgent(l)
			return c.takeNext()
		}
		switch v := m.(type) {
		case timerMsg:
			if v.id == w.announce {
				c.announce(w)
				w.announce = c.after(time.Duration(q.Announcements.PositionEvery)*time.Second, "announce")
			}
			c.pbxQueueTimer(v)
		case mediacore.Event:
			if next, done := c.queueMedia(w, v); done {
				return next
			}
		case acd.Event:
			if next, done := c.queueDecision(w, v); done {
				return next
			}
		}
	}
}

// queueMedia handles a media event while queued; done ends the stay.
func (c *call) queueMedia(w *queueWait, ev mediacore.Event) (*store.Target, bool) {
	switch ev.Type {
	case mediacore.EventDTMF:
		if ev.Channel != c.ch {
			return nil, false
		}
		switch ev.Digit {
		case KeyCallback:
			ctx, cancel := c.io()
			err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
				return e.RequestCallback(acd.CallID(c.id), "")
			})
			cancel()
			if err != nil {
				c.log.Info("callback refused", "err", err)
			}
		case KeyVoicemail:
			c.leaveQueue(w)
			c.abandon()
			return &store.Target{Kind: store.TargetVoicemail, Value: w.q.Name}, true
		}
	case mediacore.EventPlaybackFinished:
		if ev.Playback == w.annPB && w.annPB != "" {
			w.annPB = ""
			c.startMOH(w)
		}
	case mediacore.EventAnswered:
		l := c.legs[ev.Channel]
		if l == nil || l.agent == "" || !l.offerLive || c.agent != nil {
			return nil, false
		}
		ctx, cancel := c.io()
		err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
			return e.OfferAccepted(acd.CallID(c.id), acd.AgentID(l.agent))
		})
		cancel()
		l.offerLive = false
		if err != nil {
			// The offer was withdrawn meanwhile (timeout, another agent).
			c.log.Info("answered offer no longer stands", "agent_id", l.agent, "err", err)
			c.hangupLeg(l, mediacore.CauseCancelled)
			return nil, false
		}
		c.leaveQueue(w)
		c.connectAgent(l)
		return c.takeNext(), true
	case mediacore.EventHangup:
		l := c.legs[ev.Channel]
		if l == nil || l.agent == "" || !l.offerLive {
			return nil, false
		}
		l.offerLive = false
		if c.pbxOfferLegEnded(l) {
			return nil, false
		}
		reason := ev.Cause.String()
		if ev.Cause == mediacore.CauseNoAnswer {
			reason = acd.ReasonNoAnswer
		}
		ctx, cancel := c.io()
		err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
			return e.OfferFailed(acd.CallID(c.id), acd.AgentID(l.agent), reason)
		})
		cancel()
		if err != nil {
			c.log.Debug("offer failure not taken", "agent_id", l.agent, "err", err)
		}
		c.unringView()
	}
	return nil, false
}

// unringView shows the call as queued again once no offer rings any agent
// (it timed out, was refused or cancelled, or the device was unreachable),
// so GET /api/v1/calls and the wallboard do not keep a ringing agent that
// no longer rings; the next offer sets "ringing" again.
func (c *call) unringView() {
	for _, l := range c.legs {
		if l.offerLive {
			return
		}
	}
	c.setView(func(v *LiveCall) {
		if v.State == "ringing" {
			v.State, v.AgentID = "queued", ""
		}
	})
}

// queueDecision executes an ACD decision about the call; done ends the
// stay.
func (c *call) queueDecision(w *queueWait, ev acd.Event) (*store.Target, bool) {
	switch ev.Kind {
	case acd.EventOffer:
		a := c.offer(ev)
		w.offered[string(ev.Agent)] = a
	case acd.EventOfferTimeout, acd.EventOfferCancelled:
		for _, l := range c.legs {
			if l.agent == string(ev.Agent) && l.offerLive {
				l.offerLive = false
				cause := mediacore.CauseCancelled
				if ev.Kind == acd.EventOfferTimeout {
					cause = mediacore.CauseNoAnswer
				}
				c.hangupLeg(l, cause)
			}
		}
		c.unringView()
	case acd.EventOverflow:
		c.leaveQueue(w)
		c.vars["overflow_reason"] = ev.Reason
		if ev.Target.Kind == acd.TargetCallback {
			c.becomeCallback()
			return nil, true
		}
		c.cdr.Outcome = store.OutcomeOverflowed
		c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: "queue", From: w.q.ID,
			Target: ev.Target.Kind.String() + ":" + ev.Target.Dest})
		t := storeTarget(ev.Target)
		if t.Kind == store.TargetQueue {
			// The next queue's outcome replaces this one.
			c.cdr.Outcome = ""
		}
		return &t, true
	case acd.EventCallbackRequested:
		c.leaveQueue(w)
		c.becomeCallback()
		return nil, true
	}
	return nil, false
}

// storeTarget maps an ACD overflow target back to a route target.
func storeTarget(t acd.Target) store.Target {
	switch t.Kind {
	case acd.TargetQueue:
		return store.Target{Kind: store.TargetQueue, Value: t.Dest}
	case acd.TargetIVR:
		return store.Target{Kind: store.TargetIVR, Value: t.Dest}
	case acd.TargetVoicemail:
		return store.Target{Kind: store.TargetVoicemail, Value: t.Dest}
	case acd.TargetExternal:
		return store.Target{Kind: store.TargetExternal, Value: t.Dest}
	}
	return store.Target{Kind: store.TargetHangup}
}

// becomeCallback tells the caller it will be called back, and ends the
// line: the ACD keeps the place and decides the callback (CallbackDue).
func (c *call) becomeCallback() {
	c.cdr.Outcome = store.OutcomeCallback
	msg := "好的，轮到您时我们会给您回电。再见。"
	if c.lang == ivr.LangEN {
		msg = "We will call you back when it is your turn. Goodbye."
	}
	c.sayAndWait([]mediacore.Media{mediacore.TTS(c.voice(), msg)})
	c.hangupCaller(mediacore.CauseNormal, store.SideSystem)
}

func (c *call) voice() string {
	if c.lang == "" {
		return ivr.LangZH
	}
	return c.lang
}

// sayAndWait plays media and waits for it (or the caller hanging up).
func (c *call) sayAndWait(media []mediacore.Media) {
	pb, err := c.play(media, false)
	if err != nil {
		c.log.Debug("prompt not played", "err", err)
		return
	}
	for pb != "" && !c.gone {
		m, ok := c.next()
		if !ok {
			return
		}
		if ev, isEv := m.(mediacore.Event); isEv && ev.Type == mediacore.EventPlaybackFinished && ev.Playback == pb {
			return
		}
	}
}

// abandon tells the ACD the caller left (or the call left the queue for
// voicemail); ringing offers are cancelled by the engine.
func (c *call) abandon() {
	ctx, cancel := c.io()
	defer cancel()
	if err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		// The caller's hangup time (the media node's clock), not now:
		// leaving the queue's media first must not lengthen the wait.
		return e.AbandonAt(acd.CallID(c.id), c.cdr.Legs[0].End)
	}); err != nil {
		c.log.Debug("abandon not taken", "err", err)
	}
	for _, l := range c.legs {
		if l.offerLive {
			l.offerLive = false
			c.hangupLeg(l, mediacore.CauseCancelled)
		}
	}
}

// leaveQueue stops the waiting media and timers.
func (c *call) leaveQueue(w *queueWait) {
	c.stop(w.announce)
	w.announce = 0
	c.stopPlayback(c.moh)
	c.moh = ""
	c.stopPlayback(w.annPB)
	w.annPB = ""
}

func (c *call) startMOH(w *queueWait) {
	if c.gone {
		return
	}
	media := mediacore.ToneFor(holdTone, 0)
	if w.q.MusicOnHold != "" {
		media = mediacore.File(w.q.MusicOnHold)
	}
	pb, err := c.play([]mediacore.Media{media}, true)
	if err != nil {
		c.log.Warn("music on hold", "err", err)
	}
	c.moh = pb
}

// announce speaks the caller's position (and expected wait, from the
// ACD's average handle time) in the call's language, between two
// stretches of music.
func (c *call) announce(w *queueWait) {
	var pos int
	var wait time.Duration
	ctx, cancel := c.io()
	err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		var err error
		if pos, err = e.Position(acd.CallID(c.id)); err != nil {
			return nil, err
		}
		wait, err = e.ExpectedWait(acd.CallID(c.id))
		return nil, err
	})
	cancel()
	if err != nil || pos == 0 || w.annPB != "" {
		return
	}
	text := positionText(c.voice(), pos, wait, w.q.Announcements.ExpectedWait)
	c.stopPlayback(c.moh)
	c.moh = ""
	pb, err := c.play([]mediacore.Media{mediacore.TTS(c.voice(), text), mediacore.TTS(c.voice(), keysText(c.voice()))}, false)
	if err != nil {
		c.log.Warn("position announcement", "err", err)
		c.startMOH(w)
		return
	}
	w.annPB = pb
	c.vars["last_position"] = fmt.Sprint(pos)
}

// keysText tells a waiting caller the keys it may press.
func keysText(lang string) string {
	if lang == ivr.LangEN {
		return "To be called back without losing your place, press star. To leave a message, press hash."
	}
	return "如需保留排队位置并等待回电，请按星号键；如需留言，请按井号键。"
}

// positionText is the position announcement in zh or en; the expected
// wait is rounded up to whole minutes and said only when known.
func positionText(lang string, pos int, wait time.Duration, sayWait bool) string {
	mins := int((wait + time.Minute - 1) / time.Minute)
	if lang == ivr.LangEN {
		s := fmt.Sprintf("You are number %d in line.", pos)
		if sayWait && wait > 0 {
			s += fmt.Sprintf(" The expected wait is about %d minutes.", mins)
		}
		return s
	}
	s := fmt.Sprintf("您现在排在第%d位。", pos)
	if sayWait && wait > 0 {
		s += fmt.Sprintf("预计等待约%d分钟。", mins)
	}
	return s
}

// offer rings an agent the ACD chose: the screen pop goes out first (the
// caller, the DID, the queue, the IVR variables and the customer record),
// then the agent's device rings with the caller's number as caller id,
// near the caller's channel, for the queue's ring timeout (the ACD's own
// timer decides the timeout; the node's is a second later as a safety).
// It returns the agent offered.
func (c *call) offer(ev acd.Event) store.Agent {
	agent := string(ev.Agent)
	ctx, cancel := c.io()
	a, _, _ := c.cc.ctl.storedAgent(ctx, agent)
	cancel()
	dev := c.cc.agents.deviceOf(agent, a.Extension)
	cu := c.lookupCustomer()
	q := c.queue
	aud := c.audience(agent)
	if a.Team != "" {
		aud.Teams = appendUnique(append([]string(nil), aud.Teams...), a.Team)
	}
	c.publish("call.offered", agent, &aud, map[string]any{
		"caller": c.in.Caller, "caller_name": c.in.CallerName, "called": c.in.Called, "number": c.cdr.Number,
		"queue": q.ID, "queue_name": q.Name, "vars": c.vars, "customer": cu, "device": dev, "until": ev.Until,
	})
	if c.pbxOffer(ev, a, dev) {
		return a
	}
	l := c.newLeg("agent", dev, agent)
	l.offerLive, l.offerUntil = true, ev.Until
	// A phone number (tel/, a mobile agent) is never asked to answer by itself.
	l.autoAnswer = a.AutoAnswer && !strings.HasPrefix(dev, "tel/")
	timeout := ev.Until.Sub(c.now()) + time.Second
	if timeout < time.Second {
		timeout = time.Second
	}
	c.setView(func(v *LiveCall) { v.State, v.AgentID = "ringing", agent })
	if err := c.originate(l, dev, timeout); err != nil {
		c.log.Warn("agent device unreachable", "agent_id", agent, "device", dev, "err", err)
		l.offerLive = false
		ctx, cancel := c.io()
		defer cancel()
		if err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
			return e.OfferFailed(acd.CallID(c.id), ev.Agent, "unreachable")
		}); err != nil {
			c.log.Debug("offer failure not taken", "err", err)
		}
		c.unringView()
	}
	return a
}

// connectAgent bridges the caller with the agent who answered, starts the
// recording by the queue's policy, and waits for the end of the
// conversation; the ACD is told the call ended (the agent goes to
// wrap-up).
func (c *call) connectAgent(l *leg) {
	c.agent = l
	ctx, cancel := c.io()
	a, _, _ := c.cc.ctl.storedAgent(ctx, l.agent)
	cancel()
	c.agentRec = a
	for _, o := range c.legs {
		if o != l && o.offerLive {
			o.offerLive = false
			c.hangupLeg(o, mediacore.CauseCancelled)
		}
	}
	c.pbxAnnounce(a)
	if err := c.connectLeg(l); err != nil {
		c.log.Error("bridge caller and agent", "agent_id", l.agent, "err", err)
	}
	t := c.now()
	if a := c.cdr.Legs[l.idx].Answer; a != nil {
		t = *a
	}
	if c.cdr.Answer == nil { // a transferred call keeps its first answer
		c.cdr.Answer = &t
	}
	c.cdr.AgentID, c.cdr.AgentName, c.cdr.Extension = a.ID, a.Name, a.Extension
	if c.cdr.AgentID == "" {
		c.cdr.AgentID = l.agent
	}
	c.cdr.Outcome = store.OutcomeAnswered
	c.setView(func(v *LiveCall) { v.State, v.AgentID, v.Answer = "talking", l.agent, &t })
	if c.rec == nil {
		c.startRecording()
	}
	c.publish("call.answered", l.agent, nil, map[string]any{"agent_id": l.agent, "agent_name": a.Name,
		"extension": a.Extension, "recording_id": c.recID()})
	to := c.talk(l)
	ctx, cancel = c.io()
	if err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		return e.CallEnded(acd.CallID(c.id))
	}); err != nil {
		c.log.Warn("call end not taken by the ACD", "err", err)
	}
	cancel()
	if to != "" {
		// The agent's part ended (wrap-up follows); the caller goes on.
		c.cctl.next = c.dial(to, "blind")
	}
}
