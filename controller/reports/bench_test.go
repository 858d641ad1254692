package reports

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"hotline/controller/store"
)

// feedMonth streams a month of a 500-agent center into a: 30,000 calls a
// day between 08:00 and 18:00 UTC over 10 queues, 5% abandoned, every
// answered call with its agent's busy, wrap-up and ready states, and a
// CDR per call on 20 numbers and 4 trunks. It returns the range.
func feedMonth(a *Aggregator) (from, to time.Time, calls int) {
	const agents, perDay, days = 500, 30000, 30
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var seq int64
	ev := func(e store.QueueEvent) {
		seq++
		e.Seq = seq
		a.AddEvent(e)
	}
	free := make([]time.Time, agents) // when each agent is ready again
	for d := range days {
		open := start.AddDate(0, 0, d).Add(8 * time.Hour)
		for i := range agents {
			free[i] = open
			ev(store.QueueEvent{At: open, Kind: "agent-state", AgentID: agentName(i), State: "ready"})
		}
		gap := 10 * time.Hour / perDay
		for c := range perDay {
			calls++
			at := open.Add(time.Duration(c) * gap)
			id := fmt.Sprintf("c%d-%d", d, c)
			queue := fmt.Sprintf("q%d", c%10)
			ev(store.QueueEvent{At: at, Kind: "queued", CallID: id, Queue: queue})
			wait := time.Duration(rng.IntN(60)) * time.Second
			cdr := store.CDR{ID: id, Number: fmt.Sprintf("+1555010%02d", c%20), Trunk: fmt.Sprintf("t%d", c%4), Start: at.Add(-2 * time.Second),
				Queue: queue, EnqueuedAt: &at, WaitSeconds: wait.Seconds()}
			if rng.IntN(20) == 0 {
				ev(store.QueueEvent{At: at.Add(wait), Kind: "abandoned", CallID: id, Queue: queue})
				cdr.Outcome, cdr.End = store.OutcomeAbandoned, at.Add(wait)
				a.AddCDR(cdr)
				continue
			}
			ag := c % agents
			ans := at.Add(wait)
			if free[ag].After(ans) {
				ans = free[ag]
			}
			talk := time.Duration(60+rng.IntN(240)) * time.Second
			name := agentName(ag)
			ev(store.QueueEvent{At: ans, Kind: "offer-accepted", CallID: id, Queue: queue, AgentID: name})
			ev(store.QueueEvent{At: ans, Kind: "agent-state", AgentID: name, State: "busy"})
			ev(store.QueueEvent{At: ans.Add(talk), Kind: "call-ended", CallID: id, AgentID: name})
			ev(store.QueueEvent{At: ans.Add(talk), Kind: "agent-state", AgentID: name, State: "wrap-up"})
			free[ag] = ans.Add(talk + 30*time.Second)
			ev(store.QueueEvent{At: free[ag], Kind: "agent-state", AgentID: name, State: "ready"})
			cdr.Outcome, cdr.Answer, cdr.End, cdr.AgentID, cdr.TalkSeconds = store.OutcomeAnswered, &ans, ans.Add(talk), name, talk.Seconds()
			a.AddCDR(cdr)
		}
		for i := range agents {
			ev(store.QueueEvent{At: maxTime(free[i], open.Add(10*time.Hour)), Kind: "agent-state", AgentID: agentName(i), State: "logged-out"})
		}
	}
	return start, start.AddDate(0, 0, days), calls
}

func agentName(i int) string { return fmt.Sprintf("agent-%03d", i) }

// BenchmarkMonthReport measures the latency of month reports of a
// 500-agent center (about 30,000 calls a day) from the pre-aggregated
// buckets; the target is under 200 ms per report.
func BenchmarkMonthReport(b *testing.B) {
	a, err := NewAggregator(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	from, to, calls := feedMonth(a)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Skipf("tzdata: %v", err)
	}
	ctx := context.Background()
	cases := []struct {
		name string
		run  func() (int, error)
	}{
		{"queues-by-day", func() (int, error) {
			r, err := a.QueueReport(ctx, Query{From: from, To: to, Location: ny, Interval: IntervalDay})
			return len(r.Rows), err
		}},
		{"agents-month-total", func() (int, error) {
			r, err := a.AgentReport(ctx, Query{From: from, To: to, Location: ny, Interval: IntervalMonth})
			return len(r.Rows), err
		}},
		{"agents-by-day", func() (int, error) {
			r, err := a.AgentReport(ctx, Query{From: from, To: to, Location: ny, Interval: IntervalDay})
			return len(r.Rows), err
		}},
		{"numbers-by-60m", func() (int, error) {
			r, err := a.NumberReport(ctx, Query{From: from, To: to, Location: ny, Interval: Interval60m})
			return len(r.Rows), err
		}},
	}
	b.Logf("fed %d calls", calls)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				n, err := c.run()
				if err != nil || n == 0 {
					b.Fatalf("rows %d err %v", n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/report")
		})
	}
}
