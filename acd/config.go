package acd

import (
	"fmt"
	"time"
)

// Defaults applied where a queue leaves a duration at zero.
const (
	// DefaultRingTimeout bounds one offer (and an outbound reservation).
	DefaultRingTimeout = 20 * time.Second
	// DefaultRetryDelay is how long a call is not re-offered to the agent
	// who just failed to answer it (or, after a ring-all timeout, to anyone).
	DefaultRetryDelay = 5 * time.Second
)

// Member is an agent's membership of a queue.
type Member struct {
	Agent AgentID
	// Penalty (tier): lower penalties are offered first; a higher penalty
	// is offered only when no lower one is ready, and only up to the
	// queue's current maximum penalty.
	Penalty int
	// Weight for StrategyWeightedRandom; zero counts as 1.
	Weight int
}

// Escalation relaxes a queue's requirements for a call that has waited
// After (counted from the call's EnteredAt, so a caller whose place was kept
// in a transfer escalates as early as its place says).
type Escalation struct {
	After time.Duration
	// MaxPenalty raises the highest member penalty offered (never lowers
	// it; it has no effect on a queue without RestrictPenalty).
	MaxPenalty int
	// SkillRelax lowers every minimum skill level (queue and call) by
	// this much; it never decreases from one rule to the next.
	SkillRelax int
}

// QueueConfig configures a queue. Zero values are usable defaults.
type QueueConfig struct {
	ID       QueueID
	Strategy Strategy
	// Members in order (the order is the top-down order and the
	// round-robin tie-break). An agent appears at most once.
	Members []Member
	// Skills every call of this queue needs.
	Skills []SkillReq
	// RestrictPenalty limits offers to members with Penalty <= MaxPenalty
	// until an escalation rule raises the limit. Without it every member
	// is eligible and the penalty only orders preference.
	RestrictPenalty bool
	MaxPenalty      int
	// Escalations in increasing After.
	Escalations []Escalation
	// RingTimeout per offer; zero means DefaultRingTimeout.
	RingTimeout time.Duration
	// RetryDelay after a failed offer; zero means DefaultRetryDelay.
	RetryDelay time.Duration
	// WrapUp after a call of this queue ends (an agent's own WrapUp
	// overrides it).
	WrapUp time.Duration
	// MaxWait before an inbound caller overflows to OnMaxWait (zero: none).
	MaxWait time.Duration
	// MaxLen callers on the line; one more overflows to OnFull (zero: none).
	MaxLen int
	// JoinEmpty: a caller arriving while the queue is empty by this policy
	// overflows to OnNoAgents. LeaveEmpty: when the queue becomes empty by
	// this policy, its waiting callers overflow to OnNoAgents.
	JoinEmpty, LeaveEmpty EmptyPolicy
	// Overflow targets per reason.
	OnMaxWait, OnFull, OnNoAgents Target
	// NoAnswerLimit consecutive ring-no-answers set the agent not-ready
	// with ReasonNoAnswer (zero: never).
	NoAnswerLimit int
	// KeepEnteredAt honours Call.EnteredAt, so a transferred or overflowed
	// caller keeps its place.
	KeepEnteredAt bool
	// StickyLookback and StickyWait enable the sticky agent (R1.8): a
	// caller served by an agent within StickyLookback waits up to
	// StickyWait for that agent (if logged in and a member) before normal
	// routing. Both zero: off.
	StickyLookback, StickyWait time.Duration
}

// AgentConfig configures an agent.
type AgentConfig struct {
	ID AgentID
	// Skills and their levels.
	Skills map[Skill]int
	// WrapUp, when positive, overrides the wrap-up of every queue for this
	// agent.
	WrapUp time.Duration
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}

func validTarget(t Target) bool {
	if t.Kind >= numTargets {
		return false
	}
	switch t.Kind {
	case TargetQueue, TargetIVR, TargetVoicemail, TargetExternal:
		return t.Dest != ""
	}
	return true
}

func (c *QueueConfig) validate() error {
	if c.ID == "" {
		return invalid("queue ID is empty")
	}
	if c.Strategy >= numStrategies {
		return invalid("queue %q: strategy %d", c.ID, c.Strategy)
	}
	if c.JoinEmpty >= numEmptyPolicies || c.LeaveEmpty >= numEmptyPolicies {
		return invalid("queue %q: empty policy", c.ID)
	}
	for _, d := range []time.Duration{c.RingTimeout, c.RetryDelay, c.WrapUp, c.MaxWait, c.StickyLookback, c.StickyWait} {
		if d < 0 {
			return invalid("queue %q: negative duration", c.ID)
		}
	}
	if c.MaxLen < 0 || c.NoAnswerLimit < 0 || c.MaxPenalty < 0 {
		return invalid("queue %q: negative limit", c.ID)
	}
	for _, t := range []Target{c.OnMaxWait, c.OnFull, c.OnNoAgents} {
		if !validTarget(t) {
			return invalid("queue %q: overflow target %v", c.ID, t)
		}
	}
	seen := make(map[AgentID]bool, len(c.Members))
	for _, m := range c.Members {
		if m.Agent == "" || seen[m.Agent] {
			return invalid("queue %q: member %q empty or repeated", c.ID, m.Agent)
		}
		seen[m.Agent] = true
		if m.Penalty < 0 || m.Weight < 0 {
			return invalid("queue %q: member %q: negative penalty or weight", c.ID, m.Agent)
		}
	}
	if err := validSkills(c.Skills); err != nil {
		return fmt.Errorf("queue %q: %w", c.ID, err)
	}
	var prev Escalation
	for i, r := range c.Escalations {
		if r.After <= prev.After || r.SkillRelax < prev.SkillRelax || r.MaxPenalty < 0 {
			return invalid("queue %q: escalation %d must increase After and not decrease SkillRelax", c.ID, i)
		}
		prev = r
	}
	return nil
}

func validSkills(reqs []SkillReq) error {
	for _, r := range reqs {
		if r.Skill == "" || r.MinLevel < 0 {
			return invalid("skill requirement %q level %d", r.Skill, r.MinLevel)
		}
	}
	return nil
}
