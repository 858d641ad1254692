package cti

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/internal/clock"
)

// fanout subscribes n readers, publishes events one at a time, each after
// every reader received the previous one, and returns every reader's
// publish-to-receive latencies and the sequence numbers it saw.
func fanout(tb testing.TB, n, events int, start func()) (lat [][]time.Duration, seen [][]uint64) {
	tb.Helper()
	h, err := New(Options{Clock: clock.Real{}, FirstSeq: 1, Buffer: 64, Retention: 1024})
	if err != nil {
		tb.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lat = make([][]time.Duration, n)
	seen = make([][]uint64, n)
	var received atomic.Int64
	each := make(chan struct{}, 1)
	var wg sync.WaitGroup
	for i := range n {
		s, err := h.Subscribe(nil, Live)
		if err != nil {
			tb.Fatal(err)
		}
		lat[i] = make([]time.Duration, 0, events)
		seen[i] = make([]uint64, 0, events)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range events {
				ev, err := s.Next(ctx)
				if err != nil {
					return
				}
				lat[i] = append(lat[i], time.Since(ev.Time))
				seen[i] = append(seen[i], ev.Seq)
				if received.Add(1) == int64(n) {
					received.Store(0)
					each <- struct{}{}
				}
			}
		}()
	}
	if start != nil {
		start()
	}
	for range events {
		h.Publish(Event{Type: "call.offered", CallID: "c"})
		select {
		case <-each:
		case <-ctx.Done():
			tb.Fatal("not every subscriber received the event")
		}
	}
	wg.Wait()
	return lat, seen
}

func TestDeliversToAllThousandSubscribers(t *testing.T) {
	const subs, events = 1000, 20
	_, seen := fanout(t, subs, events, nil)
	want := span(1, events)
	for i, s := range seen {
		if !slices.Equal(s, want) {
			t.Fatalf("subscriber %d saw %v", i, s)
		}
	}
}

// BenchmarkFanout1000 publishes one event at a time to 1,000 subscribers,
// each reading on its own goroutine as a WebSocket writer would, and reports
// the publish-to-receive latency percentiles over every delivery.
func BenchmarkFanout1000(b *testing.B) {
	lat, _ := fanout(b, 1000, b.N, b.ResetTimer)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

func ExampleHub() {
	h, _ := New(Options{FirstSeq: 1})
	agent, _ := h.Subscribe(ForPrincipal(RoleAgent, "a7", nil), Live)
	h.Publish(Event{Type: "call.offered", CallID: "c1", AgentID: "a7"})
	h.Publish(Event{Type: "call.offered", CallID: "c2", AgentID: "a8"})
	ev, _ := agent.Next(context.Background())
	fmt.Println(ev.Seq, ev.Type, ev.CallID)

	// A client reconnecting with ?since=0 gets what it missed.
	again, _ := h.Subscribe(nil, 0)
	for range 2 {
		ev, _ := again.Next(context.Background())
		fmt.Println(ev.Seq, ev.CallID)
	}
	// Output:
	// 1 call.offered c1
	// 1 c1
	// 2 c2
}
