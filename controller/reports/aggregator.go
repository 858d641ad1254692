package reports

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"hotline/controller/store"
)

// dim is a report dimension.
type dim uint8

const (
	dimQueue dim = iota
	dimAgent
	dimNumber
	dimTrunk
	dimCount
)

// segment is a call's stay in one queue (docs/METRICS.md).
type segment struct {
	call, queue string
	entered     time.Time
	slot        int64 // the queue entry's bucket
	ended       bool  // answered, abandoned, overflowed or callback
	answered    bool
	agent       string
	acceptedAt  time.Time
	agentSlot   int64 // the answer's bucket
	talkDone    bool
	callback    bool // ended as a callback request
	agentOnly   bool // the callback's answer: an agent figure, not a queue one
}

// callState follows one call through its segments until its CDR arrives.
type callState struct {
	cur          *segment // the latest segment
	lastAnswered *segment
	holdApplied  bool
	pendingHold  time.Duration // a CDR's hold that arrived before the answer
	pendingSince time.Time     // the start of that CDR (for pruning)
}

// agentState is an agent's open state span.
type agentState struct {
	state, reason string
	since         time.Time
	lastSeg       *segment // the last segment the agent answered (wrap-up goes to it)
}

// AbandonedCall is one abandoned queue segment.
type AbandonedCall struct {
	CallID      string    `json:"call_id"`
	Queue       string    `json:"queue"`
	EnteredAt   time.Time `json:"entered_at"`
	AbandonedAt time.Time `json:"abandoned_at"`
	WaitSeconds float64   `json:"wait_seconds"`
	Short       bool      `json:"short"`
}

// Aggregator keeps 15-minute buckets per queue, agent, number and trunk,
// fed record by record. Feed events in Seq order (AddEvent) and CDRs in
// any order (AddCDR); replays are ignored. It is safe for concurrent use.
type Aggregator struct {
	cfg Config

	// mu guards everything below.
	mu        sync.RWMutex
	series    [dimCount]map[string]*series
	lastSeq   int64
	anySeq    bool
	cdrs      map[string]struct{}
	calls     map[string]*callState
	agents    map[string]*agentState
	abandoned []AbandonedCall // in order of abandon (≈ entry order within a queue)
	applied   int64           // events applied, for pruning
	pending   []*pendingDelta // deltas of the record being applied
	free      []*pendingDelta // reusable deltas
}

// A call's state is kept until its CDR arrives, or for callHorizon after
// its last queue entry when no CDR comes (checked every pruneEvery
// events): no call waits and talks that long, and a lost CDR must not
// grow the aggregator forever.
const (
	callHorizon = 24 * time.Hour
	pruneEvery  = 10000
)

func (a *Aggregator) prune(before time.Time) {
	for id, cs := range a.calls {
		if cs.cur == nil && cs.pendingSince.Before(before) || cs.cur != nil && cs.cur.entered.Before(before) {
			delete(a.calls, id)
		}
	}
}

// NewAggregator returns an empty aggregator under cfg.
func NewAggregator(cfg Config) (*Aggregator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	a := &Aggregator{cfg: cfg, cdrs: map[string]struct{}{}, calls: map[string]*callState{}, agents: map[string]*agentState{}}
	for i := range a.series {
		a.series[i] = map[string]*series{}
	}
	return a, nil
}

// Build is a fresh aggregator fed the whole event log (sorted by Seq
// here) and every CDR: the rebuild from scratch.
func Build(cfg Config, cdrs []store.CDR, events []store.QueueEvent) (*Aggregator, error) {
	a, err := NewAggregator(cfg)
	if err != nil {
		return nil, err
	}
	evs := slices.Clone(events)
	slices.SortStableFunc(evs, func(x, y store.QueueEvent) int {
		switch {
		case x.Seq < y.Seq:
			return -1
		case x.Seq > y.Seq:
			return 1
		}
		return 0
	})
	for _, e := range evs {
		a.AddEvent(e)
	}
	for _, c := range cdrs {
		a.AddCDR(c)
	}
	return a, nil
}

// Config returns the aggregator's definitions.
func (a *Aggregator) Config() Config { return a.cfg }

// bucket returns a delta for key's quarter hour slot: what the current
// record adds there. flush merges the deltas into the series (quarter,
// hour and day) once the record is applied.
func (a *Aggregator) bucket(d dim, key string, slot int64) *bucket {
	var p *pendingDelta
	if n := len(a.free); n > 0 {
		p = a.free[n-1]
		a.free = a.free[:n-1]
		p.b = bucket{notReadyBy: p.b.notReadyBy[:0]}
	} else {
		p = &pendingDelta{}
	}
	p.d, p.key, p.slot = d, key, slot
	a.pending = append(a.pending, p)
	return &p.b
}

// pendingDelta is one delta of the record being applied.
type pendingDelta struct {
	d    dim
	key  string
	slot int64
	b    bucket
}

func (a *Aggregator) flush() {
	for _, p := range a.pending {
		m := a.series[p.d]
		s := m[p.key]
		if s == nil {
			s = &series{days: map[int64]*dayBuckets{}}
			m[p.key] = s
		}
		s.add(p.slot, &p.b)
		a.free = append(a.free, p)
	}
	clear(a.pending)
	a.pending = a.pending[:0]
}

// kindName normalizes an event kind: the acd spelling with dashes.
func kindName(k string) string { return strings.ReplaceAll(k, "_", "-") }

// AddEvent applies one event of the queue and agent event log. Events
// must arrive in Seq order; one whose Seq is at or below the highest
// applied is a replay and is ignored. It reports whether ev was applied.
func (a *Aggregator) AddEvent(ev store.QueueEvent) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.flush()
	if a.anySeq && ev.Seq <= a.lastSeq {
		return false
	}
	a.anySeq, a.lastSeq = true, ev.Seq
	if a.applied++; a.applied%pruneEvery == 0 {
		a.prune(ev.At.Add(-callHorizon))
	}
	switch kindName(ev.Kind) {
	case "queued":
		a.onQueued(ev)
	case "offer-accepted":
		a.onAccepted(ev)
	case "abandoned":
		a.onSegmentEnd(ev, "abandoned")
	case "overflow":
		a.onSegmentEnd(ev, "overflow")
	case "callback-requested":
		a.onSegmentEnd(ev, "callback")
	case "call-ended":
		if cs := a.calls[ev.CallID]; cs != nil {
			a.endTalk(cs.cur, ev.At)
		}
	case "agent-state":
		a.onAgentState(ev)
	}
	return true
}

func (a *Aggregator) onQueued(ev store.QueueEvent) {
	cs := a.calls[ev.CallID]
	if cs == nil {
		cs = &callState{}
		a.calls[ev.CallID] = cs
	}
	if prev := cs.cur; prev != nil && prev.answered && !prev.talkDone {
		// Transferred out while talking.
		a.bucket(dimQueue, prev.queue, prev.slot).transfers++
		a.endTalk(prev, ev.At)
	}
	seg := &segment{call: ev.CallID, queue: ev.Queue, entered: ev.At, slot: slotOf(ev.At)}
	cs.cur = seg
	a.bucket(dimQueue, seg.queue, seg.slot).entered++
}

func (a *Aggregator) onAccepted(ev store.QueueEvent) {
	cs := a.calls[ev.CallID]
	if cs == nil || cs.cur == nil || cs.cur.ended && !cs.cur.callback {
		return // an answer without a queue entry (a callback's or outbound leg) is not a queue figure
	}
	seg := cs.cur
	if seg.callback && !seg.answered {
		// The callback is being made: the agent handles a call, the
		// queue already counted it as a callback.
		a.acceptCallback(cs, ev)
		return
	}
	seg.ended, seg.answered, seg.agent, seg.acceptedAt, seg.agentSlot = true, true, ev.AgentID, ev.At, slotOf(ev.At)
	wait := ev.At.Sub(seg.entered)
	qb := a.bucket(dimQueue, seg.queue, seg.slot)
	qb.answered++
	qb.waitAnswered += wait
	qb.longestWait = max(qb.longestWait, wait)
	if wait <= a.cfg.ServiceLevelThreshold {
		qb.answeredInSL++
	}
	ab := a.bucket(dimAgent, seg.agent, seg.agentSlot)
	ab.answered++
	ab.waitAnswered += wait
	ab.longestWait = max(ab.longestWait, wait)
	if wait <= a.cfg.ServiceLevelThreshold {
		ab.answeredInSL++
	}
	cs.lastAnswered = seg
	a.agentOf(seg.agent).lastSeg = seg
	if cs.pendingHold > 0 && !cs.holdApplied {
		a.addHold(cs, cs.pendingHold)
	}
}

func (a *Aggregator) onSegmentEnd(ev store.QueueEvent, how string) {
	cs := a.calls[ev.CallID]
	if cs == nil || cs.cur == nil || cs.cur.ended {
		return
	}
	seg := cs.cur
	seg.ended = true
	wait := ev.At.Sub(seg.entered)
	b := a.bucket(dimQueue, seg.queue, seg.slot)
	b.longestWait = max(b.longestWait, wait)
	switch how {
	case "abandoned":
		short := wait < a.cfg.ShortAbandon
		inSL := wait <= a.cfg.ServiceLevelThreshold
		if short {
			b.shortAbandoned++
			b.waitShort += wait
			if inSL {
				b.shortInSL++
			}
		} else {
			b.abandoned++
			b.waitAbandoned += wait
			if inSL {
				b.abandonedInSL++
			}
		}
		a.abandoned = append(a.abandoned, AbandonedCall{CallID: seg.call, Queue: seg.queue, EnteredAt: seg.entered,
			AbandonedAt: ev.At, WaitSeconds: wait.Seconds(), Short: short})
	case "overflow":
		b.overflowed++
	case "callback":
		b.callbacks++
		seg.callback = true
	}
}

// acceptCallback starts the agent side of a callback made for cs.cur.
func (a *Aggregator) acceptCallback(cs *callState, ev store.QueueEvent) {
	seg := &segment{call: ev.CallID, queue: cs.cur.queue, entered: cs.cur.entered, slot: cs.cur.slot, ended: true,
		answered: true, agentOnly: true, agent: ev.AgentID, acceptedAt: ev.At, agentSlot: slotOf(ev.At)}
	cs.cur, cs.lastAnswered = seg, seg
	a.bucket(dimAgent, seg.agent, seg.agentSlot).answered++
	a.agentOf(seg.agent).lastSeg = seg
	if cs.pendingHold > 0 && !cs.holdApplied {
		a.addHold(cs, cs.pendingHold)
	}
}

func (a *Aggregator) agentOf(id string) *agentState {
	ag := a.agents[id]
	if ag == nil {
		ag = &agentState{}
		a.agents[id] = ag
	}
	return ag
}

// endTalk closes an answered segment's talk at t.
func (a *Aggregator) endTalk(seg *segment, t time.Time) {
	if seg == nil || !seg.answered || seg.talkDone {
		return
	}
	seg.talkDone = true
	talk := t.Sub(seg.acceptedAt)
	if !seg.agentOnly {
		qb := a.bucket(dimQueue, seg.queue, seg.slot)
		qb.talk += talk
		qb.handled++
	}
	ab := a.bucket(dimAgent, seg.agent, seg.agentSlot)
	ab.talk += talk
	ab.handled++
}

func (a *Aggregator) onAgentState(ev store.QueueEvent) {
	ag := a.agentOf(ev.AgentID)
	if ag.state != "" && ev.At.After(ag.since) {
		a.addStateSpan(ev.AgentID, ag.state, ag.reason, ag.since, ev.At)
		if ag.state == "wrap-up" && ag.lastSeg != nil {
			d := ev.At.Sub(ag.since)
			if !ag.lastSeg.agentOnly {
				a.bucket(dimQueue, ag.lastSeg.queue, ag.lastSeg.slot).wrap += d
			}
			a.bucket(dimAgent, ag.lastSeg.agent, ag.lastSeg.agentSlot).wrap += d
		}
	}
	ag.state, ag.reason, ag.since = ev.State, ev.Reason, ev.At
	if ag.state == "not-ready" && ag.reason == "" {
		ag.reason = "unspecified"
	}
}

// addStateSpan adds [from, to) in state to the agent's buckets, split at
// quarter hours.
func (a *Aggregator) addStateSpan(agent, state, reason string, from, to time.Time) {
	for t := from; t.Before(to); {
		slot := slotOf(t)
		end := slotStart(slot + 1)
		if end.After(to) {
			end = to
		}
		d := end.Sub(t)
		b := a.bucket(dimAgent, agent, slot)
		if state != "logged-out" {
			b.login += d
		}
		switch state {
		case "ready":
			b.ready += d
		case "not-ready":
			b.addNotReady(reason, d)
		case "reserved":
			b.reserved += d
		case "busy":
			b.busy += d
		case "wrap-up":
			b.wrapUp += d
		}
		t = end
	}
}

func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s*1000)) * time.Millisecond
}

// cdrWait is a CDR's wait: wait_seconds when it queued, else from start
// to answer (or end).
func cdrWait(c store.CDR) time.Duration {
	if c.EnqueuedAt != nil {
		return seconds(c.WaitSeconds)
	}
	if c.Answer != nil {
		return c.Answer.Sub(c.Start)
	}
	return c.End.Sub(c.Start)
}

// AddCDR applies one call detail record; a CDR id already applied is
// ignored. It reports whether c was applied.
func (a *Aggregator) AddCDR(c store.CDR) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.flush()
	if _, ok := a.cdrs[c.ID]; ok {
		return false
	}
	a.cdrs[c.ID] = struct{}{}
	slot := slotOf(c.Start)
	if c.Number != "" {
		a.addCDRTo(a.bucket(dimNumber, c.Number, slot), c)
	}
	if c.Trunk != "" {
		a.addCDRTo(a.bucket(dimTrunk, c.Trunk, slot), c)
	}
	for _, tr := range c.Transfers {
		if tr.By != "" {
			a.bucket(dimAgent, tr.By, slotOf(tr.At)).transfers++
		}
	}
	if c.Survey != nil && c.AgentID != "" && c.Answer != nil {
		b := a.bucket(dimAgent, c.AgentID, slotOf(*c.Answer))
		b.surveySum += int64(*c.Survey)
		b.surveyCount++
	}
	hold := seconds(c.HoldSeconds)
	if cs := a.calls[c.ID]; cs != nil {
		if cs.lastAnswered != nil {
			a.addHold(cs, hold)
		} else {
			cs.pendingHold = hold
		}
		if cs.cur == nil || cs.cur.ended && (!cs.cur.answered || cs.cur.talkDone) {
			delete(a.calls, c.ID) // nothing more can happen to it
		}
	} else if hold > 0 {
		a.calls[c.ID] = &callState{pendingHold: hold, pendingSince: c.Start}
	}
	return true
}

func (a *Aggregator) addHold(cs *callState, hold time.Duration) {
	if cs.holdApplied || hold <= 0 {
		return
	}
	cs.holdApplied = true
	seg := cs.lastAnswered
	if !seg.agentOnly {
		a.bucket(dimQueue, seg.queue, seg.slot).hold += hold
	}
	a.bucket(dimAgent, seg.agent, seg.agentSlot).hold += hold
}

func (a *Aggregator) addCDRTo(b *bucket, c store.CDR) {
	wait := cdrWait(c)
	b.entered++
	b.longestWait = max(b.longestWait, wait)
	inSL := wait <= a.cfg.ServiceLevelThreshold
	switch c.Outcome {
	case store.OutcomeAnswered:
		b.answered++
		b.waitAnswered += wait
		if inSL {
			b.answeredInSL++
		}
		b.handled++
		b.talk += seconds(c.TalkSeconds)
		b.hold += seconds(c.HoldSeconds)
		b.wrap += seconds(c.WrapSeconds)
	case store.OutcomeAbandoned:
		if wait < a.cfg.ShortAbandon {
			b.shortAbandoned++
			b.waitShort += wait
			if inSL {
				b.shortInSL++
			}
		} else {
			b.abandoned++
			b.waitAbandoned += wait
			if inSL {
				b.abandonedInSL++
			}
		}
	case store.OutcomeOverflowed:
		b.overflowed++
	case store.OutcomeCallback:
		b.callbacks++
	case store.OutcomeRejected:
		b.rejected++
	case store.OutcomeFailed:
		b.failed++
	case store.OutcomeVoicemail:
		b.voicemail++
	case store.OutcomeSelfServe:
		b.selfService++
	}
	b.transfers += int64(len(c.Transfers))
	if c.Survey != nil {
		b.surveySum += int64(*c.Survey)
		b.surveyCount++
	}
}
