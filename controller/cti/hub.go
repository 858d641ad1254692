package cti

import (
	"context"
	"encoding/json"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/internal/clock"
)

// Live, passed as since to Subscribe, asks for live events only.
const Live = math.MaxUint64

// Defaults of Options.
const (
	DefaultRetention = 10000
	DefaultMaxAge    = 5 * time.Minute
	DefaultBuffer    = 1024
)

// Options configure a Hub. The zero value is usable.
type Options struct {
	// Clock stamps events and ages the retention window (clock.Real).
	Clock clock.Clock
	// Retention is how many of the last events are kept for replay
	// (DefaultRetention); MaxAge how long at most (DefaultMaxAge).
	Retention int
	MaxAge    time.Duration
	// Buffer is how many events a subscription holds for its reader
	// before it falls back to catching up from retention (DefaultBuffer).
	Buffer int
	// FirstSeq is the sequence number of the first event; zero means the
	// clock's time in Unix microseconds, so numbers grow across restarts.
	FirstSeq uint64
	// Registerer gets the hub's metrics (nil: none).
	Registerer prometheus.Registerer
}

type retained struct {
	ev Event
	at time.Time // when published, for MaxAge
}

// Hub fans events out to subscriptions. Safe for concurrent use.
type Hub struct {
	opts Options
	clk  clock.Clock
	m    *metrics

	// mu guards the fields below, and orders Publish with the refills of
	// subscriptions (lock order: Hub.mu, then Subscription.mu).
	mu     sync.Mutex
	next   uint64     // sequence number of the next event
	ring   []retained // circular, len == Retention
	first  int        // index of the oldest retained event
	n      int        // retained events
	subs   map[*Subscription]struct{}
	closed bool
}

// New returns a Hub.
func New(opts Options) (*Hub, error) {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.FirstSeq == 0 {
		opts.FirstSeq = uint64(max(1, opts.Clock.Now().UnixMicro()))
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	return &Hub{opts: opts, clk: opts.Clock, m: m, next: opts.FirstSeq,
		ring: make([]retained, opts.Retention), subs: map[*Subscription]struct{}{}}, nil
}

// Publish stamps ev with the next sequence number (and the time, when zero),
// retains it and hands it to every subscription whose filter passes it. It
// never blocks on a subscriber. It returns the sequence number, or 0 when
// the hub is closed.
func (h *Hub) Publish(ev Event) uint64 {
	now := h.clk.Now()
	if ev.Time.IsZero() {
		ev.Time = now
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0
	}
	ev.Seq = h.next
	h.next++
	h.evictLocked(now)
	if h.n == len(h.ring) {
		h.first = (h.first + 1) % len(h.ring)
		h.n--
	}
	h.ring[(h.first+h.n)%len(h.ring)] = retained{ev: ev, at: now}
	h.n++
	for s := range h.subs {
		s.deliver(&ev)
	}
	h.m.published.Inc()
	return ev.Seq
}

// evictLocked drops retained events older than MaxAge.
func (h *Hub) evictLocked(now time.Time) {
	limit := now.Add(-h.opts.MaxAge)
	for h.n > 0 && h.ring[h.first].at.Before(limit) {
		h.ring[h.first] = retained{}
		h.first = (h.first + 1) % len(h.ring)
		h.n--
	}
}

// oldestLocked returns the sequence number of the oldest retained event
// (next when none is retained).
func (h *Hub) oldestLocked() uint64 { return h.next - uint64(h.n) }

func (h *Hub) atLocked(seq uint64) *Event {
	i := int(seq - h.oldestLocked())
	return &h.ring[(h.first+i)%len(h.ring)].ev
}

// Last returns the sequence number of the last event published (FirstSeq-1
// before any).
func (h *Hub) Last() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.next - 1
}

// Subscribe returns a subscription to the events that filter passes (nil:
// all) after sequence number since: first those still retained, preceded by
// a gap event when some after since were already dropped, then live ones.
// since is the last sequence number the client received; Live means live
// events only. A since above the last published number, or below FirstSeq-1,
// is from another run of the hub: a GapReset event, then everything
// retained.
func (h *Hub) Subscribe(filter Filter, since uint64) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	h.evictLocked(h.clk.Now())
	s := &Subscription{h: h, filter: filter, notify: make(chan struct{}, 1), max: h.opts.Buffer}
	head := h.next - 1
	switch {
	case since == Live || since == head:
		s.last = head
	case since > head || since < h.opts.FirstSeq-1:
		s.queue = append(s.queue, gapEvent(h.oldestLocked()-1, h.opts.FirstSeq, h.oldestLocked()-1, GapReset))
		s.last = h.oldestLocked() - 1
		s.catchup = true
		h.m.gaps.Inc()
	default:
		s.last = since
		s.catchup = true
	}
	h.subs[s] = struct{}{}
	h.m.subscribers.Inc()
	return s, nil
}

// Close closes every subscription (Next returns ErrClosed once drained) and
// refuses new ones; Publish becomes a no-op.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for s := range h.subs {
		s.end(ErrClosed)
		h.m.subscribers.Dec()
	}
	clear(h.subs)
}

func gapEvent(seq, from, to uint64, reason string) Event {
	p, _ := json.Marshal(Gap{From: from, To: to, Reason: reason})
	return Event{Seq: seq, Type: TypeGap, Payload: p}
}

// Subscription is one subscriber's view of the stream. Next is for one
// reader at a time; Close may be called from anywhere.
type Subscription struct {
	h      *Hub
	filter Filter
	max    int
	notify chan struct{} // signalled when something changes for the reader

	// mu guards the fields below.
	mu      sync.Mutex
	queue   []Event
	last    uint64 // every event up to here is queued, delivered or filtered out
	catchup bool   // live delivery suspended: Next refills from retention
	err     error  // why it ended
}

// deliver is called by Publish with the hub locked.
func (s *Subscription) deliver(ev *Event) {
	s.mu.Lock()
	if s.err != nil || s.catchup {
		s.mu.Unlock()
		return
	}
	if s.filter != nil && !s.filter(ev) {
		s.last = ev.Seq
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= s.max {
		// Fall behind rather than block or grow: the reader catches up
		// from retention when it has drained its buffer.
		s.catchup = true
		s.mu.Unlock()
		s.h.m.lagged.Inc()
		return
	}
	s.queue = append(s.queue, *ev)
	s.last = ev.Seq
	s.mu.Unlock()
	s.wake()
}

func (s *Subscription) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Subscription) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.wake()
}

// Next returns the next event, waiting for one until ctx ends. After the
// hub or the subscription is closed it returns the events still buffered,
// then ErrClosed or ErrUnsubscribed.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			ev := s.queue[0]
			s.queue[0] = Event{}
			s.queue = s.queue[1:]
			if len(s.queue) == 0 {
				s.queue = nil
			}
			s.mu.Unlock()
			return ev, nil
		}
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return Event{}, err
		}
		catchup := s.catchup
		s.mu.Unlock()
		if catchup {
			s.h.refill(s)
			continue
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// refill queues up to a buffer of retained events after s.last, with a gap
// event first when some were dropped, and resumes live delivery once it
// reaches the newest event.
func (h *Hub) refill(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.catchup || s.err != nil || len(s.queue) > 0 {
		return
	}
	h.evictLocked(h.clk.Now())
	oldest, head := h.oldestLocked(), h.next-1
	if s.last+1 < oldest {
		s.queue = append(s.queue, gapEvent(oldest-1, s.last+1, oldest-1, GapRetention))
		s.last = oldest - 1
		h.m.gaps.Inc()
	}
	for s.last < head && len(s.queue) < s.max {
		ev := h.atLocked(s.last + 1)
		if s.filter == nil || s.filter(ev) {
			s.queue = append(s.queue, *ev)
		}
		s.last = ev.Seq
	}
	if s.last == head {
		s.catchup = false
	}
}

// Close ends the subscription; Next returns ErrUnsubscribed once the
// buffered events are read.
func (s *Subscription) Close() {
	s.h.mu.Lock()
	if _, ok := s.h.subs[s]; ok {
		delete(s.h.subs, s)
		s.h.m.subscribers.Dec()
	}
	s.h.mu.Unlock()
	s.end(ErrUnsubscribed)
}
