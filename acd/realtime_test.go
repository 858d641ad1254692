package acd

import (
	"testing"
	"time"
)

// Two callers wait in q while a is busy with a third and b is away: the
// load counts them, dates the longest wait from the earlier queue entry,
// counts the ringing caller once it is offered, and the members by state.
func TestQueueLoads(t *testing.T) {
	h := newHarness(t)
	h.agents("a", "b", "c")
	h.queue(QueueConfig{ID: "q", Members: members("a", "b")})
	h.queue(QueueConfig{ID: "r", Members: members("b", "c")})
	h.ready("a")
	h.do(h.e.Login("b", Origin{}))
	h.enqueue(Call{ID: "c0", Queue: "q"})
	h.answer("c0", "a")
	h.clk.Advance(time.Second)
	first := h.clk.Now()
	h.enqueue(Call{ID: "c1", Queue: "q"})
	h.clk.Advance(2 * time.Second)
	h.enqueue(Call{ID: "c2", Queue: "q"})

	loads := h.e.QueueLoads()
	if len(loads) != 2 || loads[0].Queue != "q" || loads[1].Queue != "r" {
		t.Fatalf("loads = %+v", loads)
	}
	q := loads[0]
	if q.Waiting != 2 || q.Ringing != 0 || !q.OldestQueued.Equal(first) {
		t.Errorf("q waiting %d ringing %d oldest %v, want 2, 0, %v", q.Waiting, q.Ringing, q.OldestQueued, first)
	}
	if q.Agents[StateBusy] != 1 || q.Agents[StateNotReady] != 1 || q.Agents[StateReady] != 0 {
		t.Errorf("q agents by state = %v", q.Agents)
	}
	r := loads[1]
	if r.Waiting != 0 || !r.OldestQueued.IsZero() || r.Agents[StateNotReady] != 1 || r.Agents[StateLoggedOut] != 1 {
		t.Errorf("r = %+v", r)
	}

	h.do(h.e.SetReady("b", Origin{})) // b is offered c1
	q = h.e.QueueLoads()[0]
	if q.Waiting != 2 || q.Ringing != 1 || !q.OldestQueued.Equal(first) || q.Agents[StateReserved] != 1 {
		t.Errorf("after the offer: %+v", q)
	}
	h.answer("c1", "b")
	q = h.e.QueueLoads()[0]
	if q.Waiting != 1 || q.Ringing != 0 || !q.OldestQueued.Equal(first.Add(2*time.Second)) {
		t.Errorf("after the answer: %+v", q)
	}
}
