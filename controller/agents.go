package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"hotline/acd"
	"hotline/controller/store"
	"hotline/mediacore"
)

// agentTable holds the agents' live sessions: the device each one sits
// at, and what the ACD last said of it (state, since, call, calls today).
// The ACD owner updates it from its events (HandleACD); call actors read
// devices; the live control reads views. mu guards sessions; nothing is
// called with it held.
type agentTable struct {
	mu       sync.Mutex
	sessions map[string]*agentSession
}

type agentSession struct {
	device     string
	state      acd.State
	reason     string
	since      time.Time
	call       string
	callsToday int
	day        string // the date callsToday counts (UTC)
}

func newAgentTable() *agentTable { return &agentTable{sessions: map[string]*agentSession{}} }

func (t *agentTable) get(id string) *agentSession {
	s := t.sessions[id]
	if s == nil {
		s = &agentSession{}
		t.sessions[id] = s
	}
	return s
}

// state follows an EventAgentState.
func (t *agentTable) state(ev acd.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.get(string(ev.Agent))
	s.state, s.reason, s.since = ev.To, ev.Reason, ev.At
	switch ev.To {
	case acd.StateReserved, acd.StateBusy:
		s.call = string(ev.Call)
	case acd.StateWrapUp:
	default:
		s.call = ""
	}
}

// answered counts a call answered today.
func (t *agentTable) answered(ev acd.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.get(string(ev.Agent))
	day := ev.At.UTC().Format(time.DateOnly)
	if s.day != day {
		s.day, s.callsToday = day, 0
	}
	s.callsToday++
	s.call = string(ev.Call)
}

func (t *agentTable) setDevice(id, dev string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.get(id).device = dev
}

// deviceOf returns where an agent sits: its session's device, or its
// extension as a registered user.
func (t *agentTable) deviceOf(id, ext string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.sessions[id]; s != nil && s.device != "" {
		return s.device
	}
	return "user/" + ext
}

func (t *agentTable) session(id string, now time.Time) agentSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[id]
	if s == nil {
		return agentSession{}
	}
	v := *s
	if v.day != now.UTC().Format(time.DateOnly) {
		v.callsToday = 0
	}
	return v
}

// mayActOn: an agent acts on itself only; a supervisor or an admin on
// anyone.
func mayActOn(by Actor, agentID string) error {
	switch by.Role {
	case store.RoleAdmin, store.RoleSupervisor:
		return nil
	case store.RoleAgent:
		if by.AgentID != "" && by.AgentID == agentID {
			return nil
		}
	}
	return fmt.Errorf("%w: %s may not act on agent %q", ErrForbidden, by.Role, agentID)
}

func originOf(by Actor, agentID string) acd.Origin {
	if by.Role == store.RoleAgent && by.AgentID == agentID {
		return acd.Origin{Kind: acd.ByAgent, By: by.UserID}
	}
	return acd.Origin{Kind: acd.BySupervisor, By: by.UserID}
}

// SetAgentState implements LiveControl: ready logs a logged-out agent in
// first (at req.Device, or user/<extension>); not-ready with a reason
// likewise; logged-out logs out. The ACD's refusal is
// ErrIllegalTransition with its reason.
func (cc *CallCenter) SetAgentState(ctx context.Context, by Actor, agentID string, req AgentStateRequest) (AgentStateView, error) {
	if err := mayActOn(by, agentID); err != nil {
		return AgentStateView{}, err
	}
	a, ok, err := cc.ctl.storedAgent(ctx, agentID)
	if err != nil {
		return AgentStateView{}, err
	}
	if !ok {
		return AgentStateView{}, fmt.Errorf("%w: agent %q", store.ErrNotFound, agentID)
	}
	if err := mayActOnTeam(by, a); err != nil {
		return AgentStateView{}, err
	}
	if req.Device != "" {
		if _, err := mediacore.ParseEndpoint(req.Device); err != nil {
			return AgentStateView{}, fmt.Errorf("%w: %w", ErrInvalidDevice, err)
		}
	}
	switch req.State {
	case "ready", "not-ready", "logged-out":
	default:
		return AgentStateView{}, fmt.Errorf("%w: %q (want ready, not-ready or logged-out)", ErrInvalidState, req.State)
	}
	o := originOf(by, agentID)
	id := acd.AgentID(agentID)
	var prevDevice string
	cc.agents.mu.Lock()
	prevDevice = cc.agents.get(agentID).device
	cc.agents.mu.Unlock()
	if req.Device != "" {
		cc.agents.setDevice(agentID, req.Device)
	}
	err = cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		st, err := e.Agent(id)
		if err != nil {
			return nil, err
		}
		var out []acd.Event
		run := func(evs []acd.Event, err error) error {
			out = append(out, evs...)
			return err
		}
		if req.State != "logged-out" && st.State == acd.StateLoggedOut {
			if req.Device == "" {
				cc.agents.setDevice(agentID, "user/"+a.Extension)
			}
			if err := run(e.Login(id, o)); err != nil {
				return out, err
			}
		}
		switch req.State {
		case "ready":
			err = run(e.SetReady(id, o))
		case "not-ready":
			err = run(e.SetNotReady(id, req.Reason, o))
		case "logged-out":
			err = run(e.Logout(id, o))
		}
		return out, err
	})
	if err != nil {
		if req.Device != "" {
			cc.agents.setDevice(agentID, prevDevice)
		}
		if isIllegal(err) {
			return AgentStateView{}, fmt.Errorf("%w: %w", ErrIllegalTransition, err)
		}
		return AgentStateView{}, err
	}
	return cc.AgentState(ctx, by, agentID)
}

// AgentState implements LiveControl.
func (cc *CallCenter) AgentState(ctx context.Context, by Actor, agentID string) (AgentStateView, error) {
	if err := mayActOn(by, agentID); err != nil {
		return AgentStateView{}, err
	}
	views, err := cc.views(ctx, []string{agentID})
	if err != nil {
		return AgentStateView{}, err
	}
	if len(views) == 0 {
		return AgentStateView{}, fmt.Errorf("%w: agent %q", store.ErrNotFound, agentID)
	}
	return views[0], nil
}

// AgentStates implements LiveControl: an agent sees itself, a supervisor
// or admin every agent (sorted by extension).
func (cc *CallCenter) AgentStates(ctx context.Context, by Actor) ([]AgentStateView, error) {
	switch by.Role {
	case store.RoleAdmin, store.RoleSupervisor:
		return cc.views(ctx, nil)
	case store.RoleAgent:
		if by.AgentID == "" {
			return []AgentStateView{}, nil
		}
		return cc.views(ctx, []string{by.AgentID})
	}
	return nil, fmt.Errorf("%w: %s may not read agent states", ErrForbidden, by.Role)
}

// views builds live views of the given agents (all when ids is nil).
func (cc *CallCenter) views(ctx context.Context, ids []string) ([]AgentStateView, error) {
	type one struct {
		a  store.Agent
		st acd.AgentStatus
	}
	var got []one
	err := cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		if ids == nil {
			for id := range cc.ctl.acdCfg.agents {
				ids = append(ids, id)
			}
		}
		for _, id := range ids {
			a, ok := cc.ctl.acdCfg.agents[id]
			if !ok {
				continue
			}
			st, err := e.Agent(acd.AgentID(id))
			if err != nil && !errors.Is(err, acd.ErrUnknownAgent) {
				return nil, err
			}
			got = append(got, one{a, st})
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	now := cc.clk.Now()
	out := make([]AgentStateView, 0, len(got))
	for _, g := range got {
		s := cc.agents.session(g.a.ID, now)
		v := AgentStateView{AgentID: g.a.ID, Name: g.a.Name, Extension: g.a.Extension, State: g.st.State.String(),
			Reason: g.st.Reason, Since: g.st.Since, CallID: string(g.st.Call), CallsToday: s.callsToday}
		if g.st.State != acd.StateLoggedOut {
			v.Device = s.device
			if v.Device == "" {
				v.Device = "user/" + g.a.Extension
			}
		}
		if g.st.State == acd.StateWrapUp && v.CallID == "" {
			v.CallID = s.call
		}
		if !v.Since.IsZero() {
			v.InState = now.Sub(v.Since).Seconds()
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(x, y AgentStateView) int {
		if x.Extension != y.Extension {
			if x.Extension < y.Extension {
				return -1
			}
			return 1
		}
		if x.AgentID < y.AgentID {
			return -1
		}
		return 1
	})
	return out, nil
}

// Calls implements LiveControl: an agent sees its own calls, a supervisor
// or admin every call.
func (cc *CallCenter) Calls(_ context.Context, by Actor) ([]LiveCall, error) {
	switch by.Role {
	case store.RoleAdmin, store.RoleSupervisor, store.RoleAgent:
	default:
		return nil, fmt.Errorf("%w: %s may not list calls", ErrForbidden, by.Role)
	}
	cc.mu.Lock()
	calls := make([]*call, 0, len(cc.calls))
	for _, c := range cc.calls {
		calls = append(calls, c)
	}
	cc.mu.Unlock()
	out := make([]LiveCall, 0, len(calls))
	for _, c := range calls {
		v := c.snapshot()
		if v.ID == "" || by.Role == store.RoleAgent && v.AgentID != by.AgentID {
			continue
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b LiveCall) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// PauseRecording implements LiveControl: the pause is written as silence
// and noted in the recording's metadata.
func (cc *CallCenter) PauseRecording(ctx context.Context, by Actor, callID string) error {
	return cc.recordingCmd(ctx, by, callID, func(c *call) error { return c.pauseRecording(by.UserID) })
}

// ResumeRecording implements LiveControl (it also starts an on-demand
// recording).
func (cc *CallCenter) ResumeRecording(ctx context.Context, by Actor, callID string) error {
	return cc.recordingCmd(ctx, by, callID, func(c *call) error { return c.resumeRecording(by.UserID) })
}

func (cc *CallCenter) recordingCmd(ctx context.Context, by Actor, callID string, f func(*call) error) error {
	c := cc.call(callID)
	if c == nil {
		return fmt.Errorf("%w: %q", ErrNoSuchCall, callID)
	}
	v := c.snapshot()
	switch by.Role {
	case store.RoleAdmin, store.RoleSupervisor:
	case store.RoleAgent:
		if by.AgentID == "" || v.AgentID != by.AgentID {
			return fmt.Errorf("%w: not the agent of call %q", ErrForbidden, callID)
		}
	default:
		return fmt.Errorf("%w: %s may not control recordings", ErrForbidden, by.Role)
	}
	done := make(chan error, 1)
	if !c.box.put(cmdMsg(func(c *call) { done <- f(c) })) {
		return fmt.Errorf("%w: %q", ErrNoSuchCall, callID)
	}
	select {
	case err := <-done:
		return err
	case <-c.ctx.Done():
		return fmt.Errorf("%w: %q ended", ErrNoSuchCall, callID)
	case <-ctx.Done():
		return ctx.Err()
	}
}
