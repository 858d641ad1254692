package acd

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// setupState puts agent "a" of queue "q" in the named state; the call "c1"
// is the agent's call where the state has one.
func setupState(h *harness, name string) {
	h.t.Helper()
	h.agents("a")
	h.queue(QueueConfig{ID: "q", Members: members("a"), WrapUp: 30 * time.Second})
	switch name {
	case "logged-out":
	case "not-ready":
		h.do(h.e.Login("a", Origin{}))
	case "ready":
		h.ready("a")
	case "reserved", "busy-inbound", "wrap-up":
		h.ready("a")
		wantOffers(h.t, h.enqueue(Call{ID: "c1", Queue: "q"}), "c1>a")
		if name != "reserved" {
			h.answer("c1", "a")
		}
		if name == "wrap-up" {
			h.do(h.e.CallEnded("c1"))
		}
	case "busy-internal":
		h.ready("a")
		h.do(h.e.BeginInternal("a", Origin{}))
	default:
		h.t.Fatalf("unknown state %q", name)
	}
}

func TestTransitions(t *testing.T) {
	type cmd func(e *Engine) ([]Event, error)
	cmds := map[string]cmd{
		"login":          func(e *Engine) ([]Event, error) { return e.Login("a", Origin{}) },
		"logout":         func(e *Engine) ([]Event, error) { return e.Logout("a", Origin{}) },
		"ready":          func(e *Engine) ([]Event, error) { return e.SetReady("a", Origin{}) },
		"not-ready":      func(e *Engine) ([]Event, error) { return e.SetNotReady("a", "lunch", Origin{}) },
		"begin-internal": func(e *Engine) ([]Event, error) { return e.BeginInternal("a", Origin{}) },
		"end-internal":   func(e *Engine) ([]Event, error) { return e.EndInternal("a", Origin{}) },
		"accept":         func(e *Engine) ([]Event, error) { return e.OfferAccepted("c1", "a") },
		"fail":           func(e *Engine) ([]Event, error) { return e.OfferFailed("c1", "a", "rejected") },
		"call-ended":     func(e *Engine) ([]Event, error) { return e.CallEnded("c1") },
	}
	illegal := ErrIllegalTransition
	tests := []struct {
		from, cmd string
		want      State
		err       error
	}{
		{"logged-out", "login", StateNotReady, nil},
		{"logged-out", "logout", 0, illegal},
		{"logged-out", "ready", 0, illegal},
		{"logged-out", "not-ready", 0, illegal},
		{"logged-out", "begin-internal", 0, illegal},
		{"logged-out", "end-internal", 0, illegal},
		{"logged-out", "accept", 0, ErrUnknownCall},

		{"not-ready", "login", 0, illegal},
		{"not-ready", "logout", StateLoggedOut, nil},
		{"not-ready", "ready", StateReady, nil},
		{"not-ready", "not-ready", StateNotReady, nil},
		{"not-ready", "begin-internal", StateBusy, nil},
		{"not-ready", "end-internal", 0, illegal},

		{"ready", "login", 0, illegal},
		{"ready", "logout", StateLoggedOut, nil},
		{"ready", "ready", 0, illegal},
		{"ready", "not-ready", StateNotReady, nil},
		{"ready", "begin-internal", StateBusy, nil},
		{"ready", "end-internal", 0, illegal},

		{"reserved", "login", 0, illegal},
		{"reserved", "logout", StateLoggedOut, nil},
		{"reserved", "ready", 0, illegal},
		{"reserved", "not-ready", StateNotReady, nil},
		{"reserved", "begin-internal", 0, illegal},
		{"reserved", "end-internal", 0, illegal},
		{"reserved", "accept", StateBusy, nil},
		{"reserved", "fail", StateReady, nil},
		{"reserved", "call-ended", 0, illegal},

		{"busy-inbound", "login", 0, illegal},
		{"busy-inbound", "logout", 0, illegal},
		{"busy-inbound", "ready", 0, illegal},
		{"busy-inbound", "not-ready", StateBusy, nil}, // held as pending
		{"busy-inbound", "begin-internal", 0, illegal},
		{"busy-inbound", "end-internal", 0, illegal},
		{"busy-inbound", "accept", 0, ErrNotOffered},
		{"busy-inbound", "fail", 0, ErrNotOffered},
		{"busy-inbound", "call-ended", StateWrapUp, nil},

		{"busy-internal", "login", 0, illegal},
		{"busy-internal", "logout", 0, illegal},
		{"busy-internal", "ready", 0, illegal},
		{"busy-internal", "not-ready", StateBusy, nil},
		{"busy-internal", "begin-internal", 0, illegal},
		{"busy-internal", "end-internal", StateReady, nil},

		{"wrap-up", "login", 0, illegal},
		{"wrap-up", "logout", StateLoggedOut, nil},
		{"wrap-up", "ready", StateReady, nil},
		{"wrap-up", "not-ready", StateNotReady, nil},
		{"wrap-up", "begin-internal", StateBusy, nil},
		{"wrap-up", "end-internal", 0, illegal},
		{"wrap-up", "call-ended", 0, ErrUnknownCall},
	}
	for _, tt := range tests {
		t.Run(tt.from+"/"+tt.cmd, func(t *testing.T) {
			h := newHarness(t)
			setupState(h, tt.from)
			before, _ := h.e.Agent("a")
			h.clk.Advance(time.Second)
			evs, err := cmds[tt.cmd](h.e)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				after, _ := h.e.Agent("a")
				if !reflect.DeepEqual(before, after) || len(evs) != 0 {
					t.Fatalf("illegal command changed something: %+v -> %+v, events %v", before, after, evs)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			h.wantState("a", tt.want)
			if c := h.e.calls["c1"]; c != nil && c.state == csOffered && slices.Contains(c.ringing, h.e.agents["a"]) && tt.want != StateReserved {
				t.Fatalf("agent left reserved but still rings c1")
			}
		})
	}
}

// The table of legalFrom and the documented transitions agree with the
// checked commands: every command is legal from at least one state and
// illegal from at least one.
func TestLegalFromCoversCommands(t *testing.T) {
	for c := command(0); c < numCommands; c++ {
		m := legalFrom(c)
		if m == 0 || m == 1<<6-1 {
			t.Errorf("%s: legal mask %06b", c, m)
		}
	}
}

func TestPendingNotReadyAfterWrapUp(t *testing.T) {
	h := newHarness(t)
	setupState(h, "busy-inbound")
	h.do(h.e.SetNotReady("a", "lunch", Origin{Kind: BySupervisor, By: "sup1"}))
	h.do(h.e.CallEnded("c1"))
	h.wantState("a", StateWrapUp)
	evs := h.advance(30 * time.Second)
	h.wantState("a", StateNotReady)
	st := kinds(evs, EventAgentState)
	if len(st) != 1 || st[0].Reason != "lunch" || st[0].At != t0.Add(30*time.Second) {
		t.Fatalf("events %+v", st)
	}
}

func TestEndInternalRestoresNotReady(t *testing.T) {
	h := newHarness(t)
	setupState(h, "not-ready")
	h.do(h.e.SetNotReady("a", "training", Origin{}))
	h.do(h.e.BeginInternal("a", Origin{}))
	h.do(h.e.EndInternal("a", Origin{}))
	st, _ := h.e.Agent("a")
	if st.State != StateNotReady || st.Reason != "training" {
		t.Fatalf("status %+v", st)
	}
}

func TestSupervisorOriginRecorded(t *testing.T) {
	h := newHarness(t)
	setupState(h, "ready")
	sup := Origin{Kind: BySupervisor, By: "boss"}
	evs := h.do(h.e.Logout("a", sup))
	st := kinds(evs, EventAgentState)
	if len(st) != 1 || st[0].Origin != sup || st[0].To != StateLoggedOut {
		t.Fatalf("events %+v", st)
	}
}

func TestWrapUpTimerAndEarlyReady(t *testing.T) {
	h := newHarness(t)
	setupState(h, "wrap-up")
	h.advance(29 * time.Second)
	h.wantState("a", StateWrapUp)
	if at, ok := h.e.NextDeadline(); !ok || !at.Equal(h.clk.Now().Add(time.Second)) {
		t.Fatalf("next deadline %v %v", at, ok)
	}
	h.do(h.e.SetReady("a", Origin{}))
	h.wantState("a", StateReady)
	if _, ok := h.e.NextDeadline(); ok {
		t.Fatal("wrap-up timer still armed after early ready")
	}
}
