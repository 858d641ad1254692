package controller

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"hotline/acd"
	"hotline/internal/clock"
)

// ACD owns one acd.Engine on one goroutine: the engine is not safe for
// concurrent use, so every command reaches it through the mailbox (Do)
// and runs in order. Timers come from the engine's NextDeadline, armed on
// the injected clock; there is no polling loop.
//
// Every event the engine returns (decisions such as offers, and state
// changes) is handed, in order, to the publish callback on the owner's
// goroutine. The callback must not block and must not call Do (that would
// wait for itself); the call actors feed their own mailboxes from it.
type ACD struct {
	clk     clock.Clock
	log     *slog.Logger
	publish func([]acd.Event)

	ops  chan acdOp
	wake chan struct{} // capacity 1: a timer fired
	stop chan struct{}
	done chan struct{}
	once sync.Once

	// Owned by the loop goroutine.
	eng     *acd.Engine
	timer   clock.Timer
	timerAt time.Time
}

type acdOp struct {
	fn   func(e *acd.Engine) ([]acd.Event, error)
	done chan error
}

// newACD starts the owner of a new engine reading time from clk.
func newACD(clk clock.Clock, log *slog.Logger, publish func([]acd.Event), opts ...acd.Option) (*ACD, error) {
	eng, err := acd.New(clk, opts...)
	if err != nil {
		return nil, err
	}
	if publish == nil {
		publish = func([]acd.Event) {}
	}
	a := &ACD{
		clk: clk, log: log, publish: publish, eng: eng,
		ops: make(chan acdOp), wake: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go a.loop()
	return a, nil
}

// Do runs fn on the owner's goroutine and returns its error. The events fn
// returns are published (never returned here), so every consumer sees one
// ordered stream. fn must not keep the engine. Do returns ErrClosed after
// close; when ctx ends first Do returns ctx's error (fn may still run).
func (a *ACD) Do(ctx context.Context, fn func(e *acd.Engine) ([]acd.Event, error)) error {
	op := acdOp{fn: fn, done: make(chan error, 1)}
	select {
	case a.ops <- op:
	case <-a.stop:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Login, SetReady, EnqueueCall and CallEnded are the engine's commands
// through the mailbox, for callers that need nothing else.

// Login logs an agent in (not ready).
func (a *ACD) Login(ctx context.Context, id acd.AgentID, o acd.Origin) error {
	return a.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) { return e.Login(id, o) })
}

// SetReady makes an agent ready.
func (a *ACD) SetReady(ctx context.Context, id acd.AgentID, o acd.Origin) error {
	return a.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) { return e.SetReady(id, o) })
}

// EnqueueCall puts a call in line.
func (a *ACD) EnqueueCall(ctx context.Context, c acd.Call) error {
	return a.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) { return e.EnqueueCall(c) })
}

// Agent returns an agent's live status.
func (a *ACD) Agent(ctx context.Context, id acd.AgentID) (acd.AgentStatus, error) {
	var st acd.AgentStatus
	err := a.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		var err error
		st, err = e.Agent(id)
		return nil, err
	})
	return st, err
}

// close stops the owner and waits for it.
func (a *ACD) close() {
	a.once.Do(func() { close(a.stop) })
	<-a.done
}

func (a *ACD) loop() {
	defer close(a.done)
	defer func() {
		if a.timer != nil {
			a.timer.Stop()
		}
	}()
	for {
		select {
		case <-a.stop:
			return
		case op := <-a.ops:
			evs, err := op.fn(a.eng)
			a.emit(evs)
			op.done <- err
		case <-a.wake:
			a.emit(a.eng.Tick())
		}
		// A deadline already due (events held back by a failed command, a
		// timer the command made overdue) is served now, not by a timer.
		for a.rearm() {
			a.emit(a.eng.Tick())
		}
	}
}

func (a *ACD) emit(evs []acd.Event) {
	if len(evs) == 0 {
		return
	}
	a.publish(slices.Clone(evs))
}

// rearm points the one timer at the engine's next deadline. It reports
// true when the deadline is already due.
func (a *ACD) rearm() bool {
	at, ok := a.eng.NextDeadline()
	if !ok {
		if a.timer != nil {
			a.timer.Stop()
			a.timer = nil
		}
		return false
	}
	d := at.Sub(a.clk.Now())
	if d <= 0 {
		return true
	}
	if a.timer != nil && a.timerAt.Equal(at) {
		return false
	}
	if a.timer != nil {
		a.timer.Stop()
	}
	a.timerAt = at
	a.timer = a.clk.AfterFunc(d, func() {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	})
	return false
}
