package acd

import "slices"

// drain takes the decisions that the state changes of the current command
// or timer call for. Newly ready agents pick their best call first (so a
// call whose eligibility just grew cannot overtake an older call such an
// agent could take); then queues that became empty let their callers go;
// then calls whose eligibility grew pick an agent, best call first.
//
// Agents freed in the same instant (wrap-ups ending together, a batch of
// timers) are served in a fair, fixed order: the one idle longest first
// (earliest IdleSince, the end of its last call or its login), then the
// one configured first. Without it they would be served in the order
// their timers happened to be armed.
func (e *Engine) drain() {
	for len(e.wAgents)+len(e.wLeave)+len(e.wCalls) > 0 {
		if len(e.wAgents) > 1 {
			slices.SortStableFunc(e.wAgents, func(x, y *agent) int {
				if c := x.idleSince.Compare(y.idleSince); c != 0 {
					return c
				}
				return int(x.seq - y.seq)
			})
		}
		for i := 0; i < len(e.wAgents); i++ {
			if a := e.wAgents[i]; a.state == StateReady {
				e.routeAgent(a)
			}
		}
		clear(e.wAgents)
		e.wAgents = e.wAgents[:0]
		for i := 0; i < len(e.wLeave); i++ {
			e.leave(e.wLeave[i])
		}
		clear(e.wLeave)
		e.wLeave = e.wLeave[:0]
		if len(e.wCalls) > 0 {
			slices.SortFunc(e.wCalls, func(a, b *call) int {
				switch {
				case callBetter(a, b):
					return -1
				case callBetter(b, a):
					return 1
				}
				return 0
			})
			for i := 0; i < len(e.wCalls); i++ {
				if c := e.wCalls[i]; c.state == csWaiting {
					e.routeCall(c)
				}
			}
			clear(e.wCalls)
			e.wCalls = e.wCalls[:0]
		}
	}
}

// routeAgent offers a ready agent the best call it may take: among the
// calls parked for it (sticky) and the heads of the call lists of its
// queues, the highest priority, then the earliest entry. Each list is
// scanned in FIFO order only while its calls could still beat the best so
// far and could still be eligible (older calls have escalated at least as
// far as younger ones), so a decision costs O(queues x lists) in the usual
// case.
func (e *Engine) routeAgent(a *agent) {
	var best *call
	for _, c := range a.sticky {
		if best == nil || callBetter(c, best) {
			best = c
		}
	}
	for _, m := range a.members {
		if m.stepFrom < 0 {
			continue
		}
		q := m.q
		maxRelax := q.steps[len(q.steps)-1].relax
		for i := range q.heads {
			hd := &q.heads[i]
			if hd.n == 0 {
				continue
			}
			if best != nil && !hd.better(best) {
				if hd.prio < best.prio {
					break
				}
				continue
			}
			// Not even the most relaxed step admits the agent?
			if hd.skill0 >= 0 {
				if lv := a.level(hd.skill0); lv < 0 || lv < int(hd.min0)-maxRelax {
					continue
				}
			}
			if hd.nreq > 1 && !classOK(a, q.lists[i].class, maxRelax) {
				continue
			}
			l := q.lists[i]
			c, ok := orderedScan(l.h, callLess, &e.fr, func(c *call) verdict {
				if best != nil && !callBetter(c, best) {
					return vStop
				}
				if c.step < m.stepFrom || !classOK(a, c.class, q.steps[c.step].relax) {
					return vStop
				}
				if c.declinedAll || c.declinedBy == a {
					return vSkip
				}
				return vTake
			})
			if ok {
				best = c
			}
		}
	}
	if best != nil {
		e.offer1(best, a)
		return
	}
	e.joinRingAll(a)
}

// joinRingAll adds a ready agent who found no waiting call to the offer
// of an inbound call already ringing under ring-all in one of its queues
// (the best such call: priority, then FIFO), when the agent is eligible
// for it and its penalty is no worse than the agents ringing: ring-all
// rings every eligible agent, including those who become ready while the
// call rings. The joining agent rings until the offer's end (the same
// Until) and the first to answer wins, as for the others.
func (e *Engine) joinRingAll(a *agent) {
	var best *call
	for _, m := range a.members {
		q := m.q
		if q.cfg.Strategy != StrategyRingAll || m.stepFrom < 0 || q.nLive == 0 {
			continue
		}
		for _, c := range e.calls {
			if c.q != q || c.state != csOffered || c.kind != CallInbound || c.declinedAll || c.declinedBy == a ||
				m.stepFrom > c.step || !classOK(a, c.class, q.steps[c.step].relax) || slices.Contains(c.ringing, a) ||
				slices.Contains(c.refused, a) {
				continue
			}
			worse := false
			for _, r := range c.ringing {
				if rm := r.memberOf(q); rm != nil && rm.penalty < m.penalty {
					worse = true
					break
				}
			}
			if !worse && (best == nil || callBetter(c, best)) {
				best = c
			}
		}
	}
	if best == nil {
		return
	}
	q := best.q
	if m := a.memberOf(q); m != nil {
		q.rrSeq++
		m.lastOffer = q.rrSeq
	}
	best.ringing = append(best.ringing, a)
	a.call = best
	e.setState(a, StateReserved, BusyInbound, "", Origin{Kind: BySystem})
	ev := e.callEv(EventOffer, best, a)
	ev.Until = best.offerUntil
	e.emit(ev)
}

// fits reports whether ready member m may take waiting call c beyond the
// queue's own criteria (already met by m's bucket): the call's skills and
// the retry delay after a failed offer.
func fits(m *member, c *call) bool {
	return c.declinedBy != m.a && classOK(m.a, c.class, m.q.steps[c.step].relax)
}

// routeCall offers a waiting call to the best ready, eligible agent(s) of
// its queue: the lowest penalty first, then the strategy's order.
func (e *Engine) routeCall(c *call) {
	if c.declinedAll {
		return
	}
	q := c.q
	bs := q.buckets
	for i := 0; i < len(bs); {
		j := i
		for j < len(bs) && bs[j].penalty == bs[i].penalty {
			j++
		}
		group := bs[i:j]
		i = j
		switch q.cfg.Strategy {
		case StrategyRingAll, StrategyRandom, StrategyWeightedRandom:
			ms := e.scratchM[:0]
			for _, b := range group {
				if b.stepFrom > c.step {
					continue
				}
				for _, m := range b.h {
					if fits(m, c) {
						ms = append(ms, m)
					}
				}
			}
			e.scratchM = ms
			if len(ms) == 0 {
				continue
			}
			as := e.scratchA[:0]
			switch q.cfg.Strategy {
			case StrategyRingAll:
				// Heap order is the agent's sequence: deterministic.
				slices.SortFunc(ms, func(x, y *member) int { return int(x.a.seq - y.a.seq) })
				for _, m := range ms {
					as = append(as, m.a)
				}
			case StrategyRandom:
				as = append(as, ms[e.rng.IntN(len(ms))].a)
			default:
				total := 0
				for _, m := range ms {
					total += m.weight
				}
				r := e.rng.IntN(total)
				for _, m := range ms {
					if r < m.weight {
						as = append(as, m.a)
						break
					}
					r -= m.weight
				}
			}
			clear(ms)
			e.scratchA = as
			e.offer(c, as)
			clear(e.scratchA)
			return
		default:
			var best *member
			for _, b := range group {
				if b.stepFrom > c.step || len(b.h) == 0 {
					continue
				}
				m, ok := orderedScan(b.h, memberLess, &e.fr, func(m *member) verdict {
					if best != nil && !memberLess(m, best) {
						return vStop
					}
					if fits(m, c) {
						return vTake
					}
					return vSkip
				})
				if ok {
					best = m
				}
			}
			if best != nil {
				e.offer1(c, best.a)
				return
			}
		}
	}
}

func (e *Engine) offer1(c *call, a *agent) {
	as := append(e.scratchA[:0], a)
	e.scratchA = as
	e.offer(c, as)
	clear(e.scratchA)
}

// offer reserves agents for c and emits the decision. Only ring-all passes
// more than one agent.
func (e *Engine) offer(c *call, agents []*agent) {
	if e.onOffer != nil {
		e.onOffer(c, agents)
	}
	e.detach(c)
	q := c.q
	c.state = csOffered
	c.ringing = append(c.ringing[:0], agents...)
	clear(c.refused)
	c.refused = c.refused[:0]
	c.offerUntil = e.now.Add(q.ringTimeout())
	e.armCall(c)
	kind, busy := EventOffer, BusyInbound
	switch c.kind {
	case CallCallback:
		kind, busy = EventCallbackDue, BusyOutbound
	case CallOutbound:
		kind, busy = EventOutboundReserved, BusyOutbound
	}
	for _, a := range c.ringing {
		if m := a.memberOf(q); m != nil {
			q.rrSeq++
			m.lastOffer = q.rrSeq
		}
		a.call = c
		e.setState(a, StateReserved, busy, "", Origin{Kind: BySystem})
		ev := e.callEv(kind, c, a)
		ev.Until = c.offerUntil
		e.emit(ev)
	}
}

// leave applies a queue's leave-when-empty policy: its waiting callers
// overflow to OnNoAgents, oldest first.
func (e *Engine) leave(q *queue) {
	if q.cfg.LeaveEmpty == EmptyIgnore || !q.empty(q.cfg.LeaveEmpty) || q.nLive == 0 {
		return
	}
	cs := e.scratchC[:0]
	for _, l := range q.lists {
		for _, c := range l.h {
			if c.live {
				cs = append(cs, c)
			}
		}
	}
	for _, m := range q.members {
		for _, c := range m.a.sticky {
			if c.q == q && c.live {
				cs = append(cs, c)
			}
		}
	}
	slices.SortFunc(cs, func(a, b *call) int { return int(a.seq - b.seq) })
	for _, c := range cs {
		e.overflow(c, ReasonNoAgents, q.cfg.OnNoAgents)
	}
	clear(cs)
	e.scratchC = cs[:0]
}
