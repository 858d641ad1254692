package controller

import "hotline/acd"

// newCallback would start the actor of a callback the ACD decided
// (EventCallbackDue: an agent is reserved and the caller is to be dialled).
// Not built yet: the decision is logged and the reservation released by
// the ACD's ring timeout (cc.mu held).
func (cc *CallCenter) newCallback(ev acd.Event) *call {
	cc.log.Warn("callback due but callbacks are not dialled yet", "call_id", ev.Call, "agent_id", ev.Agent, "caller", ev.Caller)
	return nil
}
