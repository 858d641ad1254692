package reports

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// Row is one key's figures in one interval.
type Row struct {
	Key   string    `json:"key"`
	Start time.Time `json:"start"` // local time of the interval's start (its UTC offset tells repeated hours apart)
	End   time.Time `json:"end"`
	Figures
}

// Report is a report's rows, by key then by interval. Keys or intervals
// with nothing recorded have no row.
type Report struct {
	Kind     string    `json:"kind"` // queues, agents, numbers, trunks
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	TimeZone string    `json:"time_zone"`
	Interval Interval  `json:"interval"`
	Rows     []Row     `json:"rows"`
}

// span is one report interval [start, end).
type span struct{ start, end time.Time }

// intervals splits [q.From, q.To) into local wall-clock intervals; the
// first and last are clipped to the range.
func intervals(q Query) []span {
	loc := q.Location
	var out []span
	add := func(a, b time.Time) {
		a, b = maxTime(a, q.From), minTime(b, q.To)
		if b.After(a) {
			out = append(out, span{a.In(loc), b.In(loc)})
		}
	}
	switch q.Interval {
	case IntervalTotal:
		add(q.From, q.To)
	case Interval15m, Interval30m, Interval60m:
		step := map[Interval]int64{Interval15m: 900, Interval30m: 1800, Interval60m: 3600}[q.Interval]
		t := alignLocal(q.From, loc, step)
		for t.Before(q.To) {
			next := alignLocal(t.Add(time.Duration(step)*time.Second), loc, step)
			if !next.After(t) {
				next = t.Add(time.Duration(step) * time.Second)
			}
			add(t, next)
			t = next
		}
	default:
		t := startOf(q.From.In(loc), q.Interval)
		for t.Before(q.To) {
			next := nextStart(t, q.Interval)
			add(t, next)
			t = next
		}
	}
	return out
}

// alignLocal floors t to a multiple of step seconds of local wall-clock
// time, using the UTC offset in force at t.
func alignLocal(t time.Time, loc *time.Location, step int64) time.Time {
	_, off := t.In(loc).Zone()
	l := t.Unix() + int64(off)
	l -= ((l % step) + step) % step
	return time.Unix(l-int64(off), 0).UTC()
}

func startOf(t time.Time, iv Interval) time.Time {
	y, m, d := t.Date()
	switch iv {
	case IntervalWeek:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, t.Location())
	case IntervalMonth:
		return time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
	}
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

func nextStart(t time.Time, iv Interval) time.Time {
	y, m, d := t.Date()
	switch iv {
	case IntervalWeek:
		return time.Date(y, m, d+7, 0, 0, 0, 0, t.Location())
	case IntervalMonth:
		return time.Date(y, m+1, 1, 0, 0, 0, 0, t.Location())
	}
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

var dimNames = [dimCount]string{"queues", "agents", "numbers", "trunks"}

func (a *Aggregator) report(d dim, q Query) (Report, error) {
	q, err := q.normalized()
	if err != nil {
		return Report{}, err
	}
	spans := intervals(q)
	rep := Report{Kind: dimNames[d], From: q.From.In(q.Location), To: q.To.In(q.Location),
		TimeZone: q.Location.String(), Interval: q.Interval, Rows: []Row{}}
	a.mu.RLock()
	defer a.mu.RUnlock()
	keys := a.keys(d, q.Keys)
	for _, k := range keys {
		s := a.series[d][k]
		for _, sp := range spans {
			var b bucket
			s.sum(slotOf(sp.start), slotOf(sp.end), &b)
			if !b.any {
				continue
			}
			rep.Rows = append(rep.Rows, Row{Key: k, Start: sp.start, End: sp.end, Figures: a.cfg.figures(&b, d == dimAgent)})
		}
	}
	return rep, nil
}

// keys lists the dimension's keys (only those in want when not empty),
// sorted.
func (a *Aggregator) keys(d dim, want []string) []string {
	var out []string
	if len(want) > 0 {
		for _, k := range want {
			if _, ok := a.series[d][k]; ok {
				out = append(out, k)
			}
		}
	} else {
		for k := range a.series[d] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// The report methods take a ctx so that *Aggregator serves as a report
// source next to sources that read a store; the aggregator does no I/O
// and ignores it.

// QueueReport reports per queue (queue ids as keys).
func (a *Aggregator) QueueReport(_ context.Context, q Query) (Report, error) {
	return a.report(dimQueue, q)
}

// AgentReport reports per agent (agent ids as keys).
func (a *Aggregator) AgentReport(_ context.Context, q Query) (Report, error) {
	return a.report(dimAgent, q)
}

// NumberReport reports per access number (DID).
func (a *Aggregator) NumberReport(_ context.Context, q Query) (Report, error) {
	return a.report(dimNumber, q)
}

// TrunkReport reports per trunk.
func (a *Aggregator) TrunkReport(_ context.Context, q Query) (Report, error) {
	return a.report(dimTrunk, q)
}

// AbandonedCalls lists the abandoned queue segments entered in the range
// (of the queues in q.Keys when set), by entry time then call id.
func (a *Aggregator) AbandonedCalls(_ context.Context, q Query) ([]AbandonedCall, error) {
	q, err := q.normalized()
	if err != nil {
		return nil, err
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := []AbandonedCall{}
	for _, c := range a.abandoned {
		if c.EnteredAt.Before(q.From) || !c.EnteredAt.Before(q.To) || len(q.Keys) > 0 && !slices.Contains(q.Keys, c.Queue) {
			continue
		}
		c.EnteredAt, c.AbandonedAt = c.EnteredAt.In(q.Location), c.AbandonedAt.In(q.Location)
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(x, y AbandonedCall) int {
		return cmp.Or(x.EnteredAt.Compare(y.EnteredAt), cmp.Compare(x.CallID, y.CallID))
	})
	return out, nil
}

// RankBy names the figure agents are ranked by.
type RankBy string

// Ranking figures.
const (
	RankHandled   RankBy = "handled"   // descending
	RankAHT       RankBy = "aht"       // ascending
	RankOccupancy RankBy = "occupancy" // descending
	RankSurvey    RankBy = "survey"    // descending
)

// RankBys lists every RankBy.
var RankBys = []RankBy{RankHandled, RankAHT, RankOccupancy, RankSurvey}

// RankedAgent is one agent's place in a ranking. Value is the ranking
// figure (null when the agent has none; those come last).
type RankedAgent struct {
	Rank    int      `json:"rank"`
	AgentID string   `json:"agent_id"`
	Value   *float64 `json:"value"`
	Figures Figures  `json:"figures"`
}

// AgentRanking ranks agents over the whole range by one figure; ties
// and agents without a value are ordered by agent id.
func (a *Aggregator) AgentRanking(ctx context.Context, q Query, by RankBy) ([]RankedAgent, error) {
	if by == "" {
		by = RankHandled
	}
	if !slices.Contains(RankBys, by) {
		return nil, fmt.Errorf("%w: by %q", ErrInvalidQuery, by)
	}
	q.Interval = IntervalTotal
	rep, err := a.AgentReport(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]RankedAgent, 0, len(rep.Rows))
	for _, r := range rep.Rows {
		var v *float64
		switch by {
		case RankHandled:
			h := float64(r.Handled)
			v = &h
		case RankAHT:
			v = r.AHT
		case RankOccupancy:
			v = r.Agent.Occupancy
		case RankSurvey:
			v = r.SurveyScore
		}
		out = append(out, RankedAgent{AgentID: r.Key, Value: v, Figures: r.Figures})
	}
	slices.SortStableFunc(out, func(x, y RankedAgent) int {
		switch {
		case x.Value == nil && y.Value == nil:
		case x.Value == nil:
			return 1
		case y.Value == nil:
			return -1
		case *x.Value != *y.Value:
			if by == RankAHT {
				return cmp.Compare(*x.Value, *y.Value)
			}
			return cmp.Compare(*y.Value, *x.Value)
		}
		return cmp.Compare(x.AgentID, y.AgentID)
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out, nil
}

// ComparedRow pairs a key's row in the range with the same interval a
// week earlier (Previous is nil when nothing was recorded then).
type ComparedRow struct {
	Key           string    `json:"key"`
	Start         time.Time `json:"start"`
	PreviousStart time.Time `json:"previous_start"`
	Current       *Figures  `json:"current"`
	Previous      *Figures  `json:"previous"`
}

// Comparison is a week-on-week comparison.
type Comparison struct {
	Kind         string        `json:"kind"`
	From         time.Time     `json:"from"`
	To           time.Time     `json:"to"`
	PreviousFrom time.Time     `json:"previous_from"`
	PreviousTo   time.Time     `json:"previous_to"`
	Interval     Interval      `json:"interval"`
	Rows         []ComparedRow `json:"rows"`
}

// WeekOnWeek compares the report of kind ("queues", "agents", "numbers"
// or "trunks") over q with the same local wall-clock range 7 calendar
// days earlier, interval by interval.
func (a *Aggregator) WeekOnWeek(_ context.Context, kind string, q Query) (Comparison, error) {
	d := slices.Index(dimNames[:], kind)
	if d < 0 {
		return Comparison{}, fmt.Errorf("%w: kind %q", ErrInvalidQuery, kind)
	}
	q, err := q.normalized()
	if err != nil {
		return Comparison{}, err
	}
	p := q
	p.From, p.To = q.From.In(q.Location).AddDate(0, 0, -7), q.To.In(q.Location).AddDate(0, 0, -7)
	cur, err := a.report(dim(d), q)
	if err != nil {
		return Comparison{}, err
	}
	prev, err := a.report(dim(d), p)
	if err != nil {
		return Comparison{}, err
	}
	cmpRes := Comparison{Kind: kind, From: cur.From, To: cur.To, PreviousFrom: prev.From, PreviousTo: prev.To,
		Interval: q.Interval, Rows: []ComparedRow{}}
	p, _ = p.normalized()
	curSpans, prevSpans := intervals(q), intervals(p)
	type k struct {
		key string
		i   int
	}
	index := func(spans []span, rows []Row) map[k]*Figures {
		m := map[k]*Figures{}
		for i := range rows {
			j := slices.IndexFunc(spans, func(s span) bool { return s.start.Equal(rows[i].Start) })
			m[k{rows[i].Key, j}] = &rows[i].Figures
		}
		return m
	}
	cm, pm := index(curSpans, cur.Rows), index(prevSpans, prev.Rows)
	keys := map[string]bool{}
	for kk := range cm {
		keys[kk.key] = true
	}
	for kk := range pm {
		keys[kk.key] = true
	}
	sorted := make([]string, 0, len(keys))
	for kk := range keys {
		sorted = append(sorted, kk)
	}
	slices.Sort(sorted)
	for _, key := range sorted {
		for i, sp := range curSpans {
			c, pv := cm[k{key, i}], pm[k{key, i}]
			if c == nil && pv == nil {
				continue
			}
			row := ComparedRow{Key: key, Start: sp.start, Current: c, Previous: pv}
			if i < len(prevSpans) {
				row.PreviousStart = prevSpans[i].start
			}
			cmpRes.Rows = append(cmpRes.Rows, row)
		}
	}
	return cmpRes, nil
}
