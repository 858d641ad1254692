package acd

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"
)

// The property test drives the engine with long random sequences of
// commands and clock advances, and after every step checks the engine
// against an independent brute-force model of eligibility:
//
//   - no agent is offered two calls, no call two agents (ring-all excepted),
//     and the reservation state is consistent on both sides;
//   - at every offer, the agent is ready, eligible (skills with relaxation,
//     penalties with escalation) and not in wrap-up, and no better call
//     (priority, then FIFO) it is eligible for is left waiting;
//   - after every step, no ready agent is eligible for a waiting call;
//   - every call ends exactly once (answered and ended, abandoned, or
//     overflowed), checked after draining everything at the end.
//
// ACD_PROPERTY_SEEDS and ACD_PROPERTY_STEPS lengthen the run.
func TestPropertyRandomTraffic(t *testing.T) {
	seeds, steps := envInt("ACD_PROPERTY_SEEDS", 12), envInt("ACD_PROPERTY_STEPS", 2500)
	if testing.Short() {
		seeds, steps = 3, 1000
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			runProperty(t, uint64(seed), steps, true)
		})
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

var propSkills = []Skill{"en", "es", "fr", "billing"}

type model struct {
	t      *testing.T
	h      *harness
	r      *rand.Rand
	skills map[AgentID]map[Skill]int
	queues map[QueueID]QueueConfig
	qids   []QueueID
	aids   []AgentID
	callSk map[CallID][]SkillReq
	ends   map[CallID]int
	calls  []CallID
	wrap   map[AgentID]time.Time // wrap-up end by the model's own account
	next   int
	step   int
	op     int
	offers int
}

func (m *model) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("step %d (op %d): "+format, append([]any{m.step, m.op}, args...)...)
}

// runProperty runs one random sequence; busy asks it to check that the
// sequence really exercised routing (fixed seeds do, fuzzed ones may not).
func runProperty(t *testing.T, seed uint64, steps int, busy bool) {
	h := newHarness(t)
	h.e.rng = rand.New(rand.NewPCG(seed, 99))
	m := &model{t: t, h: h, r: rand.New(rand.NewPCG(seed, 7)),
		skills: map[AgentID]map[Skill]int{}, queues: map[QueueID]QueueConfig{},
		callSk: map[CallID][]SkillReq{}, ends: map[CallID]int{}, wrap: map[AgentID]time.Time{}}
	for i := range 12 {
		id := AgentID(fmt.Sprint("a", i))
		m.aids = append(m.aids, id)
		m.setAgent(id)
	}
	for i := range 4 {
		id := QueueID(fmt.Sprint("q", i))
		m.qids = append(m.qids, id)
		m.setQueue(id)
	}
	h.e.onOffer = m.checkOffer
	for m.step = 0; m.step < steps; m.step++ {
		m.randomStep()
		m.checkState()
	}
	m.drainAll()
	for _, id := range m.calls {
		if m.ends[id] != 1 {
			t.Fatalf("call %s ended %d times", id, m.ends[id])
		}
	}
	if len(h.e.calls) != 0 || len(h.e.timers) != 0 {
		t.Fatalf("after draining: %d calls, %d timers left", len(h.e.calls), len(h.e.timers))
	}
	if busy && m.offers < steps/20 {
		t.Fatalf("only %d offers in %d steps: the run exercises too little", m.offers, steps)
	}
}

func (m *model) setAgent(id AgentID) {
	sk := map[Skill]int{}
	for _, s := range propSkills {
		if m.r.IntN(3) > 0 {
			sk[s] = m.r.IntN(6)
		}
	}
	var wrap time.Duration
	if m.r.IntN(4) == 0 {
		wrap = time.Duration(m.r.IntN(20)+1) * time.Second
	}
	m.skills[id] = sk
	m.record(m.h.e.SetAgent(AgentConfig{ID: id, Skills: sk, WrapUp: wrap}))
}

func (m *model) randTarget() Target {
	switch m.r.IntN(3) {
	case 0:
		return Target{Kind: TargetCallback}
	case 1:
		return Target{Kind: TargetQueue, Dest: "elsewhere"}
	}
	return Target{}
}

func (m *model) setQueue(id QueueID) {
	r := m.r
	cfg := QueueConfig{ID: id, Strategy: Strategy(r.IntN(int(numStrategies)))}
	for _, a := range m.aids {
		if r.IntN(2) == 0 {
			cfg.Members = append(cfg.Members, Member{Agent: a, Penalty: r.IntN(3), Weight: r.IntN(4)})
		}
	}
	if r.IntN(2) == 0 {
		cfg.Skills = []SkillReq{{Skill: propSkills[r.IntN(len(propSkills))], MinLevel: r.IntN(4)}}
	}
	if r.IntN(2) == 0 {
		cfg.RestrictPenalty, cfg.MaxPenalty = true, r.IntN(2)
	}
	after := time.Duration(0)
	for range r.IntN(3) {
		after += time.Duration(r.IntN(40)+1) * time.Second
		relax := 0
		if n := len(cfg.Escalations); n > 0 {
			relax = cfg.Escalations[n-1].SkillRelax
		}
		cfg.Escalations = append(cfg.Escalations, Escalation{After: after, MaxPenalty: r.IntN(3), SkillRelax: relax + r.IntN(2)})
	}
	cfg.RingTimeout = time.Duration(r.IntN(30)+5) * time.Second
	cfg.RetryDelay = time.Duration(r.IntN(10)) * time.Second
	cfg.WrapUp = time.Duration(r.IntN(3)) * 10 * time.Second
	if r.IntN(2) == 0 {
		cfg.MaxWait = time.Duration(r.IntN(300)+30) * time.Second
	}
	if r.IntN(3) == 0 {
		cfg.MaxLen = r.IntN(10) + 1
	}
	cfg.JoinEmpty, cfg.LeaveEmpty = EmptyPolicy(r.IntN(3)), EmptyPolicy(r.IntN(3))
	cfg.OnMaxWait, cfg.OnFull, cfg.OnNoAgents = m.randTarget(), m.randTarget(), m.randTarget()
	cfg.NoAnswerLimit = r.IntN(4)
	cfg.KeepEnteredAt = r.IntN(2) == 0
	if r.IntN(2) == 0 {
		cfg.StickyLookback, cfg.StickyWait = time.Hour, time.Duration(r.IntN(60)+1)*time.Second
	}
	m.queues[id] = cfg
	m.record(m.h.e.SetQueue(cfg))
}

// record checks a command's outcome and books the calls' ends.
func (m *model) record(evs []Event, err error) {
	m.t.Helper()
	if err != nil {
		m.fatalf("unexpected error %v", err)
	}
	m.book(evs)
}

func (m *model) book(evs []Event) {
	for _, ev := range evs {
		switch ev.Kind {
		case EventCallEnded, EventAbandoned:
			m.ends[ev.Call]++
		case EventOverflow:
			if ev.Target.Kind != TargetCallback {
				m.ends[ev.Call]++
			}
		case EventAgentState:
			if ev.To == StateWrapUp {
				m.wrap[ev.Agent] = ev.Until
			}
		}
	}
}

// agentCmd runs an agent command that may be illegal: then it must say so
// and change nothing.
func (m *model) agentCmd(id AgentID, endsWrap bool, f func() ([]Event, error)) {
	if endsWrap {
		// The agent ends wrap-up early by its own choice.
		delete(m.wrap, id)
	}
	before, _ := m.h.e.Agent(id)
	evs, err := f()
	if err != nil {
		if !errors.Is(err, ErrIllegalTransition) {
			m.fatalf("agent %s: %v", id, err)
		}
		after, _ := m.h.e.Agent(id)
		// Timers fired at the start of the command may have moved the
		// agent; compare only when none fired.
		if len(evs) == 0 && !reflect.DeepEqual(before, after) {
			m.fatalf("illegal command changed agent %s: %+v -> %+v", id, before, after)
		}
	}
	m.book(evs)
}

func (m *model) pickCall(ok func(c *call) bool) *call {
	var cs []*call
	for _, id := range m.calls {
		if c := m.h.e.calls[id]; c != nil && ok(c) {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return nil
	}
	return cs[m.r.IntN(len(cs))]
}

func (m *model) randomStep() {
	e, r := m.h.e, m.r
	a := m.aids[r.IntN(len(m.aids))]
	n := r.IntN(100)
	m.op = n
	switch {
	case n < 18:
		m.next++
		id := CallID(fmt.Sprint("c", m.next))
		var sk []SkillReq
		if r.IntN(3) == 0 {
			sk = []SkillReq{{Skill: propSkills[r.IntN(len(propSkills))], MinLevel: r.IntN(5)}}
		}
		var caller string
		if r.IntN(2) == 0 {
			caller = fmt.Sprint("+1", r.IntN(8))
		}
		m.callSk[id] = sk
		m.calls = append(m.calls, id)
		m.record(e.EnqueueCall(Call{ID: id, Queue: m.qids[r.IntN(len(m.qids))], Priority: r.IntN(3),
			Skills: sk, Caller: caller, EnteredAt: e.now.Add(-time.Duration(r.IntN(120)) * time.Second)}))
	case n < 21:
		m.next++
		id := CallID(fmt.Sprint("o", m.next))
		var sk []SkillReq
		if r.IntN(2) == 0 {
			sk = []SkillReq{{Skill: propSkills[r.IntN(len(propSkills))], MinLevel: r.IntN(3)}}
		}
		m.callSk[id] = sk
		m.calls = append(m.calls, id)
		m.record(e.RequestOutboundAgent(OutboundRequest{ID: id, Queue: m.qids[r.IntN(len(m.qids))], Priority: r.IntN(3), Skills: sk}))
	case n < 26:
		if c := m.pickCall(func(c *call) bool { return c.state != csConnected }); c != nil {
			m.record(e.Abandon(c.id))
		}
	case n < 28:
		if c := m.pickCall(func(c *call) bool {
			return c.kind == CallInbound && (c.state == csWaiting || c.state == csParked)
		}); c != nil {
			m.record(e.RequestCallback(c.id, "+199"))
		}
	case n < 39:
		if c := m.pickCall(func(c *call) bool { return c.state == csOffered }); c != nil {
			m.record(e.OfferAccepted(c.id, c.ringing[r.IntN(len(c.ringing))].id))
		}
	case n < 42:
		// Any agent picks up a ringing caller: legal from ready,
		// not-ready and wrap-up; otherwise refused with nothing changed.
		if c := m.pickCall(func(c *call) bool { return c.state == csOffered && c.kind == CallInbound }); c != nil {
			m.agentCmd(a, true, func() ([]Event, error) { return e.PickUp(c.id, a, Origin{Kind: ByAgent, By: string(a)}) })
		}
	case n < 47:
		if c := m.pickCall(func(c *call) bool { return c.state == csOffered }); c != nil {
			m.record(e.OfferFailed(c.id, c.ringing[r.IntN(len(c.ringing))].id, "rejected"))
		}
	case n < 60:
		if c := m.pickCall(func(c *call) bool { return c.state == csConnected }); c != nil {
			m.record(e.CallEnded(c.id))
		}
	case n < 64:
		m.agentCmd(a, false, func() ([]Event, error) { return e.Login(a, Origin{}) })
	case n < 66:
		m.agentCmd(a, true, func() ([]Event, error) { return e.Logout(a, Origin{Kind: BySupervisor, By: "sup"}) })
	case n < 74:
		m.agentCmd(a, true, func() ([]Event, error) { return e.SetReady(a, Origin{}) })
	case n < 77:
		m.agentCmd(a, true, func() ([]Event, error) { return e.SetNotReady(a, "break", Origin{}) })
	case n < 78:
		m.agentCmd(a, true, func() ([]Event, error) { return e.BeginInternal(a, Origin{}) })
	case n < 80:
		m.agentCmd(a, false, func() ([]Event, error) { return e.EndInternal(a, Origin{}) })
	case n < 81:
		m.setAgent(a)
	case n < 82:
		m.setQueue(m.qids[r.IntN(len(m.qids))])
	default:
		m.h.clk.Advance(time.Duration(r.IntN(15000)) * time.Millisecond)
		m.book(e.Tick())
	}
}

// eligible is the brute-force model of "agent a may take waiting call c
// now", computed from the configurations, not from the engine's indexes.
func (m *model) eligible(c *call, a *agent) bool {
	switch c.state {
	case csParked:
		return c.sticky == a
	case csWaiting:
	default:
		return false
	}
	if c.declinedAll || c.declinedBy == a {
		return false
	}
	cfg := m.queues[c.q.id]
	i := slices.IndexFunc(cfg.Members, func(mb Member) bool { return mb.Agent == a.id })
	if i < 0 {
		return false
	}
	waited := m.h.e.now.Sub(c.enteredAt)
	maxPen, relax := math.MaxInt, 0
	if cfg.RestrictPenalty {
		maxPen = cfg.MaxPenalty
	}
	for _, r := range cfg.Escalations {
		if waited >= r.After {
			if cfg.RestrictPenalty {
				maxPen = max(maxPen, r.MaxPenalty)
			}
			relax = r.SkillRelax
		}
	}
	if cfg.Members[i].Penalty > maxPen {
		return false
	}
	sk := m.skills[a.id]
	for _, req := range append(slices.Clone(cfg.Skills), m.callSk[c.id]...) {
		l, ok := sk[req.Skill]
		if !ok || l < req.MinLevel-relax {
			return false
		}
	}
	return true
}

func (m *model) checkOffer(c *call, agents []*agent) {
	m.t.Helper()
	m.offers++
	e := m.h.e
	if len(agents) == 0 || (len(agents) > 1 && c.q.cfg.Strategy != StrategyRingAll) {
		m.fatalf("call %s offered to %d agents", c.id, len(agents))
	}
	for _, a := range agents {
		if a.state != StateReady || a.call != nil {
			m.fatalf("offer of %s to %s in state %s", c.id, a.id, a.state)
		}
		if until, ok := m.wrap[a.id]; ok && e.now.Before(until) {
			m.fatalf("offer of %s to %s in wrap-up until %v", c.id, a.id, until)
		}
		if c.state == csNew {
			// Sticky agent taken at once: a member of the queue.
			if a.memberOf(c.q) == nil {
				m.fatalf("sticky offer of %s to non-member %s", c.id, a.id)
			}
		} else if !m.eligible(c, a) {
			m.fatalf("offer of %s to ineligible %s", c.id, a.id)
		}
		for _, other := range e.calls {
			if other != c && callBetter(other, c) && m.eligible(other, a) {
				m.fatalf("offer of %s (prio %d, entered %v) to %s overtakes %s (prio %d, entered %v)",
					c.id, c.prio, c.enteredAt, a.id, other.id, other.prio, other.enteredAt)
			}
		}
	}
}

func (m *model) checkState() {
	m.t.Helper()
	e := m.h.e
	ringing := map[*agent]*call{}
	for _, c := range e.calls {
		switch c.state {
		case csOffered:
			if len(c.ringing) == 0 {
				m.fatalf("call %s offered to nobody", c.id)
			}
			for _, a := range c.ringing {
				if prev := ringing[a]; prev != nil {
					m.fatalf("agent %s rings for %s and %s", a.id, prev.id, c.id)
				}
				ringing[a] = c
				if a.state != StateReserved || a.call != c {
					m.fatalf("agent %s rings for %s but is %s with %v", a.id, c.id, a.state, a.call)
				}
			}
		case csConnected:
			if c.agent.state != StateBusy || c.agent.call != c {
				m.fatalf("call %s connected to %s in state %s", c.id, c.agent.id, c.agent.state)
			}
		case csWaiting:
			if c.list.h[c.hidx] != c {
				m.fatalf("call %s: heap index broken", c.id)
			}
		case csParked:
			if c.sticky.sticky[c.hidx] != c {
				m.fatalf("call %s: parked index broken", c.id)
			}
		default:
			m.fatalf("call %s in state %d", c.id, c.state)
		}
	}
	for _, a := range e.agents {
		if a.state == StateReserved && ringing[a] == nil {
			m.fatalf("agent %s reserved for nothing", a.id)
		}
		for _, mb := range a.members {
			if inHeap := mb.hidx >= 0; inHeap != (a.state == StateReady && mb.b != nil) {
				m.fatalf("agent %s (%s) in ready heap of %s: %v", a.id, a.state, mb.q.id, inHeap)
			}
		}
		if a.state != StateReady {
			continue
		}
		for _, c := range e.calls {
			if m.eligible(c, a) {
				m.fatalf("ready agent %s idle while eligible call %s waits in %s", a.id, c.id, c.q.id)
			}
		}
	}
	for _, q := range e.queues {
		nl, na := 0, 0
		for _, mb := range q.members {
			nl += b2i(loggedIn(mb.a.state))
			na += b2i(available(mb.a.state))
		}
		if nl != q.nLoggedIn || na != q.nAvailable {
			m.fatalf("queue %s counters %d/%d, want %d/%d", q.id, q.nLoggedIn, q.nAvailable, nl, na)
		}
	}
}

// drainAll ends every remaining call so that each call's end is counted.
func (m *model) drainAll() {
	e := m.h.e
	for _, id := range m.calls {
		c := e.calls[id]
		if c == nil {
			continue
		}
		if c.state == csConnected {
			m.record(e.CallEnded(id))
		} else {
			m.record(e.Abandon(id))
		}
		m.checkState()
	}
	for _, a := range m.aids {
		if st, _ := e.Agent(a); st.State == StateBusy {
			m.record(e.EndInternal(a, Origin{}))
		}
		if st, _ := e.Agent(a); st.State != StateLoggedOut {
			m.record(e.Logout(a, Origin{}))
		}
	}
}

// FuzzEngine runs the property model from a fuzzed seed and length; the
// seed corpus runs as a normal test.
func FuzzEngine(f *testing.F) {
	f.Add(uint64(100), uint16(800))
	f.Add(uint64(7), uint16(1500))
	f.Add(uint64(1<<40), uint16(300))
	f.Fuzz(func(t *testing.T, seed uint64, steps uint16) {
		runProperty(t, seed, int(steps%3000)+100, false)
	})
}
