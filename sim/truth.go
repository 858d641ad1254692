package sim

import (
	"fmt"
	"math"
	"slices"
	"time"

	"hotline/controller/reports"
)

// CallTruth is one call as the simulator saw it. Exactly one of Answered
// and Abandoned is set for a call that reached the queue and ended there;
// both zero means it never got an answer nor hung up (still waiting at the
// end, or failed: Failed says why).
//
// A moment the simulator reads on its side of the wire is not the moment
// Hotline stamps: an INVITE or a BYE takes time to travel and to be
// handled, more on a loaded machine. Where the protocol tells the
// simulator that Hotline has acted (the caller heard the answer; the
// hangup was confirmed), EnqueueSeen and HangupSeen bound Hotline's
// reading from above, so the expected wait is an interval, not a guess
// widened by a fixed tolerance.
type CallTruth struct {
	N         int
	Arrival   time.Time // the caller dialed
	Enqueued  time.Time // the call entered the queue (Hotline's queue entry)
	Answered  time.Time // an agent answered
	Abandoned time.Time // the caller hung up while waiting
	// EnqueueSeen is when the caller heard Hotline answer (Hotline enters
	// a call in its queue when it answers it); zero: not observed.
	EnqueueSeen time.Time
	// HangupSeen is when Hotline confirmed the caller's hangup (the BYE's
	// or CANCEL's final response); zero: not observed.
	HangupSeen time.Time
	// Cancelled says the caller gave up before it heard Hotline answer:
	// it sent CANCEL for its INVITE (RFC 3261 §9.1).
	Cancelled bool
	Agent     string
	Talk      time.Duration
	Failed    string
}

// Wait is the time from queue entry to answer or abandon.
func (c CallTruth) Wait() time.Duration {
	switch {
	case !c.Answered.IsZero():
		return c.Answered.Sub(c.Enqueued)
	case !c.Abandoned.IsZero():
		return c.Abandoned.Sub(c.Enqueued)
	}
	return 0
}

// WaitRange bounds the wait Hotline can have measured: from the latest its
// queue entry can be to the earliest it can have seen the end, and from
// the earliest entry to the latest end.
func (c CallTruth) WaitRange() (lo, hi time.Duration) {
	w := c.Wait()
	lo, hi = w, w
	if c.EnqueueSeen.After(c.Enqueued) {
		lo -= c.EnqueueSeen.Sub(c.Enqueued)
	}
	if c.Answered.IsZero() && c.HangupSeen.After(c.Abandoned) {
		hi += c.HangupSeen.Sub(c.Abandoned)
	}
	if !c.Abandoned.IsZero() && c.Cancelled {
		// The caller gave up before it heard Hotline answer: Hotline's
		// 200 may have crossed the CANCEL (RFC 3261 §9.1), entering the
		// call in the queue as late as the hangup, so the wait it
		// measured can be as short as 0.
		lo = 0
	}
	return max(lo, 0), hi
}

// Truth is the ground truth of a run on one queue.
type Truth struct {
	Queue string
	Calls []CallTruth
}

// Definitions are the report definitions both sides use
// (docs/METRICS.md), plus the measurement tolerance: how far the
// simulator's clock readings may be from Hotline's for the same moment.
type Definitions struct {
	Config    reports.Config
	Tolerance time.Duration
}

// Range is an expected figure: any value within [Lo, Hi] agrees with the
// ground truth (Lo == Hi when nothing is uncertain).
type Range struct{ Lo, Hi float64 }

// Contains reports whether v agrees with r (within a relative 1e-9 for
// rounding).
func (r Range) Contains(v float64) bool {
	eps := 1e-9 * max(1, math.Abs(r.Lo), math.Abs(r.Hi))
	return v >= r.Lo-eps && v <= r.Hi+eps
}

func (r Range) String() string {
	if r.Lo == r.Hi {
		return fmt.Sprintf("%g", r.Lo)
	}
	return fmt.Sprintf("%g..%g", r.Lo, r.Hi)
}

// Expected holds the expected figures by scope ("queue <id>", "agent
// <id>") and figure name (the JSON names of reports.Figures).
type Expected map[string]map[string]Range

func exact(v float64) Range { return Range{v, v} }

// Expect computes the figures of the calls that entered the queue in
// [from, to) under def. A reading within def.Tolerance of a threshold
// may fall on either side, so the count it changes becomes a range.
func (tr Truth) Expect(def Definitions, from, to time.Time) Expected {
	cfg, tol := def.Config, def.Tolerance
	var offeredAll, answered, shortSure, shortMaybe, inSLSure, inSLMaybe, abInSLSure, abInSLMaybe int
	var waitAnsweredLo, waitAnsweredHi time.Duration
	var longestLo, longestHi time.Duration
	// Abandon waits as [lo, hi] pairs: sure, near the short-abandon
	// threshold, and surely short.
	var abWaitSure, abWaitMaybe, abWaitShort []waitInterval
	agents := map[string]struct {
		handled int
		talk    time.Duration
	}{}
	for _, c := range tr.Calls {
		if c.Enqueued.IsZero() || c.Enqueued.Before(from) || !c.Enqueued.Before(to) {
			continue
		}
		if c.Answered.IsZero() && c.Abandoned.IsZero() {
			continue // no outcome: not reconciled (Run waits for every call to end)
		}
		offeredAll++
		w := c.Wait()
		wLo, wHi := c.WaitRange()
		longestLo, longestHi = max(longestLo, wLo), max(longestHi, wHi)
		// A reading within the tolerance of a threshold, or a wait whose
		// interval straddles it, may fall on either side.
		near := func(th time.Duration) bool { return wLo-tol <= th && th <= wHi+tol && (tol > 0 || wLo != wHi) }
		if !c.Answered.IsZero() {
			answered++
			waitAnsweredLo += wLo
			waitAnsweredHi += wHi
			switch {
			case near(cfg.ServiceLevelThreshold):
				inSLMaybe++
			case w <= cfg.ServiceLevelThreshold:
				inSLSure++
			}
			a := agents[c.Agent]
			a.handled++
			a.talk += c.Talk
			agents[c.Agent] = a
			continue
		}
		wi := waitInterval{wLo, wHi}
		switch {
		case near(cfg.ShortAbandon):
			shortMaybe++
			abWaitMaybe = append(abWaitMaybe, wi)
		case w < cfg.ShortAbandon:
			shortSure++
			abWaitShort = append(abWaitShort, wi)
		default:
			abWaitSure = append(abWaitSure, wi)
		}
		if cfg.ExcludeShortAbandons && near(cfg.ShortAbandon) {
			if wLo <= cfg.ServiceLevelThreshold+tol {
				abInSLMaybe++
			}
		} else if !(w < cfg.ShortAbandon) || !cfg.ExcludeShortAbandons {
			switch {
			case near(cfg.ServiceLevelThreshold):
				abInSLMaybe++
			case w <= cfg.ServiceLevelThreshold:
				abInSLSure++
			}
		}
	}
	abandonedAll := offeredAll - answered
	fr := func(lo, hi int) Range { return Range{float64(lo), float64(hi)} }
	q := map[string]Range{}
	short := fr(shortSure, shortSure+shortMaybe)
	q["short_abandoned"] = short
	q["answered"] = exact(float64(answered))
	var offered, abandoned Range
	if cfg.ExcludeShortAbandons {
		offered = Range{float64(offeredAll) - short.Hi, float64(offeredAll) - short.Lo}
		abandoned = Range{float64(abandonedAll) - short.Hi, float64(abandonedAll) - short.Lo}
	} else {
		offered, abandoned = exact(float64(offeredAll)), exact(float64(abandonedAll))
	}
	q["offered"], q["abandoned"] = offered, abandoned
	inSL := fr(inSLSure, inSLSure+inSLMaybe)
	q["answered_in_sl"] = inSL
	var den Range
	switch cfg.ServiceLevelFormula {
	case reports.SLAnswered:
		den = exact(float64(answered))
	case reports.SLAbandonsWithinTNeutral:
		den = Range{offered.Lo - float64(abInSLSure+abInSLMaybe), offered.Hi - float64(abInSLSure)}
	default:
		den = offered
	}
	if den.Lo > 0 {
		q["service_level"] = Range{inSL.Lo / den.Hi, min(1, inSL.Hi/den.Lo)}
	}
	ts := tol.Seconds()
	if answered > 0 {
		n := float64(answered)
		q["asa"] = Range{max(0, waitAnsweredLo.Seconds()/n-ts), waitAnsweredHi.Seconds()/n + ts}
	}
	if offeredAll > 0 {
		q["longest_wait"] = Range{max(0, longestLo.Seconds()-ts), longestHi.Seconds() + ts}
	}
	// The average abandon wait is over the sure abandons plus any subset
	// of the uncertain ones: bound it by adding them smallest or largest
	// first.
	if !cfg.ExcludeShortAbandons {
		abWaitSure = append(abWaitSure, abWaitShort...)
	}
	if r, ok := avgRange(abWaitSure, abWaitMaybe, cfg.ExcludeShortAbandons, ts); ok {
		q["avg_abandon_wait"] = r
	}
	exp := Expected{"queue " + tr.Queue: q}
	for id, a := range agents {
		exp["agent "+id] = map[string]Range{
			"answered": exact(float64(a.handled)),
		}
	}
	return exp
}

// waitInterval is a wait Hotline may have measured anywhere within.
type waitInterval struct{ lo, hi time.Duration }

// avgRange bounds the mean of sure plus any prefix of maybe sorted either
// way, each wait anywhere in its interval, widened by tol.
func avgRange(sure, maybe []waitInterval, excludeShort bool, tol float64) (Range, bool) {
	if !excludeShort {
		sure = append(slices.Clone(sure), maybe...)
		maybe = nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, end := range []func(waitInterval) time.Duration{
		func(w waitInterval) time.Duration { return w.lo },
		func(w waitInterval) time.Duration { return w.hi },
	} {
		ws := func(is []waitInterval) []time.Duration {
			out := make([]time.Duration, len(is))
			for i, w := range is {
				out[i] = end(w)
			}
			return out
		}
		s, m := ws(sure), ws(maybe)
		slices.Sort(m)
		try := func(ws []time.Duration) {
			if len(ws) == 0 {
				return
			}
			var sum float64
			for _, w := range ws {
				sum += w.Seconds()
			}
			mean := sum / float64(len(ws))
			lo, hi = min(lo, mean), max(hi, mean)
		}
		for k := 0; k <= len(m); k++ {
			try(append(slices.Clone(s), m[:k]...))
			try(append(slices.Clone(s), m[len(m)-k:]...))
		}
	}
	if math.IsInf(lo, 1) {
		return Range{}, false
	}
	return Range{max(0, lo-tol), hi + tol}, true
}
