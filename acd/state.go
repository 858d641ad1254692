package acd

import "fmt"

// command is an input of the agent state machine.
type command uint8

const (
	cmdLogin command = iota
	cmdLogout
	cmdReady
	cmdNotReady
	cmdBeginInternal
	cmdEndInternal
	cmdOffer
	cmdAccept
	cmdRelease
	cmdEndCall
	cmdWrapEnd
	cmdPickUp
	numCommands
)

var commandNames = [...]string{"login", "logout", "ready", "not-ready", "begin-internal", "end-internal",
	"offer", "accept", "release", "end-call", "wrap-up-end",
	"pick-up"}

func (c command) String() string { return commandNames[c] }

func bit(s State) uint8 { return 1 << s }

// legalFrom is the transition table: the set of states (as a bit mask) in
// which a command is legal. The resulting state is documented on [State].
func legalFrom(c command) uint8 {
	switch c {
	case cmdLogin:
		return bit(StateLoggedOut)
	case cmdLogout:
		return bit(StateReady) | bit(StateNotReady) | bit(StateWrapUp) | bit(StateReserved)
	case cmdReady:
		return bit(StateNotReady) | bit(StateWrapUp)
	case cmdNotReady:
		return bit(StateReady) | bit(StateNotReady) | bit(StateWrapUp) | bit(StateReserved) | bit(StateBusy)
	case cmdBeginInternal, cmdPickUp:
		return bit(StateReady) | bit(StateNotReady) | bit(StateWrapUp)
	case cmdEndInternal, cmdEndCall:
		return bit(StateBusy)
	case cmdOffer:
		return bit(StateReady)
	case cmdAccept, cmdRelease:
		return bit(StateReserved)
	case cmdWrapEnd:
		return bit(StateWrapUp)
	}
	return 0
}

// check returns ErrIllegalTransition unless cmd is legal for a now.
func (a *agent) check(cmd command) error {
	ok := legalFrom(cmd)&bit(a.state) != 0
	switch cmd {
	case cmdEndInternal:
		ok = ok && a.busy == BusyInternal
	case cmdEndCall:
		ok = ok && a.busy != BusyInternal
	}
	if !ok {
		return fmt.Errorf("%w: agent %q: %s while %s", ErrIllegalTransition, a.id, cmd, a.state)
	}
	return nil
}

func loggedIn(s State) bool  { return s != StateLoggedOut }
func available(s State) bool { return s != StateLoggedOut && s != StateNotReady }

// setState moves a to a new state, keeps the ready indexes and the queues'
// member counters in step, and emits the AgentState event. Routing of a newly
// ready agent is deferred to drain.
func (e *Engine) setState(a *agent, to State, busy BusyKind, reason string, o Origin) {
	from := a.state
	if from == StateReady {
		e.unready(a)
	}
	dl := b2i(loggedIn(to)) - b2i(loggedIn(from))
	da := b2i(available(to)) - b2i(available(from))
	a.state, a.busy, a.reason, a.since = to, busy, reason, e.now
	if dl != 0 || da != 0 {
		for _, m := range a.members {
			q := m.q
			q.nLoggedIn += dl
			q.nAvailable += da
			if (dl < 0 || da < 0) && q.cfg.LeaveEmpty != EmptyIgnore && q.empty(q.cfg.LeaveEmpty) {
				e.wLeave = append(e.wLeave, q)
			}
		}
	}
	if to == StateReady {
		e.ready(a)
		e.wAgents = append(e.wAgents, a)
	}
	ev := Event{Kind: EventAgentState, Agent: a.id, From: from, To: to, Busy: busy, Reason: reason, Origin: o}
	if a.call != nil {
		ev.Call, ev.CallKind, ev.Queue = a.call.id, a.call.kind, a.call.q.id
	}
	if to == StateWrapUp {
		ev.Until = a.wrapUntil
	}
	e.emit(ev)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ready inserts a ready agent into the ready heap of every queue it can
// serve, keyed by that queue's strategy.
func (e *Engine) ready(a *agent) {
	for _, m := range a.members {
		if m.b == nil {
			continue
		}
		m.k1, m.k2 = m.key()
		m.b.h.push(m)
	}
}

func (e *Engine) unready(a *agent) {
	for _, m := range a.members {
		if m.hidx >= 0 {
			m.b.h.remove(m.hidx)
		}
	}
}

// key is the member's strategy key: lower is offered first.
func (m *member) key() (int64, int64) {
	a := m.a
	idle := a.idleSince.UnixNano()
	switch m.q.cfg.Strategy {
	case StrategyLongestIdle:
		return idle, 0
	case StrategyLeastCalls:
		return int64(a.calls), idle
	case StrategyFewestTalkTime:
		return int64(a.talk), idle
	case StrategyRoundRobin:
		return m.lastOffer, int64(m.order)
	case StrategyTopDown:
		return int64(m.order), 0
	}
	return 0, 0
}
