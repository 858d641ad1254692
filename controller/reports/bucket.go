package reports

import (
	"slices"
	"time"
)

// slotSeconds is the length of a bucket: a UTC quarter hour.
const slotSeconds = 15 * 60

// slotsPerDay is the number of buckets in a UTC day.
const slotsPerDay = 24 * 3600 / slotSeconds

func slotOf(t time.Time) int64 { return floorDiv(t.Unix(), slotSeconds) }

func slotStart(s int64) time.Time { return time.Unix(s*slotSeconds, 0).UTC() }

// reasonTime is time spent not-ready for one reason.
type reasonTime struct {
	reason string
	d      time.Duration
}

// bucket holds the raw sums of one key in one quarter hour; figures are
// derived from sums so that buckets add up exactly.
type bucket struct {
	entered, answered, abandoned, shortAbandoned, overflowed, callbacks int64
	answeredInSL, abandonedInSL, shortInSL                              int64
	rejected, failed, voicemail, selfService                            int64
	waitAnswered, waitAbandoned, waitShort, longestWait                 time.Duration
	handled, transfers                                                  int64
	talk, hold, wrap                                                    time.Duration
	surveySum, surveyCount                                              int64
	// agent state time
	login, ready, notReady, reserved, busy, wrapUp time.Duration
	notReadyBy                                     []reasonTime
	any                                            bool // something was added
}

func (b *bucket) addNotReady(reason string, d time.Duration) {
	b.notReady += d
	for i := range b.notReadyBy {
		if b.notReadyBy[i].reason == reason {
			b.notReadyBy[i].d += d
			return
		}
	}
	b.notReadyBy = append(b.notReadyBy, reasonTime{reason, d})
}

// merge adds o into b.
func (b *bucket) merge(o *bucket) {
	b.entered += o.entered
	b.answered += o.answered
	b.abandoned += o.abandoned
	b.shortAbandoned += o.shortAbandoned
	b.overflowed += o.overflowed
	b.callbacks += o.callbacks
	b.answeredInSL += o.answeredInSL
	b.abandonedInSL += o.abandonedInSL
	b.shortInSL += o.shortInSL
	b.waitShort += o.waitShort
	b.rejected += o.rejected
	b.failed += o.failed
	b.voicemail += o.voicemail
	b.selfService += o.selfService
	b.waitAnswered += o.waitAnswered
	b.waitAbandoned += o.waitAbandoned
	b.longestWait = max(b.longestWait, o.longestWait)
	b.handled += o.handled
	b.transfers += o.transfers
	b.talk += o.talk
	b.hold += o.hold
	b.wrap += o.wrap
	b.surveySum += o.surveySum
	b.surveyCount += o.surveyCount
	b.login += o.login
	b.ready += o.ready
	b.reserved += o.reserved
	b.busy += o.busy
	b.wrapUp += o.wrapUp
	for _, r := range o.notReadyBy {
		b.addNotReady(r.reason, r.d)
	}
	b.any = b.any || o.any
}

// dayBuckets are one key's buckets of one UTC day: the quarter hours,
// and the hours and the day summed as they are written (a report sums
// the largest ones its intervals cover whole).
type dayBuckets struct {
	q   [slotsPerDay]*bucket
	h   [24]*bucket
	all *bucket
}

// series is one key's buckets, by UTC day.
type series struct {
	days map[int64]*dayBuckets
}

// add merges delta into the quarter hour slot and its hour and day.
func (s *series) add(slot int64, delta *bucket) {
	day := floorDiv(slot, slotsPerDay)
	d := s.days[day]
	if d == nil {
		d = &dayBuckets{}
		s.days[day] = d
	}
	i := slot - day*slotsPerDay
	for _, pp := range [...]**bucket{&d.q[i], &d.h[i/4], &d.all} {
		if *pp == nil {
			*pp = &bucket{}
		}
		(*pp).merge(delta)
		(*pp).any = true
	}
}

// sum adds the buckets of slots [from, to) into out.
func (s *series) sum(from, to int64, out *bucket) {
	for day := floorDiv(from, slotsPerDay); day*slotsPerDay < to; day++ {
		d := s.days[day]
		if d == nil {
			continue
		}
		lo := max(from-day*slotsPerDay, 0)
		hi := min(to-day*slotsPerDay, slotsPerDay)
		if lo == 0 && hi == slotsPerDay {
			if d.all != nil {
				out.merge(d.all)
			}
			continue
		}
		for i := lo; i < hi; {
			if i%4 == 0 && i+4 <= hi {
				if b := d.h[i/4]; b != nil {
					out.merge(b)
				}
				i += 4
				continue
			}
			if b := d.q[i]; b != nil {
				out.merge(b)
			}
			i++
		}
	}
}

// Figures are one row's figures under docs/METRICS.md. Durations are in
// seconds; a ratio or average whose denominator is zero is null.
type Figures struct {
	Offered        int64    `json:"offered"`
	Answered       int64    `json:"answered"`
	Abandoned      int64    `json:"abandoned"`
	ShortAbandoned int64    `json:"short_abandoned"`
	Overflowed     int64    `json:"overflowed"`
	Callbacks      int64    `json:"callbacks"`
	Rejected       int64    `json:"rejected"`
	Failed         int64    `json:"failed"`
	Voicemail      int64    `json:"voicemail"`
	SelfService    int64    `json:"self_service"`
	AnsweredInSL   int64    `json:"answered_in_sl"`
	ServiceLevel   *float64 `json:"service_level"`
	ASA            *float64 `json:"asa"`
	AvgAbandonWait *float64 `json:"avg_abandon_wait"`
	LongestWait    float64  `json:"longest_wait"`
	Handled        int64    `json:"handled"`
	Talk           float64  `json:"talk"`
	Hold           float64  `json:"hold"`
	WrapUp         float64  `json:"wrap_up"`
	AHT            *float64 `json:"aht"`
	Transfers      int64    `json:"transfers"`
	SurveyScore    *float64 `json:"survey_score"`
	SurveyCount    int64    `json:"survey_count"`
	// Agent holds agent state time; only in agent reports.
	Agent *AgentTime `json:"agent,omitempty"`
}

// AgentTime is an agent's time by state, in seconds.
type AgentTime struct {
	Login       float64            `json:"login"`
	Ready       float64            `json:"ready"`
	NotReady    float64            `json:"not_ready"`
	NotReadyBy  map[string]float64 `json:"not_ready_by_reason"`
	Reserved    float64            `json:"reserved"`
	Busy        float64            `json:"busy"`
	WrapUp      float64            `json:"wrap_up"`
	Occupancy   *float64           `json:"occupancy"`
	Utilization *float64           `json:"utilization"`
}

func ratio(n, d float64) *float64 {
	if d == 0 {
		return nil
	}
	v := n / d
	return &v
}

func secs(d time.Duration) float64 { return d.Seconds() }

// figures derives a row's figures from summed buckets.
func (c Config) figures(b *bucket, agent bool) Figures {
	f := Figures{
		Answered: b.answered, ShortAbandoned: b.shortAbandoned, Overflowed: b.overflowed, Callbacks: b.callbacks,
		Rejected: b.rejected, Failed: b.failed, Voicemail: b.voicemail, SelfService: b.selfService,
		AnsweredInSL: b.answeredInSL, LongestWait: secs(b.longestWait), Handled: b.handled,
		Talk: secs(b.talk), Hold: secs(b.hold), WrapUp: secs(b.wrap), Transfers: b.transfers, SurveyCount: b.surveyCount,
	}
	f.Offered, f.Abandoned = b.entered, b.abandoned
	abandonedInSL, waitAbandoned := b.abandonedInSL, b.waitAbandoned
	if c.ExcludeShortAbandons {
		f.Offered -= b.shortAbandoned
	} else {
		f.Abandoned += b.shortAbandoned
		abandonedInSL += b.shortInSL
		waitAbandoned += b.waitShort
	}
	switch c.ServiceLevelFormula {
	case SLAnswered:
		f.ServiceLevel = ratio(float64(b.answeredInSL), float64(b.answered))
	case SLAbandonsWithinTNeutral:
		f.ServiceLevel = ratio(float64(b.answeredInSL), float64(f.Offered-abandonedInSL))
	default:
		f.ServiceLevel = ratio(float64(b.answeredInSL), float64(f.Offered))
	}
	f.ASA = ratio(secs(b.waitAnswered), float64(b.answered))
	f.AvgAbandonWait = ratio(secs(waitAbandoned), float64(f.Abandoned))
	f.AHT = ratio(secs(b.talk+b.hold+b.wrap), float64(b.handled))
	f.SurveyScore = ratio(float64(b.surveySum), float64(b.surveyCount))
	if agent {
		at := &AgentTime{Login: secs(b.login), Ready: secs(b.ready), NotReady: secs(b.notReady),
			Reserved: secs(b.reserved), Busy: secs(b.busy), WrapUp: secs(b.wrapUp), NotReadyBy: map[string]float64{}}
		for _, r := range b.notReadyBy {
			at.NotReadyBy[r.reason] = secs(r.d)
		}
		work := b.reserved + b.busy + b.wrapUp
		at.Occupancy = ratio(secs(work), secs(work+b.ready))
		at.Utilization = ratio(secs(work), secs(b.login))
		f.Agent = at
	}
	return f
}

// reasons lists the not-ready reasons of an agent row, sorted.
func (a *AgentTime) reasons() []string {
	out := make([]string, 0, len(a.NotReadyBy))
	for r := range a.NotReadyBy {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}
