package controller

import (
	"fmt"
	"strings"
	"time"

	"hotline/acd"
	"hotline/controller/store"
	"hotline/mediacore"
)

// Click-to-answer (R4.3, "answer for auto-answer or click-to-answer
// devices"): the agent answers its ringing queue offer from the desktop.
// A controller cannot take a SIP phone off-hook, so it does what desktop
// CTI systems do with a plain SIP phone: the ringing offer leg is
// cancelled quietly and a new leg rings the same device asking it to
// answer by itself (Answer-Mode: Auto, RFC 5373; Call-Info answer-after=0
// for the phones that predate it). The ACD's offer stays with the agent
// all along (no OfferFailed: no no-answer counted, no re-offer), so when
// the new leg answers the queue takes it exactly as an answered offer
// (queueMedia: OfferAccepted, bridge, CDR, call.answered). The CDR keeps
// both legs: the replaced one cancelled, the new one answered.

// ctlAnswer replaces the agent's ringing offer leg by an auto-answered
// one. Only an agent the call has rung may (ErrForbidden otherwise); the
// call must be ringing it now, from a queue, on a device that can answer
// by itself (ErrCallState: also for an agent whose offer just ended).
func (c *call) ctlAnswer(by Actor) error {
	if by.Role != store.RoleAgent || by.AgentID == "" {
		return fmt.Errorf("%w: only the agent an offer rings answers it", ErrForbidden)
	}
	rang := false
	for _, l := range c.legs {
		rang = rang || l.agent == by.AgentID
	}
	if !rang {
		return fmt.Errorf("%w: call %q never rang agent %q", ErrForbidden, c.id, by.AgentID)
	}
	if !c.queueing || c.agent != nil || c.gone {
		return fmt.Errorf("%w: the call is not ringing agent %q", ErrCallState, by.AgentID)
	}
	var desk *leg
	var ringing []*leg
	for _, l := range c.legs {
		if l.agent != by.AgentID || !l.offerLive || l.ended || l.answered {
			continue
		}
		ringing = append(ringing, l)
		// The desk device, not a follow-me mobile: a phone number is
		// never asked to answer by itself.
		cl := c.cdr.Legs[l.idx]
		if cl.Role == "agent" && !strings.HasPrefix(cl.Endpoint, "tel/") {
			desk = l
		}
	}
	if desk == nil {
		return fmt.Errorf("%w: no offer rings agent %q on a device that answers by itself", ErrCallState, by.AgentID)
	}
	dev := c.cdr.Legs[desk.idx].Endpoint
	// Quietly: with offerLive off, the Hangup events of these legs are
	// not offer failures (queueMedia ignores them). A pending sequential
	// follow-me is dropped too: the agent is answering at its desk.
	for _, l := range ringing {
		l.offerLive = false
		c.hangupLeg(l, mediacore.CauseCancelled)
	}
	if _, tid, ok := c.takeFollowMe(0, by.AgentID); ok {
		c.stop(tid)
	}
	c.publish("call.answer-requested", by.AgentID, nil, map[string]any{"agent_id": by.AgentID, "device": dev,
		"by": by.UserID})
	l := c.newLeg("agent", dev, by.AgentID)
	l.offerLive, l.offerUntil, l.autoAnswer = true, desk.offerUntil, true
	// The ACD's offer timer still decides the timeout (as in offer).
	timeout := max(desk.offerUntil.Sub(c.now())+time.Second, time.Second)
	if err := c.originate(l, dev, timeout); err != nil {
		l.offerLive = false
		ctx, cancel := c.io()
		defer cancel()
		if ferr := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
			return e.OfferFailed(acd.CallID(c.id), acd.AgentID(by.AgentID), "unreachable")
		}); ferr != nil {
			c.log.Debug("offer failure not taken", "err", ferr)
		}
		// The offer is over (the ACD was told); the caller waits on. Not
		// an internal error: the device refused or is gone (409).
		return fmt.Errorf("%w: agent %q's device %s could not be rung again (%v); the call is back in the queue",
			ErrCallState, by.AgentID, dev, err)
	}
	return nil
}
