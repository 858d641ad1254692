// Package cti is the event hub behind the CTI stream (the WebSocket
// /api/v1/events) and the webhooks: call, agent and queue events, each with a
// sequence number, fanned out to many subscribers, with replay after a
// reconnect.
//
// It owns:
//   - Event: type (call.*, agent.*, queue.*, and gap), time, seq, call id,
//     agent id, queue, a JSON payload, and an Audience saying who may see it
//     (never serialized).
//   - Hub: Publish assigns the next sequence number and hands the event to
//     every subscriber without ever blocking on one; the last events are
//     retained (by count and by age) for replay.
//   - Subscription: Subscribe(filter, since) first yields the retained
//     events after since, or a gap event when some were already dropped,
//     then live events. Each subscription buffers a bounded number of
//     events; one that falls behind stops receiving live events and, when it
//     next reads, catches up from the retained events (a gap event first if
//     it fell behind the retention window). A slow reader never slows the
//     publisher or the others.
//   - Filter and ForPrincipal: visibility by role is a predicate the caller
//     supplies; ForPrincipal builds the usual one (an agent sees events that
//     concern it, a supervisor its teams', an admin all).
//
// Sequence numbers start, by default, at the hub's start time in
// microseconds, so a client reconnecting with a since from before a restart
// gets a gap rather than silently skipping events of the new run.
//
// It imports the standard library, hotline/internal/clock and the
// Prometheus client only. It must not import net/http, the api, the store or
// other controller packages: the api adapts a Subscription to a WebSocket,
// the controller publishes.
package cti
