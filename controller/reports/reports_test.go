package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"hotline/controller/store"
)

// logb builds an event log with increasing Seq.
type logb struct {
	seq int64
	evs []store.QueueEvent
}

func (l *logb) add(e store.QueueEvent) *logb {
	l.seq++
	e.Seq = l.seq
	l.evs = append(l.evs, e)
	return l
}

func (l *logb) queued(at time.Time, call, queue string) *logb {
	return l.add(store.QueueEvent{At: at, Kind: "queued", CallID: call, Queue: queue})
}

func (l *logb) accepted(at time.Time, call, queue, agent string) *logb {
	return l.add(store.QueueEvent{At: at, Kind: "offer-accepted", CallID: call, Queue: queue, AgentID: agent})
}

func (l *logb) abandoned(at time.Time, call, queue string) *logb {
	return l.add(store.QueueEvent{At: at, Kind: "abandoned", CallID: call, Queue: queue})
}

func (l *logb) ended(at time.Time, call, agent string) *logb {
	return l.add(store.QueueEvent{At: at, Kind: "call-ended", CallID: call, AgentID: agent})
}

func (l *logb) state(at time.Time, agent, state, reason string) *logb {
	return l.add(store.QueueEvent{At: at, Kind: "agent-state", AgentID: agent, State: state, Reason: reason})
}

func utc(h, m, s int) time.Time { return time.Date(2026, 3, 2, h, m, s, 0, time.UTC) }

func build(t *testing.T, cfg Config, cdrs []store.CDR, evs []store.QueueEvent) *Aggregator {
	t.Helper()
	a, err := Build(cfg, cdrs, evs)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return a
}

func rep(t *testing.T, a *Aggregator, kind string, q Query) Report {
	t.Helper()
	var r Report
	var err error
	ctx := context.Background()
	switch kind {
	case "queues":
		r, err = a.QueueReport(ctx, q)
	case "agents":
		r, err = a.AgentReport(ctx, q)
	case "numbers":
		r, err = a.NumberReport(ctx, q)
	case "trunks":
		r, err = a.TrunkReport(ctx, q)
	}
	if err != nil {
		t.Fatalf("%s report: %v", kind, err)
	}
	return r
}

// row returns the row of key starting at start, failing when absent.
func row(t *testing.T, r Report, key string, start time.Time) Figures {
	t.Helper()
	for _, x := range r.Rows {
		if x.Key == key && x.Start.Equal(start) {
			return x.Figures
		}
	}
	t.Fatalf("%s report: no row %s at %s in %+v", r.Kind, key, start, r.Rows)
	return Figures{}
}

func f(v float64) *float64 { return &v }

func eqOpt(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) < 1e-9
}

func TestCallSpanningIntervalBoundary(t *testing.T) {
	l := &logb{}
	l.state(utc(9, 0, 0), "a1", "ready", "").
		queued(utc(9, 14, 50), "c1", "q1").
		state(utc(9, 15, 5), "a1", "reserved", "").
		accepted(utc(9, 15, 10), "c1", "q1", "a1").
		state(utc(9, 15, 10), "a1", "busy", "").
		ended(utc(9, 20, 0), "c1", "a1").
		state(utc(9, 20, 0), "a1", "wrap-up", "").
		state(utc(9, 20, 30), "a1", "ready", "")
	a := build(t, DefaultConfig(), nil, l.evs)
	q := Query{From: utc(9, 0, 0), To: utc(10, 0, 0), Interval: Interval15m}
	qr := rep(t, a, "queues", q)
	if len(qr.Rows) != 1 {
		t.Fatalf("queue rows %+v, want one (the entry's interval)", qr.Rows)
	}
	got := row(t, qr, "q1", utc(9, 0, 0))
	if got.Offered != 1 || got.Answered != 1 || got.AnsweredInSL != 1 || !eqOpt(got.ServiceLevel, f(1)) ||
		!eqOpt(got.ASA, f(20)) || got.Talk != 290 || got.WrapUp != 30 || !eqOpt(got.AHT, f(320)) || got.LongestWait != 20 {
		t.Errorf("queue figures %+v", got)
	}
	ar := rep(t, a, "agents", q)
	first, second := row(t, ar, "a1", utc(9, 0, 0)), row(t, ar, "a1", utc(9, 15, 0))
	if first.Agent.Ready != 900 || first.Handled != 0 {
		t.Errorf("agent 09:00 %+v %+v", first, first.Agent)
	}
	at := second.Agent
	if at.Ready != 5 || at.Reserved != 5 || at.Busy != 290 || at.WrapUp != 30 || at.Login != 330 || second.Handled != 1 || second.Talk != 290 {
		t.Errorf("agent 09:15 %+v %+v", second, at)
	}
	if !eqOpt(at.Occupancy, f(325.0/330)) || !eqOpt(at.Utilization, f(325.0/330)) {
		t.Errorf("occupancy %v utilization %v", *at.Occupancy, *at.Utilization)
	}
	// Summing buckets: the hour equals the sum of its quarters.
	hr := rep(t, a, "agents", Query{From: utc(9, 0, 0), To: utc(10, 0, 0), Interval: Interval60m})
	if h := row(t, hr, "a1", utc(9, 0, 0)); h.Agent.Ready != 905 || h.Agent.Login != 1230 {
		t.Errorf("hour %+v", h.Agent)
	}
}

func TestAbandonAtThresholds(t *testing.T) {
	ms := time.Millisecond
	base := utc(10, 0, 0)
	l := &logb{}
	waits := map[string]time.Duration{
		"short":      5*time.Second - ms, // short abandon
		"exactly-S":  5 * time.Second,    // a real abandon
		"in-sl":      20 * time.Second,   // answered exactly at T: within
		"out-sl":     20*time.Second + ms,
		"abandon-30": 30 * time.Second,
	}
	for _, c := range []string{"short", "exactly-S", "in-sl", "out-sl", "abandon-30"} {
		l.queued(base, c, "q1")
		if strings.HasPrefix(c, "in") || strings.HasPrefix(c, "out") {
			l.accepted(base.Add(waits[c]), c, "q1", "a-"+c)
		} else {
			l.abandoned(base.Add(waits[c]), c, "q1")
		}
	}
	tests := []struct {
		name                      string
		cfg                       func(*Config)
		offered, abandoned, short int64
		sl, avgAbandon            *float64
	}{
		{name: "default excludes short", cfg: func(*Config) {}, offered: 4, abandoned: 2, short: 1, sl: f(1.0 / 4), avgAbandon: f(17.5)},
		{name: "short included", cfg: func(c *Config) { c.ExcludeShortAbandons = false }, offered: 5, abandoned: 3, short: 1,
			sl: f(1.0 / 5), avgAbandon: f((4.999 + 5 + 30) / 3)},
		{name: "sl over answered", cfg: func(c *Config) { c.ServiceLevelFormula = SLAnswered }, offered: 4, abandoned: 2, short: 1,
			sl: f(1.0 / 2), avgAbandon: f(17.5)},
		{name: "abandons within T neutral", cfg: func(c *Config) { c.ServiceLevelFormula = SLAbandonsWithinTNeutral }, offered: 4,
			abandoned: 2, short: 1, sl: f(1.0 / 3), avgAbandon: f(17.5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.cfg(&cfg)
			a := build(t, cfg, nil, l.evs)
			got := row(t, rep(t, a, "queues", Query{From: base, To: base.Add(time.Hour)}), "q1", base)
			if got.Offered != tc.offered || got.Abandoned != tc.abandoned || got.ShortAbandoned != tc.short ||
				got.Answered != 2 || got.AnsweredInSL != 1 || !eqOpt(got.ServiceLevel, tc.sl) || !eqOpt(got.AvgAbandonWait, tc.avgAbandon) {
				t.Errorf("figures %+v sl %v avg abandon %v", got, deref(got.ServiceLevel), deref(got.AvgAbandonWait))
			}
			if got.LongestWait != 30 {
				t.Errorf("longest wait %v, want 30", got.LongestWait)
			}
			ab, err := a.AbandonedCalls(context.Background(), Query{From: base, To: base.Add(time.Hour)})
			if err != nil || len(ab) != 3 {
				t.Fatalf("abandoned detail %+v %v", ab, err)
			}
			for _, c := range ab {
				if c.Short != (c.CallID == "short") {
					t.Errorf("abandoned %+v: short flag wrong", c)
				}
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestTransferBetweenQueues(t *testing.T) {
	l := &logb{}
	l.queued(utc(10, 0, 0), "c1", "q1").
		accepted(utc(10, 0, 10), "c1", "q1", "a1").
		queued(utc(10, 2, 10), "c1", "q2").
		accepted(utc(10, 2, 40), "c1", "q2", "a2").
		ended(utc(10, 5, 40), "c1", "a2")
	answer := utc(10, 0, 10)
	cdr := store.CDR{ID: "c1", Number: "+15550100", Trunk: "t1", Start: utc(9, 59, 50), Answer: &answer, End: utc(10, 5, 40),
		Queue: "q2", Outcome: store.OutcomeAnswered, AgentID: "a2", TalkSeconds: 330, HoldSeconds: 15,
		Transfers: []store.CDRTransfer{{At: utc(10, 2, 10), Kind: "queue", Target: "q2", By: "a1"}}}
	a := build(t, DefaultConfig(), []store.CDR{cdr}, l.evs)
	q := Query{From: utc(9, 0, 0), To: utc(11, 0, 0)}
	qr := rep(t, a, "queues", q)
	q1, q2 := row(t, qr, "q1", utc(9, 0, 0)), row(t, qr, "q2", utc(9, 0, 0))
	if q1.Offered != 1 || q1.Answered != 1 || q1.Transfers != 1 || q1.Talk != 120 || q1.Hold != 0 || !eqOpt(q1.ASA, f(10)) {
		t.Errorf("q1 %+v", q1)
	}
	if q2.Offered != 1 || q2.Answered != 1 || q2.Transfers != 0 || q2.Talk != 180 || q2.Hold != 15 || !eqOpt(q2.ASA, f(30)) || !eqOpt(q2.AHT, f(195)) {
		t.Errorf("q2 %+v", q2)
	}
	ar := rep(t, a, "agents", q)
	if a1 := row(t, ar, "a1", utc(9, 0, 0)); a1.Handled != 1 || a1.Transfers != 1 || a1.Talk != 120 {
		t.Errorf("a1 %+v", a1)
	}
	if a2 := row(t, ar, "a2", utc(9, 0, 0)); a2.Handled != 1 || a2.Transfers != 0 || a2.Hold != 15 {
		t.Errorf("a2 %+v", a2)
	}
	// The number and trunk count the call once, in the interval of its arrival.
	for _, kind := range []string{"numbers", "trunks"} {
		r := rep(t, a, kind, Query{From: utc(9, 0, 0), To: utc(11, 0, 0), Interval: Interval60m})
		key := map[string]string{"numbers": "+15550100", "trunks": "t1"}[kind]
		got := row(t, r, key, utc(9, 0, 0))
		if len(r.Rows) != 1 || got.Offered != 1 || got.Answered != 1 || got.Transfers != 1 || got.Hold != 15 || !eqOpt(got.ASA, f(20)) {
			t.Errorf("%s %+v", kind, r.Rows)
		}
	}
}

func TestAgentInSeveralQueues(t *testing.T) {
	l := &logb{}
	l.state(utc(8, 0, 0), "a1", "ready", "").
		queued(utc(8, 10, 0), "c1", "q1").accepted(utc(8, 10, 5), "c1", "q1", "a1").state(utc(8, 10, 5), "a1", "busy", "").
		ended(utc(8, 12, 5), "c1", "a1").state(utc(8, 12, 5), "a1", "ready", "").
		queued(utc(8, 20, 0), "c2", "q2").accepted(utc(8, 20, 10), "c2", "q2", "a1").state(utc(8, 20, 10), "a1", "busy", "").
		ended(utc(8, 21, 10), "c2", "a1").state(utc(8, 21, 10), "a1", "not-ready", "lunch").
		state(utc(8, 51, 10), "a1", "logged-out", "")
	a := build(t, DefaultConfig(), nil, l.evs)
	q := Query{From: utc(8, 0, 0), To: utc(9, 0, 0)}
	qr := rep(t, a, "queues", q)
	if r1, r2 := row(t, qr, "q1", utc(8, 0, 0)), row(t, qr, "q2", utc(8, 0, 0)); r1.Answered != 1 || r2.Answered != 1 || r1.Talk != 120 || r2.Talk != 60 {
		t.Errorf("q1 %+v q2 %+v", r1, r2)
	}
	ag := row(t, rep(t, a, "agents", q), "a1", utc(8, 0, 0))
	at := ag.Agent
	if ag.Handled != 2 || ag.Talk != 180 || at.Busy != 180 || at.NotReady != 1800 || at.NotReadyBy["lunch"] != 1800 ||
		at.Login != 3070 || at.Ready != 1090 {
		t.Errorf("agent %+v %+v", ag, at)
	}
}

func TestCallback(t *testing.T) {
	l := &logb{}
	l.queued(utc(11, 0, 0), "c1", "q1").
		add(store.QueueEvent{At: utc(11, 1, 0), Kind: "callback-requested", CallID: "c1", Queue: "q1"}).
		add(store.QueueEvent{At: utc(11, 20, 0), Kind: "callback-due", CallID: "c1", Queue: "q1", AgentID: "a1"}).
		accepted(utc(11, 20, 5), "c1", "q1", "a1").
		ended(utc(11, 25, 5), "c1", "a1")
	cdr := store.CDR{ID: "c1", Number: "+15550100", Start: utc(10, 59, 55), End: utc(11, 25, 5), Outcome: store.OutcomeCallback}
	a := build(t, DefaultConfig(), []store.CDR{cdr}, l.evs)
	q := Query{From: utc(10, 0, 0), To: utc(12, 0, 0)}
	got := row(t, rep(t, a, "queues", q), "q1", utc(10, 0, 0))
	if got.Offered != 1 || got.Callbacks != 1 || got.Answered != 0 || got.Abandoned != 0 || got.Handled != 0 || got.LongestWait != 60 || got.ServiceLevel == nil || *got.ServiceLevel != 0 {
		t.Errorf("queue %+v", got)
	}
	if ag := row(t, rep(t, a, "agents", q), "a1", utc(10, 0, 0)); ag.Answered != 1 || ag.Handled != 1 || ag.Talk != 300 {
		t.Errorf("agent %+v", ag)
	}
	if n := row(t, rep(t, a, "numbers", q), "+15550100", utc(10, 0, 0)); n.Offered != 1 || n.Callbacks != 1 {
		t.Errorf("number %+v", n)
	}
}

func TestIntervalsDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("tzdata: %v", err)
	}
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skipf("tzdata: %v", err)
	}
	tests := []struct {
		name     string
		loc      *time.Location
		y        int
		m        time.Month
		d        int
		iv       Interval
		want     int
		lastHour time.Duration
	}{
		{"NY spring forward hours", ny, 2026, 3, 8, Interval60m, 23, 23 * time.Hour},
		{"NY fall back hours", ny, 2026, 11, 1, Interval60m, 25, 25 * time.Hour},
		{"NY fall back quarters", ny, 2026, 11, 1, Interval15m, 100, 25 * time.Hour},
		{"NY fall back half hours", ny, 2026, 11, 1, Interval30m, 50, 25 * time.Hour},
		{"NY ordinary day", ny, 2026, 3, 9, Interval60m, 24, 24 * time.Hour},
		{"Shanghai same dates", sh, 2026, 3, 8, Interval60m, 24, 24 * time.Hour},
		{"Shanghai fall date", sh, 2026, 11, 1, Interval15m, 96, 24 * time.Hour},
		{"NY day as one", ny, 2026, 11, 1, IntervalDay, 1, 25 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from := time.Date(tc.y, tc.m, tc.d, 0, 0, 0, 0, tc.loc)
			to := time.Date(tc.y, tc.m, tc.d+1, 0, 0, 0, 0, tc.loc)
			q, err := Query{From: from, To: to, Location: tc.loc, Interval: tc.iv}.normalized()
			if err != nil {
				t.Fatal(err)
			}
			sp := intervals(q)
			if len(sp) != tc.want {
				t.Fatalf("%d intervals, want %d", len(sp), tc.want)
			}
			if d := sp[len(sp)-1].end.Sub(sp[0].start); d != tc.lastHour {
				t.Errorf("day length %v, want %v", d, tc.lastHour)
			}
			for i, s := range sp {
				if _, min, sec := s.start.Clock(); sec != 0 || tc.iv == Interval60m && min != 0 {
					t.Errorf("interval %d starts at %s: not on a local boundary", i, s.start)
				}
				if i > 0 && !s.start.Equal(sp[i-1].end) {
					t.Errorf("gap before %s", s.start)
				}
			}
		})
	}
}

func TestIntervalsWeekMonthDST(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("tzdata: %v", err)
	}
	tests := []struct {
		name     string
		from, to time.Time
		iv       Interval
		lengths  []time.Duration
	}{
		{"March as a month", time.Date(2026, 3, 1, 0, 0, 0, 0, ny), time.Date(2026, 4, 1, 0, 0, 0, 0, ny), IntervalMonth, []time.Duration{743 * time.Hour}},
		{"weeks from Monday, clipped", time.Date(2026, 3, 4, 0, 0, 0, 0, ny), time.Date(2026, 3, 18, 0, 0, 0, 0, ny), IntervalWeek,
			[]time.Duration{5*24*time.Hour - time.Hour, 7 * 24 * time.Hour, 2 * 24 * time.Hour}},
		{"days across the change", time.Date(2026, 3, 7, 12, 0, 0, 0, ny), time.Date(2026, 3, 9, 12, 0, 0, 0, ny), IntervalDay,
			[]time.Duration{12 * time.Hour, 23 * time.Hour, 12 * time.Hour}},
	}
	for _, tc := range tests {
		q, err := Query{From: tc.from, To: tc.to, Location: ny, Interval: tc.iv}.normalized()
		if err != nil {
			t.Fatal(err)
		}
		var got []time.Duration
		for _, s := range intervals(q) {
			got = append(got, s.end.Sub(s.start))
		}
		if !reflect.DeepEqual(got, tc.lengths) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.lengths)
		}
	}
}

func TestDSTDayReport(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("tzdata: %v", err)
	}
	// 2026-11-01: 01:30 EDT (05:30Z) and 01:30 EST (06:30Z) are the same
	// wall clock in two different hours; 23:30 EST (04:30Z on the 2nd) is
	// the day's last hour.
	l := &logb{}
	for i, at := range []time.Time{
		time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 2, 4, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 2, 5, 30, 0, 0, time.UTC), // the next day
	} {
		c := string(rune('a' + i))
		l.queued(at, c, "q1").accepted(at.Add(10*time.Second), c, "q1", "a1")
	}
	a := build(t, DefaultConfig(), nil, l.evs)
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, ny)
	q := Query{From: from, To: time.Date(2026, 11, 2, 0, 0, 0, 0, ny), Location: ny, Interval: Interval60m}
	r := rep(t, a, "queues", q)
	if len(r.Rows) != 3 {
		t.Fatalf("rows %+v, want 3", r.Rows)
	}
	if r.Rows[0].Start.Hour() != 1 || r.Rows[1].Start.Hour() != 1 || r.Rows[0].Start.Equal(r.Rows[1].Start) {
		t.Errorf("the repeated 01:00 hour: %s and %s", r.Rows[0].Start, r.Rows[1].Start)
	}
	if _, off := r.Rows[1].Start.Zone(); off != -5*3600 {
		t.Errorf("second 01:00 offset %d", off)
	}
	q.Interval = IntervalDay
	if d := rep(t, a, "queues", q); len(d.Rows) != 1 || d.Rows[0].Offered != 3 || d.Rows[0].End.Sub(d.Rows[0].Start) != 25*time.Hour {
		t.Errorf("day %+v", d.Rows)
	}
	// Shanghai: the same instants fall in the 1st (13:30, 14:30) and the 2nd (12:30, 13:30).
	sh, _ := time.LoadLocation("Asia/Shanghai")
	q = Query{From: time.Date(2026, 11, 1, 0, 0, 0, 0, sh), To: time.Date(2026, 11, 3, 0, 0, 0, 0, sh), Location: sh, Interval: IntervalDay}
	if d := rep(t, a, "queues", q); len(d.Rows) != 2 || d.Rows[0].Offered != 2 || d.Rows[1].Offered != 2 {
		t.Errorf("Shanghai days %+v", d.Rows)
	}
}

func TestIdempotentAndRebuild(t *testing.T) {
	l := &logb{}
	l.state(utc(9, 0, 0), "a1", "ready", "").queued(utc(9, 1, 0), "c1", "q1").accepted(utc(9, 1, 30), "c1", "q1", "a1").
		state(utc(9, 1, 30), "a1", "busy", "").ended(utc(9, 3, 0), "c1", "a1").state(utc(9, 3, 0), "a1", "wrap-up", "").
		state(utc(9, 3, 20), "a1", "ready", "").queued(utc(9, 4, 0), "c2", "q1").abandoned(utc(9, 5, 0), "c2", "q1")
	ans := utc(9, 1, 30)
	cdrs := []store.CDR{
		{ID: "c1", Number: "n1", Start: utc(9, 0, 55), Answer: &ans, End: utc(9, 3, 0), Outcome: store.OutcomeAnswered, AgentID: "a1", HoldSeconds: 7, Survey: new(int)},
		{ID: "c2", Number: "n1", Start: utc(9, 3, 58), End: utc(9, 5, 0), Outcome: store.OutcomeAbandoned},
	}
	*cdrs[0].Survey = 4
	a, err := NewAggregator(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Incremental, with the CDR of c1 arriving before the events of its
	// answer, and everything replayed once.
	for i, e := range l.evs {
		a.AddEvent(e)
		if i == 1 {
			a.AddCDR(cdrs[0])
		}
	}
	for _, e := range l.evs {
		if a.AddEvent(e) {
			t.Fatalf("replayed event %d applied", e.Seq)
		}
	}
	for _, c := range cdrs {
		a.AddCDR(c)
	}
	if a.AddCDR(cdrs[0]) {
		t.Fatal("replayed CDR applied")
	}
	b := build(t, DefaultConfig(), cdrs, l.evs)
	q := Query{From: utc(9, 0, 0), To: utc(10, 0, 0), Interval: Interval15m}
	for _, kind := range []string{"queues", "agents", "numbers"} {
		x, y := rep(t, a, kind, q), rep(t, b, kind, q)
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s: incremental %+v\nrebuilt %+v", kind, x.Rows, y.Rows)
		}
	}
	got := row(t, rep(t, b, "queues", q), "q1", utc(9, 0, 0))
	if got.Offered != 2 || got.Answered != 1 || got.Abandoned != 1 || got.Hold != 7 || got.WrapUp != 20 || !eqOpt(got.AHT, f(90+7+20)) {
		t.Errorf("queue %+v", got)
	}
	if ag := row(t, rep(t, b, "agents", q), "a1", utc(9, 0, 0)); !eqOpt(ag.SurveyScore, f(4)) || ag.Hold != 7 {
		t.Errorf("agent %+v", ag)
	}
}

func TestRankingAndWeekOnWeek(t *testing.T) {
	l := &logb{}
	day := utc(9, 0, 0)
	prev := day.AddDate(0, 0, -7)
	talk := map[string]time.Duration{"a1": time.Minute, "a2": 3 * time.Minute, "a3": 2 * time.Minute}
	n := 0
	for _, ag := range []string{"a1", "a2", "a2", "a3", "a3", "a3"} {
		n++
		c := "c" + string(rune('0'+n))
		at := day.Add(time.Duration(n) * time.Minute)
		l.queued(at, c, "q1").accepted(at.Add(5*time.Second), c, "q1", ag).ended(at.Add(5*time.Second+talk[ag]), c, ag)
	}
	evs := append([]store.QueueEvent{}, (&logb{}).queued(prev, "old", "q1").accepted(prev.Add(time.Second), "old", "q1", "a1").evs...)
	for _, e := range l.evs {
		e.Seq += 10
		evs = append(evs, e)
	}
	a := build(t, DefaultConfig(), nil, evs)
	q := Query{From: day, To: day.Add(time.Hour)}
	tests := []struct {
		by   RankBy
		want []string
	}{
		{RankHandled, []string{"a3", "a2", "a1"}},
		{RankAHT, []string{"a1", "a3", "a2"}},
		{RankSurvey, []string{"a1", "a2", "a3"}}, // no values: by id
	}
	for _, tc := range tests {
		r, err := a.AgentRanking(context.Background(), q, tc.by)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, x := range r {
			got = append(got, x.AgentID)
			if x.Rank != i+1 {
				t.Errorf("rank %d at %d", x.Rank, i)
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("by %s: %v, want %v", tc.by, got, tc.want)
		}
	}
	if _, err := a.AgentRanking(context.Background(), q, "speed"); err == nil {
		t.Error("unknown ranking figure accepted")
	}
	c, err := a.WeekOnWeek(context.Background(), "queues", q)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 1 || c.Rows[0].Current == nil || c.Rows[0].Previous == nil || c.Rows[0].Current.Offered != 6 ||
		c.Rows[0].Previous.Offered != 1 || !c.PreviousFrom.Equal(prev) {
		t.Errorf("week on week %+v", c)
	}
}

func TestQueryValidation(t *testing.T) {
	a, _ := NewAggregator(DefaultConfig())
	base := utc(9, 0, 0)
	for name, q := range map[string]Query{
		"no from":      {To: base},
		"no to":        {From: base},
		"reversed":     {From: base, To: base.Add(-time.Hour)},
		"too short":    {From: base, To: base.Add(time.Minute)},
		"too long":     {From: base, To: base.Add(MaxRange + time.Hour)},
		"bad interval": {From: base, To: base.Add(time.Hour), Interval: "5m"},
	} {
		if _, err := a.QueueReport(context.Background(), q); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewAggregator(Config{}); err == nil {
		t.Error("zero config accepted")
	}
}

func TestCSV(t *testing.T) {
	l := &logb{}
	l.state(utc(9, 0, 0), "a1", "not-ready", "").state(utc(9, 10, 0), "a1", "not-ready", "break").state(utc(9, 20, 0), "a1", "ready", "")
	a := build(t, DefaultConfig(), nil, l.evs)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep(t, a, "agents", Query{From: utc(9, 0, 0), To: utc(10, 0, 0)})); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv %q %v", buf.String(), err)
	}
	h := map[string]string{}
	for i, name := range recs[0] {
		h[name] = recs[1][i]
	}
	if h["key"] != "a1" || h["not_ready"] != "1200" || h["not_ready:break"] != "600" || h["not_ready:unspecified"] != "600" || h["service_level"] != "" {
		t.Errorf("csv row %v", h)
	}
}

func TestCallStatePruned(t *testing.T) {
	a, _ := NewAggregator(DefaultConfig())
	l := &logb{}
	l.queued(utc(9, 0, 0), "no-cdr", "q1").accepted(utc(9, 0, 5), "no-cdr", "q1", "a1").ended(utc(9, 1, 0), "no-cdr", "a1")
	for _, e := range l.evs {
		a.AddEvent(e)
	}
	a.AddCDR(store.CDR{ID: "early", Start: utc(9, 0, 0), HoldSeconds: 3}) // its events never come
	later := utc(9, 0, 0).Add(25 * time.Hour)
	for i := range pruneEvery {
		a.AddEvent(store.QueueEvent{Seq: int64(100 + i), At: later, Kind: "agent-state", AgentID: "a2", State: "ready"})
	}
	if n := len(a.calls); n != 0 {
		t.Errorf("%d call states kept after a day without their CDR", n)
	}
}
