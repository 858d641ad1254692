package acd

import (
	"strconv"
	"time"
)

// AgentID names an agent.
type AgentID string

// CallID names a call (or an outbound reservation request) in the engine.
type CallID string

// QueueID names a queue.
type QueueID string

// Skill names a skill an agent has at some level and a call or queue may
// require.
type Skill string

// SkillReq requires a skill at a minimum level.
type SkillReq struct {
	Skill    Skill
	MinLevel int
}

// State is an agent's state.
//
// Legal transitions (command: from -> to):
//
//	Login:         logged-out -> not-ready(login)
//	Logout:        ready | not-ready | wrap-up | reserved -> logged-out (a ringing offer is cancelled)
//	SetReady:      not-ready | wrap-up -> ready
//	SetNotReady:   ready | not-ready | wrap-up | reserved -> not-ready(reason); busy -> busy with the reason pending
//	offer:         ready -> reserved (engine decision)
//	OfferAccepted: reserved -> busy(inbound | outbound)
//	OfferFailed, ring timeout, Abandon: reserved -> ready, or not-ready(no-answer) at the queue's no-answer limit
//	CallEnded:     busy(inbound | outbound) -> wrap-up, or ready / not-ready(pending) with no wrap-up
//	wrap-up timer: wrap-up -> ready, or not-ready(pending)
//	BeginInternal: ready | not-ready | wrap-up -> busy(internal)
//	EndInternal:   busy(internal) -> ready, or not-ready(reason held before)
//	PickUp:        ready | not-ready | wrap-up -> busy(inbound); the agents
//	               the call rang -> ready
type State uint8

// Agent states.
const (
	StateLoggedOut State = iota
	StateReady
	StateNotReady
	StateReserved
	StateBusy
	StateWrapUp
)

var stateNames = [...]string{"logged-out", "ready", "not-ready", "reserved", "busy", "wrap-up"}

// String returns the state's name as used in events and the API.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// BusyKind says what an agent in [StateBusy] (or [StateReserved]) is doing.
type BusyKind uint8

// Busy kinds.
const (
	BusyNone BusyKind = iota
	BusyInbound
	BusyOutbound
	BusyInternal
)

var busyNames = [...]string{"", "inbound", "outbound", "internal"}

// String returns the kind's name.
func (k BusyKind) String() string {
	if int(k) < len(busyNames) {
		return busyNames[k]
	}
	return "busy(" + strconv.Itoa(int(k)) + ")"
}

// Reason codes the engine itself uses. Any other not-ready reason is the
// caller's own code.
const (
	ReasonLogin       = "login"        // not-ready right after login
	ReasonNoAnswer    = "no-answer"    // set by the queue's NoAnswerLimit; also an OfferFailed reason
	ReasonUnspecified = "unspecified"  // SetNotReady with an empty reason
	ReasonMaxWait     = "max-wait"     // overflow: waited longer than MaxWait
	ReasonQueueFull   = "queue-full"   // overflow: MaxLen callers already waiting
	ReasonNoAgents    = "no-agents"    // overflow: join/leave-when-empty policy
	ReasonAnswered    = "answered"     // offer cancelled: another agent answered (ring-all)
	ReasonPickedUp    = "picked-up"    // offer cancelled: another agent picked the call up (PickUp)
	ReasonAbandoned   = "abandoned"    // offer cancelled: the caller hung up
	ReasonAgentLeft   = "agent-left"   // offer cancelled: agent logged out or went not-ready
	ReasonRingTimeout = "ring-timeout" // offer timed out
)

// OriginKind says who caused a state change.
type OriginKind uint8

// Origins.
const (
	ByAgent OriginKind = iota
	BySupervisor
	BySystem
)

var originNames = [...]string{"agent", "supervisor", "system"}

// String returns the origin's name.
func (k OriginKind) String() string {
	if int(k) < len(originNames) {
		return originNames[k]
	}
	return "origin(" + strconv.Itoa(int(k)) + ")"
}

// Origin records who caused a transition; By names the user (a supervisor's
// ID for a forced transition). The zero value means the agent itself.
type Origin struct {
	Kind OriginKind
	By   string
}

// Strategy chooses among the ready, eligible agents of a queue (R3.3). Agent
// idle time and counters are per agent across all queues.
type Strategy uint8

// Strategies. The zero value is longest-idle.
const (
	// StrategyLongestIdle offers the agent whose last call ended longest ago
	// (or who logged in longest ago, if no call since).
	StrategyLongestIdle Strategy = iota
	// StrategyRingAll rings every ready, eligible agent of the best penalty
	// at the moment of the decision, and every eligible agent of that
	// penalty or better who becomes ready while the call rings (until the
	// same instant; an agent who failed the offer does not rejoin it); the
	// first to answer wins and the others are cancelled.
	StrategyRingAll
	// StrategyRoundRobin offers the member this queue offered a call to
	// least recently (round robin with memory).
	StrategyRoundRobin
	// StrategyLeastCalls offers the agent who answered the fewest calls.
	StrategyLeastCalls
	// StrategyFewestTalkTime offers the agent with the least total talk time.
	StrategyFewestTalkTime
	// StrategyTopDown offers the first ready member in the configured order.
	StrategyTopDown
	// StrategyRandom offers a uniformly random ready, eligible member.
	StrategyRandom
	// StrategyWeightedRandom offers a random member with probability
	// proportional to its weight.
	StrategyWeightedRandom
	numStrategies
)

var strategyNames = [...]string{"longest-idle", "ring-all", "round-robin", "least-calls", "fewest-talk-time", "top-down", "random", "weighted-random"}

// String returns the strategy's configuration name.
func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return "strategy(" + strconv.Itoa(int(s)) + ")"
}

// ParseStrategy maps a configuration name to a Strategy.
func ParseStrategy(name string) (Strategy, bool) {
	var s Strategy
	return s, s.UnmarshalText([]byte(name)) == nil
}

// TargetKind says where an overflowing call goes.
type TargetKind uint8

// Overflow target kinds.
const (
	TargetNone      TargetKind = iota // the controller's default (usually hang up with a message)
	TargetQueue                       // Dest is a queue ID: the controller re-enqueues the call
	TargetIVR                         // Dest is an IVR flow ID
	TargetVoicemail                   // Dest is a voicemail box
	TargetExternal                    // Dest is an external number
	TargetCallback                    // the caller becomes a callback keeping its place
	numTargets
)

var targetNames = [...]string{"none", "queue", "ivr", "voicemail", "external", "callback"}

// String returns the kind's name.
func (k TargetKind) String() string {
	if int(k) < len(targetNames) {
		return targetNames[k]
	}
	return "target(" + strconv.Itoa(int(k)) + ")"
}

// Target is where an overflowing call goes.
type Target struct {
	Kind TargetKind
	Dest string
}

// EmptyPolicy decides when a queue counts as having no agents, for joining
// and leaving.
type EmptyPolicy uint8

// Empty policies.
const (
	// EmptyIgnore: callers join and stay whatever the agents do.
	EmptyIgnore EmptyPolicy = iota
	// EmptyNoLoggedIn: no member is logged in.
	EmptyNoLoggedIn
	// EmptyNoAvailable: no member is logged in and out of not-ready (that
	// is, ready, reserved, busy or in wrap-up).
	EmptyNoAvailable
	numEmptyPolicies
)

var emptyPolicyNames = [...]string{"ignore", "no-logged-in", "no-available"}

// String returns the policy's configuration name.
func (p EmptyPolicy) String() string {
	if int(p) < len(emptyPolicyNames) {
		return emptyPolicyNames[p]
	}
	return "policy(" + strconv.Itoa(int(p)) + ")"
}

// CallKind says what a call in the engine stands for.
type CallKind uint8

// Call kinds.
const (
	CallInbound  CallKind = iota // a caller on the line, waiting
	CallOutbound                 // a campaign's request for an agent
	CallCallback                 // a caller who left and keeps a virtual place
)

var callKindNames = [...]string{"inbound", "outbound", "callback"}

// String returns the kind's name.
func (k CallKind) String() string {
	if int(k) < len(callKindNames) {
		return callKindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Call is an inbound call to enqueue.
type Call struct {
	ID CallID
	// Queue to join.
	Queue QueueID
	// Priority: higher is served first (VIP); FIFO within a priority.
	Priority int
	// Skills the call needs in addition to the queue's.
	Skills []SkillReq
	// Caller number, for the sticky agent and callbacks.
	Caller string
	// EnteredAt is when the caller entered the call center's queueing. It is
	// honoured only by queues with KeepEnteredAt (a transfer or overflow
	// between queues keeps the caller's place); otherwise, or when zero, the
	// call enters at the current time.
	EnteredAt time.Time
}

// OutboundRequest asks for an agent for a campaign call (R3.7). It waits in
// Queue like a call (its members and skills define the pool) and is decided
// by the same routing, so inbound and outbound never get the same agent.
type OutboundRequest struct {
	ID       CallID
	Queue    QueueID
	Priority int
	Skills   []SkillReq
	// Number the campaign will dial, echoed in the event.
	Number string
}

// EventKind says what an [Event] reports.
type EventKind uint8

// Event kinds.
const (
	// EventAgentState: the agent went From -> To (Busy, Reason, Origin set).
	EventAgentState EventKind = iota + 1
	// EventQueued: a call entered Queue.
	EventQueued
	// EventOffer: decision: ring Agent with Call until Until.
	EventOffer
	// EventCallbackDue: decision: Call is a callback at the head with Agent
	// reserved; ring the agent, then dial Caller.
	EventCallbackDue
	// EventOutboundReserved: decision: Agent is reserved for the outbound
	// request Call until Until.
	EventOutboundReserved
	// EventOfferTimeout: Agent did not answer Call within the ring timeout.
	EventOfferTimeout
	// EventOfferFailed: the controller reported the offer failed (Reason).
	EventOfferFailed
	// EventOfferAccepted: Agent answered Call.
	EventOfferAccepted
	// EventOfferCancelled: the offer of Call to Agent is withdrawn (Reason);
	// stop ringing.
	EventOfferCancelled
	// EventOverflow: decision: Call leaves Queue for Target (Reason). With
	// a callback target the call stays as a callback; otherwise it ends here.
	EventOverflow
	// EventAbandoned: Call left before being answered; it ends here.
	EventAbandoned
	// EventCallbackRequested: Call became a callback keeping its place.
	EventCallbackRequested
	// EventStickyWait: Call waits up to Until for Agent, who last served
	// Caller.
	EventStickyWait
	// EventCallEnded: the answered Call ended; it ends here.
	EventCallEnded
)

var eventNames = [...]string{"", "agent-state", "queued", "offer", "callback-due", "outbound-reserved",
	"offer-timeout", "offer-failed", "offer-accepted", "offer-cancelled", "overflow", "abandoned",
	"callback-requested", "sticky-wait", "call-ended"}

// String returns the kind's name as written in the event log.
func (k EventKind) String() string {
	if int(k) < len(eventNames) && k != 0 {
		return eventNames[k]
	}
	return "event(" + strconv.Itoa(int(k)) + ")"
}

// Event is one decision or state change, stamped with the clock's time. Its
// fields are filled as the Kind's documentation says; the rest are zero.
type Event struct {
	Kind      EventKind
	At        time.Time
	Call      CallID
	CallKind  CallKind
	Queue     QueueID
	Agent     AgentID
	Caller    string
	Priority  int
	From, To  State
	Busy      BusyKind
	Reason    string
	Origin    Origin
	Target    Target
	EnteredAt time.Time
	Until     time.Time
}

// AgentStatus is an agent's current state as seen by the engine.
type AgentStatus struct {
	State  State
	Busy   BusyKind
	Reason string
	// Pending is a not-ready reason requested while busy, applied after
	// the call and its wrap-up.
	Pending string
	// Call is the call the agent is reserved for or busy with.
	Call  CallID
	Since time.Time
	// WrapUpUntil is when wrap-up ends (StateWrapUp only).
	WrapUpUntil time.Time
	// Calls answered and total talk time, across queues.
	Calls    int
	TalkTime time.Duration
	// IdleSince is the end of the last call (or login), the longest-idle key.
	IdleSince time.Time
	// NoAnswers counts consecutive ring-no-answers.
	NoAnswers int
}

// QueueStats is a queue's current load.
type QueueStats struct {
	// Waiting counts callers on the line (waiting or ringing), Callbacks
	// and Outbound the virtual entries.
	Waiting, Callbacks, Outbound int
	// Members, LoggedIn, Available and Ready count members.
	Members, LoggedIn, Available, Ready int
	// Oldest is the earliest EnteredAt of an entry waiting in line
	// (callbacks and outbound requests included; zero if none).
	Oldest time.Time
	// AvgHandle is a moving average of talk plus wrap-up time of the
	// queue's calls (zero before the first call ends).
	AvgHandle time.Duration
}
