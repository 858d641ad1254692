package controller

import (
	"context"
	"strings"

	"hotline/controller/ivr"
	"hotline/controller/store"
	"hotline/mediacore"
)

// route decides where a new inbound call goes (R1.3-R1.5), in this order:
//
//  1. a blacklisted caller (exact or prefix entry) is refused busy (486)
//     or declined (603) by CallCenterOptions.Blacklist;
//  2. an unknown called number is refused 404 (Q.850 1) and counted in
//     hotline_calls_rejected_total{reason="unknown_number"};
//  3. a whitelisted (VIP) caller goes to its entry's target, or the
//     number's route, at VIPPriority, skipping an IVR when the entry names
//     a target;
//  4. the number's schedule: outside open hours (closed, holiday) the call
//     goes to the number's after-hours target (hung up when it has none);
//  5. otherwise the number's route.
//
// A list or schedule the store cannot read within RoutingTimeout (all
// reads together) does not refuse the call: the caller is treated as not
// listed, the schedule as open (the failure is logged).
func (c *call) route() (*store.Target, int) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), c.cc.opt.RoutingTimeout)
	defer cancel()
	st := c.cc.ctl.st
	caller := c.in.Caller
	if m, err := st.Lists().Match(ctx, store.ListBlacklist, caller, c.now()); err != nil {
		c.log.Warn("blacklist lookup failed; the call goes on", "err", err)
	} else if len(m) > 0 {
		cause := mediacore.CauseBusy
		if c.cc.opt.Blacklist == BlacklistReject {
			cause = mediacore.CauseRejected
		}
		c.reject("blacklist", cause)
		return nil, 0
	}
	n, ok := c.cc.ctl.routes.Lookup(c.in.Called)
	if !ok {
		if t, done := c.pbxRoute(); done {
			return t, 0
		}
		c.reject("unknown_number", mediacore.CauseUnallocated)
		return nil, 0
	}
	c.cdr.Number = n.Number
	prio := 0
	if m, err := st.Lists().Match(ctx, store.ListWhitelist, caller, c.now()); err != nil {
		c.log.Warn("whitelist lookup failed; the call goes on", "err", err)
	} else if len(m) > 0 {
		prio = VIPPriority
		c.vars["vip"] = "true"
		if m[0].Target != nil {
			t := *m[0].Target
			return &t, prio
		}
	}
	if n.ScheduleID != "" {
		state := ivr.StateOpen
		sc, err := st.Schedules().Get(ctx, n.ScheduleID)
		if err == nil {
			state, err = ScheduleStateAt(sc, c.now())
		}
		if err != nil {
			c.log.Warn("schedule unreadable; the number counts as open", "schedule", n.ScheduleID, "err", err)
			state = ivr.StateOpen
		}
		c.vars["schedule"] = string(state)
		if state != ivr.StateOpen {
			if n.AfterHours == nil {
				c.cc.m.rejected.WithLabelValues("closed").Inc()
				c.cdr.Outcome = store.OutcomeRejected
				c.hangupCaller(mediacore.CauseUnavailable, store.SideSystem)
				return nil, 0
			}
			t := *n.AfterHours
			return &t, prio
		}
	}
	t := n.Route
	return &t, prio
}

// reject refuses the call before answer and counts why.
func (c *call) reject(reason string, cause mediacore.Cause) {
	c.cc.m.rejected.WithLabelValues(reason).Inc()
	c.cdr.Outcome = store.OutcomeRejected
	c.vars["rejected"] = reason
	c.log.Info("inbound call refused", "reason", reason, "caller", c.in.Caller, "called", c.in.Called)
	c.hangupCaller(cause, store.SideSystem)
}

// execute carries the call to a target and returns the next one (an IVR
// ending in a queue, an overflow), or nil when the call is over.
func (c *call) execute(t store.Target, prio int) *store.Target {
	switch t.Kind {
	case store.TargetQueue:
		return c.runQueue(t.Value, prio, nil)
	case store.TargetIVR:
		return c.runIVR(t.Value, prio)
	case store.TargetExtension:
		return c.dial("user/"+strings.TrimPrefix(t.Value, "user/"), "extension")
	case store.TargetExternal:
		ep := t.Value
		if !strings.HasPrefix(ep, "tel/") && !strings.HasPrefix(ep, "sip:") && !strings.HasPrefix(ep, "user/") {
			ep = "tel/" + ep
		}
		return c.dial(ep, "external")
	case store.TargetVoicemail:
		return c.voicemail(t.Value)
	case targetAgent, targetLeg, targetDial:
		return c.executeControl(t)
	case store.TargetConference:
		return c.conference(t.Value)
	case store.TargetVoicemailAccess:
		return c.voicemailAccess(t.Value)
	case store.TargetRingGroup:
		return c.ringGroup(t.Value)
	case store.TargetHangup, "":
		if c.cdr.Outcome == "" {
			c.cdr.Outcome = store.OutcomeRejected
		}
		c.hangupCaller(mediacore.CauseNormal, store.SideSystem)
		return nil
	}
	c.log.Warn("route target not executable here", "kind", t.Kind, "value", t.Value)
	c.cdr.Outcome = store.OutcomeFailed
	c.hangupCaller(mediacore.CauseFailure, store.SideSystem)
	return nil
}

// ivrEnv is what IVR condition and http nodes run against.
func (c *call) ivrEnv() ivr.Env {
	st := c.cc.ctl.st
	return ivr.Env{
		Clock:     c.cc.clk,
		Schedules: storeSchedules{repo: st.Schedules(), now: c.now},
		Lists:     storeLists{repo: st.Lists(), now: c.now},
		HTTP:      c.cc.opt.HTTP,
		Vars:      map[string]string{ivr.VarCaller: c.in.Caller, ivr.VarCalled: c.in.Called},
		Logger:    c.log,
	}
}

// runIVR answers the call, runs the flow in the actor and turns its
// result into the next target.
func (c *call) runIVR(flowID string, prio int) *store.Target {
	lctx, cancel := c.io()
	f, err := c.cc.flow(lctx, flowID)
	cancel()
	if err != nil {
		c.log.Error("IVR flow unavailable", "flow", flowID, "err", err)
		c.cdr.Outcome = store.OutcomeFailed
		c.hangupCaller(mediacore.CauseFailure, store.SideSystem)
		return nil
	}
	if !c.answerOrFail() {
		return nil
	}
	c.lang = f.Language
	c.setView(func(v *LiveCall) { v.State = "ivr" })
	res, err := ivr.Run(c.ctx, f, &ivrSession{c: c}, c.ivrEnv())
	for _, s := range res.Path {
		c.cdr.IVRPath = append(c.cdr.IVRPath, store.IVRStep{Flow: f.ID, Node: s.Node, At: s.At})
	}
	for k, v := range res.Vars {
		c.vars[k] = v
	}
	c.vars["ivr_flow"] = f.ID
	switch res.End {
	case ivr.EndEnqueue:
		skills := res.Enqueue.Skills
		return c.enqueueTarget(res.Enqueue.Queue, max(prio, res.Enqueue.Priority), skills)
	case ivr.EndTransfer:
		c.cdr.Transfers = append(c.cdr.Transfers, store.CDRTransfer{At: c.now(), Kind: "ivr", From: f.ID,
			Target: res.Transfer.Endpoint()})
		return c.dial(res.Transfer.Endpoint(), "ivr")
	case ivr.EndVoicemail:
		return &store.Target{Kind: store.TargetVoicemail, Value: res.Voicemail.Box}
	case ivr.EndHangup:
		c.cdr.Outcome = store.OutcomeSelfServe
		c.hangupCaller(mediacore.CauseNormal, store.SideSystem)
		return nil
	case ivr.EndAbandon:
		c.cdr.Outcome = store.OutcomeAbandoned
		return nil
	}
	if err != nil && c.ctx.Err() == nil {
		c.log.Error("IVR flow failed", "flow", flowID, "err", err)
	}
	c.cdr.Outcome = store.OutcomeFailed
	c.hangupCaller(mediacore.CauseFailure, store.SideSystem)
	return nil
}

// enqueueTarget runs the queue step of an IVR result directly (it carries
// priority and skills a store.Target cannot).
func (c *call) enqueueTarget(queue string, prio int, skills []ivr.SkillReq) *store.Target {
	return c.runQueue(queue, prio, skills)
}

// lookupCustomer fetches the caller's screen-pop record once, within the
// directory timeout; a failure offers the call without it.
func (c *call) lookupCustomer() *Customer {
	if c.looked || c.cc.opt.Directory == nil {
		return c.customer
	}
	c.looked = true
	ctx, cancel := context.WithTimeout(c.ctx, c.cc.opt.DirectoryTimeout)
	defer cancel()
	cu, err := c.cc.opt.Directory.LookupCaller(ctx, c.in.Caller)
	if err != nil {
		c.log.Info("no customer record for the screen pop", "err", err)
		return nil
	}
	c.customer = &cu
	return c.customer
}
