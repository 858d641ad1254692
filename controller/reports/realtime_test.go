package reports

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"hotline/controller/store"
)

// realtimeLog is a morning with known answers in queue q (T = 20 s, S =
// 5 s): c1 answered after 10 s (in SL), c2 answered after 30 s, c3
// abandoned after 40 s, c4 abandoned after 3 s (short), c5 asks for a
// callback after 8 s (and the callback is answered later: not a queue
// figure), c6 still waiting. c0 entered the day before.
func realtimeLog() *logb {
	l := &logb{}
	l.queued(utc(0, 0, 0).Add(-time.Hour), "c0", "q").accepted(utc(0, 0, 0).Add(-time.Hour+5*time.Second), "c0", "q", "a")
	l.queued(utc(9, 0, 0), "c1", "q").accepted(utc(9, 0, 10), "c1", "q", "a")
	l.queued(utc(9, 1, 0), "c2", "q").accepted(utc(9, 1, 30), "c2", "q", "b")
	l.queued(utc(9, 2, 0), "c3", "q").abandoned(utc(9, 2, 40), "c3", "q")
	l.queued(utc(9, 3, 0), "c4", "q").abandoned(utc(9, 3, 3), "c4", "q")
	l.queued(utc(9, 4, 0), "c5", "q").add(store.QueueEvent{At: utc(9, 4, 8), Kind: "callback-requested", CallID: "c5", Queue: "q"})
	l.queued(utc(9, 5, 0), "c6", "q")
	l.accepted(utc(9, 6, 0), "c5", "q", "a")
	l.ended(utc(9, 7, 0), "c1", "a")
	return l
}

func TestWindowFigures(t *testing.T) {
	l := realtimeLog()
	w, err := NewWindow(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range l.evs {
		w.AddEvent(ev)
	}
	got, err := w.Queues(utc(9, 0, 0), utc(9, 7, 0))
	if err != nil {
		t.Fatal(err)
	}
	f := got["q"]
	// offered: 6 entered - 1 short abandon.
	want := QueueFigures{Offered: 5, Answered: 2, Abandoned: 1, ShortAbandoned: 1, Callbacks: 1, AnsweredInSL: 1,
		ServiceLevel: ptr(0.2), ASA: ptr(20.0), AvgAbandonWait: ptr(40.0), LongestWait: 40}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("window figures\n got %+v\nwant %+v", show(f), show(want))
	}
	// The same segments through the report aggregator: identical.
	a := build(t, DefaultConfig(), nil, l.evs)
	r, err := a.QueueReport(context.Background(), Today(utc(9, 7, 0), time.UTC, nil))
	if err != nil || len(r.Rows) != 1 {
		t.Fatalf("today's report: %v %+v", err, r)
	}
	if today := r.Rows[0].QueueFigures(); !reflect.DeepEqual(today, f) {
		t.Errorf("today's report disagrees with the window\nreport %+v\nwindow %+v", show(today), show(f))
	}

	// A later window holds only what entered in it.
	got, _ = w.Queues(utc(9, 2, 30), utc(9, 7, 0))
	if f := got["q"]; f.Offered != 2 || f.ShortAbandoned != 1 || f.Callbacks != 1 || f.Answered != 0 || f.ServiceLevel == nil ||
		*f.ServiceLevel != 0 {
		t.Errorf("window from 09:02:30: %+v", show(f))
	}
	if _, err := w.Queues(utc(9, 7, 0), utc(9, 0, 0)); !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("reversed window: err = %v", err)
	}
}

// A window forgets segments entered more than MaxWindow before the last
// event.
func TestWindowPrunes(t *testing.T) {
	w, _ := NewWindow(DefaultConfig())
	l := &logb{}
	l.queued(utc(1, 0, 0), "old", "q").accepted(utc(1, 0, 1), "old", "q", "a")
	l.queued(utc(1, 0, 0).Add(MaxWindow+time.Minute), "new", "q")
	for _, ev := range l.evs {
		w.AddEvent(ev)
	}
	got, _ := w.Queues(utc(0, 0, 0), utc(23, 0, 0))
	if f := got["q"]; f.Offered != 1 || f.Answered != 0 {
		t.Errorf("after pruning: %+v", show(f))
	}
	if len(w.cur) != 1 {
		t.Errorf("%d open calls kept, want 1", len(w.cur))
	}
}

// Today starts at local midnight of the zone and covers now's quarter
// hour.
func TestTodayQuery(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	now := time.Date(2026, 3, 8, 15, 7, 0, 0, time.UTC) // 11:07 EDT, the day of the DST change
	q := Today(now, ny, nil)
	if !q.From.Equal(time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC)) || !q.To.Equal(time.Date(2026, 3, 8, 15, 15, 0, 0, time.UTC)) ||
		q.Location != ny || q.Interval != IntervalTotal {
		t.Errorf("today = %+v", q)
	}
}

func ptr(v float64) *float64 { return &v }

// show makes the pointers of QueueFigures readable in failures.
func show(f QueueFigures) map[string]any {
	deref := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	return map[string]any{"offered": f.Offered, "answered": f.Answered, "abandoned": f.Abandoned, "short": f.ShortAbandoned,
		"overflowed": f.Overflowed, "callbacks": f.Callbacks, "in_sl": f.AnsweredInSL, "sl": deref(f.ServiceLevel),
		"asa": deref(f.ASA), "avg_abandon_wait": deref(f.AvgAbandonWait), "longest": f.LongestWait}
}
