// Package acd is Hotline's automatic call distributor: the pure routing engine
// that decides which waiting caller reaches which agent, and when.
//
// # What it owns
//
//   - The agent state machine: logged-out, ready, not-ready(reason), reserved
//     (an offer is ringing), busy (inbound, outbound or internal) and wrap-up.
//     Every command is checked against a table of legal transitions (see
//     [State]); an illegal command returns [ErrIllegalTransition] and changes
//     nothing. Supervisor-forced transitions are the same transitions with a
//     different [Origin] recorded in the event.
//   - Queues: priority first, then first-come-first-served by the time the
//     caller entered queueing; members with penalties, required skills with
//     minimum levels, time-based escalation, max wait, max length,
//     join/leave-when-empty policies and overflow targets.
//   - The routing strategies of R3.3 ([Strategy]), sticky agent (R1.8),
//     callbacks that keep their place, and blended outbound reservations drawn
//     from the same agent pool with the same atomicity as inbound offers.
//
// # How it is driven
//
// The engine is event driven: a decision is taken inside the command that
// changed something (an agent became ready, a call arrived, a timer fired);
// there is no polling loop. Time comes from an injected [Clock]. The engine
// never sleeps and starts no goroutine: the owner asks [Engine.NextDeadline]
// when the next timer (ring timeout, wrap-up end, escalation, max wait, sticky
// wait, retry delay) is due and calls [Engine.Tick] at or after that time.
// Every command first fires the timers that are already due, stamped with
// their own due time, so late ticks never reorder decisions. A test therefore
// runs a day of traffic in milliseconds with a [VirtualClock].
//
// Every command returns the events it produced ([Event]): decisions (Offer,
// CallbackDue, OutboundReserved, Overflow) for the controller to execute and
// state changes (AgentState, OfferTimeout, Abandoned, ...) that form the queue
// and agent event log reports are computed from. The returned slice is owned
// by the engine and is only valid until the next method call (this keeps the
// hot path free of allocations); use slices.Clone to keep it. A call that
// returns an error returns no events: events of timers it fired first are
// held and returned by the next successful call ([Engine.Pending] reports
// them; [Engine.NextDeadline] is then due at once), so an owner that
// returns on error never drops a decision.
//
// # Using it from the controller
//
// Configure with [Engine.SetAgent] and [Engine.SetQueue]. Feed agent
// commands ([Engine.Login], [Engine.SetReady], [Engine.SetNotReady],
// [Engine.Logout], [Engine.BeginInternal], [Engine.EndInternal], each with an
// [Origin]) and call events ([Engine.EnqueueCall], [Engine.Abandon],
// [Engine.OfferAccepted], [Engine.PickUp], [Engine.OfferFailed], [Engine.CallEnded],
// [Engine.RequestCallback], [Engine.RequestOutboundAgent]). Execute the
// decisions in the returned events: EventOffer (ring the agent; the engine's
// ring timeout ends it with EventOfferTimeout unless the controller reports
// first), EventCallbackDue, EventOutboundReserved, EventOfferCancelled (stop
// ringing) and EventOverflow (send the call to its Target). A transfer or
// an overflow to another queue is a new [Engine.EnqueueCall] with the same
// ID and the original EnteredAt, honoured by queues with KeepEnteredAt.
// [Engine.Position], [Engine.ExpectedWait], [Engine.QueueStats], [Engine.QueueLoads] and
// [Engine.Agent] serve announcements and wallboards. The owner's loop is:
//
//	for {
//		var timer <-chan time.Time
//		if at, ok := eng.NextDeadline(); ok {
//			timer = time.After(time.Until(at))
//		}
//		select {
//		case cmd := <-mailbox:
//			execute(cmd(eng)) // a command returns events
//		case <-timer:
//			execute(eng.Tick())
//		}
//	}
//
// # Concurrency
//
// An [Engine] is NOT safe for concurrent use. The intended owner is a single
// goroutine (an actor) in the controller that feeds it commands from a
// mailbox; that keeps the decision path free of locks and makes every
// reservation trivially atomic: an agent is never offered two calls, and a
// call is never offered to two agents except by design under
// [StrategyRingAll].
//
// # Guarantees the tests check
//
//   - No double offer; FIFO within priority among the calls an agent is
//     eligible for; no ready, eligible agent is left idle while an eligible
//     call waits (except an agent that just failed to answer that call, for
//     the queue's retry delay); skills, penalties and wrap-up are respected;
//     every call ends exactly once (answered and ended, abandoned or
//     overflowed).
//
// # Complexity
//
// Waiting calls live in per-queue binary heaps, one per (priority, call skill
// set); ready agents live in per-queue heaps, one per (penalty, escalation
// step at which the member becomes eligible), ordered by the queue strategy's
// key. A decision looks at heap heads, not at all agents or all calls.
//
// # What it must not import
//
// Only the standard library. No I/O, no network, no database, no media, no
// logging: the controller executes decisions and writes the event log.
// Erlang C staffing math lives in the sub-package acd/erlang.
package acd
