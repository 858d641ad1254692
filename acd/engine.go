package acd

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

type skillLevel struct {
	id    int32
	level int
}

type skillReqI struct {
	id  int32
	min int
}

// class is an interned, normalized set of call-level skill requirements;
// calls with equal requirements share one pointer.
type class struct {
	reqs []skillReqI
}

type stepRule struct {
	at     time.Duration
	maxPen int
	relax  int
}

type agent struct {
	id           AgentID
	seq          int64
	skills       []skillLevel // sorted by id
	wrapOverride time.Duration
	members      []*member

	state      State
	busy       BusyKind
	reason     string
	pending    string
	prevReason string // not-ready reason held before an internal call
	since      time.Time
	call       *call

	idleSince   time.Time
	calls       int
	talk        time.Duration
	noAnswer    int
	connectedAt time.Time
	wrapUntil   time.Time
	tm          timer
	sticky      callHeap // calls waiting for this agent (sticky)
}

type member struct {
	q         *queue
	a         *agent
	penalty   int
	weight    int
	order     int
	stepFrom  int     // first escalation step at which the queue's own criteria admit the member; -1 never
	b         *bucket // nil when stepFrom < 0
	hidx      int
	k1, k2    int64
	lastOffer int64
}

// bucket holds a queue's ready members of one penalty that become eligible
// at one escalation step, ordered by the strategy's key.
type bucket struct {
	penalty, stepFrom int
	h                 memberHeap
}

// callList holds a queue's waiting calls of one priority and one call-level
// skill class, in FIFO order. Within a list the older call has the higher
// (or equal) escalation step, which is what lets a decision stop at the
// first call an agent cannot take.
type callList struct {
	prio  int
	class *class
	h     callHeap
}

type queue struct {
	id      QueueID
	cfg     QueueConfig
	skills  []skillReqI
	steps   []stepRule
	members []*member
	buckets []*bucket   // sorted by penalty, then stepFrom
	lists   []*callList // sorted by priority, highest first

	nLoggedIn, nAvailable int
	nLive                 int // inbound callers waiting, parked or ringing
	nCalls                int // every call referring to this queue
	nCallbacks, nOutbound int
	rrSeq                 int64
}

type callState uint8

const (
	csNew callState = iota
	csWaiting
	csParked
	csOffered
	csConnected
	csEnded
)

type call struct {
	id        CallID
	kind      CallKind
	q         *queue
	prio      int
	class     *class
	caller    string
	enteredAt time.Time
	entered   int64
	queuedAt  time.Time
	seq       int64
	live      bool

	state callState
	list  *callList
	hidx  int
	step  int

	declinedBy   *agent
	declinedAll  bool
	declineUntil time.Time

	sticky      *agent
	stickyUntil time.Time

	ringing    []*agent
	agent      *agent
	offerUntil time.Time
	tm         timer
}

type stickyRec struct {
	agent AgentID
	at    time.Time
}

type stickyEntry struct {
	caller string
	at     time.Time
}

// Engine is the routing engine. Create it with [New]. It is not safe for
// concurrent use: one goroutine owns it (see the package documentation).
type Engine struct {
	clock Clock
	rng   *rand.Rand
	now   time.Time
	out   []Event

	agents map[AgentID]*agent
	queues map[QueueID]*queue
	calls  map[CallID]*call
	skills map[Skill]int32

	classes []*class
	timers  timerHeap
	tseq    uint64
	seq     int64
	free    []*call

	// Work lists filled by state changes and drained at the end of each
	// command or timer: agents that became ready, calls whose eligibility
	// grew, queues that may have become empty.
	wAgents []*agent
	wCalls  []*call
	wLeave  []*queue

	fr       []int32
	scratchM []*member
	scratchA []*agent
	scratchC []*call
	scratchR []skillReqI

	sticky     map[string]stickyRec
	stickyLog  []stickyEntry
	stickyHead int
	stickyKeep time.Duration

	// onOffer, when set by tests, sees every offer before it is made.
	onOffer func(c *call, agents []*agent)
}

// Option configures an Engine.
type Option func(*Engine) error

// WithRand sets the random source of the random strategies (for
// reproducible simulations). The default is seeded from the runtime.
func WithRand(r *rand.Rand) Option {
	return func(e *Engine) error {
		if r == nil {
			return invalid("nil rand")
		}
		e.rng = r
		return nil
	}
}

// New returns an empty engine reading time from clock.
func New(clock Clock, opts ...Option) (*Engine, error) {
	if clock == nil {
		return nil, invalid("nil clock")
	}
	e := &Engine{
		clock:  clock,
		agents: make(map[AgentID]*agent),
		queues: make(map[QueueID]*queue),
		calls:  make(map[CallID]*call),
		skills: make(map[Skill]int32),
		sticky: make(map[string]stickyRec),
	}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	if e.rng == nil {
		e.rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return e, nil
}

// begin starts a command: it resets the output and fires due timers.
func (e *Engine) begin() {
	e.out = e.out[:0]
	now := e.clock.Now()
	if now.Before(e.now) {
		now = e.now
	}
	e.fire(now)
	e.now = now
}

// fire runs every timer due at or before now, each at its own due time.
func (e *Engine) fire(now time.Time) {
	for len(e.timers) > 0 && !e.timers[0].at.After(now) {
		t := e.timers[0]
		e.timers.remove(0)
		if t.at.After(e.now) {
			e.now = t.at
		}
		if t.agent != nil {
			e.agentTimer(t.agent)
		} else {
			e.callTimer(t.call)
		}
		e.drain()
	}
}

func (e *Engine) emit(ev Event) {
	ev.At = e.now
	e.out = append(e.out, ev)
}

func (e *Engine) callEv(k EventKind, c *call, a *agent) Event {
	ev := Event{Kind: k, Call: c.id, CallKind: c.kind, Queue: c.q.id, Caller: c.caller, Priority: c.prio, EnteredAt: c.enteredAt}
	if a != nil {
		ev.Agent = a.id
	}
	return ev
}

func (e *Engine) arm(t *timer, at time.Time) {
	if t.idx >= 0 {
		e.timers.remove(t.idx)
	}
	e.tseq++
	t.at, t.seq = at, e.tseq
	e.timers.push(t)
}

func (e *Engine) disarm(t *timer) {
	if t.idx >= 0 {
		e.timers.remove(t.idx)
	}
}

// NextDeadline returns when the engine next needs [Engine.Tick], if ever.
func (e *Engine) NextDeadline() (time.Time, bool) {
	if len(e.timers) == 0 {
		return time.Time{}, false
	}
	return e.timers[0].at, true
}

// Tick fires every timer due at the clock's current time and returns the
// resulting events (valid until the next call).
func (e *Engine) Tick() []Event {
	e.begin()
	return e.out
}

// ---- configuration ----

func (e *Engine) skillID(s Skill) int32 {
	id, ok := e.skills[s]
	if !ok {
		id = int32(len(e.skills))
		e.skills[s] = id
	}
	return id
}

// normReqs interns reqs into e.scratchR, sorted by skill, keeping the
// highest minimum of a repeated skill.
func (e *Engine) normReqs(reqs []SkillReq) []skillReqI {
	r := e.scratchR[:0]
	for _, q := range reqs {
		id := e.skillID(q.Skill)
		dup := false
		for i := range r {
			if r[i].id == id {
				r[i].min = max(r[i].min, q.MinLevel)
				dup = true
			}
		}
		if !dup {
			r = append(r, skillReqI{id: id, min: q.MinLevel})
		}
	}
	slices.SortFunc(r, func(a, b skillReqI) int { return cmp.Compare(a.id, b.id) })
	e.scratchR = r
	return r
}

// classOf returns the interned class of reqs (nil for none).
func (e *Engine) classOf(reqs []SkillReq) *class {
	if len(reqs) == 0 {
		return nil
	}
	r := e.normReqs(reqs)
	for _, cl := range e.classes {
		if slices.Equal(cl.reqs, r) {
			return cl
		}
	}
	cl := &class{reqs: slices.Clone(r)}
	e.classes = append(e.classes, cl)
	return cl
}

func (a *agent) level(id int32) int {
	for _, s := range a.skills {
		if s.id == id {
			return s.level
		}
	}
	return -1
}

// skillsOK reports whether a meets reqs with every minimum lowered by
// relax. An agent without the skill never meets it.
func skillsOK(a *agent, reqs []skillReqI, relax int) bool {
	for _, r := range reqs {
		l := a.level(r.id)
		if l < 0 || l < r.min-relax {
			return false
		}
	}
	return true
}

func classOK(a *agent, cl *class, relax int) bool {
	return cl == nil || skillsOK(a, cl.reqs, relax)
}

func (q *queue) stepAt(waited time.Duration) int {
	s := 0
	for s+1 < len(q.steps) && waited >= q.steps[s+1].at {
		s++
	}
	return s
}

func (q *queue) empty(p EmptyPolicy) bool {
	switch p {
	case EmptyNoLoggedIn:
		return q.nLoggedIn == 0
	case EmptyNoAvailable:
		return q.nAvailable == 0
	}
	return false
}

func (q *queue) ringTimeout() time.Duration {
	if q.cfg.RingTimeout > 0 {
		return q.cfg.RingTimeout
	}
	return DefaultRingTimeout
}

func (q *queue) retryDelay() time.Duration {
	if q.cfg.RetryDelay > 0 {
		return q.cfg.RetryDelay
	}
	return DefaultRetryDelay
}

func (q *queue) list(prio int, cl *class) *callList {
	for _, l := range q.lists {
		if l.prio == prio && l.class == cl {
			return l
		}
	}
	l := &callList{prio: prio, class: cl}
	i, _ := slices.BinarySearchFunc(q.lists, prio, func(x *callList, p int) int { return cmp.Compare(p, x.prio) })
	q.lists = slices.Insert(q.lists, i, l)
	return l
}

func (q *queue) bucket(pen, step int) *bucket {
	i, found := slices.BinarySearchFunc(q.buckets, [2]int{pen, step}, func(b *bucket, k [2]int) int {
		if c := cmp.Compare(b.penalty, k[0]); c != 0 {
			return c
		}
		return cmp.Compare(b.stepFrom, k[1])
	})
	if found {
		return q.buckets[i]
	}
	b := &bucket{penalty: pen, stepFrom: step}
	q.buckets = slices.Insert(q.buckets, i, b)
	return b
}

// place computes the step from which m is eligible by the queue's own
// criteria and files it in the matching bucket.
func (m *member) place() {
	m.stepFrom, m.b = -1, nil
	for s, st := range m.q.steps {
		if m.penalty <= st.maxPen && skillsOK(m.a, m.q.skills, st.relax) {
			m.stepFrom = s
			m.b = m.q.bucket(m.penalty, s)
			return
		}
	}
}

func (a *agent) memberOf(q *queue) *member {
	for _, m := range a.members {
		if m.q == q {
			return m
		}
	}
	return nil
}

// SetQueue creates or replaces a queue. Waiting calls stay, re-evaluated
// under the new rules. Every member must be a known agent.
func (e *Engine) SetQueue(cfg QueueConfig) ([]Event, error) {
	e.begin()
	if err := cfg.validate(); err != nil {
		return e.out, err
	}
	for _, mc := range cfg.Members {
		if e.agents[mc.Agent] == nil {
			return e.out, fmt.Errorf("%w: %q in queue %q", ErrUnknownAgent, mc.Agent, cfg.ID)
		}
	}
	q := e.queues[cfg.ID]
	if q == nil {
		q = &queue{id: cfg.ID}
		e.queues[cfg.ID] = q
	}
	for _, m := range q.members {
		if m.hidx >= 0 {
			m.b.h.remove(m.hidx)
		}
		m.a.members = slices.DeleteFunc(m.a.members, func(x *member) bool { return x == m })
	}
	cfg.Members = slices.Clone(cfg.Members)
	cfg.Skills = slices.Clone(cfg.Skills)
	cfg.Escalations = slices.Clone(cfg.Escalations)
	q.cfg = cfg
	q.skills = slices.Clone(e.normReqs(cfg.Skills))
	base := math.MaxInt
	if cfg.RestrictPenalty {
		base = cfg.MaxPenalty
	}
	q.steps = append(q.steps[:0], stepRule{maxPen: base})
	for _, r := range cfg.Escalations {
		prev := q.steps[len(q.steps)-1]
		q.steps = append(q.steps, stepRule{at: r.After, maxPen: max(prev.maxPen, r.MaxPenalty), relax: r.SkillRelax})
	}
	q.members, q.buckets = q.members[:0], nil
	q.nLoggedIn, q.nAvailable = 0, 0
	for i, mc := range cfg.Members {
		a := e.agents[mc.Agent]
		m := &member{q: q, a: a, penalty: mc.Penalty, weight: max(mc.Weight, 1), order: i, hidx: -1}
		m.place()
		q.members = append(q.members, m)
		a.members = append(a.members, m)
		q.nLoggedIn += b2i(loggedIn(a.state))
		q.nAvailable += b2i(available(a.state))
		if a.state == StateReady && m.b != nil {
			m.k1, m.k2 = m.key()
			m.b.h.push(m)
			e.wAgents = append(e.wAgents, a)
		}
	}
	for _, l := range q.lists {
		for _, c := range l.h {
			c.step = q.stepAt(e.now.Sub(c.enteredAt))
			e.armCall(c)
			e.wCalls = append(e.wCalls, c)
		}
	}
	if cfg.LeaveEmpty != EmptyIgnore && q.empty(cfg.LeaveEmpty) {
		e.wLeave = append(e.wLeave, q)
	}
	if cfg.StickyWait > 0 {
		e.stickyKeep = max(e.stickyKeep, cfg.StickyLookback)
	}
	e.drain()
	return e.out, nil
}

// RemoveQueue deletes a queue that holds no calls.
func (e *Engine) RemoveQueue(id QueueID) ([]Event, error) {
	e.begin()
	q := e.queues[id]
	if q == nil {
		return e.out, fmt.Errorf("%w: %q", ErrUnknownQueue, id)
	}
	if q.nCalls > 0 {
		return e.out, fmt.Errorf("%w: queue %q holds %d calls", ErrInUse, id, q.nCalls)
	}
	for _, m := range q.members {
		if m.hidx >= 0 {
			m.b.h.remove(m.hidx)
		}
		m.a.members = slices.DeleteFunc(m.a.members, func(x *member) bool { return x == m })
	}
	delete(e.queues, id)
	return e.out, nil
}

// SetAgent creates an agent (logged out) or updates its skills and wrap-up;
// a ready agent is re-evaluated at once.
func (e *Engine) SetAgent(cfg AgentConfig) ([]Event, error) {
	e.begin()
	if cfg.ID == "" || cfg.WrapUp < 0 {
		return e.out, invalid("agent %q: empty ID or negative wrap-up", cfg.ID)
	}
	for s, l := range cfg.Skills {
		if s == "" || l < 0 {
			return e.out, invalid("agent %q: skill %q level %d", cfg.ID, s, l)
		}
	}
	a := e.agents[cfg.ID]
	if a == nil {
		e.seq++
		a = &agent{id: cfg.ID, seq: e.seq, idleSince: e.now}
		a.tm = timer{idx: -1, agent: a}
		e.agents[cfg.ID] = a
	}
	wasReady := a.state == StateReady
	if wasReady {
		e.unready(a)
	}
	a.skills = a.skills[:0]
	for s, l := range cfg.Skills {
		a.skills = append(a.skills, skillLevel{id: e.skillID(s), level: l})
	}
	slices.SortFunc(a.skills, func(x, y skillLevel) int { return cmp.Compare(x.id, y.id) })
	a.wrapOverride = cfg.WrapUp
	for _, m := range a.members {
		m.place()
	}
	if wasReady {
		e.ready(a)
		e.wAgents = append(e.wAgents, a)
	}
	e.drain()
	return e.out, nil
}

// RemoveAgent deletes a logged-out agent and its queue memberships.
func (e *Engine) RemoveAgent(id AgentID) ([]Event, error) {
	e.begin()
	a := e.agents[id]
	if a == nil {
		return e.out, fmt.Errorf("%w: %q", ErrUnknownAgent, id)
	}
	if a.state != StateLoggedOut {
		return e.out, fmt.Errorf("%w: agent %q is %s", ErrInUse, id, a.state)
	}
	for _, m := range a.members {
		q := m.q
		q.members = slices.DeleteFunc(q.members, func(x *member) bool { return x == m })
		q.cfg.Members = slices.DeleteFunc(q.cfg.Members, func(x Member) bool { return x.Agent == id })
	}
	delete(e.agents, id)
	return e.out, nil
}

// ---- agent commands ----

func (e *Engine) agent(id AgentID) (*agent, error) {
	a := e.agents[id]
	if a == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAgent, id)
	}
	return a, nil
}

// Login moves a logged-out agent to not-ready(login).
func (e *Engine) Login(id AgentID, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdLogin)
	}
	if err != nil {
		return e.out, err
	}
	a.idleSince = e.now
	a.noAnswer = 0
	e.setState(a, StateNotReady, BusyNone, ReasonLogin, o)
	e.drain()
	return e.out, nil
}

// Logout logs an agent out; a ringing offer is cancelled and its call goes
// back to its place, and calls waiting for this agent as their sticky agent
// return to normal routing.
func (e *Engine) Logout(id AgentID, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdLogout)
	}
	if err != nil {
		return e.out, err
	}
	if a.state == StateReserved {
		e.withdraw(a, ReasonAgentLeft)
	}
	e.disarm(&a.tm)
	a.pending, a.prevReason = "", ""
	e.setState(a, StateLoggedOut, BusyNone, "", o)
	for len(a.sticky) > 0 {
		e.unpark(a.sticky[0])
	}
	e.drain()
	return e.out, nil
}

// SetReady makes an agent ready (from not-ready, or ending wrap-up early).
func (e *Engine) SetReady(id AgentID, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdReady)
	}
	if err != nil {
		return e.out, err
	}
	e.disarm(&a.tm)
	a.pending = ""
	e.setState(a, StateReady, BusyNone, "", o)
	e.drain()
	return e.out, nil
}

// SetNotReady makes an agent not-ready with a reason code. A ringing offer
// is cancelled (the call keeps its place). While busy the reason is held
// and applied after the call and its wrap-up.
func (e *Engine) SetNotReady(id AgentID, reason string, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdNotReady)
	}
	if err != nil {
		return e.out, err
	}
	if reason == "" {
		reason = ReasonUnspecified
	}
	if a.state == StateBusy {
		a.pending = reason
		return e.out, nil
	}
	if a.state == StateReserved {
		e.withdraw(a, ReasonAgentLeft)
	}
	e.disarm(&a.tm)
	e.setState(a, StateNotReady, BusyNone, reason, o)
	e.drain()
	return e.out, nil
}

// BeginInternal marks an agent busy with an internal call the ACD did not
// route (an agent-to-agent or click-to-dial call).
func (e *Engine) BeginInternal(id AgentID, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdBeginInternal)
	}
	if err != nil {
		return e.out, err
	}
	a.prevReason = ""
	if a.state == StateNotReady {
		a.prevReason = a.reason
	}
	e.disarm(&a.tm)
	e.setState(a, StateBusy, BusyInternal, "", o)
	e.drain()
	return e.out, nil
}

// EndInternal ends an internal call: the agent returns to ready, or to
// not-ready with the pending reason or the reason it held before.
func (e *Engine) EndInternal(id AgentID, o Origin) ([]Event, error) {
	e.begin()
	a, err := e.agent(id)
	if err == nil {
		err = a.check(cmdEndInternal)
	}
	if err != nil {
		return e.out, err
	}
	switch {
	case a.pending != "":
		r := a.pending
		a.pending = ""
		e.setState(a, StateNotReady, BusyNone, r, o)
	case a.prevReason != "":
		e.setState(a, StateNotReady, BusyNone, a.prevReason, o)
	default:
		e.setState(a, StateReady, BusyNone, "", o)
	}
	a.prevReason = ""
	e.drain()
	return e.out, nil
}

// afterWork ends a call's work: not-ready with the pending reason, or ready.
func (e *Engine) afterWork(a *agent, o Origin) {
	if a.pending != "" {
		r := a.pending
		a.pending = ""
		e.setState(a, StateNotReady, BusyNone, r, o)
		return
	}
	e.setState(a, StateReady, BusyNone, "", o)
}

func (e *Engine) agentTimer(a *agent) {
	if a.state == StateWrapUp {
		e.afterWork(a, Origin{Kind: BySystem})
	}
}

// ---- call commands ----

func (e *Engine) newCall() *call {
	var c *call
	if n := len(e.free); n > 0 {
		c = e.free[n-1]
		e.free = e.free[:n-1]
		*c = call{ringing: c.ringing[:0]}
	} else {
		c = &call{}
	}
	c.hidx = -1
	c.tm = timer{idx: -1, call: c}
	e.seq++
	c.seq = e.seq
	return c
}

func (e *Engine) call(id CallID) (*call, error) {
	c := e.calls[id]
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownCall, id)
	}
	return c, nil
}

// EnqueueCall puts an inbound call in its queue and routes it at once if a
// ready, eligible agent exists; otherwise it waits (or overflows by the
// queue's limits, or waits for its sticky agent).
func (e *Engine) EnqueueCall(in Call) ([]Event, error) {
	e.begin()
	c, err := e.admit(in.ID, in.Queue, in.Skills)
	if err != nil {
		return e.out, err
	}
	q := c.q
	c.kind, c.prio, c.caller, c.live = CallInbound, in.Priority, in.Caller, true
	if q.cfg.KeepEnteredAt && !in.EnteredAt.IsZero() && in.EnteredAt.Before(e.now) {
		c.enteredAt = in.EnteredAt
		c.entered = in.EnteredAt.UnixNano()
	}
	q.nLive++
	e.emit(e.callEv(EventQueued, c, nil))
	switch {
	case q.cfg.MaxLen > 0 && q.nLive > q.cfg.MaxLen:
		e.overflow(c, ReasonQueueFull, q.cfg.OnFull)
	case q.cfg.JoinEmpty != EmptyIgnore && q.empty(q.cfg.JoinEmpty):
		e.overflow(c, ReasonNoAgents, q.cfg.OnNoAgents)
	case e.trySticky(c):
	default:
		e.enlist(c)
	}
	e.drain()
	return e.out, nil
}

// RequestOutboundAgent asks for an agent of req.Queue for a campaign call.
// The request waits in the queue (priority, then FIFO) until an eligible
// agent is ready; then EventOutboundReserved reserves the agent until the
// queue's ring timeout. Report OfferAccepted when the customer is connected
// (agent busy outbound), OfferFailed to put the request back, or Abandon to
// withdraw it.
func (e *Engine) RequestOutboundAgent(req OutboundRequest) ([]Event, error) {
	e.begin()
	c, err := e.admit(req.ID, req.Queue, req.Skills)
	if err != nil {
		return e.out, err
	}
	c.kind, c.prio, c.caller = CallOutbound, req.Priority, req.Number
	c.q.nOutbound++
	e.emit(e.callEv(EventQueued, c, nil))
	e.enlist(c)
	e.drain()
	return e.out, nil
}

// admit validates and registers a new call entering queue qid now.
func (e *Engine) admit(id CallID, qid QueueID, skills []SkillReq) (*call, error) {
	if id == "" {
		return nil, invalid("empty call ID")
	}
	if e.calls[id] != nil {
		return nil, fmt.Errorf("%w: %q", ErrDuplicateCall, id)
	}
	q := e.queues[qid]
	if q == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownQueue, qid)
	}
	if err := validSkills(skills); err != nil {
		return nil, err
	}
	c := e.newCall()
	c.id, c.q, c.class = id, q, e.classOf(skills)
	c.enteredAt, c.entered, c.queuedAt = e.now, e.now.UnixNano(), e.now
	e.calls[id] = c
	q.nCalls++
	return c, nil
}

// RequestCallback turns a waiting caller into a callback that keeps its
// place: the caller hangs up, and EventCallbackDue reserves an agent when
// the entry reaches the head. number replaces the caller number if not
// empty.
func (e *Engine) RequestCallback(id CallID, number string) ([]Event, error) {
	e.begin()
	c, err := e.call(id)
	if err != nil {
		return e.out, err
	}
	if c.kind != CallInbound || (c.state != csWaiting && c.state != csParked) {
		return e.out, fmt.Errorf("%w: callback for %s call %q", ErrIllegalTransition, c.kind, id)
	}
	if number == "" && c.caller == "" {
		return e.out, invalid("callback for %q without a number", id)
	}
	if number != "" {
		c.caller = number
	}
	e.toCallback(c)
	e.emit(e.callEv(EventCallbackRequested, c, nil))
	e.drain()
	return e.out, nil
}

func (e *Engine) unlive(c *call) {
	if c.live {
		c.live = false
		c.q.nLive--
	}
}

func (e *Engine) toCallback(c *call) {
	e.unlive(c)
	c.kind = CallCallback
	c.q.nCallbacks++
	if c.state == csNew {
		e.enlist(c)
		return
	}
	e.armCall(c)
}

// Abandon ends a call that is waiting or ringing (the caller hung up, a
// callback or outbound request was withdrawn). Ringing agents are cancelled
// and become ready.
func (e *Engine) Abandon(id CallID) ([]Event, error) {
	e.begin()
	c, err := e.call(id)
	if err != nil {
		return e.out, err
	}
	if c.state == csConnected {
		return e.out, fmt.Errorf("%w: abandon of answered call %q", ErrIllegalTransition, id)
	}
	if c.state == csOffered {
		for _, a := range c.ringing {
			ev := e.callEv(EventOfferCancelled, c, a)
			ev.Reason = ReasonAbandoned
			e.emit(ev)
			a.call = nil
			e.setState(a, StateReady, BusyNone, "", Origin{Kind: BySystem})
		}
		c.ringing = c.ringing[:0]
	}
	e.emit(e.callEv(EventAbandoned, c, nil))
	e.freeCall(c)
	e.drain()
	return e.out, nil
}

func (e *Engine) ringingIndex(c *call, a *agent) int {
	if c.state != csOffered {
		return -1
	}
	return slices.Index(c.ringing, a)
}

func (e *Engine) offered(cid CallID, aid AgentID) (*call, *agent, int, error) {
	c, err := e.call(cid)
	if err != nil {
		return nil, nil, -1, err
	}
	a, err := e.agent(aid)
	if err != nil {
		return nil, nil, -1, err
	}
	i := e.ringingIndex(c, a)
	if i < 0 {
		return nil, nil, -1, fmt.Errorf("%w: call %q, agent %q", ErrNotOffered, cid, aid)
	}
	return c, a, i, nil
}

// OfferAccepted reports that agent answered call (or, for an outbound
// reservation or a callback, that the customer is connected). The agent
// becomes busy; under ring-all the other ringing agents are cancelled.
func (e *Engine) OfferAccepted(cid CallID, aid AgentID) ([]Event, error) {
	e.begin()
	c, a, _, err := e.offered(cid, aid)
	if err != nil {
		return e.out, err
	}
	e.disarm(&c.tm)
	for _, o := range c.ringing {
		if o == a {
			continue
		}
		ev := e.callEv(EventOfferCancelled, c, o)
		ev.Reason = ReasonAnswered
		e.emit(ev)
		o.call = nil
		e.setState(o, StateReady, BusyNone, "", Origin{Kind: BySystem})
	}
	c.ringing = c.ringing[:0]
	c.state, c.agent = csConnected, a
	e.unlive(c)
	a.noAnswer = 0
	a.calls++
	a.connectedAt = e.now
	e.emit(e.callEv(EventOfferAccepted, c, a))
	busy := BusyInbound
	if c.kind != CallInbound {
		busy = BusyOutbound
	}
	e.setState(a, StateBusy, busy, "", Origin{Kind: BySystem})
	e.drain()
	return e.out, nil
}

// OfferFailed reports that the offer of call to agent failed (rejected,
// unreachable, no answer; reason is recorded). The agent counts a
// no-answer (except for outbound reservations) and becomes ready, or
// not-ready(no-answer) at the queue's NoAnswerLimit. When no other agent is
// ringing, the call goes back to its place and is not offered to this agent
// again for the queue's retry delay.
func (e *Engine) OfferFailed(cid CallID, aid AgentID, reason string) ([]Event, error) {
	e.begin()
	c, a, i, err := e.offered(cid, aid)
	if err != nil {
		return e.out, err
	}
	if reason == "" {
		reason = ReasonNoAnswer
	}
	ev := e.callEv(EventOfferFailed, c, a)
	ev.Reason = reason
	e.emit(ev)
	c.ringing = slices.Delete(c.ringing, i, i+1)
	e.release(a, c)
	if len(c.ringing) == 0 {
		c.declinedBy, c.declineUntil = a, e.now.Add(c.q.retryDelay())
		e.enlist(c)
	}
	e.drain()
	return e.out, nil
}

// release frees an agent whose offer of c failed or timed out.
func (e *Engine) release(a *agent, c *call) {
	a.call = nil
	if c.kind != CallOutbound {
		a.noAnswer++
		if lim := c.q.cfg.NoAnswerLimit; lim > 0 && a.noAnswer >= lim {
			a.noAnswer = 0
			e.setState(a, StateNotReady, BusyNone, ReasonNoAnswer, Origin{Kind: BySystem})
			return
		}
	}
	e.setState(a, StateReady, BusyNone, "", Origin{Kind: BySystem})
}

// withdraw cancels a's ringing offer because the agent left; the call keeps
// its place and no no-answer is counted.
func (e *Engine) withdraw(a *agent, reason string) {
	c := a.call
	ev := e.callEv(EventOfferCancelled, c, a)
	ev.Reason = reason
	e.emit(ev)
	if i := slices.Index(c.ringing, a); i >= 0 {
		c.ringing = slices.Delete(c.ringing, i, i+1)
	}
	a.call = nil
	if len(c.ringing) == 0 {
		e.enlist(c)
	}
}

// CallEnded reports that an answered call ended. The agent goes to wrap-up
// (its own WrapUp, else the call's queue's), or straight to ready.
func (e *Engine) CallEnded(cid CallID) ([]Event, error) {
	e.begin()
	c, err := e.call(cid)
	if err != nil {
		return e.out, err
	}
	if c.state != csConnected {
		return e.out, fmt.Errorf("%w: end of unanswered call %q", ErrIllegalTransition, cid)
	}
	a := c.agent
	a.talk += e.now.Sub(a.connectedAt)
	a.idleSince = e.now
	if c.caller != "" {
		e.remember(c.caller, a)
	}
	e.emit(e.callEv(EventCallEnded, c, a))
	wrap := a.wrapOverride
	if wrap <= 0 {
		wrap = c.q.cfg.WrapUp
	}
	if wrap > 0 {
		a.wrapUntil = e.now.Add(wrap)
		e.setState(a, StateWrapUp, BusyNone, "", Origin{Kind: BySystem})
		e.arm(&a.tm, a.wrapUntil)
	} else {
		e.afterWork(a, Origin{Kind: BySystem})
	}
	a.call = nil
	e.freeCall(c)
	e.drain()
	return e.out, nil
}

func (e *Engine) remember(caller string, a *agent) {
	if e.stickyKeep <= 0 {
		return
	}
	e.sticky[caller] = stickyRec{agent: a.id, at: e.now}
	e.stickyLog = append(e.stickyLog, stickyEntry{caller: caller, at: e.now})
	for e.stickyHead < len(e.stickyLog) && e.now.Sub(e.stickyLog[e.stickyHead].at) > e.stickyKeep {
		old := e.stickyLog[e.stickyHead]
		if r, ok := e.sticky[old.caller]; ok && r.at.Equal(old.at) {
			delete(e.sticky, old.caller)
		}
		e.stickyLog[e.stickyHead] = stickyEntry{}
		e.stickyHead++
	}
	if e.stickyHead > len(e.stickyLog)/2 {
		n := copy(e.stickyLog, e.stickyLog[e.stickyHead:])
		clear(e.stickyLog[n:])
		e.stickyLog = e.stickyLog[:n]
		e.stickyHead = 0
	}
}

// freeCall removes a call from the engine for good.
func (e *Engine) freeCall(c *call) {
	e.detach(c)
	e.disarm(&c.tm)
	e.unlive(c)
	q := c.q
	q.nCalls--
	switch c.kind {
	case CallCallback:
		q.nCallbacks--
	case CallOutbound:
		q.nOutbound--
	}
	delete(e.calls, c.id)
	c.state = csEnded
	c.q, c.class, c.agent, c.declinedBy, c.sticky = nil, nil, nil, nil, nil
	clear(c.ringing)
	c.ringing = c.ringing[:0]
	e.free = append(e.free, c)
}

// detach takes a waiting or parked call out of its heap.
func (e *Engine) detach(c *call) {
	switch c.state {
	case csWaiting:
		c.list.h.remove(c.hidx)
		c.list = nil
	case csParked:
		c.sticky.sticky.remove(c.hidx)
		c.sticky = nil
	}
}

// enlist puts a call in (or back in) its place in the queue and schedules
// its routing.
func (e *Engine) enlist(c *call) {
	c.state = csWaiting
	q := c.q
	c.step = q.stepAt(e.now.Sub(c.enteredAt))
	l := q.list(c.prio, c.class)
	l.h.push(c)
	c.list = l
	e.armCall(c)
	e.wCalls = append(e.wCalls, c)
}

func (e *Engine) unpark(c *call) {
	e.detach(c)
	e.enlist(c)
}

func (e *Engine) trySticky(c *call) bool {
	q := c.q
	if q.cfg.StickyWait <= 0 || c.caller == "" {
		return false
	}
	rec, ok := e.sticky[c.caller]
	if !ok || e.now.Sub(rec.at) > q.cfg.StickyLookback {
		return false
	}
	a := e.agents[rec.agent]
	if a == nil || a.state == StateLoggedOut {
		return false
	}
	m := a.memberOf(q)
	if m == nil || m.stepFrom < 0 || !classOK(a, c.class, q.steps[len(q.steps)-1].relax) {
		return false
	}
	c.step = q.stepAt(e.now.Sub(c.enteredAt))
	if a.state == StateReady {
		e.offer1(c, a)
		return true
	}
	c.state, c.sticky, c.stickyUntil = csParked, a, e.now.Add(q.cfg.StickyWait)
	a.sticky.push(c)
	e.armCall(c)
	ev := e.callEv(EventStickyWait, c, a)
	ev.Until = c.stickyUntil
	e.emit(ev)
	return true
}

// overflow sends a call to target. A callback target keeps the caller's
// place as a callback; any other ends the call here.
func (e *Engine) overflow(c *call, reason string, t Target) {
	if t.Kind == TargetCallback && (c.caller == "" || c.kind != CallInbound) {
		t = Target{}
	}
	ev := e.callEv(EventOverflow, c, nil)
	ev.Reason, ev.Target = reason, t
	e.emit(ev)
	if t.Kind == TargetCallback {
		e.toCallback(c)
		return
	}
	e.freeCall(c)
}

// armCall schedules the call's next deadline for its state.
func (e *Engine) armCall(c *call) {
	var at time.Time
	consider := func(t time.Time) {
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	q := c.q
	switch c.state {
	case csOffered:
		consider(c.offerUntil)
	case csWaiting, csParked:
		if c.kind == CallInbound && q.cfg.MaxWait > 0 {
			consider(c.queuedAt.Add(q.cfg.MaxWait))
		}
		if c.state == csParked {
			consider(c.stickyUntil)
			break
		}
		if c.step+1 < len(q.steps) {
			consider(c.enteredAt.Add(q.steps[c.step+1].at))
		}
		if c.declinedBy != nil || c.declinedAll {
			consider(c.declineUntil)
		}
	}
	if at.IsZero() {
		e.disarm(&c.tm)
		return
	}
	e.arm(&c.tm, at)
}

func (e *Engine) callTimer(c *call) {
	q := c.q
	switch c.state {
	case csOffered:
		e.offerTimeout(c)
	case csWaiting, csParked:
		if c.kind == CallInbound && q.cfg.MaxWait > 0 && !e.now.Before(c.queuedAt.Add(q.cfg.MaxWait)) {
			e.overflow(c, ReasonMaxWait, q.cfg.OnMaxWait)
			return
		}
		if c.state == csParked {
			if !e.now.Before(c.stickyUntil) {
				e.unpark(c)
			} else {
				e.armCall(c)
			}
			return
		}
		grew := false
		if (c.declinedBy != nil || c.declinedAll) && !e.now.Before(c.declineUntil) {
			c.declinedBy, c.declinedAll = nil, false
			grew = true
		}
		if s := q.stepAt(e.now.Sub(c.enteredAt)); s != c.step {
			c.step = s
			grew = true
		}
		if grew {
			e.wCalls = append(e.wCalls, c)
		}
		e.armCall(c)
	}
}

func (e *Engine) offerTimeout(c *call) {
	for _, a := range c.ringing {
		ev := e.callEv(EventOfferTimeout, c, a)
		ev.Reason = ReasonRingTimeout
		e.emit(ev)
	}
	e.scratchA = append(e.scratchA[:0], c.ringing...)
	if len(c.ringing) == 1 {
		c.declinedBy = c.ringing[0]
	} else {
		c.declinedAll = true
	}
	c.declineUntil = e.now.Add(c.q.retryDelay())
	clear(c.ringing)
	c.ringing = c.ringing[:0]
	for _, a := range e.scratchA {
		e.release(a, c)
	}
	clear(e.scratchA)
	e.enlist(c)
}

// ---- queries ----

// Agent returns an agent's status.
func (e *Engine) Agent(id AgentID) (AgentStatus, error) {
	a, err := e.agent(id)
	if err != nil {
		return AgentStatus{}, err
	}
	st := AgentStatus{State: a.state, Busy: a.busy, Reason: a.reason, Pending: a.pending, Since: a.since,
		Calls: a.calls, TalkTime: a.talk, IdleSince: a.idleSince, NoAnswers: a.noAnswer}
	if a.call != nil {
		st.Call = a.call.id
	}
	if a.state == StateWrapUp {
		st.WrapUpUntil = a.wrapUntil
	}
	return st, nil
}

// QueueStats returns a queue's current load.
func (e *Engine) QueueStats(id QueueID) (QueueStats, error) {
	q := e.queues[id]
	if q == nil {
		return QueueStats{}, fmt.Errorf("%w: %q", ErrUnknownQueue, id)
	}
	st := QueueStats{Waiting: q.nLive, Callbacks: q.nCallbacks, Outbound: q.nOutbound,
		Members: len(q.members), LoggedIn: q.nLoggedIn, Available: q.nAvailable}
	for _, b := range q.buckets {
		st.Ready += len(b.h)
	}
	return st, nil
}

// Position returns a waiting call's 1-based place in its queue (calls of
// higher priority and earlier calls of equal priority, callbacks included,
// are ahead), or 0 for a call that is ringing, answered or waiting for its
// sticky agent. It costs O(calls in the queue): meant for announcements.
func (e *Engine) Position(id CallID) (int, error) {
	c, err := e.call(id)
	if err != nil {
		return 0, err
	}
	if c.state != csWaiting {
		return 0, nil
	}
	pos := 1
	for _, l := range c.q.lists {
		for _, x := range l.h {
			if x != c && callBetter(x, c) {
				pos++
			}
		}
	}
	return pos, nil
}
