package acd

import (
	"cmp"
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
	q     *queue
	idx   int // index in q.lists and q.heads
	prio  int
	class *class
	h     callHeap
}

// listHead mirrors a call list's head in a contiguous per-queue array, so
// that a decision passes over a queue's lists without touching (and
// missing the cache on) the lists' calls.
type listHead struct {
	entered, seq int64
	prio         int
	n            int32
	// The class's first requirement (skill -1 for none) and number of
	// requirements, to reject an agent without following pointers.
	skill0, min0, nreq int32
}

type listKey struct {
	prio int
	cl   *class
}

func (l *callList) push(c *call) {
	l.h.push(c)
	l.refresh()
}

func (l *callList) remove(c *call) {
	l.h.remove(c.hidx)
	l.refresh()
}

func (l *callList) refresh() {
	hd := &l.q.heads[l.idx]
	hd.n = int32(len(l.h))
	if len(l.h) > 0 {
		hd.entered, hd.seq = l.h[0].entered, l.h[0].seq
	}
}

// better reports whether the head would beat call b.
func (hd *listHead) better(b *call) bool {
	if hd.prio != b.prio {
		return hd.prio > b.prio
	}
	if hd.entered != b.entered {
		return hd.entered < b.entered
	}
	return hd.seq < b.seq
}

type queue struct {
	id      QueueID
	cfg     QueueConfig
	skills  []skillReqI
	steps   []stepRule
	members []*member
	buckets []*bucket   // sorted by penalty, then stepFrom
	lists   []*callList // sorted by priority, highest first
	heads   []listHead  // parallel to lists
	byKey   map[listKey]*callList

	nLoggedIn, nAvailable int
	nLive                 int // inbound callers waiting, parked or ringing
	nCalls                int // every call referring to this queue
	nCallbacks, nOutbound int
	aht                   time.Duration // moving average handle time (talk + wrap-up)
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
	refused    []*agent // failed or timed out the current offer: they do not rejoin it (ring-all)
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
//
// A command that returns an error returns no events and changed nothing.
// Timers that were due when it was called still fired (every call fires
// due timers first); their events are held and returned, in order, by the
// next call that succeeds (any command or [Engine.Tick]). So a caller that
// returns on error drops no decision, and one that executes the events of
// every successful call executes each exactly once. After an error the
// owner should call [Engine.Tick] soon if [Engine.Pending] reports events.
type Engine struct {
	clock Clock
	rng   *rand.Rand
	now   time.Time
	out   []Event
	// held keeps the events a failed command produced (timers it fired
	// before its checks failed) until the next call returns them: a
	// command that returns an error never returns events.
	held []Event

	agents map[AgentID]*agent
	queues map[QueueID]*queue
	calls  map[CallID]*call
	skills map[Skill]int32

	classes map[uint64][]*class
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
		clock:   clock,
		agents:  make(map[AgentID]*agent),
		queues:  make(map[QueueID]*queue),
		calls:   make(map[CallID]*call),
		skills:  make(map[Skill]int32),
		sticky:  make(map[string]stickyRec),
		classes: make(map[uint64][]*class),
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

// begin starts a command: it resets the output to the events a failed
// call held back, then fires due timers.
func (e *Engine) begin() {
	e.out = append(e.out[:0], e.held...)
	e.held = e.held[:0]
	now := e.clock.Now()
	if now.Before(e.now) {
		now = e.now
	}
	e.fire(now)
	e.now = now
}

// fire runs every timer due at or before now at its own due time. Timers
// due at the same instant all fire before the decisions they call for are
// taken, so simultaneous changes are decided together in priority and FIFO
// order.
func (e *Engine) fire(now time.Time) {
	for len(e.timers) > 0 && !e.timers[0].at.After(now) {
		at := e.timers[0].at
		if at.After(e.now) {
			e.now = at
		}
		for len(e.timers) > 0 && !e.timers[0].at.After(at) {
			t := e.timers[0]
			e.timers.remove(0)
			if t.agent != nil {
				e.agentTimer(t.agent)
			} else {
				e.callTimer(t.call)
			}
		}
		e.drain()
	}
}

// finish ends a command: it takes the decisions the command's changes call
// for, then fires timers the command made overdue (a call put back in line
// after its max wait passed while it rang, a shorter MaxWait configured).
func (e *Engine) finish() {
	e.drain()
	e.fire(e.now)
}

// fail ends a command that changed nothing with err. Events already
// produced (by timers that fired before the command's checks) are held for
// the next call, so a caller that returns on error loses no decision.
func (e *Engine) fail(err error) ([]Event, error) {
	e.held = append(e.held, e.out...)
	e.out = e.out[:0]
	return nil, err
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

// Pending reports whether events held back by a failed call wait to be
// returned by the next call.
func (e *Engine) Pending() bool { return len(e.held) > 0 }

// NextDeadline returns when the engine next needs [Engine.Tick], if ever.
// While events are held back by a failed call ([Engine.Pending]) it
// returns the engine's current time, so an owner driven by deadlines
// collects them at once.
func (e *Engine) NextDeadline() (time.Time, bool) {
	if len(e.held) > 0 {
		return e.now, true
	}
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

// classOf returns the interned class of reqs (nil for none). Classes are
// found by a hash of the normalized requirements, so an enqueue costs no
// allocation and no scan of every class ever seen.
func (e *Engine) classOf(reqs []SkillReq) *class {
	if len(reqs) == 0 {
		return nil
	}
	r := e.normReqs(reqs)
	h := uint64(14695981039346656037) // FNV-1a
	for _, q := range r {
		for _, v := range [2]uint64{uint64(q.id), uint64(q.min)} {
			h ^= v
			h *= 1099511628211
		}
	}
	for _, cl := range e.classes[h] {
		if slices.Equal(cl.reqs, r) {
			return cl
		}
	}
	cl := &class{reqs: slices.Clone(r)}
	e.classes[h] = append(e.classes[h], cl)
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
	if l := q.byKey[listKey{prio, cl}]; l != nil {
		return l
	}
	if q.byKey == nil {
		q.byKey = make(map[listKey]*callList)
	}
	l := &callList{q: q, prio: prio, class: cl}
	q.byKey[listKey{prio, cl}] = l
	i, _ := slices.BinarySearchFunc(q.lists, prio, func(x *callList, p int) int { return cmp.Compare(p, x.prio) })
	hd := listHead{prio: prio, skill0: -1}
	if cl != nil {
		hd.skill0, hd.min0, hd.nreq = cl.reqs[0].id, int32(cl.reqs[0].min), int32(len(cl.reqs))
	}
	q.lists = slices.Insert(q.lists, i, l)
	q.heads = slices.Insert(q.heads, i, hd)
	for j := i; j < len(q.lists); j++ {
		q.lists[j].idx = j
	}
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
