package acd

import (
	"fmt"
	"slices"
	"time"
)

func (e *Engine) newCall() *call {
	var c *call
	if n := len(e.free); n > 0 {
		c = e.free[n-1]
		e.free = e.free[:n-1]
		*c = call{ringing: c.ringing[:0]}
	} else {
		c = &call{}
	}
	c.hidx = -1
	c.tm = timer{idx: -1, call: c}
	e.seq++
	c.seq = e.seq
	return c
}

func (e *Engine) call(id CallID) (*call, error) {
	c := e.calls[id]
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownCall, id)
	}
	return c, nil
}

// EnqueueCall puts an inbound call in its queue and routes it at once if a
// ready, eligible agent exists; otherwise it waits (or overflows by the
// queue's limits, or waits for its sticky agent).
func (e *Engine) EnqueueCall(in Call) ([]Event, error) {
	e.begin()
	c, err := e.admit(in.ID, in.Queue, in.Skills)
	if err != nil {
		return e.fail(err)
	}
	q := c.q
	c.kind, c.prio, c.caller, c.live = CallInbound, in.Priority, in.Caller, true
	if q.cfg.KeepEnteredAt && !in.EnteredAt.IsZero() && in.EnteredAt.Before(e.now) {
		c.enteredAt = in.EnteredAt
		c.entered = in.EnteredAt.UnixNano()
	}
	q.nLive++
	e.emit(e.callEv(EventQueued, c, nil))
	switch {
	case q.cfg.MaxLen > 0 && q.nLive > q.cfg.MaxLen:
		e.overflow(c, ReasonQueueFull, q.cfg.OnFull)
	case q.cfg.JoinEmpty != EmptyIgnore && q.empty(q.cfg.JoinEmpty):
		e.overflow(c, ReasonNoAgents, q.cfg.OnNoAgents)
	case e.trySticky(c):
	default:
		e.enlist(c)
	}
	e.finish()
	return e.out, nil
}

// RequestOutboundAgent asks for an agent of req.Queue for a campaign call.
// The request waits in the queue (priority, then FIFO) until an eligible
// agent is ready; then EventOutboundReserved reserves the agent until the
// queue's ring timeout. Report OfferAccepted when the customer is connected
// (agent busy outbound), OfferFailed to put the request back, or Abandon to
// withdraw it.
func (e *Engine) RequestOutboundAgent(req OutboundRequest) ([]Event, error) {
	e.begin()
	c, err := e.admit(req.ID, req.Queue, req.Skills)
	if err != nil {
		return e.fail(err)
	}
	c.kind, c.prio, c.caller = CallOutbound, req.Priority, req.Number
	c.q.nOutbound++
	e.emit(e.callEv(EventQueued, c, nil))
	e.enlist(c)
	e.finish()
	return e.out, nil
}

// admit validates and registers a new call entering queue qid now.
func (e *Engine) admit(id CallID, qid QueueID, skills []SkillReq) (*call, error) {
	if id == "" {
		return nil, invalid("empty call ID")
	}
	if e.calls[id] != nil {
		return nil, fmt.Errorf("%w: %q", ErrDuplicateCall, id)
	}
	q := e.queues[qid]
	if q == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownQueue, qid)
	}
	if err := validSkills(skills); err != nil {
		return nil, err
	}
	c := e.newCall()
	c.id, c.q, c.class = id, q, e.classOf(skills)
	c.enteredAt, c.entered, c.queuedAt = e.now, e.now.UnixNano(), e.now
	e.calls[id] = c
	q.nCalls++
	return c, nil
}

// RequestCallback turns a waiting caller into a callback that keeps its
// place: the caller hangs up, and EventCallbackDue reserves an agent when
// the entry reaches the head. number replaces the caller number if not
// empty.
func (e *Engine) RequestCallback(id CallID, number string) ([]Event, error) {
	e.begin()
	c, err := e.call(id)
	if err != nil {
		return e.fail(err)
	}
	if c.kind != CallInbound || (c.state != csWaiting && c.state != csParked) {
		return e.fail(fmt.Errorf("%w: callback for %s call %q", ErrIllegalTransition, c.kind, id))
	}
	if number == "" && c.caller == "" {
		return e.fail(invalid("callback for %q without a number", id))
	}
	if number != "" {
		c.caller = number
	}
	e.toCallback(c)
	e.emit(e.callEv(EventCallbackRequested, c, nil))
	e.finish()
	return e.out, nil
}

func (e *Engine) unlive(c *call) {
	if c.live {
		c.live = false
		c.q.nLive--
	}
}

func (e *Engine) toCallback(c *call) {
	e.unlive(c)
	c.kind = CallCallback
	c.q.nCallbacks++
	if c.state == csNew {
		e.enlist(c)
		return
	}
	e.armCall(c)
}

// Abandon ends a call that is waiting or ringing (the caller hung up, a
// callback or outbound request was withdrawn). Ringing agents are cancelled
// and become ready.
func (e *Engine) Abandon(id CallID) ([]Event, error) {
	return e.AbandonAt(id, time.Time{})
}

// AbandonAt is Abandon for a caller who hung up at at: the abandoned event
// carries that moment rather than the moment the command arrived, so a
// busy caller actor does not lengthen the reported wait. at is clamped to
// [queue entry, now]; the zero time means now.
func (e *Engine) AbandonAt(id CallID, at time.Time) ([]Event, error) {
	e.begin()
	c, err := e.call(id)
	if err != nil {
		return e.fail(err)
	}
	if c.state == csConnected {
		return e.fail(fmt.Errorf("%w: abandon of answered call %q", ErrIllegalTransition, id))
	}
	if c.state == csOffered {
		for _, a := range c.ringing {
			ev := e.callEv(EventOfferCancelled, c, a)
			ev.Reason = ReasonAbandoned
			e.emit(ev)
			a.call = nil
			e.setState(a, StateReady, BusyNone, "", Origin{Kind: BySystem})
		}
		c.ringing = c.ringing[:0]
	}
	ev := e.callEv(EventAbandoned, c, nil)
	e.emit(ev)
	if !at.IsZero() && at.Before(e.now) {
		e.out[len(e.out)-1].At = maxTime(at, c.enteredAt)
	}
	e.freeCall(c)
	e.finish()
	return e.out, nil
}

func (e *Engine) ringingIndex(c *call, a *agent) int {
	if c.state != csOffered {
		return -1
	}
	return slices.Index(c.ringing, a)
}

func (e *Engine) offered(cid CallID, aid AgentID) (*call, *agent, int, error) {
	c, err := e.call(cid)
	if err != nil {
		return nil, nil, -1, err
	}
	a, err := e.agent(aid)
	if err != nil {
		return nil, nil, -1, err
	}
	i := e.ringingIndex(c, a)
	if i < 0 {
		return nil, nil, -1, fmt.Errorf("%w: call %q, agent %q", ErrNotOffered, cid, aid)
	}
	return c, a, i, nil
}

// OfferAccepted reports that agent answered call (or, for an outbound
// reservation or a callback, that the customer is connected). The agent
// becomes busy; under ring-all the other ringing agents are cancelled.
func (e *Engine) OfferAccepted(cid CallID, aid AgentID) ([]Event, error) {
	e.begin()
	c, a, _, err := e.offered(cid, aid)
	if err != nil {
		return e.fail(err)
	}
	e.accept(c, a, ReasonAnswered, Origin{Kind: BySystem})
	e.finish()
	return e.out, nil
}

// PickUp gives a ringing inbound call to agent by, who picked it up from
// its own phone (group or directed pickup: the call rang another agent of
// its pickup group). The offer moves to by in one step: the ringing
// agents are cancelled with ReasonPickedUp and become ready with no
// no-answer counted (they did not fail to answer), and by is connected
// as if it had answered the offer. by may be ready, not-ready (it goes
// back to its reason after the call and its wrap-up) or in wrap-up (which
// ends); it need not be a member of the call's queue: the controller
// decides who may pick up. A pickup by an agent the call rings is an
// OfferAccepted.
func (e *Engine) PickUp(cid CallID, by AgentID, o Origin) ([]Event, error) {
	e.begin()
	c, err := e.call(cid)
	if err != nil {
		return e.fail(err)
	}
	b, err := e.agent(by)
	if err != nil {
		return e.fail(err)
	}
	if c.state != csOffered || c.kind != CallInbound {
		return e.fail(fmt.Errorf("%w: pickup of call %q, which rings nobody", ErrNotOffered, cid))
	}
	if !slices.Contains(c.ringing, b) {
		if err := b.check(cmdPickUp); err != nil {
			return e.fail(err)
		}
		e.disarm(&b.tm) // a wrap-up ends
		if b.state == StateNotReady {
			b.pending = b.reason
		}
		b.call = c
	}
	e.accept(c, b, ReasonPickedUp, o)
	e.finish()
	return e.out, nil
}

// accept connects offered call c to agent a; the other ringing agents
// are cancelled for reason and become ready.
func (e *Engine) accept(c *call, a *agent, reason string, o Origin) {
	e.disarm(&c.tm)
	for _, r := range c.ringing {
		if r == a {
			continue
		}
		ev := e.callEv(EventOfferCancelled, c, r)
		ev.Reason = reason
		e.emit(ev)
		r.call = nil
		e.setState(r, StateReady, BusyNone, "", Origin{Kind: BySystem})
	}
	c.ringing = c.ringing[:0]
	c.state, c.agent = csConnected, a
	e.unlive(c)
	a.noAnswer = 0
	a.calls++
	a.connectedAt = e.now
	e.emit(e.callEv(EventOfferAccepted, c, a))
	busy := BusyInbound
	if c.kind != CallInbound {
		busy = BusyOutbound
	}
	e.setState(a, StateBusy, busy, "", o)
}

// OfferFailed reports that the offer of call to agent failed (rejected,
// unreachable, no answer; reason is recorded). The agent counts a
// no-answer (except for outbound reservations) and becomes ready, or
// not-ready(no-answer) at the queue's NoAnswerLimit. When no other agent is
// ringing, the call goes back to its place and is not offered to this agent
// again for the queue's retry delay.
func (e *Engine) OfferFailed(cid CallID, aid AgentID, reason string) ([]Event, error) {
	e.begin()
	c, a, i, err := e.offered(cid, aid)
	if err != nil {
		return e.fail(err)
	}
	if reason == "" {
		reason = ReasonNoAnswer
	}
	ev := e.callEv(EventOfferFailed, c, a)
	ev.Reason = reason
	e.emit(ev)
	c.ringing = slices.Delete(c.ringing, i, i+1)
	e.release(a, c)
	if len(c.ringing) == 0 {
		c.declinedBy, c.declineUntil = a, e.now.Add(c.q.retryDelay())
		e.enlist(c)
	}
	e.finish()
	return e.out, nil
}

// release frees an agent whose offer of c failed or timed out.
func (e *Engine) release(a *agent, c *call) {
	a.call = nil
	c.refused = append(c.refused, a)
	if c.kind != CallOutbound {
		a.noAnswer++
		if lim := c.q.cfg.NoAnswerLimit; lim > 0 && a.noAnswer >= lim {
			a.noAnswer = 0
			e.setState(a, StateNotReady, BusyNone, ReasonNoAnswer, Origin{Kind: BySystem})
			return
		}
	}
	e.setState(a, StateReady, BusyNone, "", Origin{Kind: BySystem})
}

// withdraw cancels a's ringing offer because the agent left; the call keeps
// its place and no no-answer is counted.
func (e *Engine) withdraw(a *agent, reason string) {
	c := a.call
	ev := e.callEv(EventOfferCancelled, c, a)
	ev.Reason = reason
	e.emit(ev)
	if i := slices.Index(c.ringing, a); i >= 0 {
		c.ringing = slices.Delete(c.ringing, i, i+1)
	}
	a.call = nil
	if len(c.ringing) == 0 {
		e.enlist(c)
	}
}

// CallEnded reports that an answered call ended. The agent goes to wrap-up
// (its own WrapUp, else the call's queue's), or straight to ready.
func (e *Engine) CallEnded(cid CallID) ([]Event, error) {
	e.begin()
	c, err := e.call(cid)
	if err != nil {
		return e.fail(err)
	}
	if c.state != csConnected {
		return e.fail(fmt.Errorf("%w: end of unanswered call %q", ErrIllegalTransition, cid))
	}
	a := c.agent
	a.talk += e.now.Sub(a.connectedAt)
	a.idleSince = e.now
	if c.caller != "" {
		e.remember(c.caller, a)
	}
	e.emit(e.callEv(EventCallEnded, c, a))
	wrap := a.wrapOverride
	if wrap <= 0 {
		wrap = c.q.cfg.WrapUp
	}
	// Exponential moving average, weight 1/8 for the newest call.
	if handle := e.now.Sub(a.connectedAt) + wrap; c.q.aht == 0 {
		c.q.aht = handle
	} else {
		c.q.aht += (handle - c.q.aht) / 8
	}
	if wrap > 0 {
		a.wrapUntil = e.now.Add(wrap)
		e.setState(a, StateWrapUp, BusyNone, "", Origin{Kind: BySystem})
		e.arm(&a.tm, a.wrapUntil)
	} else {
		e.afterWork(a, Origin{Kind: BySystem})
	}
	a.call = nil
	e.freeCall(c)
	e.finish()
	return e.out, nil
}

func (e *Engine) remember(caller string, a *agent) {
	if e.stickyKeep <= 0 {
		return
	}
	e.sticky[caller] = stickyRec{agent: a.id, at: e.now}
	e.stickyLog = append(e.stickyLog, stickyEntry{caller: caller, at: e.now})
	for e.stickyHead < len(e.stickyLog) && e.now.Sub(e.stickyLog[e.stickyHead].at) > e.stickyKeep {
		old := e.stickyLog[e.stickyHead]
		if r, ok := e.sticky[old.caller]; ok && r.at.Equal(old.at) {
			delete(e.sticky, old.caller)
		}
		e.stickyLog[e.stickyHead] = stickyEntry{}
		e.stickyHead++
	}
	if e.stickyHead > len(e.stickyLog)/2 {
		n := copy(e.stickyLog, e.stickyLog[e.stickyHead:])
		clear(e.stickyLog[n:])
		e.stickyLog = e.stickyLog[:n]
		e.stickyHead = 0
	}
}

// freeCall removes a call from the engine for good.
func (e *Engine) freeCall(c *call) {
	e.detach(c)
	e.disarm(&c.tm)
	e.unlive(c)
	q := c.q
	q.nCalls--
	switch c.kind {
	case CallCallback:
		q.nCallbacks--
	case CallOutbound:
		q.nOutbound--
	}
	delete(e.calls, c.id)
	c.state = csEnded
	c.q, c.class, c.agent, c.declinedBy, c.sticky = nil, nil, nil, nil, nil
	clear(c.ringing)
	c.ringing = c.ringing[:0]
	clear(c.refused)
	c.refused = c.refused[:0]
	e.free = append(e.free, c)
}

// detach takes a waiting or parked call out of its heap.
func (e *Engine) detach(c *call) {
	switch c.state {
	case csWaiting:
		c.list.remove(c)
		c.list = nil
	case csParked:
		c.sticky.sticky.remove(c.hidx)
		c.sticky = nil
	}
}

// enlist puts a call in (or back in) its place in the queue and schedules
// its routing.
func (e *Engine) enlist(c *call) {
	c.state = csWaiting
	q := c.q
	c.step = q.stepAt(e.now.Sub(c.enteredAt))
	l := q.list(c.prio, c.class)
	l.push(c)
	c.list = l
	e.armCall(c)
	e.wCalls = append(e.wCalls, c)
}

func (e *Engine) unpark(c *call) {
	e.detach(c)
	e.enlist(c)
}

func (e *Engine) trySticky(c *call) bool {
	q := c.q
	if q.cfg.StickyWait <= 0 || c.caller == "" {
		return false
	}
	rec, ok := e.sticky[c.caller]
	if !ok || e.now.Sub(rec.at) > q.cfg.StickyLookback {
		return false
	}
	a := e.agents[rec.agent]
	if a == nil || a.state == StateLoggedOut {
		return false
	}
	m := a.memberOf(q)
	if m == nil || m.stepFrom < 0 || !classOK(a, c.class, q.steps[len(q.steps)-1].relax) {
		return false
	}
	c.step = q.stepAt(e.now.Sub(c.enteredAt))
	if a.state == StateReady {
		e.offer1(c, a)
		return true
	}
	c.state, c.sticky, c.stickyUntil = csParked, a, e.now.Add(q.cfg.StickyWait)
	a.sticky.push(c)
	e.armCall(c)
	ev := e.callEv(EventStickyWait, c, a)
	ev.Until = c.stickyUntil
	e.emit(ev)
	return true
}

// overflow sends a call to target. A callback target keeps the caller's
// place as a callback; any other ends the call here.
func (e *Engine) overflow(c *call, reason string, t Target) {
	if t.Kind == TargetCallback && (c.caller == "" || c.kind != CallInbound) {
		t = Target{}
	}
	ev := e.callEv(EventOverflow, c, nil)
	ev.Reason, ev.Target = reason, t
	e.emit(ev)
	if t.Kind == TargetCallback {
		e.toCallback(c)
		return
	}
	e.freeCall(c)
}

// armCall schedules the call's next deadline for its state.
func (e *Engine) armCall(c *call) {
	var at time.Time
	consider := func(t time.Time) {
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	q := c.q
	switch c.state {
	case csOffered:
		consider(c.offerUntil)
	case csWaiting, csParked:
		if c.kind == CallInbound && q.cfg.MaxWait > 0 {
			consider(c.queuedAt.Add(q.cfg.MaxWait))
		}
		if c.state == csParked {
			consider(c.stickyUntil)
			break
		}
		if c.step+1 < len(q.steps) {
			consider(c.enteredAt.Add(q.steps[c.step+1].at))
		}
		if c.declinedBy != nil || c.declinedAll {
			consider(c.declineUntil)
		}
	}
	if at.IsZero() {
		e.disarm(&c.tm)
		return
	}
	e.arm(&c.tm, at)
}

func (e *Engine) callTimer(c *call) {
	q := c.q
	switch c.state {
	case csOffered:
		e.offerTimeout(c)
	case csWaiting, csParked:
		if c.kind == CallInbound && q.cfg.MaxWait > 0 && !e.now.Before(c.queuedAt.Add(q.cfg.MaxWait)) {
			e.overflow(c, ReasonMaxWait, q.cfg.OnMaxWait)
			return
		}
		if c.state == csParked {
			if !e.now.Before(c.stickyUntil) {
				e.unpark(c)
			} else {
				e.armCall(c)
			}
			return
		}
		grew := false
		if (c.declinedBy != nil || c.declinedAll) && !e.now.Before(c.declineUntil) {
			c.declinedBy, c.declinedAll = nil, false
			grew = true
		}
		if s := q.stepAt(e.now.Sub(c.enteredAt)); s != c.step {
			c.step = s
			grew = true
		}
		if grew {
			e.wCalls = append(e.wCalls, c)
		}
		e.armCall(c)
	}
}

func (e *Engine) offerTimeout(c *call) {
	for _, a := range c.ringing {
		ev := e.callEv(EventOfferTimeout, c, a)
		ev.Reason = ReasonRingTimeout
		e.emit(ev)
	}
	e.scratchA = append(e.scratchA[:0], c.ringing...)
	if len(c.ringing) == 1 {
		c.declinedBy = c.ringing[0]
	} else {
		c.declinedAll = true
	}
	c.declineUntil = e.now.Add(c.q.retryDelay())
	clear(c.ringing)
	c.ringing = c.ringing[:0]
	for _, a := range e.scratchA {
		e.release(a, c)
	}
	clear(e.scratchA)
	e.enlist(c)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
