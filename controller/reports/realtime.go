package reports

import (
	"fmt"
	"sync"
	"time"

	"hotline/controller/store"
)

// Real-time statistics (R5.1, R8.4) read two things from this package:
// today's figures, which are a report over [local midnight, now) (Today
// builds its query), and the figures of a sliding window (the last 15
// minutes), which 15-minute buckets cannot give: a Window keeps the
// recent queue segments one by one and sums them under the same
// definitions (the same bucket and Config.figures).

// MaxWindow is the longest sliding window a Window answers for.
const MaxWindow = 4 * time.Hour

// QueueFigures are the queue figures real-time statistics show, under
// docs/METRICS.md: a subset of Figures (the handle-time figures are left
// to reports, since a segment's talk and wrap-up end long after it is
// counted).
type QueueFigures struct {
	Offered        int64    `json:"offered"`
	Answered       int64    `json:"answered"`
	Abandoned      int64    `json:"abandoned"`
	ShortAbandoned int64    `json:"short_abandoned"`
	Overflowed     int64    `json:"overflowed"`
	Callbacks      int64    `json:"callbacks"`
	AnsweredInSL   int64    `json:"answered_in_sl"`
	ServiceLevel   *float64 `json:"service_level"`
	ASA            *float64 `json:"asa"`
	AvgAbandonWait *float64 `json:"avg_abandon_wait"`
	LongestWait    float64  `json:"longest_wait"`
}

// QueueFigures returns the real-time subset of f.
func (f Figures) QueueFigures() QueueFigures {
	return QueueFigures{Offered: f.Offered, Answered: f.Answered, Abandoned: f.Abandoned, ShortAbandoned: f.ShortAbandoned,
		Overflowed: f.Overflowed, Callbacks: f.Callbacks, AnsweredInSL: f.AnsweredInSL, ServiceLevel: f.ServiceLevel,
		ASA: f.ASA, AvgAbandonWait: f.AvgAbandonWait, LongestWait: f.LongestWait}
}

// Today returns the query of today's figures at now in loc (nil: UTC):
// from local midnight to the end of now's quarter hour (nothing is
// recorded after now, so the total is today's so far).
func Today(now time.Time, loc *time.Location, keys []string) Query {
	if loc == nil {
		loc = time.UTC
	}
	l := now.In(loc)
	y, m, d := l.Date()
	return Query{From: time.Date(y, m, d, 0, 0, 0, 0, loc), To: slotStart(slotOf(now) + 1), Location: loc,
		Interval: IntervalTotal, Keys: keys}
}

// wseg is one queue segment a Window keeps.
type wseg struct {
	call, queue string
	entered     time.Time
	ended       bool
	how         string // answered, abandoned, overflow, callback
	wait        time.Duration
}

// Window keeps the queue segments entered in the last MaxWindow (of the
// event log's time) and answers the figures of those entered in a range.
// Feed it the event log in order (AddEvent), as the Aggregator. It is
// safe for concurrent use; mu guards everything below it.
type Window struct {
	cfg  Config
	keep time.Duration

	mu   sync.Mutex
	segs []*wseg          // in entry order; segs[:head] are pruned
	head int              // first kept segment
	cur  map[string]*wseg // call id -> its latest kept segment
}

// NewWindow returns an empty window under cfg keeping MaxWindow.
func NewWindow(cfg Config) (*Window, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Window{cfg: cfg, keep: MaxWindow, cur: map[string]*wseg{}}, nil
}

// AddEvent applies one event of the queue and agent event log (in the
// log's order; Seq is not checked: feed each event once).
func (w *Window) AddEvent(ev store.QueueEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.prune(ev.At.Add(-w.keep))
	switch kindName(ev.Kind) {
	case "queued":
		s := &wseg{call: ev.CallID, queue: ev.Queue, entered: ev.At}
		w.segs = append(w.segs, s)
		w.cur[ev.CallID] = s
	case "offer-accepted":
		w.end(ev, "answered")
	case "abandoned":
		w.end(ev, "abandoned")
	case "overflow":
		w.end(ev, "overflow")
	case "callback-requested":
		w.end(ev, "callback")
	}
}

// end closes a call's open segment; an answer after the segment ended (a
// callback being made) is not a queue figure, as in the Aggregator.
func (w *Window) end(ev store.QueueEvent, how string) {
	s := w.cur[ev.CallID]
	if s == nil || s.ended {
		return
	}
	s.ended, s.how, s.wait = true, how, ev.At.Sub(s.entered)
}

// prune drops the segments entered before t.
func (w *Window) prune(t time.Time) {
	for w.head < len(w.segs) && w.segs[w.head].entered.Before(t) {
		s := w.segs[w.head]
		if w.cur[s.call] == s {
			delete(w.cur, s.call)
		}
		w.segs[w.head] = nil
		w.head++
	}
	if w.head > 1024 && w.head > len(w.segs)/2 {
		w.segs = append(w.segs[:0], w.segs[w.head:]...)
		w.head = 0
	}
}

// Queues returns the figures, per queue, of the segments entered in
// [from, to] (at most MaxWindow before the last event fed). A segment
// still waiting counts as offered, neither answered nor abandoned, as in
// a report.
func (w *Window) Queues(from, to time.Time) (map[string]QueueFigures, error) {
	if to.Before(from) {
		return nil, fmt.Errorf("%w: the window ends before it starts", ErrInvalidQuery)
	}
	w.mu.Lock()
	sums := map[string]*bucket{}
	for _, s := range w.segs[w.head:] {
		if s.entered.Before(from) || s.entered.After(to) {
			continue
		}
		b := sums[s.queue]
		if b == nil {
			b = &bucket{}
			sums[s.queue] = b
		}
		w.add(b, s)
	}
	w.mu.Unlock()
	out := make(map[string]QueueFigures, len(sums))
	for q, b := range sums {
		out[q] = w.cfg.figures(b, false).QueueFigures()
	}
	return out, nil
}

// add counts one segment into b as the Aggregator counts it
// (onQueued, onAccepted, onSegmentEnd).
func (w *Window) add(b *bucket, s *wseg) {
	b.any = true
	b.entered++
	if !s.ended {
		return
	}
	b.longestWait = max(b.longestWait, s.wait)
	inSL := s.wait <= w.cfg.ServiceLevelThreshold
	switch s.how {
	case "answered":
		b.answered++
		b.waitAnswered += s.wait
		if inSL {
			b.answeredInSL++
		}
	case "abandoned":
		if s.wait < w.cfg.ShortAbandon {
			b.shortAbandoned++
			b.waitShort += s.wait
			if inSL {
				b.shortInSL++
			}
		} else {
			b.abandoned++
			b.waitAbandoned += s.wait
			if inSL {
				b.abandonedInSL++
			}
		}
	case "overflow":
		b.overflowed++
	case "callback":
		b.callbacks++
	}
}
