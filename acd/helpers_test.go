package acd

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

type harness struct {
	t   *testing.T
	clk *VirtualClock
	e   *Engine
	log []Event
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	clk := NewVirtualClock(t0)
	e, err := New(clk, WithRand(rand.New(rand.NewPCG(1, 2))))
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, clk: clk, e: e}
}

// do checks err is nil and returns a copy of the events.
func (h *harness) do(evs []Event, err error) []Event {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("unexpected error: %v", err)
	}
	evs = slices.Clone(evs)
	h.log = append(h.log, evs...)
	return evs
}

// fail returns a checker that err matches want:
// h.fail(ErrX)(h.e.Command(...)).
func (h *harness) fail(want error) func([]Event, error) {
	return func(_ []Event, err error) {
		h.t.Helper()
		if !errors.Is(err, want) {
			h.t.Fatalf("error = %v, want %v", err, want)
		}
	}
}

func (h *harness) agents(ids ...AgentID) {
	h.t.Helper()
	for _, id := range ids {
		h.do(h.e.SetAgent(AgentConfig{ID: id}))
	}
}

func (h *harness) agentSkills(id AgentID, skills map[Skill]int) {
	h.t.Helper()
	h.do(h.e.SetAgent(AgentConfig{ID: id, Skills: skills}))
}

func (h *harness) queue(cfg QueueConfig) {
	h.t.Helper()
	h.do(h.e.SetQueue(cfg))
}

func members(ids ...AgentID) []Member {
	var ms []Member
	for _, id := range ids {
		ms = append(ms, Member{Agent: id})
	}
	return ms
}

// ready logs agents in and makes them ready, in order, one second apart
// unless gap is zero.
func (h *harness) ready(ids ...AgentID) []Event {
	h.t.Helper()
	var all []Event
	for _, id := range ids {
		if st, _ := h.e.Agent(id); st.State == StateLoggedOut {
			all = append(all, h.do(h.e.Login(id, Origin{}))...)
		}
		all = append(all, h.do(h.e.SetReady(id, Origin{}))...)
	}
	return all
}

func (h *harness) enqueue(c Call) []Event {
	h.t.Helper()
	return h.do(h.e.EnqueueCall(c))
}

func (h *harness) advance(d time.Duration) []Event {
	h.t.Helper()
	h.clk.Advance(d)
	return h.do(h.e.Tick(), nil)
}

func (h *harness) state(id AgentID) State {
	h.t.Helper()
	st, err := h.e.Agent(id)
	if err != nil {
		h.t.Fatal(err)
	}
	return st.State
}

func (h *harness) wantState(id AgentID, want State) {
	h.t.Helper()
	if got := h.state(id); got != want {
		h.t.Fatalf("agent %s is %s, want %s", id, got, want)
	}
}

// offers returns "call>agent" for every offer-like decision in evs.
func offers(evs []Event) []string {
	var out []string
	for _, ev := range evs {
		switch ev.Kind {
		case EventOffer, EventCallbackDue, EventOutboundReserved:
			out = append(out, fmt.Sprintf("%s>%s", ev.Call, ev.Agent))
		}
	}
	return out
}

func kinds(evs []Event, k EventKind) []Event {
	var out []Event
	for _, ev := range evs {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

func wantOffers(t *testing.T, evs []Event, want ...string) {
	t.Helper()
	got := offers(evs)
	if !slices.Equal(got, want) {
		t.Fatalf("offers = %v, want %v", got, want)
	}
}

// answer accepts the offer of call to agent.
func (h *harness) answer(c CallID, a AgentID) []Event {
	h.t.Helper()
	return h.do(h.e.OfferAccepted(c, a))
}

// serve answers and ends a call at once.
func (h *harness) serve(c CallID, a AgentID) []Event {
	h.t.Helper()
	evs := h.answer(c, a)
	return append(evs, h.do(h.e.CallEnded(c))...)
}
