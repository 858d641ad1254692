package acd

import (
	"testing"
	"time"
)

// Under ring-all an agent who becomes ready while a call rings is rung
// too (until the same instant); one of a worse penalty is not; one who
// just failed the offer does not rejoin it.
func TestRingAllJoinsAgentsReadyWhileRinging(t *testing.T) {
	h := newHarness(t)
	h.agents("a1", "a2", "a3", "low")
	h.queue(QueueConfig{ID: "q", Strategy: StrategyRingAll,
		Members: append(members("a1", "a2", "a3"), Member{Agent: "low", Penalty: 1})})
	h.ready("a1")
	evs := h.enqueue(Call{ID: "c1", Queue: "q"})
	wantOffers(t, evs, "c1>a1")
	until := evs[len(evs)-1].Until
	h.clk.Advance(2 * time.Second)
	evs = h.ready("a2")
	wantOffers(t, evs, "c1>a2")
	if got := kinds(evs, EventOffer)[0].Until; !got.Equal(until) {
		t.Errorf("joined offer rings until %v, the call's offer until %v", got, until)
	}
	evs = h.ready("low")
	wantOffers(t, evs)
	h.wantState("low", StateReady)
	// a1 rejects: it is ready again but does not rejoin c1.
	evs = h.do(h.e.OfferFailed("c1", "a1", "rejected"))
	wantOffers(t, evs)
	h.wantState("a1", StateReady)
	evs = h.ready("a3")
	wantOffers(t, evs, "c1>a3")
	evs = h.answer("c1", "a3")
	cancelled := kinds(evs, EventOfferCancelled)
	if len(cancelled) != 1 || cancelled[0].Agent != "a2" {
		t.Fatalf("cancelled = %+v", cancelled)
	}
	h.wantState("a2", StateReady)
}

// Agents freed in the same instant are served longest idle first,
// whatever order their timers were armed in.
func TestSimultaneouslyFreedAgentsLongestIdleFirst(t *testing.T) {
	h := newHarness(t)
	h.agents("a1", "a2")
	h.queue(QueueConfig{ID: "ring", Strategy: StrategyRingAll, Members: members("a1", "a2")})
	h.queue(QueueConfig{ID: "other", Strategy: StrategyLongestIdle, Members: members("a1", "a2")})
	// a2 logs in first: it has been idle longest.
	h.ready("a2")
	h.clk.Advance(time.Minute)
	h.ready("a1")
	evs := h.enqueue(Call{ID: "c1", Queue: "ring"})
	wantOffers(t, evs, "c1>a1", "c1>a2") // in configured order
	h.enqueue(Call{ID: "c2", Queue: "other"})
	// Both time out together and are freed in the same instant.
	evs = h.advance(DefaultRingTimeout)
	wantOffers(t, evs, "c2>a2")
}
