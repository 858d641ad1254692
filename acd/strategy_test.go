package acd

import (
	"fmt"
	"testing"
	"time"
)

// Each strategy case makes agents a1..a4 ready with some history, then
// enqueues calls one at a time (answered and ended at once, no wrap-up) and
// checks who is offered each.
func TestStrategies(t *testing.T) {
	tests := []struct {
		name  string
		strat Strategy
		// prep runs after the queue exists and before the agents become
		// ready in the order given.
		prep  func(h *harness)
		order []AgentID
		want  []AgentID
	}{
		{
			name: "longest-idle by readiness order", strat: StrategyLongestIdle,
			order: []AgentID{"a3", "a1", "a2"},
			// Idle since login: a3 logged in first. Each served agent goes
			// to the back.
			want: []AgentID{"a3", "a1", "a2", "a3"},
		},
		{
			name: "round-robin with memory", strat: StrategyRoundRobin,
			order: []AgentID{"a3", "a2", "a1"},
			want:  []AgentID{"a1", "a2", "a3", "a1", "a2"},
		},
		{
			name: "top-down", strat: StrategyTopDown,
			order: []AgentID{"a3", "a2", "a1"},
			want:  []AgentID{"a1", "a1", "a1"},
		},
		{
			name: "least-calls", strat: StrategyLeastCalls,
			prep: func(h *harness) {
				// a1 has answered two calls of another queue, a2 one.
				h.queue(QueueConfig{ID: "other", Members: members("a1", "a2")})
				h.ready("a1")
				h.serve(h.offerOne("o1", "other"), "a1")
				h.serve(h.offerOne("o2", "other"), "a1")
				h.do(h.e.SetNotReady("a1", "break", Origin{}))
				h.ready("a2")
				h.serve(h.offerOne("o3", "other"), "a2")
				h.ready("a1")
			},
			order: []AgentID{"a3"},
			want:  []AgentID{"a3", "a2", "a3"},
		},
		{
			name: "fewest-talk-time", strat: StrategyFewestTalkTime,
			prep: func(h *harness) {
				h.queue(QueueConfig{ID: "other", Members: members("a1", "a2"), RingTimeout: time.Hour})
				h.ready("a1", "a2")
				c1 := h.offerOne("o1", "other")
				c2 := h.offerOne("o2", "other")
				h.answer(c2, "a2")
				h.clk.Advance(2 * time.Minute)
				h.answer(c1, "a1")
				h.clk.Advance(9 * time.Minute)
				h.do(h.e.CallEnded(c2)) // a2 talked 11 min, idle longest
				h.clk.Advance(time.Minute)
				h.do(h.e.CallEnded(c1)) // a1 talked 10 min
			},
			want: []AgentID{"a1", "a1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.agents("a1", "a2", "a3")
			if tt.prep != nil {
				tt.prep(h)
			}
			h.queue(QueueConfig{ID: "q", Strategy: tt.strat, Members: members("a1", "a2", "a3")})
			for _, id := range tt.order {
				h.clk.Advance(time.Second)
				h.ready(id)
			}
			for i, want := range tt.want {
				h.clk.Advance(time.Second)
				id := CallID(fmt.Sprint("c", i))
				evs := h.enqueue(Call{ID: id, Queue: "q"})
				wantOffers(t, evs, fmt.Sprintf("%s>%s", id, want))
				h.clk.Advance(time.Duration(i+1) * time.Second)
				h.serve(id, want)
			}
		})
	}
}

// offerOne enqueues a call into q and returns its ID after checking it was
// offered to someone.
func (h *harness) offerOne(id CallID, q QueueID) CallID {
	h.t.Helper()
	evs := h.enqueue(Call{ID: id, Queue: q})
	if len(offers(evs)) != 1 {
		h.t.Fatalf("call %s: offers %v", id, offers(evs))
	}
	return id
}

func TestRingAll(t *testing.T) {
	h := newHarness(t)
	h.agents("a1", "a2", "a3", "low")
	h.queue(QueueConfig{ID: "q", Strategy: StrategyRingAll,
		Members: append(members("a1", "a2", "a3"), Member{Agent: "low", Penalty: 1})})
	h.ready("a1", "a2", "low")
	evs := h.enqueue(Call{ID: "c1", Queue: "q"})
	// Only the best penalty rings.
	wantOffers(t, evs, "c1>a1", "c1>a2")
	evs = h.answer("c1", "a2")
	cancelled := kinds(evs, EventOfferCancelled)
	if len(cancelled) != 1 || cancelled[0].Agent != "a1" || cancelled[0].Reason != ReasonAnswered {
		t.Fatalf("cancelled %+v", cancelled)
	}
	h.wantState("a1", StateReady)
	h.wantState("a2", StateBusy)
	h.do(h.e.CallEnded("c1"))
	// A timeout of all ringing agents: each counts a no-answer and the call
	// waits out the retry delay before ringing again.
	evs = h.enqueue(Call{ID: "c2", Queue: "q"})
	wantOffers(t, evs, "c2>a1", "c2>a2")
	evs = h.advance(DefaultRingTimeout)
	if len(kinds(evs, EventOfferTimeout)) != 2 || len(offers(evs)) != 0 {
		t.Fatalf("after timeout %v", evs)
	}
	evs = h.advance(DefaultRetryDelay)
	wantOffers(t, evs, "c2>a1", "c2>a2")
	// A failed agent leaves the others ringing; when the last one times
	// out the call rings whoever is ready and did not just fail it.
	h.do(h.e.OfferFailed("c2", "a1", "rejected"))
	evs = h.advance(DefaultRingTimeout)
	wantOffers(t, evs, "c2>a1")
}

func TestRandomStrategies(t *testing.T) {
	for _, tt := range []struct {
		strat   Strategy
		weights []int
	}{
		{StrategyRandom, []int{1, 1, 1}},
		{StrategyWeightedRandom, []int{1, 2, 7}},
	} {
		t.Run(tt.strat.String(), func(t *testing.T) {
			h := newHarness(t)
			h.agents("a1", "a2", "a3", "x")
			ms := []Member{{Agent: "a1", Weight: tt.weights[0]}, {Agent: "a2", Weight: tt.weights[1]}, {Agent: "a3", Weight: tt.weights[2]}}
			h.queue(QueueConfig{ID: "q", Strategy: tt.strat, Members: ms})
			h.ready("a1", "a2", "a3", "x")
			count := map[AgentID]int{}
			const n = 3000
			for i := range n {
				id := CallID(fmt.Sprint("c", i))
				evs := h.enqueue(Call{ID: id, Queue: "q"})
				if len(kinds(evs, EventOffer)) != 1 {
					t.Fatalf("offers %v", offers(evs))
				}
				a := kinds(evs, EventOffer)[0].Agent
				count[a]++
				h.serve(id, a)
			}
			if count["x"] != 0 {
				t.Fatal("non-member offered")
			}
			total := tt.weights[0] + tt.weights[1] + tt.weights[2]
			for i, id := range []AgentID{"a1", "a2", "a3"} {
				want := float64(n) * float64(tt.weights[i]) / float64(total)
				if got := float64(count[id]); got < want*0.85 || got > want*1.15 {
					t.Errorf("%s offered %v times, want about %.0f", id, got, want)
				}
			}
		})
	}
}

// Idle time and counters are per agent across queues: an agent who just
// took a call in queue A goes to the back of queue B too.
func TestIdleTimeAcrossQueues(t *testing.T) {
	h := newHarness(t)
	h.agents("a1", "a2")
	h.queue(QueueConfig{ID: "A", Members: members("a1", "a2")})
	h.queue(QueueConfig{ID: "B", Members: members("a1", "a2")})
	h.ready("a1")
	h.clk.Advance(time.Second)
	h.ready("a2")
	h.clk.Advance(time.Second)
	wantOffers(t, h.enqueue(Call{ID: "c1", Queue: "A"}), "c1>a1")
	h.clk.Advance(time.Second)
	h.serve("c1", "a1")
	wantOffers(t, h.enqueue(Call{ID: "c2", Queue: "B"}), "c2>a2")
}

func TestPenaltyPreferenceAndEscalation(t *testing.T) {
	h := newHarness(t)
	h.agents("p0", "p1", "p2")
	h.queue(QueueConfig{ID: "q",
		Members:         []Member{{Agent: "p0"}, {Agent: "p1", Penalty: 1}, {Agent: "p2", Penalty: 2}},
		RestrictPenalty: true, MaxPenalty: 0,
		Escalations: []Escalation{{After: 30 * time.Second, MaxPenalty: 1}, {After: 60 * time.Second, MaxPenalty: 2}},
	})
	h.ready("p2", "p1")
	evs := h.enqueue(Call{ID: "c1", Queue: "q"})
	wantOffers(t, evs)
	evs = h.advance(29 * time.Second)
	wantOffers(t, evs)
	evs = h.advance(time.Second)
	wantOffers(t, evs, "c1>p1")
	// Without restriction the penalty only orders preference.
	h2 := newHarness(t)
	h2.agents("p0", "p1")
	h2.queue(QueueConfig{ID: "q", Members: []Member{{Agent: "p0"}, {Agent: "p1", Penalty: 1}}})
	h2.ready("p1")
	h2.clk.Advance(time.Second)
	h2.ready("p0")
	wantOffers(t, h2.enqueue(Call{ID: "c1", Queue: "q"}), "c1>p0")
	wantOffers(t, h2.enqueue(Call{ID: "c2", Queue: "q"}), "c2>p1")
}

func TestSkillsAndRelaxation(t *testing.T) {
	h := newHarness(t)
	h.agentSkills("es5", map[Skill]int{"es": 5, "en": 2})
	h.agentSkills("es2", map[Skill]int{"es": 2, "en": 5})
	h.agentSkills("en", map[Skill]int{"en": 5})
	h.queue(QueueConfig{ID: "q", Members: members("es5", "es2", "en"),
		Skills:      []SkillReq{{Skill: "en", MinLevel: 1}},
		Escalations: []Escalation{{After: time.Minute, SkillRelax: 2}}})
	h.ready("en")
	h.clk.Advance(time.Second)
	h.ready("es2")
	// Needs es >= 4: nobody ready qualifies until relaxed to es >= 2.
	evs := h.enqueue(Call{ID: "c1", Queue: "q", Skills: []SkillReq{{Skill: "es", MinLevel: 4}}})
	wantOffers(t, evs)
	// A call with no extra skill overtakes nobody: it may go to "en".
	wantOffers(t, h.enqueue(Call{ID: "c2", Queue: "q"}), "c2>en")
	h.answer("c2", "en")
	evs = h.advance(time.Minute)
	wantOffers(t, evs, "c1>es2")
	h.answer("c1", "es2")
	// An agent without the skill never matches, whatever the relaxation.
	h.queue(QueueConfig{ID: "fr", Members: members("en"), Escalations: []Escalation{{After: time.Second, SkillRelax: 10}}})
	h.do(h.e.CallEnded("c2"))
	evs = h.enqueue(Call{ID: "c3", Queue: "fr", Skills: []SkillReq{{Skill: "fr", MinLevel: 1}}})
	evs = append(evs, h.advance(time.Hour)...)
	wantOffers(t, evs)
	// The queue's own skill requirement filters members.
	h.queue(QueueConfig{ID: "q2", Members: members("es5", "en"), Skills: []SkillReq{{Skill: "es", MinLevel: 1}}})
	wantOffers(t, h.enqueue(Call{ID: "c4", Queue: "q2"}))
	wantOffers(t, h.ready("es5"), "c4>es5")
}
