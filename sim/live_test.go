package sim

import (
	"context"
	"strings"
	"testing"
	"time"

	"hotline/mediacore/mediatest/sippeer"
)

// A call Hotline never ends does not hold the run for ever: once the
// agent's talk time and EndGrace have passed, the caller counts it failed
// ("never ended") and hangs up itself. The "Hotline" here is a phone that
// answers and never sends BYE.
func TestCallerBoundsACallThatNeverEnds(t *testing.T) {
	stuck, err := sippeer.New(sippeer.Config{User: "hotline"})
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	l := &ledger{calls: make([]CallTruth, 1), byCaller: map[string]int{callerUser(1): 0},
		answered: []chan struct{}{make(chan struct{})}}
	close(l.answered[0]) // an agent answered it
	cfg := LiveConfig{SIP: stuck.Addr(), Number: "800", EndGrace: 300 * time.Millisecond}
	cfg.defaults()
	done := make(chan struct{})
	go func() {
		defer close(done)
		caller(ctx, cfg, 0, Arrival{N: 1, Talk: 200 * time.Millisecond}, l)
	}()
	var in *sippeer.Call
	select {
	case in = <-stuck.Incoming():
	case <-ctx.Done():
		t.Fatal("the caller never dialled")
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the caller still waits for a call that never ends")
	}
	select {
	case <-in.Done(): // the caller's BYE
	case <-ctx.Done():
		t.Fatal("the caller did not hang up")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failed != 1 || !strings.HasPrefix(l.calls[0].Failed, "never ended") {
		t.Errorf("failed %d, call %+v", l.failed, l.calls[0])
	}
}
