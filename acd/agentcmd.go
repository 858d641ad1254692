package acd

import (
	"fmt"
)

func (e *Engine) agent(id AgentID) (*agent, error) {
	a := e.agents[id]
	if a == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAgent, id)
	}
	return a, nil
}

// Login moves a logged-out agent to not-ready(login).
func (e *Engine) Login(id AgentID, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdLogin)
	}
	if err != nil {
		return e.fail(err)
	}
	a.idleSince = e.now
	a.noAnswer = 0
	e.setState(a, StateNotReady, BusyNone, ReasonLogin, o)
	e.finish()
	return e.out, nil
}

// Logout logs an agent out; a ringing offer is cancelled and its call goes
// back to its place, and calls waiting for this agent as their sticky agent
// return to normal routing.
func (e *Engine) Logout(id AgentID, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdLogout)
	}
	if err != nil {
		return e.fail(err)
	}
	if a.state == StateReserved {
		e.withdraw(a, ReasonAgentLeft)
	}
	e.disarm(&a.tm)
	a.pending, a.prevReason = "", ""
	e.setState(a, StateLoggedOut, BusyNone, "", o)
	for len(a.sticky) > 0 {
		e.unpark(a.sticky[0])
	}
	e.finish()
	return e.out, nil
}

// SetReady makes an agent ready (from not-ready, or ending wrap-up early).
func (e *Engine) SetReady(id AgentID, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdReady)
	}
	if err != nil {
		return e.fail(err)
	}
	e.disarm(&a.tm)
	a.pending = ""
	e.setState(a, StateReady, BusyNone, "", o)
	e.finish()
	return e.out, nil
}

// SetNotReady makes an agent not-ready with a reason code. A ringing offer
// is cancelled (the call keeps its place). While busy the reason is held
// and applied after the call and its wrap-up.
func (e *Engine) SetNotReady(id AgentID, reason string, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdNotReady)
	}
	if err != nil {
		return e.fail(err)
	}
	if reason == "" {
		reason = ReasonUnspecified
	}
	if a.state == StateBusy {
		a.pending = reason
		return e.out, nil
	}
	if a.state == StateReserved {
		e.withdraw(a, ReasonAgentLeft)
	}
	e.disarm(&a.tm)
	e.setState(a, StateNotReady, BusyNone, reason, o)
	e.finish()
	return e.out, nil
}

// BeginInternal marks an agent busy with an internal call the ACD did not
// route (an agent-to-agent or click-to-dial call).
func (e *Engine) BeginInternal(id AgentID, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdBeginInternal)
	}
	if err != nil {
		return e.fail(err)
	}
	a.prevReason = ""
	if a.state == StateNotReady {
		a.prevReason = a.reason
	}
	e.disarm(&a.tm)
	e.setState(a, StateBusy, BusyInternal, "", o)
	e.finish()
	return e.out, nil
}

// EndInternal ends an internal call: the agent returns to ready, or to
// not-ready with the pending reason or the reason it held before.
func (e *Engine) EndInternal(id AgentID, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdEndInternal)
	}
	if err != nil {
		return e.fail(err)
	}
	switch {
	case a.pending != "":
		r := a.pending
		a.pending = ""
		e.setState(a, StateNotReady, BusyNone, r, o)
	case a.prevReason != "":
		e.setState(a, StateNotReady, BusyNone, a.prevReason, o)
	default:
		e.setState(a, StateReady, BusyNone, "", o)
	}
	a.prevReason = ""
	e.finish()
	return e.out, nil
}

// afterWork ends a call's work: not-ready with the pending reason, or ready.
func (e *Engine) afterWork(a *agent, o Origin) {
	if a.pending != "" {
		r := a.pending
		a.pending = ""
		e.setState(a, StateNotReady, BusyNone, r, o)
		return
	}
	e.setState(a, StateReady, BusyNone, "", o)
}

func (e *Engine) agentTimer(a *agent) {
	if a.state == StateWrapUp {
		e.afterWork(a, Origin{Kind: BySystem})
	}
}
