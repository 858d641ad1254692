package acd

import (
	"errors"
	"testing"
	"time"
)

// TestErrorNeverCarriesEvents is the regression test for a command that
// fired a due timer (an offer) and then failed its own checks: it returned
// the offer next to the error, so a caller returning on error dropped it.
// Now the failing call returns no events, and the next call returns the
// held ones exactly once.
func TestErrorNeverCarriesEvents(t *testing.T) {
	for name, failing := range map[string]func(e *Engine) ([]Event, error){
		"login unknown agent":  func(e *Engine) ([]Event, error) { return e.Login("ghost", Origin{}) },
		"abandon unknown call": func(e *Engine) ([]Event, error) { return e.Abandon("nope") },
		"enqueue unknown queue": func(e *Engine) ([]Event, error) {
			return e.EnqueueCall(Call{ID: "x", Queue: "nope"})
		},
		"set queue invalid": func(e *Engine) ([]Event, error) { return e.SetQueue(QueueConfig{}) },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.agents("a")
			h.queue(QueueConfig{ID: "q", Members: members("a"), WrapUp: 10 * time.Second})
			h.ready("a")
			h.do(h.e.EnqueueCall(Call{ID: "c1", Queue: "q"}))
			h.do(h.e.OfferAccepted("c1", "a"))
			h.do(h.e.CallEnded("c1")) // a is in wrap-up for 10 s
			h.do(h.e.EnqueueCall(Call{ID: "c2", Queue: "q"}))
			h.clk.Advance(11 * time.Second) // wrap-up ends: c2 is due to be offered to a

			evs, err := failing(h.e)
			if err == nil {
				t.Fatal("the failing command succeeded")
			}
			if len(evs) != 0 {
				t.Fatalf("a failing command returned %d events with its error: %v", len(evs), evs)
			}
			if !h.e.Pending() {
				t.Fatal("Pending() = false with held events")
			}
			if at, ok := h.e.NextDeadline(); !ok || at.After(h.clk.Now()) {
				t.Fatalf("NextDeadline() = %v, %v; want now while events are held", at, ok)
			}
			// A second failure keeps holding them.
			if _, err := h.e.Login("ghost2", Origin{}); !errors.Is(err, ErrUnknownAgent) {
				t.Fatalf("Login(ghost2) = %v", err)
			}
			got := h.do(h.e.Tick(), nil)
			offers := 0
			for _, ev := range got {
				if ev.Kind == EventOffer && ev.Call == "c2" && ev.Agent == "a" {
					offers++
				}
			}
			if offers != 1 {
				t.Fatalf("Tick after the failure returned %d offers of c2 to a, want 1: %v", offers, got)
			}
			if h.e.Pending() {
				t.Fatal("Pending() = true after the held events were returned")
			}
			if again := h.do(h.e.Tick(), nil); len(again) != 0 {
				t.Fatalf("held events returned twice: %v", again)
			}
		})
	}
}
