package acd

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
)

type busyPair struct {
	c CallID
	a AgentID
}

// largeCenter builds 10,000 agents (3 skills each of 20, levels 1-5), 200
// queues (one skill each, mixed strategies, penalties 0-2, some with an
// escalation rule), every agent a member of 3 queues it has the skill for,
// 10,000 calls being served and 50,000 waiting (10% priority, 20% with an
// extra call-level skill).
func largeCenter(tb testing.TB) (*Engine, *VirtualClock, []busyPair, *callMaker) {
	const (
		nAgents = 10000
		nQueues = 200
		nSkills = 20
		nWait   = 50000
	)
	clk := NewVirtualClock(t0)
	e, err := New(clk, WithRand(rand.New(rand.NewPCG(1, 1))))
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	skill := func(i int) Skill { return Skill("s" + strconv.Itoa(i)) }
	bySkill := make([][]QueueID, nSkills)
	cfgs := make([]QueueConfig, nQueues)
	for i := range cfgs {
		id := QueueID("q" + strconv.Itoa(i))
		cfgs[i] = QueueConfig{ID: id, Strategy: Strategy(i % int(numStrategies)),
			Skills: []SkillReq{{Skill: skill(i % nSkills), MinLevel: 1 + i%2}}, RingTimeout: time.Hour}
		if i%3 == 0 {
			cfgs[i].RestrictPenalty = true
			cfgs[i].Escalations = []Escalation{{After: 30 * time.Second, MaxPenalty: 2, SkillRelax: 1}}
		}
		if cfgs[i].Strategy == StrategyRingAll {
			cfgs[i].Strategy = StrategyLongestIdle
		}
		bySkill[i%nSkills] = append(bySkill[i%nSkills], id)
	}
	index := map[QueueID]int{}
	for i, c := range cfgs {
		index[c.ID] = i
	}
	for i := range nAgents {
		id := AgentID("a" + strconv.Itoa(i))
		sk := map[Skill]int{}
		for len(sk) < 3 {
			sk[skill(r.IntN(nSkills))] = 1 + r.IntN(5)
		}
		if _, err := e.SetAgent(AgentConfig{ID: id, Skills: sk}); err != nil {
			tb.Fatal(err)
		}
		// Three queues among those of its skills.
		var mine []QueueID
		for s := range nSkills {
			if _, ok := sk[skill(s)]; ok {
				mine = append(mine, bySkill[s]...)
			}
		}
		for range 3 {
			q := mine[r.IntN(len(mine))]
			c := &cfgs[index[q]]
			if slices.ContainsFunc(c.Members, func(m Member) bool { return m.Agent == id }) {
				continue
			}
			c.Members = append(c.Members, Member{Agent: id, Penalty: r.IntN(3), Weight: 1 + r.IntN(3)})
		}
	}
	for _, c := range cfgs {
		if _, err := e.SetQueue(c); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range nAgents {
		id := AgentID("a" + strconv.Itoa(i))
		e.Login(id, Origin{})
		e.SetReady(id, Origin{})
	}
	mk := newCallMaker(r, nQueues, nSkills)
	var busy []busyPair
	for i := 0; len(e.calls) < nWait+len(busy); i++ {
		clk.Advance(10 * time.Millisecond)
		evs, err := e.EnqueueCall(mk.call(CallID("c" + strconv.Itoa(i))))
		if err != nil {
			tb.Fatal(err)
		}
		busy = acceptOffers(evs, busy)
	}
	return e, clk, busy, mk
}

// callMaker draws random calls without allocating: queue IDs and
// call-level skill requirements are made once.
type callMaker struct {
	r      *rand.Rand
	queues []QueueID
	reqs   [][]SkillReq
}

func newCallMaker(r *rand.Rand, nQueues, nSkills int) *callMaker {
	m := &callMaker{r: r}
	for i := range nQueues {
		m.queues = append(m.queues, QueueID("q"+strconv.Itoa(i)))
	}
	for s := range nSkills {
		for l := 1; l <= 3; l++ {
			m.reqs = append(m.reqs, []SkillReq{{Skill: Skill("s" + strconv.Itoa(s)), MinLevel: l}})
		}
	}
	return m
}

func (m *callMaker) call(id CallID) Call {
	c := Call{ID: id, Queue: m.queues[m.r.IntN(len(m.queues))]}
	if m.r.IntN(10) == 0 {
		c.Priority = 1
	}
	if m.r.IntN(5) == 0 {
		c.Skills = m.reqs[m.r.IntN(len(m.reqs))]
	}
	return c
}

func acceptOffers(evs []Event, busy []busyPair) []busyPair {
	for _, ev := range evs {
		if ev.Kind == EventOffer {
			busy = append(busy, busyPair{ev.Call, ev.Agent})
		}
	}
	return busy
}

// BenchmarkRouteLargeCenter: 10,000 agents, 200 queues, 50,000 waiting
// calls, mixed skills. Each iteration ends the oldest call in service: the
// agent becomes ready and the engine decides at once which waiting call it
// gets (the timed decision). The harness then answers that offer and
// enqueues a new caller (reusing the ended call's ID) to keep 50,000
// waiting. p50-ns and p99-ns are the latencies of the deciding CallEnded.
func BenchmarkRouteLargeCenter(b *testing.B) {
	e, clk, busy, mk := largeCenter(b)
	for _, p := range busy {
		if _, err := e.OfferAccepted(p.c, p.a); err != nil {
			b.Fatal(err)
		}
	}
	ring := busy // FIFO of calls in service
	head := 0
	lat := make([]time.Duration, 0, 1<<21)
	enq := make([]time.Duration, 0, 1<<21)
	b.ReportAllocs()
	for b.Loop() {
		p := ring[head]
		head++
		if head == len(ring) {
			head = 0
		}
		clk.Advance(time.Millisecond)
		t := time.Now()
		evs, err := e.CallEnded(p.c)
		d := time.Since(t)
		if err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, d)
		}
		var next busyPair
		for _, ev := range evs {
			if ev.Kind == EventOffer {
				next = busyPair{ev.Call, ev.Agent}
			}
		}
		if next.a != "" {
			if _, err := e.OfferAccepted(next.c, next.a); err != nil {
				b.Fatal(err)
			}
		}
		in := mk.call(p.c)
		t = time.Now()
		evs, err = e.EnqueueCall(in)
		d = time.Since(t)
		if err != nil {
			b.Fatal(err)
		}
		if len(enq) < cap(enq) {
			enq = append(enq, d)
		}
		for _, ev := range evs {
			if ev.Kind == EventOffer {
				if _, err := e.OfferAccepted(ev.Call, ev.Agent); err != nil {
					b.Fatal(err)
				}
				if next.a == "" {
					next = busyPair{ev.Call, ev.Agent}
				}
			}
		}
		// Keep the ring of calls in service full: the slot just freed
		// takes the call that was decided.
		if next.a != "" {
			ring[(head+len(ring)-1)%len(ring)] = next
		} else {
			b.Fatalf("no decision after %s ended and a caller arrived", p.c)
		}
	}
	b.StopTimer()
	if waiting := len(e.calls) - len(ring); waiting < 49000 {
		b.Fatalf("only %d calls waiting", waiting)
	}
	if len(e.calls) < 55000 {
		b.Fatalf("only %d calls left in the engine", len(e.calls))
	}
	slices.Sort(lat)
	slices.Sort(enq)
	pct := func(s []time.Duration, p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Nanoseconds())
	}
	b.ReportMetric(pct(lat, 0.50), "p50-ns")
	b.ReportMetric(pct(lat, 0.99), "p99-ns")
	b.ReportMetric(pct(enq, 0.99), "enqueue-p99-ns")
	b.ReportMetric(pct(lat, 0.90), "p90-ns")
	b.ReportMetric(pct(lat, 0.999), "p999-ns")
}
