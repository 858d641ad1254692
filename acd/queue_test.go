package acd

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestPriorityThenFIFO(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "q", Members: members("a")})
	for i, prio := range []int{0, 0, 5, 0, 5} {
		h.clk.Advance(time.Second)
		h.enqueue(Call{ID: CallID(fmt.Sprint("c", i)), Queue: "q", Priority: prio})
	}
	if p, _ := h.e.Position("c3"); p != 5 {
		t.Errorf("position of c3 = %d, want 5", p)
	}
	if p, _ := h.e.Position("c2"); p != 1 {
		t.Errorf("position of c2 = %d, want 1", p)
	}
	var got []string
	h.ready("a")
	for range 5 {
		ev := kinds(h.log, EventOffer)
		last := ev[len(ev)-1]
		got = append(got, string(last.Call))
		h.serve(last.Call, "a")
	}
	want := "[c2 c4 c0 c1 c3]"
	if fmt.Sprint(got) != want {
		t.Fatalf("order %v, want %s", got, want)
	}
}

// The oldest call across the agent's queues wins, whichever queue it is in.
func TestFIFOAcrossQueues(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "A", Members: members("a")})
	h.queue(QueueConfig{ID: "B", Members: members("a")})
	h.enqueue(Call{ID: "b1", Queue: "B"})
	h.clk.Advance(time.Second)
	h.enqueue(Call{ID: "a1", Queue: "A"})
	wantOffers(t, h.ready("a"), "b1>a")
}

func TestMaxWaitOverflow(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	target := Target{Kind: TargetVoicemail, Dest: "vm-sales"}
	h.queue(QueueConfig{ID: "q", Members: members("a"), MaxWait: time.Minute, OnMaxWait: target})
	h.enqueue(Call{ID: "c1", Queue: "q"})
	if evs := h.advance(59 * time.Second); len(kinds(evs, EventOverflow)) != 0 {
		t.Fatal("overflow too early")
	}
	evs := h.advance(time.Second)
	ov := kinds(evs, EventOverflow)
	if len(ov) != 1 || ov[0].Target != target || ov[0].Reason != ReasonMaxWait || ov[0].Call != "c1" {
		t.Fatalf("overflow %+v", ov)
	}
	if _, err := h.e.Position("c1"); !errors.Is(err, ErrUnknownCall) {
		t.Fatalf("call still known: %v", err)
	}
}

func TestMaxLenAndJoinLeaveEmpty(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	full := Target{Kind: TargetQueue, Dest: "overflow"}
	none := Target{Kind: TargetIVR, Dest: "closed"}
	h.queue(QueueConfig{ID: "q", Members: members("a"), MaxLen: 2, OnFull: full,
		JoinEmpty: EmptyNoLoggedIn, LeaveEmpty: EmptyNoAvailable, OnNoAgents: none})
	// Nobody logged in: a caller may not join.
	evs := h.enqueue(Call{ID: "c0", Queue: "q"})
	if ov := kinds(evs, EventOverflow); len(ov) != 1 || ov[0].Target != none || ov[0].Reason != ReasonNoAgents {
		t.Fatalf("join empty: %+v", evs)
	}
	h.do(h.e.Login("a", Origin{}))
	h.enqueue(Call{ID: "c1", Queue: "q"})
	h.enqueue(Call{ID: "c2", Queue: "q"})
	evs = h.enqueue(Call{ID: "c3", Queue: "q"})
	if ov := kinds(evs, EventOverflow); len(ov) != 1 || ov[0].Target != full || ov[0].Call != "c3" {
		t.Fatalf("full: %+v", evs)
	}
	// Logged in but not-ready is "no available member": the queue empties.
	// (The agent is not-ready since login, so leaving is triggered by the
	// next change that leaves it empty: logout.)
	evs = h.do(h.e.Logout("a", Origin{}))
	ov := kinds(evs, EventOverflow)
	if len(ov) != 2 || ov[0].Call != "c1" || ov[1].Call != "c2" {
		t.Fatalf("leave empty: %+v", ov)
	}
	if st, _ := h.e.QueueStats("q"); st.Waiting != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLeaveEmptyOnNotReady(t *testing.T) {
	h := newHarness(t)
	h.agents("a", "b")
	h.queue(QueueConfig{ID: "q", Members: members("a", "b"), LeaveEmpty: EmptyNoAvailable,
		OnNoAgents: Target{Kind: TargetCallback}})
	h.ready("a")
	h.answer(h.offerOne("c1", "q"), "a")
	h.enqueue(Call{ID: "c2", Queue: "q", Caller: "+100"})
	h.enqueue(Call{ID: "c3", Queue: "q"})
	wantOffers(t, h.do(h.e.CallEnded("c1")), "c2>a")
	// a goes not-ready while c2 rings: c2 goes back to its place and
	// nobody is available any more. c2 has a number and becomes a
	// callback; c3 has none and overflows to the controller's default.
	evs := h.do(h.e.SetNotReady("a", "break", Origin{}))
	ov := kinds(evs, EventOverflow)
	if len(ov) != 2 || ov[0].Call != "c2" || ov[0].Target.Kind != TargetCallback ||
		ov[1].Call != "c3" || ov[1].Target.Kind != TargetNone {
		t.Fatalf("overflow %+v", ov)
	}
	if st, _ := h.e.QueueStats("q"); st.Waiting != 0 || st.Callbacks != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCallbackKeepsItsPlace(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "q", Members: members("a"), MaxWait: time.Minute})
	h.enqueue(Call{ID: "early", Queue: "q"})
	h.clk.Advance(time.Second)
	h.enqueue(Call{ID: "cb", Queue: "q", Caller: "+155501"})
	h.clk.Advance(time.Second)
	h.enqueue(Call{ID: "late", Queue: "q"})
	evs := h.do(h.e.RequestCallback("cb", ""))
	if len(kinds(evs, EventCallbackRequested)) != 1 {
		t.Fatalf("events %v", evs)
	}
	if st, _ := h.e.QueueStats("q"); st.Waiting != 2 || st.Callbacks != 1 {
		t.Fatalf("stats %+v", st)
	}
	if p, _ := h.e.Position("late"); p != 3 {
		t.Fatalf("late is at %d, want 3 (behind the callback)", p)
	}
	wantOffers(t, h.ready("a"), "early>a")
	h.serve("early", "a")
	due := kinds(h.log, EventCallbackDue)
	if len(due) != 1 || due[0].Call != "cb" || due[0].Caller != "+155501" || due[0].Agent != "a" {
		t.Fatalf("callback due %+v", due)
	}
	h.wantState("a", StateReserved)
	// The agent failed the callback: it takes the next caller meanwhile.
	wantOffers(t, h.do(h.e.OfferFailed("cb", "a", "agent-busy")), "late>a")
	h.serve("late", "a")
	// Max wait does not apply to a callback.
	h.do(h.e.SetNotReady("a", "break", Origin{}))
	if evs := h.advance(2 * time.Minute); len(evs) != 0 {
		t.Fatalf("events while nobody is ready: %v", evs)
	}
	wantOffers(t, h.ready("a"), "cb>a")
	h.serve("cb", "a")
	if st, _ := h.e.Agent("a"); st.Calls != 3 {
		t.Fatalf("calls %d", st.Calls)
	}
}

func TestOverflowToCallback(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "q", Members: members("a"), MaxWait: time.Minute, OnMaxWait: Target{Kind: TargetCallback}})
	h.enqueue(Call{ID: "c1", Queue: "q", Caller: "+1"})
	h.clk.Advance(time.Second)
	h.enqueue(Call{ID: "c2", Queue: "q", Caller: "+2"})
	h.advance(59 * time.Second)
	if st, _ := h.e.QueueStats("q"); st.Waiting != 1 || st.Callbacks != 1 {
		t.Fatalf("stats %+v", st)
	}
	h.advance(time.Second)
	if st, _ := h.e.QueueStats("q"); st.Waiting != 0 || st.Callbacks != 2 {
		t.Fatalf("stats %+v", st)
	}
	evs := h.ready("a")
	if due := kinds(evs, EventCallbackDue); len(due) != 1 || due[0].Call != "c1" {
		t.Fatalf("due %+v", due)
	}
}

func TestStickyAgent(t *testing.T) {
	h := newHarness(t)
	h.agents("a", "b")
	h.queue(QueueConfig{ID: "q", Members: members("a", "b"), StickyLookback: time.Hour, StickyWait: 30 * time.Second})
	h.ready("a")
	h.enqueue(Call{ID: "c1", Queue: "q", Caller: "+1555"})
	h.serve("c1", "a")
	h.clk.Advance(time.Second)
	h.ready("b") // b is now the longest idle
	h.answer(h.offerOne("x", "q"), "a")
	h.clk.Advance(time.Second)
	// The returning caller waits for a, though b is ready.
	evs := h.enqueue(Call{ID: "c2", Queue: "q", Caller: "+1555"})
	if sw := kinds(evs, EventStickyWait); len(sw) != 1 || sw[0].Agent != "a" || len(offers(evs)) != 0 {
		t.Fatalf("events %v", evs)
	}
	h.clk.Advance(10 * time.Second)
	wantOffers(t, h.do(h.e.CallEnded("x")), "c2>a")
	h.serve("c2", "a")

	// a busy past the sticky wait: normal routing to b.
	h.answer(h.offerOne("y", "q"), "b")
	h.answer(h.offerOne("z", "q"), "a")
	h.do(h.e.CallEnded("y"))
	evs = h.enqueue(Call{ID: "c3", Queue: "q", Caller: "+1555"})
	if len(kinds(evs, EventStickyWait)) != 1 {
		t.Fatalf("events %v", evs)
	}
	wantOffers(t, h.advance(30*time.Second), "c3>b")
	h.serve("c3", "b")

	// Outside the look-back window: normal routing at once.
	h.clk.Advance(2 * time.Hour)
	h.do(h.e.CallEnded("z"))
	h.ready() // both ready now
	evs = h.enqueue(Call{ID: "c4", Queue: "q", Caller: "+1555"})
	if len(kinds(evs, EventStickyWait)) != 0 || len(offers(evs)) != 1 {
		t.Fatalf("events %v", evs)
	}
}

func TestStickyAgentLogoutReleasesCall(t *testing.T) {
	h := newHarness(t)
	h.agents("a", "b")
	h.queue(QueueConfig{ID: "q", Members: members("a", "b"), StickyLookback: time.Hour, StickyWait: time.Minute})
	h.ready("a")
	h.enqueue(Call{ID: "c1", Queue: "q", Caller: "+1"})
	h.serve("c1", "a")
	h.do(h.e.SetNotReady("a", "break", Origin{}))
	h.ready("b")
	h.answer(h.offerOne("x", "q"), "b")
	evs := h.enqueue(Call{ID: "c2", Queue: "q", Caller: "+1"})
	if len(kinds(evs, EventStickyWait)) != 1 {
		t.Fatalf("events %v", evs)
	}
	if p, _ := h.e.Position("c2"); p != 0 {
		t.Fatalf("parked call position %d", p)
	}
	h.do(h.e.Logout("a", Origin{}))
	if p, _ := h.e.Position("c2"); p != 1 {
		t.Fatalf("released call position %d", p)
	}
	wantOffers(t, h.do(h.e.CallEnded("x")), "c2>b")
}

func TestOutboundBlending(t *testing.T) {
	h := newHarness(t)
	h.agentSkills("a", map[Skill]int{"sales": 3})
	h.agentSkills("b", map[Skill]int{"sales": 1})
	h.queue(QueueConfig{ID: "in", Members: members("a", "b")})
	h.queue(QueueConfig{ID: "camp", Members: members("a", "b"), Skills: []SkillReq{{Skill: "sales", MinLevel: 2}}})
	h.ready("a")
	// The campaign reserves a; an inbound call then cannot get a.
	evs := h.do(h.e.RequestOutboundAgent(OutboundRequest{ID: "o1", Queue: "camp", Number: "+1999"}))
	if r := kinds(evs, EventOutboundReserved); len(r) != 1 || r[0].Agent != "a" || r[0].Caller != "+1999" {
		t.Fatalf("reserved %+v", evs)
	}
	wantOffers(t, h.enqueue(Call{ID: "c1", Queue: "in"}))
	// b cannot take outbound (skill) but takes the inbound call.
	wantOffers(t, h.ready("b"), "c1>b")
	// Outbound waits for a qualified agent, in order with other requests.
	h.do(h.e.RequestOutboundAgent(OutboundRequest{ID: "o2", Queue: "camp"}))
	h.answer("o1", "a")
	st, _ := h.e.Agent("a")
	if st.State != StateBusy || st.Busy != BusyOutbound {
		t.Fatalf("a %+v", st)
	}
	// Inbound has no priority over outbound unless configured: FIFO across
	// the agent's queues (o2 requested before c2).
	h.enqueue(Call{ID: "c2", Queue: "in"})
	wantOffers(t, h.do(h.e.CallEnded("o1")), "o2>a")
	// A failed reservation is not a no-answer.
	h.do(h.e.OfferFailed("o2", "a", "customer-no-answer"))
	if st, _ := h.e.Agent("a"); st.NoAnswers != 0 {
		t.Fatalf("no-answers %d", st.NoAnswers)
	}
	h.do(h.e.Abandon("o2"))
}

func TestNoAnswerLimit(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "q", Members: members("a"), NoAnswerLimit: 2, RetryDelay: time.Second})
	h.ready("a")
	h.enqueue(Call{ID: "c1", Queue: "q"})
	h.advance(DefaultRingTimeout) // 1st no-answer
	h.wantState("a", StateReady)
	evs := h.advance(time.Second) // retry: rings a again
	wantOffers(t, evs, "c1>a")
	evs = h.advance(DefaultRingTimeout) // 2nd consecutive
	h.wantState("a", StateNotReady)
	st := kinds(evs, EventAgentState)
	if st[len(st)-1].Reason != ReasonNoAnswer || st[len(st)-1].Origin.Kind != BySystem {
		t.Fatalf("events %+v", st)
	}
	// An answer resets the count.
	h.ready("a")
	h.advance(time.Second)
	h.advance(DefaultRingTimeout)
	h.advance(time.Second)
	h.answer("c1", "a")
	if s, _ := h.e.Agent("a"); s.NoAnswers != 0 {
		t.Fatalf("no-answers %d", s.NoAnswers)
	}
}

// Wrap-up is per agent: after a call of queue A the agent gets no call from
// queue B either, and the wrap-up length is the one of the call's queue (or
// the agent's own).
func TestWrapUpAcrossQueues(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "A", Members: members("a"), WrapUp: 10 * time.Second})
	h.queue(QueueConfig{ID: "B", Members: members("a"), WrapUp: 60 * time.Second})
	h.ready("a")
	h.answer(h.offerOne("c1", "A"), "a")
	h.do(h.e.CallEnded("c1"))
	wantOffers(t, h.enqueue(Call{ID: "c2", Queue: "B"}))
	wantOffers(t, h.advance(9*time.Second))
	wantOffers(t, h.advance(time.Second), "c2>a")
	h.answer("c2", "a")
	h.do(h.e.CallEnded("c2"))
	h.advance(59 * time.Second)
	h.wantState("a", StateWrapUp)
	h.advance(time.Second)
	h.wantState("a", StateReady)
	// The agent's own wrap-up overrides the queues'.
	h.do(h.e.SetAgent(AgentConfig{ID: "a", WrapUp: 5 * time.Second}))
	h.answer(h.offerOne("c3", "B"), "a")
	h.do(h.e.CallEnded("c3"))
	h.advance(5 * time.Second)
	h.wantState("a", StateReady)
}

func TestKeepEnteredAtOnTransfer(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "first", MaxWait: time.Minute, OnMaxWait: Target{Kind: TargetQueue, Dest: "second"}})
	h.queue(QueueConfig{ID: "second", Members: members("a"), KeepEnteredAt: true})
	h.queue(QueueConfig{ID: "fresh", Members: members("a")})
	h.enqueue(Call{ID: "old", Queue: "first"})
	h.clk.Advance(30 * time.Second)
	h.enqueue(Call{ID: "mid", Queue: "second"})
	evs := h.advance(30 * time.Second)
	ov := kinds(evs, EventOverflow)
	if len(ov) != 1 || ov[0].Target.Dest != "second" || !ov[0].EnteredAt.Equal(t0) {
		t.Fatalf("overflow %+v", ov)
	}
	// The controller re-enqueues with the original time: ahead of "mid".
	h.enqueue(Call{ID: "old", Queue: "second", EnteredAt: ov[0].EnteredAt})
	// A queue without KeepEnteredAt restarts the clock.
	h.enqueue(Call{ID: "other", Queue: "fresh", EnteredAt: t0.Add(-time.Hour)})
	wantOffers(t, h.ready("a"), "old>a")
	h.serve("old", "a")
	if ev := kinds(h.log, EventOffer); ev[len(ev)-1].Call != "mid" {
		t.Fatalf("second offer %v", ev[len(ev)-1].Call)
	}
}

func TestAbandonWhileRinging(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "q", Members: members("a")})
	h.ready("a")
	h.enqueue(Call{ID: "c1", Queue: "q"})
	h.enqueue(Call{ID: "c2", Queue: "q"})
	evs := h.do(h.e.Abandon("c1"))
	if c := kinds(evs, EventOfferCancelled); len(c) != 1 || c[0].Reason != ReasonAbandoned {
		t.Fatalf("events %v", evs)
	}
	if len(kinds(evs, EventAbandoned)) != 1 {
		t.Fatalf("events %v", evs)
	}
	// The freed agent takes the next caller in the same command.
	wantOffers(t, evs, "c2>a")
	h.fail(ErrUnknownCall)(h.e.Abandon("c1"))
	h.answer("c2", "a")
	h.fail(ErrIllegalTransition)(h.e.Abandon("c2"))
	if s, _ := h.e.Agent("a"); s.NoAnswers != 0 {
		t.Fatal("abandon counted as no-answer")
	}
}

func TestRetryDelayAfterReject(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "q", Members: members("a"), RetryDelay: 3 * time.Second})
	h.ready("a")
	h.enqueue(Call{ID: "c1", Queue: "q"})
	evs := h.do(h.e.OfferFailed("c1", "a", "rejected"))
	if f := kinds(evs, EventOfferFailed); len(f) != 1 || f[0].Reason != "rejected" {
		t.Fatalf("events %v", evs)
	}
	wantOffers(t, evs)
	// Another caller may still go to a at once.
	wantOffers(t, h.enqueue(Call{ID: "c2", Queue: "q"}), "c2>a")
	h.serve("c2", "a")
	wantOffers(t, h.advance(3*time.Second), "c1>a")
}

func TestConfigErrors(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	tests := []struct {
		name string
		cfg  QueueConfig
		want error
	}{
		{"empty id", QueueConfig{}, ErrInvalidConfig},
		{"unknown member", QueueConfig{ID: "q", Members: members("zz")}, ErrUnknownAgent},
		{"repeated member", QueueConfig{ID: "q", Members: members("a", "a")}, ErrInvalidConfig},
		{"bad strategy", QueueConfig{ID: "q", Strategy: numStrategies}, ErrInvalidConfig},
		{"escalation order", QueueConfig{ID: "q", Escalations: []Escalation{{After: 2}, {After: 1}}}, ErrInvalidConfig},
		{"target without dest", QueueConfig{ID: "q", OnFull: Target{Kind: TargetQueue}}, ErrInvalidConfig},
		{"negative wait", QueueConfig{ID: "q", MaxWait: -1}, ErrInvalidConfig},
		{"negative skill", QueueConfig{ID: "q", Skills: []SkillReq{{Skill: "x", MinLevel: -1}}}, ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.fail(tt.want)(h.e.SetQueue(tt.cfg))
		})
	}
	h.fail(ErrInvalidConfig)(h.e.SetAgent(AgentConfig{ID: "b", Skills: map[Skill]int{"x": -2}}))
	h.queue(QueueConfig{ID: "q", Members: members("a")})
	h.fail(ErrUnknownQueue)(h.e.EnqueueCall(Call{ID: "c", Queue: "nope"}))
	h.fail(ErrInvalidConfig)(h.e.EnqueueCall(Call{Queue: "q"}))
	h.enqueue(Call{ID: "c", Queue: "q"})
	h.fail(ErrDuplicateCall)(h.e.EnqueueCall(Call{ID: "c", Queue: "q"}))
	h.fail(ErrInUse)(h.e.RemoveQueue("q"))
	h.fail(ErrNotOffered)(h.e.OfferAccepted("c", "a"))
	h.fail(ErrUnknownAgent)(h.e.Login("zz", Origin{}))
	h.do(h.e.Login("a", Origin{}))
	h.fail(ErrInUse)(h.e.RemoveAgent("a"))
	h.do(h.e.Logout("a", Origin{}))
	h.do(h.e.RemoveAgent("a"))
	h.do(h.e.Abandon("c"))
	h.do(h.e.RemoveQueue("q"))
	if _, err := New(nil); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New(nil) = %v", err)
	}
}

// Reconfiguring a queue re-evaluates waiting calls at once.
func TestSetQueueAddsMember(t *testing.T) {
	h := newHarness(t)
	h.agents("a", "b")
	h.queue(QueueConfig{ID: "q", Members: members("a")})
	h.ready("b")
	h.enqueue(Call{ID: "c1", Queue: "q"})
	wantOffers(t, h.do(h.e.SetQueue(QueueConfig{ID: "q", Members: members("a", "b")})), "c1>b")
	if st, _ := h.e.QueueStats("q"); st.Members != 2 || st.LoggedIn != 1 || st.Available != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Skills updated on a ready agent take effect at once too.
	h.queue(QueueConfig{ID: "s", Members: members("a"), Skills: []SkillReq{{Skill: "x", MinLevel: 1}}})
	h.ready("a")
	h.enqueue(Call{ID: "c2", Queue: "s"})
	wantOffers(t, h.do(h.e.SetAgent(AgentConfig{ID: "a", Skills: map[Skill]int{"x": 1}})), "c2>a")
}

// A late tick does not move decisions in time: each timer's events carry
// its own due time, and a command first fires the timers already due.
func TestLateTickAndCommandsFireDueTimers(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "q", Members: members("a"), MaxWait: time.Minute, WrapUp: 30 * time.Second})
	h.enqueue(Call{ID: "c1", Queue: "q"})
	evs := h.advance(5 * time.Minute)
	if ov := kinds(evs, EventOverflow); len(ov) != 1 || !ov[0].At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("overflow %+v", ov)
	}
	h.ready("a")
	h.serve(h.offerOne("c2", "q"), "a")
	h.wantState("a", StateWrapUp)
	// No tick at the end of wrap-up: the next arrival fires it first and is
	// offered to the agent in the same command.
	h.clk.Advance(time.Hour)
	evs = h.enqueue(Call{ID: "c3", Queue: "q"})
	wantOffers(t, evs, "c3>a")
	st := kinds(evs, EventAgentState)
	if len(st) < 1 || st[0].To != StateReady || !st[0].At.Equal(h.clk.Now().Add(-time.Hour).Add(30*time.Second)) {
		t.Fatalf("wrap-up end %+v", st)
	}
	if off := kinds(evs, EventOffer); !off[0].At.Equal(h.clk.Now()) {
		t.Fatalf("offer at %v, want now", off[0].At)
	}
}

// The sticky memory forgets callers beyond the look-back window, so it
// does not grow with a day's traffic.
func TestStickyMemoryIsBounded(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "q", Members: members("a"), StickyLookback: time.Minute, StickyWait: time.Second})
	h.ready("a")
	for i := range 500 {
		h.clk.Advance(10 * time.Second)
		id := CallID(fmt.Sprint("c", i))
		h.enqueue(Call{ID: id, Queue: "q", Caller: fmt.Sprint("+", i)})
		h.serve(id, "a")
	}
	if n := len(h.e.sticky); n > 8 {
		t.Fatalf("sticky memory holds %d callers", n)
	}
	if n := len(h.e.stickyLog); n > 16 {
		t.Fatalf("sticky log holds %d entries", n)
	}
}

func TestQueueStatsAndExpectedWait(t *testing.T) {
	h := newHarness(t)
	h.agents("a", "b")
	h.queue(QueueConfig{ID: "q", Members: members("a", "b"), WrapUp: 20 * time.Second})
	h.ready("a", "b")
	h.answer(h.offerOne("c1", "q"), "a")
	h.answer(h.offerOne("c2", "q"), "b")
	h.clk.Advance(100 * time.Second)
	h.do(h.e.CallEnded("c1")) // handle = 100 s talk + 20 s wrap-up
	if st, _ := h.e.QueueStats("q"); st.AvgHandle != 120*time.Second {
		t.Fatalf("avg handle %v", st.AvgHandle)
	}
	h.enqueue(Call{ID: "w1", Queue: "q"})
	h.clk.Advance(time.Second)
	h.enqueue(Call{ID: "w2", Queue: "q"})
	st, _ := h.e.QueueStats("q")
	if st.Waiting != 2 || st.Ready != 0 || st.Available != 2 || !st.Oldest.Equal(h.clk.Now().Add(-time.Second)) {
		t.Fatalf("stats %+v", st)
	}
	// Second in line, two members available: 2 x 120 s / 2.
	if d, err := h.e.ExpectedWait("w2"); err != nil || d != 120*time.Second {
		t.Fatalf("expected wait %v %v", d, err)
	}
	if d, _ := h.e.ExpectedWait("c2"); d != 0 {
		t.Fatalf("expected wait of a call in service %v", d)
	}
}

// No agent stays reserved forever: an outbound reservation the dialer
// never reports on times out like any offer, without counting a no-answer,
// and the request keeps its place.
func TestOutboundReservationTimesOut(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "camp", Members: members("a"), RingTimeout: time.Minute, NoAnswerLimit: 1})
	h.ready("a")
	if r := kinds(h.do(h.e.RequestOutboundAgent(OutboundRequest{ID: "o1", Queue: "camp"})), EventOutboundReserved); len(r) != 1 {
		t.Fatal("not reserved")
	}
	evs := h.advance(time.Minute)
	if len(kinds(evs, EventOfferTimeout)) != 1 {
		t.Fatalf("events %v", evs)
	}
	h.wantState("a", StateReady)
	if st, _ := h.e.QueueStats("camp"); st.Outbound != 1 {
		t.Fatalf("stats %+v", st)
	}
	wantOffers(t, h.advance(DefaultRetryDelay), "o1>a")
}

// The abandoned event carries the caller's hangup time when the command
// arrives late, clamped to the queue entry; a future time means now.
func TestAbandonAtHangupTime(t *testing.T) {
	h := newHarness(t)
	h.agents("a")
	h.queue(QueueConfig{ID: "q", Members: members("a")})
	h.enqueue(Call{ID: "c1", Queue: "q"})
	h.enqueue(Call{ID: "c2", Queue: "q"})
	h.enqueue(Call{ID: "c3", Queue: "q"})
	h.clk.Advance(10 * time.Second)
	cases := []struct {
		call CallID
		at   time.Time
		want time.Time
	}{
		{"c1", t0.Add(7 * time.Second), t0.Add(7 * time.Second)},
		{"c2", t0.Add(-time.Minute), t0},                      // before entry: the entry
		{"c3", t0.Add(time.Minute), t0.Add(10 * time.Second)}, // after now: now
	}
	for _, tc := range cases {
		ab := kinds(h.do(h.e.AbandonAt(tc.call, tc.at)), EventAbandoned)
		if len(ab) != 1 || !ab[0].At.Equal(tc.want) {
			t.Errorf("%s abandoned at %v: events %+v, want at %v", tc.call, tc.at, ab, tc.want)
		}
	}
}

// Pickup: the call rings a; b (not ringing) picks it up. The offer moves
// to b in one command: a is cancelled (picked-up), ready again with no
// no-answer counted, and at once free for the next caller; b is busy with
// the call, and a not-ready b returns to its reason after the call.
func TestPickUpMovesTheOffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bState string // "ready", "not-ready", "wrap-up"
		after  State
	}{
		{"ready picker", "ready", StateReady},
		{"not-ready picker keeps its reason", "not-ready", StateNotReady},
		{"picker in wrap-up", "wrap-up", StateReady},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.agents("a", "b", "x")
			// b is no member of q: the pickup group (the controller's
			// choice) is not the queue.
			h.queue(QueueConfig{ID: "q", Members: members("a"), NoAnswerLimit: 1})
			h.queue(QueueConfig{ID: "other", Members: members("b"), WrapUp: time.Minute})
			switch tc.bState {
			case "ready":
				h.ready("b")
			case "not-ready":
				h.do(h.e.Login("b", Origin{}))
				h.do(h.e.SetNotReady("b", "training", Origin{}))
			case "wrap-up":
				h.ready("b")
				h.enqueue(Call{ID: "w", Queue: "other"})
				h.serve("w", "b")
				h.wantState("b", StateWrapUp)
			}
			h.ready("a")
			wantOffers(t, h.enqueue(Call{ID: "c1", Queue: "q"}), "c1>a")
			h.enqueue(Call{ID: "c2", Queue: "q"})
			evs := h.do(h.e.PickUp("c1", "b", Origin{Kind: ByAgent, By: "b"}))
			if c := kinds(evs, EventOfferCancelled); len(c) != 1 || c[0].Agent != "a" || c[0].Reason != ReasonPickedUp {
				t.Fatalf("cancel events %+v", c)
			}
			if acc := kinds(evs, EventOfferAccepted); len(acc) != 1 || acc[0].Agent != "b" || acc[0].Call != "c1" {
				t.Fatalf("accept events %+v", acc)
			}
			// a is freed without a no-answer (NoAnswerLimit 1 would
			// have made it not-ready) and takes the next caller.
			wantOffers(t, evs, "c2>a")
			if s, _ := h.e.Agent("a"); s.NoAnswers != 0 || s.Call != "c2" {
				t.Fatalf("a after the pickup: %+v", s)
			}
			if s, _ := h.e.Agent("b"); s.State != StateBusy || s.Busy != BusyInbound || s.Call != "c1" {
				t.Fatalf("b after the pickup: %+v", s)
			}
			h.fail(ErrNotOffered)(h.e.OfferAccepted("c1", "a"))
			h.do(h.e.CallEnded("c1"))
			// q has no wrap-up: b is at once back where it was.
			h.wantState("b", tc.after)
			if s, _ := h.e.Agent("b"); tc.after == StateNotReady && s.Reason != "training" {
				t.Fatalf("b after the call: %+v", s)
			}
		})
	}
}

func TestPickUpRefused(t *testing.T) {
	h := newHarness(t)
	h.agents("a", "b", "c", "off")
	h.queue(QueueConfig{ID: "q", Members: members("a", "c")})
	h.ready("a")
	h.enqueue(Call{ID: "c1", Queue: "q"})
	h.enqueue(Call{ID: "w", Queue: "q"}) // waits: a rings with c1
	h.fail(ErrNotOffered)(h.e.PickUp("w", "b", Origin{}))
	h.fail(ErrUnknownCall)(h.e.PickUp("nope", "b", Origin{}))
	h.fail(ErrUnknownAgent)(h.e.PickUp("c1", "nope", Origin{}))
	h.fail(ErrIllegalTransition)(h.e.PickUp("c1", "off", Origin{})) // logged out
	h.ready("c")                                                    // rings with w
	h.fail(ErrIllegalTransition)(h.e.PickUp("c1", "c", Origin{}))   // reserved for w
	h.wantState("a", StateReserved)
	// The ringing agent itself picking up is an answer.
	evs := h.do(h.e.PickUp("c1", "a", Origin{}))
	if acc := kinds(evs, EventOfferAccepted); len(acc) != 1 || acc[0].Agent != "a" {
		t.Fatalf("events %+v", evs)
	}
	h.ready("b")
	h.fail(ErrNotOffered)(h.e.PickUp("c1", "b", Origin{})) // answered already
}
