package acd

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// SetQueue creates or replaces a queue. Waiting calls stay, re-evaluated
// under the new rules. Every member must be a known agent.
func (e *Engine) SetQueue(cfg QueueConfig) ([]Event, error) {
	e.begin()
	if err := cfg.validate(); err != nil {
		return e.fail(err)
	}
	for _, mc := range cfg.Members {
		if e.agents[mc.Agent] == nil {
			return e.fail(fmt.Errorf("%w: %q in queue %q", ErrUnknownAgent, mc.Agent, cfg.ID))
		}
	}
	q := e.queues[cfg.ID]
	if q == nil {
		q = &queue{id: cfg.ID}
		e.queues[cfg.ID] = q
	}
	// Round-robin memory survives a reconfiguration.
	lastOffer := make(map[*agent]int64, len(q.members))
	for _, m := range q.members {
		if m.hidx >= 0 {
			m.b.h.remove(m.hidx)
		}
		m.a.members = slices.DeleteFunc(m.a.members, func(x *member) bool { return x == m })
		lastOffer[m.a] = m.lastOffer
	}
	cfg.Members = slices.Clone(cfg.Members)
	cfg.Skills = slices.Clone(cfg.Skills)
	cfg.Escalations = slices.Clone(cfg.Escalations)
	q.cfg = cfg
	q.skills = slices.Clone(e.normReqs(cfg.Skills))
	base := math.MaxInt
	if cfg.RestrictPenalty {
		base = cfg.MaxPenalty
	}
	q.steps = append(q.steps[:0], stepRule{maxPen: base})
	for _, r := range cfg.Escalations {
		prev := q.steps[len(q.steps)-1]
		q.steps = append(q.steps, stepRule{at: r.After, maxPen: max(prev.maxPen, r.MaxPenalty), relax: r.SkillRelax})
	}
	q.members, q.buckets = q.members[:0], nil
	q.nLoggedIn, q.nAvailable = 0, 0
	for i, mc := range cfg.Members {
		a := e.agents[mc.Agent]
		m := &member{q: q, a: a, penalty: mc.Penalty, weight: max(mc.Weight, 1), order: i, hidx: -1, lastOffer: lastOffer[a]}
		m.place()
		q.members = append(q.members, m)
		a.members = append(a.members, m)
		q.nLoggedIn += b2i(loggedIn(a.state))
		q.nAvailable += b2i(available(a.state))
		if a.state == StateReady && m.b != nil {
			m.k1, m.k2 = m.key()
			m.b.h.push(m)
			e.wAgents = append(e.wAgents, a)
		}
	}
	for _, l := range q.lists {
		for _, c := range l.h {
			c.step = q.stepAt(e.now.Sub(c.enteredAt))
			e.armCall(c)
			e.wCalls = append(e.wCalls, c)
		}
	}
	if cfg.LeaveEmpty != EmptyIgnore && q.empty(cfg.LeaveEmpty) {
		e.wLeave = append(e.wLeave, q)
	}
	if cfg.StickyWait > 0 {
		e.stickyKeep = max(e.stickyKeep, cfg.StickyLookback)
	}
	e.finish()
	return e.out, nil
}

// RemoveQueue deletes a queue that holds no calls.
func (e *Engine) RemoveQueue(id QueueID) ([]Event, error) {
	e.begin()
	q := e.queues[id]
	if q == nil {
		return e.fail(fmt.Errorf("%w: %q", ErrUnknownQueue, id))
	}
	if q.nCalls > 0 {
		return e.fail(fmt.Errorf("%w: queue %q holds %d calls", ErrInUse, id, q.nCalls))
	}
	for _, m := range q.members {
		if m.hidx >= 0 {
			m.b.h.remove(m.hidx)
		}
		m.a.members = slices.DeleteFunc(m.a.members, func(x *member) bool { return x == m })
	}
	delete(e.queues, id)
	return e.out, nil
}

// SetAgent creates an agent (logged out) or updates its skills and wrap-up;
// a ready agent is re-evaluated at once.
func (e *Engine) SetAgent(cfg AgentConfig) ([]Event, error) {
	e.begin()
	if cfg.ID == "" || cfg.WrapUp < 0 {
		return e.fail(invalid("agent %q: empty ID or negative wrap-up", cfg.ID))
	}
	for s, l := range cfg.Skills {
		if s == "" || l < 0 {
			return e.fail(invalid("agent %q: skill %q level %d", cfg.ID, s, l))
		}
	}
	a := e.agents[cfg.ID]
	if a == nil {
		e.seq++
		a = &agent{id: cfg.ID, seq: e.seq, idleSince: e.now}
		a.tm = timer{idx: -1, agent: a}
		e.agents[cfg.ID] = a
	}
	wasReady := a.state == StateReady
	if wasReady {
		e.unready(a)
	}
	a.skills = a.skills[:0]
	for s, l := range cfg.Skills {
		a.skills = append(a.skills, skillLevel{id: e.skillID(s), level: l})
	}
	slices.SortFunc(a.skills, func(x, y skillLevel) int { return cmp.Compare(x.id, y.id) })
	a.wrapOverride = cfg.WrapUp
	for _, m := range a.members {
		m.place()
	}
	if wasReady {
		e.ready(a)
		e.wAgents = append(e.wAgents, a)
	}
	e.finish()
	return e.out, nil
}

// RemoveAgent deletes a logged-out agent and its queue memberships.
func (e *Engine) RemoveAgent(id AgentID) ([]Event, error) {
	e.begin()
	a := e.agents[id]
	if a == nil {
		return e.fail(fmt.Errorf("%w: %q", ErrUnknownAgent, id))
	}
	if a.state != StateLoggedOut {
		return e.fail(fmt.Errorf("%w: agent %q is %s", ErrInUse, id, a.state))
	}
	for _, m := range a.members {
		q := m.q
		q.members = slices.DeleteFunc(q.members, func(x *member) bool { return x == m })
		q.cfg.Members = slices.DeleteFunc(q.cfg.Members, func(x Member) bool { return x.Agent == id })
	}
	delete(e.agents, id)
	return e.out, nil
}
