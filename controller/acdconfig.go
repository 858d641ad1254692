package controller

import (
	"log/slog"
	"slices"
	"time"

	"hotline/acd"
	"hotline/controller/store"
)

// acdConfig is the stored configuration the ACD engine was given, kept to
// rebuild a queue's members when one of its agents changes. It is owned
// by the ACD goroutine: only functions run through ACD.Do touch it.
type acdConfig struct {
	log    *slog.Logger
	agents map[string]store.Agent
	queues map[string]store.Queue
	// applied is the engine configuration of each queue, as last set.
	applied map[acd.QueueID]acd.QueueConfig
	// teams memoizes queueTeams by queue id; any change of a queue or an
	// agent clears it. Every ACD event of a queue needs its teams (the
	// CTI audience), and recomputing them scanned every member: with 900
	// members that was 4% of the daemon's CPU at 150 calls/s, on the
	// owner's goroutine that every call waits for (BENCHMARKS "Issue 9").
	teams map[string][]string
}

func newACDConfig(log *slog.Logger) *acdConfig {
	return &acdConfig{log: log, agents: map[string]store.Agent{}, queues: map[string]store.Queue{}, applied: map[acd.QueueID]acd.QueueConfig{}}
}

// agentConfig maps a stored agent to the engine's configuration.
func agentConfig(a store.Agent) acd.AgentConfig {
	cfg := acd.AgentConfig{ID: acd.AgentID(a.ID), Skills: make(map[acd.Skill]int, len(a.Skills))}
	for _, s := range a.Skills {
		cfg.Skills[acd.Skill(s.Skill)] = s.Level
	}
	return cfg
}

func targetOf(t *store.Target) acd.Target {
	if t == nil {
		return acd.Target{}
	}
	switch t.Kind {
	case store.TargetQueue:
		return acd.Target{Kind: acd.TargetQueue, Dest: t.Value}
	case store.TargetIVR:
		return acd.Target{Kind: acd.TargetIVR, Dest: t.Value}
	case store.TargetVoicemail:
		return acd.Target{Kind: acd.TargetVoicemail, Dest: t.Value}
	case store.TargetExternal, store.TargetExtension:
		return acd.Target{Kind: acd.TargetExternal, Dest: t.Value}
	case store.TargetCallback:
		return acd.Target{Kind: acd.TargetCallback}
	}
	return acd.Target{} // hangup: the controller's default
}

// queueConfig maps a stored queue to the engine's configuration. Members
// that are not enabled agents known to the engine are left out (a
// disabled agent takes no calls; a dangling member is ignored).
func (c *acdConfig) queueConfig(q store.Queue) acd.QueueConfig {
	st, ok := acd.ParseStrategy(string(q.Strategy))
	if !ok {
		c.log.Warn("queue has an unknown strategy; using longest-idle", "queue", q.ID, "strategy", q.Strategy)
	}
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	cfg := acd.QueueConfig{
		ID:            acd.QueueID(q.ID),
		Strategy:      st,
		RingTimeout:   sec(q.RingTimeout),
		WrapUp:        sec(q.WrapUp),
		MaxWait:       sec(q.MaxWait),
		MaxLen:        q.MaxLength,
		NoAnswerLimit: q.NoAnswerLimit,
		OnMaxWait:     targetOf(q.Overflow),
		OnFull:        targetOf(q.Overflow),
		OnNoAgents:    targetOf(q.Overflow),
	}
	if !q.JoinWhenNoAgents {
		cfg.JoinEmpty = acd.EmptyNoLoggedIn
	}
	if q.LeaveWhenNoAgents {
		cfg.LeaveEmpty = acd.EmptyNoLoggedIn
	}
	cfg.KeepEnteredAt = q.KeepEnteredAt
	for _, m := range q.Members {
		if a, ok := c.agents[m.AgentID]; !ok || a.Disabled {
			continue
		}
		cfg.Members = append(cfg.Members, acd.Member{Agent: acd.AgentID(m.AgentID), Penalty: m.Penalty})
	}
	for _, s := range q.RequiredSkills {
		cfg.Skills = append(cfg.Skills, acd.SkillReq{Skill: acd.Skill(s.Skill), MinLevel: s.Level})
	}
	return cfg
}

// setQueue applies a stored queue to the engine.
func (c *acdConfig) setQueue(e *acd.Engine, q store.Queue, out *[]acd.Event) {
	c.queues[q.ID] = q
	c.teams = nil
	cfg := c.queueConfig(q)
	evs, err := e.SetQueue(cfg)
	*out = append(*out, evs...)
	if err != nil {
		c.log.Error("queue refused by the ACD", "queue", q.ID, "err", err)
		return
	}
	c.applied[cfg.ID] = cfg
}

// removeQueue removes a deleted queue. A queue still holding calls stays
// in the engine until they are gone (it is no longer configured, so it is
// not rebuilt); the refusal is logged.
func (c *acdConfig) removeQueue(e *acd.Engine, id string, out *[]acd.Event) {
	delete(c.queues, id)
	c.teams = nil
	evs, err := e.RemoveQueue(acd.QueueID(id))
	*out = append(*out, evs...)
	if err != nil {
		c.log.Warn("deleted queue kept in the ACD", "queue", id, "err", err)
		return
	}
	delete(c.applied, acd.QueueID(id))
}

// setAgent applies a stored agent, then rebuilds the queues it serves (a
// disabled agent leaves them and is logged out).
func (c *acdConfig) setAgent(e *acd.Engine, a store.Agent, out *[]acd.Event) {
	prev, had := c.agents[a.ID]
	c.agents[a.ID] = a
	c.teams = nil
	evs, err := e.SetAgent(agentConfig(a))
	*out = append(*out, evs...)
	if err != nil {
		c.log.Error("agent refused by the ACD", "agent_id", a.ID, "err", err)
		return
	}
	if a.Disabled {
		c.logout(e, a.ID, out)
	}
	if !had || prev.Disabled != a.Disabled {
		c.requeue(e, a.ID, out)
	}
}

// removeAgent removes a deleted agent: logged out, out of every queue.
func (c *acdConfig) removeAgent(e *acd.Engine, id string, out *[]acd.Event) {
	if _, ok := c.agents[id]; !ok {
		return
	}
	delete(c.agents, id)
	c.teams = nil
	c.logout(e, id, out)
	c.requeue(e, id, out)
	evs, err := e.RemoveAgent(acd.AgentID(id))
	*out = append(*out, evs...)
	if err != nil {
		c.log.Warn("deleted agent kept in the ACD", "agent_id", id, "err", err)
	}
}

func (c *acdConfig) logout(e *acd.Engine, id string, out *[]acd.Event) {
	st, err := e.Agent(acd.AgentID(id))
	if err != nil || st.State == acd.StateLoggedOut {
		return
	}
	evs, err := e.Logout(acd.AgentID(id), acd.Origin{Kind: acd.BySystem})
	*out = append(*out, evs...)
	if err != nil {
		c.log.Warn("could not log out a disabled or deleted agent", "agent_id", id, "err", err)
	}
}

// requeue re-applies every queue that lists the agent.
func (c *acdConfig) requeue(e *acd.Engine, agentID string, out *[]acd.Event) {
	ids := make([]string, 0)
	for id, q := range c.queues {
		if slices.ContainsFunc(q.Members, func(m store.QueueMember) bool { return m.AgentID == agentID }) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		c.setQueue(e, c.queues[id], out)
	}
}
