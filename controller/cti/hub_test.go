package cti

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/internal/clock"
)

func newHub(t testing.TB, opts Options) (*Hub, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Time{})
	if opts.Clock == nil {
		opts.Clock = clk
	}
	if opts.FirstSeq == 0 {
		opts.FirstSeq = 1
	}
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, clk
}

func publishN(h *Hub, n int) {
	for i := 0; i < n; i++ {
		h.Publish(Event{Type: "call.offered", CallID: fmt.Sprint("c", i)})
	}
}

// read returns the next n events, failing after a generous deadline.
func read(t *testing.T, s *Subscription, n int) []Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []Event
	for len(out) < n {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		out = append(out, ev)
	}
	return out
}

// noMore checks that nothing is ready to read.
func noMore(t *testing.T, s *Subscription) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ev, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("unexpected event %+v (%v)", ev, err)
	}
}

func seqs(evs []Event) []uint64 {
	var out []uint64
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

func span(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func gapOf(t *testing.T, ev Event) Gap {
	t.Helper()
	if ev.Type != TypeGap {
		t.Fatalf("got %s #%d, want a gap", ev.Type, ev.Seq)
	}
	var g Gap
	if err := json.Unmarshal(ev.Payload, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestReplaySinceReturnsMissedEventsInOrder(t *testing.T) {
	h, _ := newHub(t, Options{})
	publishN(h, 10)
	s, err := h.Subscribe(nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(read(t, s, 6)); !slices.Equal(got, span(5, 10)) {
		t.Fatalf("replay %v", got)
	}
	noMore(t, s)
	publishN(h, 2)
	if got := seqs(read(t, s, 2)); !slices.Equal(got, span(11, 12)) {
		t.Fatalf("live %v", got)
	}
	live, _ := h.Subscribe(nil, Live)
	noMore(t, live)
	publishN(h, 1)
	if got := seqs(read(t, live, 1)); !slices.Equal(got, []uint64{13}) {
		t.Fatalf("live-only %v", got)
	}
}

func TestGapWhenOutOfRetention(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		h, _ := newHub(t, Options{Retention: 5})
		publishN(h, 10)
		s, _ := h.Subscribe(nil, 2)
		evs := read(t, s, 6)
		if g := gapOf(t, evs[0]); g != (Gap{From: 3, To: 5, Reason: GapRetention}) || evs[0].Seq != 5 {
			t.Fatalf("gap %+v seq %d", g, evs[0].Seq)
		}
		if got := seqs(evs[1:]); !slices.Equal(got, span(6, 10)) {
			t.Fatalf("after the gap %v", got)
		}
		// Exactly at the edge of retention: no gap.
		s, _ = h.Subscribe(nil, 5)
		if got := seqs(read(t, s, 5)); !slices.Equal(got, span(6, 10)) {
			t.Fatalf("from the oldest retained %v", got)
		}
	})
	t.Run("age", func(t *testing.T) {
		h, clk := newHub(t, Options{MaxAge: time.Minute})
		publishN(h, 3)
		clk.Advance(2 * time.Minute)
		publishN(h, 2)
		s, _ := h.Subscribe(nil, 0)
		evs := read(t, s, 3)
		if g := gapOf(t, evs[0]); g != (Gap{From: 1, To: 3, Reason: GapRetention}) {
			t.Fatalf("gap %+v", g)
		}
		if got := seqs(evs[1:]); !slices.Equal(got, []uint64{4, 5}) {
			t.Fatalf("after the gap %v", got)
		}
	})
	t.Run("since from another run", func(t *testing.T) {
		h, _ := newHub(t, Options{FirstSeq: 1000})
		publishN(h, 3)
		for _, since := range []uint64{5000, 7} {
			s, _ := h.Subscribe(nil, since)
			evs := read(t, s, 4)
			if g := gapOf(t, evs[0]); g.Reason != GapReset {
				t.Fatalf("since %d: gap %+v", since, g)
			}
			if got := seqs(evs[1:]); !slices.Equal(got, span(1000, 1002)) {
				t.Fatalf("since %d: after the gap %v", since, got)
			}
		}
	})
}

func TestSlowSubscriberDoesNotBlockOthers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retention int
		gap       bool
	}{{"caught up from retention", 1000, false}, {"beyond retention", 20, true}} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHub(t, Options{Buffer: 4, Retention: tc.retention})
			slow, _ := h.Subscribe(nil, Live)
			fast, _ := h.Subscribe(nil, Live)
			// The publisher never waits for slow, which reads nothing
			// meanwhile; fast reads each event as it comes.
			for i := uint64(1); i <= 200; i++ {
				publishN(h, 1)
				if got := read(t, fast, 1)[0].Seq; got != i {
					t.Fatalf("fast subscriber got %d, want %d", got, i)
				}
			}
			evs := read(t, slow, 4)
			if !slices.Equal(seqs(evs), span(1, 4)) {
				t.Fatalf("slow subscriber's buffer %v", seqs(evs))
			}
			if tc.gap {
				g := gapOf(t, read(t, slow, 1)[0])
				if g != (Gap{From: 5, To: 180, Reason: GapRetention}) {
					t.Fatalf("gap %+v", g)
				}
				evs = read(t, slow, 20)
				if !slices.Equal(seqs(evs), span(181, 200)) {
					t.Fatalf("after the gap %v", seqs(evs))
				}
			} else {
				evs = read(t, slow, 196)
				if !slices.Equal(seqs(evs), span(5, 200)) {
					t.Fatalf("caught up %v", seqs(evs))
				}
			}
			noMore(t, slow)
			publishN(h, 1) // back to live delivery
			if got := seqs(read(t, slow, 1)); !slices.Equal(got, []uint64{201}) {
				t.Fatalf("live after catching up %v", got)
			}
		})
	}
}

// TestConcurrentPublishersAndReaders: every reader sees strictly increasing
// sequence numbers and, retention being large enough, every event.
func TestConcurrentPublishersAndReaders(t *testing.T) {
	h, _ := newHub(t, Options{Buffer: 8, Retention: 5000})
	const pubs, each, readers = 4, 500, 8
	var wg sync.WaitGroup
	errs := make(chan error, readers)
	for range readers {
		s, _ := h.Subscribe(nil, Live)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var last uint64
			for i := 0; i < pubs*each; i++ {
				ev, err := s.Next(ctx)
				if err != nil {
					errs <- err
					return
				}
				if ev.Seq != last+1 {
					errs <- fmt.Errorf("seq %d after %d", ev.Seq, last)
					return
				}
				last = ev.Seq
			}
		}()
	}
	for range pubs {
		go publishN(h, each)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestFilters(t *testing.T) {
	evs := []Event{
		{Type: "agent.state", AgentID: "a1", Audience: Audience{Teams: []string{"t1"}}},
		{Type: "call.offered", CallID: "c1", Audience: Audience{Agents: []string{"a2"}, Teams: []string{"t2"}}},
		{Type: "queue.stats", Queue: "q1", Audience: Audience{Teams: []string{"t1", "t3"}}},
		{Type: "call.ended", CallID: "c2"},
	}
	cases := []struct {
		name   string
		filter Filter
		want   []int // indexes of evs seen
	}{
		{"admin", ForPrincipal(RoleAdmin, "", nil), []int{0, 1, 2, 3}},
		{"agent sees its own (AgentID)", ForPrincipal(RoleAgent, "a1", []string{"t2"}), []int{0}},
		{"agent sees its own (Audience)", ForPrincipal(RoleAgent, "a2", nil), []int{1}},
		{"agent without id", ForPrincipal(RoleAgent, "", nil), nil},
		{"supervisor of t1", ForPrincipal(RoleSupervisor, "", []string{"t1"}), []int{0, 2}},
		{"supervisor of t2 and t3", ForPrincipal(RoleSupervisor, "s9", []string{"t2", "t3"}), []int{1, 2}},
		{"supervisor who is agent a2", ForPrincipal(RoleSupervisor, "a2", nil), []int{1}},
		{"qa", ForPrincipal("qa", "a1", []string{"t1"}), nil},
		{"types", Types("call.*"), []int{1, 3}},
		{"exact type", Types("queue.stats", "agent.state"), []int{0, 2}},
		{"all of", All(ForPrincipal(RoleSupervisor, "", []string{"t1"}), Types("queue.*"), nil), []int{2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHub(t, Options{})
			s, _ := h.Subscribe(tc.filter, Live)
			for _, ev := range evs {
				h.Publish(ev)
			}
			var got []int
			for _, ev := range read(t, s, len(tc.want)) {
				got = append(got, int(ev.Seq-1))
			}
			noMore(t, s)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("saw %v, want %v", got, tc.want)
			}
			// The same through replay.
			r, _ := h.Subscribe(tc.filter, 0)
			got = nil
			for _, ev := range read(t, r, len(tc.want)) {
				got = append(got, int(ev.Seq-1))
			}
			noMore(t, r)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("replay saw %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	h, _ := newHub(t, Options{})
	a, _ := h.Subscribe(nil, Live)
	b, _ := h.Subscribe(nil, Live)
	publishN(h, 1)
	b.Close()
	if _, err := b.Next(context.Background()); err == nil || errors.Is(err, ErrClosed) {
		// The buffered event may come first; then ErrUnsubscribed.
		if _, err = b.Next(context.Background()); !errors.Is(err, ErrUnsubscribed) {
			t.Fatalf("after Subscription.Close: %v", err)
		}
	}
	h.Close()
	if got := read(t, a, 1); got[0].Seq != 1 {
		t.Fatalf("buffered event %v", got)
	}
	if _, err := a.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Hub.Close: %v", err)
	}
	if _, err := h.Subscribe(nil, Live); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
	if h.Publish(Event{Type: "call.x"}) != 0 {
		t.Fatal("Publish after Close returned a sequence number")
	}
}

func TestEventJSON(t *testing.T) {
	h, _ := newHub(t, Options{FirstSeq: 42})
	s, _ := h.Subscribe(nil, Live)
	h.Publish(Event{Type: "call.answered", CallID: "c1", AgentID: "a1", Queue: "sales",
		Payload: json.RawMessage(`{"caller":"+8610"}`), Audience: Audience{Agents: []string{"a1"}}})
	b, err := json.Marshal(read(t, s, 1)[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"seq":42,"type":"call.answered","time":"2026-01-05T09:00:00Z","call_id":"c1","agent_id":"a1","queue":"sales","payload":{"caller":"+8610"}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestDefaultFirstSeqGrowsAcrossRuns(t *testing.T) {
	clk := clock.NewFake(time.Time{})
	h1, _ := New(Options{Clock: clk})
	for range 100 {
		h1.Publish(Event{Type: "call.x"})
	}
	clk.Advance(time.Second)
	h2, _ := New(Options{Clock: clk})
	if first := h2.Publish(Event{Type: "call.x"}); first <= h1.Last() {
		t.Fatalf("second run starts at %d, first ended at %d", first, h1.Last())
	}
}

func TestHubMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, _ := newHub(t, Options{Registerer: reg, Buffer: 1, Retention: 2})
	s, _ := h.Subscribe(nil, Live)
	publishN(h, 5) // s holds 1 and falls behind
	read(t, s, 3)  // 1, then a gap, then 4 and 5
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()] += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for name, want := range map[string]float64{
		"hotline_cti_events_published_total":  5,
		"hotline_cti_subscriber_lagged_total": 1,
		"hotline_cti_gaps_total":              1,
		"hotline_cti_subscribers":             1,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}
