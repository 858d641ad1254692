package cti

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// TypeGap is the type of the event a subscription yields in place of events
// it cannot deliver; its payload is a Gap.
const TypeGap = "gap"

// Families of event types; an event's Type starts with one of them
// (call.offered, agent.state, queue.stats, ...).
const (
	FamilyCall  = "call."
	FamilyAgent = "agent."
	FamilyQueue = "queue."
)

// Event is one CTI event. Publish sets Seq, and Time when zero. Once
// published an Event is shared by every subscriber: neither Payload nor the
// Audience slices may be modified.
type Event struct {
	Seq     uint64          `json:"seq"`
	Type    string          `json:"type"`
	Time    time.Time       `json:"time"`
	CallID  string          `json:"call_id,omitempty"`
	AgentID string          `json:"agent_id,omitempty"`
	Queue   string          `json:"queue,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	// Audience says who may see the event; it is not sent to clients.
	Audience Audience `json:"-"`
}

// Audience is the visibility of an event, filled by the publisher: the
// agents it concerns (the agent offered a call, the agent whose state
// changed; AgentID counts as one of them) and the teams whose supervisors
// see it (the teams of those agents and the teams that own the queue).
// An event with an empty Audience is seen only by admins.
type Audience struct {
	Agents []string
	Teams  []string
}

// Gap is the payload of a gap event: the subscriber will not receive the
// events with sequence numbers From..To (To < From when the range is
// empty). Reason is GapRetention or GapReset.
type Gap struct {
	From   uint64 `json:"from"`
	To     uint64 `json:"to"`
	Reason string `json:"reason"`
}

// Gap reasons.
const (
	// GapRetention: the events were dropped from the retention window
	// before the subscriber (reconnecting with since, or reading too
	// slowly) could receive them.
	GapRetention = "retention"
	// GapReset: since is not a sequence number of this hub (a client of
	// a previous run); what is retained follows.
	GapReset = "reset"
)

// Filter decides whether a subscriber receives an event. It runs on the
// publisher's goroutine with the hub locked: it must be fast, must not
// block and must not call the Hub. nil means every event.
type Filter func(*Event) bool

// Roles understood by ForPrincipal (the store's role names).
const (
	RoleAdmin      = "admin"
	RoleSupervisor = "supervisor"
	RoleAgent      = "agent"
)

// ForPrincipal returns the filter of a user: an admin sees every event; a
// supervisor the events of its teams (Audience.Teams) and its own; an agent
// only its own (AgentID or Audience.Agents); any other role nothing. Gap
// events reach every subscriber whatever its filter.
func ForPrincipal(role, agentID string, teams []string) Filter {
	own := func(ev *Event) bool {
		return agentID != "" && (ev.AgentID == agentID || slices.Contains(ev.Audience.Agents, agentID))
	}
	switch role {
	case RoleAdmin:
		return func(*Event) bool { return true }
	case RoleSupervisor:
		teams = slices.Clone(teams)
		return func(ev *Event) bool {
			if own(ev) {
				return true
			}
			for _, t := range ev.Audience.Teams {
				if slices.Contains(teams, t) {
					return true
				}
			}
			return false
		}
	case RoleAgent:
		return own
	}
	return func(*Event) bool { return false }
}

// Types returns a filter passing events whose Type equals one of patterns or,
// for a pattern ending in "*" ("call.*"), starts with what precedes it.
func Types(patterns ...string) Filter {
	patterns = slices.Clone(patterns)
	return func(ev *Event) bool {
		for _, p := range patterns {
			if pre, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(ev.Type, pre) || p == ev.Type {
				return true
			}
		}
		return false
	}
}

// All returns a filter passing the events every non-nil filter passes.
func All(filters ...Filter) Filter {
	var fs []Filter
	for _, f := range filters {
		if f != nil {
			fs = append(fs, f)
		}
	}
	return func(ev *Event) bool {
		for _, f := range fs {
			if !f(ev) {
				return false
			}
		}
		return true
	}
}
