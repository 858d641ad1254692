package acd

import (
	"cmp"
	"slices"
	"time"
)

// QueueLoad is one queue's live load, for real-time statistics and
// wallboards (R5.1).
type QueueLoad struct {
	Queue QueueID
	// Waiting counts inbound callers on the line not yet answered:
	// in line, parked for a sticky agent, or being offered (Ringing
	// counts those being offered among them).
	Waiting, Ringing int
	// Callbacks counts callback requests keeping a place in line.
	Callbacks int
	// OldestQueued is the earliest time one of the Waiting callers
	// entered this queue (its EventQueued time, not the EnteredAt a
	// transfer keeps), zero when none waits: the longest current wait
	// is now minus it, measured as reports measure a wait.
	OldestQueued time.Time
	// Agents counts the queue's members by state (indexed by State); an
	// agent in several queues counts in each.
	Agents [StateWrapUp + 1]int
}

// QueueLoads returns the live load of every queue, sorted by queue id.
// It is a read: it fires no timer and changes nothing. It costs O(calls +
// members): meant for a snapshot a second, not for every event.
func (e *Engine) QueueLoads() []QueueLoad {
	out := make([]QueueLoad, 0, len(e.queues))
	idx := make(map[*queue]int, len(e.queues))
	for _, q := range e.queues {
		ql := QueueLoad{Queue: q.id, Callbacks: q.nCallbacks}
		for _, m := range q.members {
			if int(m.a.state) < len(ql.Agents) {
				ql.Agents[m.a.state]++
			}
		}
		idx[q] = len(out)
		out = append(out, ql)
	}
	for _, c := range e.calls {
		if c.kind != CallInbound || c.q == nil {
			continue
		}
		i, ok := idx[c.q]
		if !ok {
			continue
		}
		switch c.state {
		case csWaiting, csParked, csOffered:
		default:
			continue
		}
		ql := &out[i]
		ql.Waiting++
		if c.state == csOffered {
			ql.Ringing++
		}
		if ql.OldestQueued.IsZero() || c.queuedAt.Before(ql.OldestQueued) {
			ql.OldestQueued = c.queuedAt
		}
	}
	slices.SortFunc(out, func(a, b QueueLoad) int { return cmp.Compare(a.Queue, b.Queue) })
	return out
}
