package controller

import "sync"

// mailbox is an actor's unbounded, ordered inbox: put never blocks (the
// media core's event goroutines and the ACD owner post into it and must
// not wait for a call), take is for the owning goroutine only.
type mailbox struct {
	// mu guards q and closed.
	mu     sync.Mutex
	q      []any
	closed bool
	sig    chan struct{} // capacity 1: something was put
}

func newMailbox() *mailbox { return &mailbox{sig: make(chan struct{}, 1)} }

// put appends m; it reports false when the mailbox is closed (the actor
// is gone).
func (b *mailbox) put(m any) bool {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return false
	}
	b.q = append(b.q, m)
	b.mu.Unlock()
	select {
	case b.sig <- struct{}{}:
	default:
	}
	return true
}

// take returns the oldest message, if any.
func (b *mailbox) take() (any, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.q) == 0 {
		return nil, false
	}
	m := b.q[0]
	b.q[0] = nil
	b.q = b.q[1:]
	return m, true
}

// close refuses further messages and returns those not taken.
func (b *mailbox) close() []any {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	q := b.q
	b.q = nil
	return q
}
