package controller

import (
	"strings"
	"time"

	"hotline/acd"
	"hotline/controller/store"
	"hotline/mediacore"
)

// Callbacks (R3.5). A caller who asked for a callback (KeyCallback, or a
// queue whose overflow is a callback) hung up keeping its place; when the
// place reaches the head the ACD reserves an agent and says so with
// EventCallbackDue. The callback's own actor then rings the agent's
// device (the customer's number as caller id); once the agent answers it
// dials the customer (tel/<number>, or user/<number> for a short internal
// number of at most six digits) and bridges them. Its CDR has the id
// "<call id>-cb" and direction "callback"; the first call's CDR (outcome
// callback) stays as it was.

// callbackEndpoint is where a callback dials the customer.
func callbackEndpoint(number string) string {
	if len(number) <= 6 && !strings.HasPrefix(number, "+") {
		return "user/" + number
	}
	return "tel/" + number
}

// newCallback starts the actor of a callback the ACD decided (cc.mu held).
func (cc *CallCenter) newCallback(ev acd.Event) *call {
	c := cc.spawn(string(ev.Call))
	cc.wg.Add(1)
	go c.runCallback(ev)
	return c
}

func (c *call) runCallback(due acd.Event) {
	defer c.cc.wg.Done()
	c.start = c.now()
	c.in = mediacore.Event{Caller: due.Caller, Called: due.Caller}
	ctx, cancel := c.io()
	q, teams, ok, _ := c.cc.ctl.storedQueue(ctx, string(due.Queue))
	cancel()
	ep := callbackEndpoint(due.Caller)
	c.cdr = store.CDR{ID: c.id + "-cb", Direction: "callback", Caller: due.Caller, Called: due.Caller, Start: c.start,
		Queue: string(due.Queue), IVRPath: []store.IVRStep{}, Transfers: []store.CDRTransfer{},
		Legs: []store.CDRLeg{{Role: "callback", Endpoint: ep}}}
	if ok {
		c.queue, c.teams = &q, teams
		c.cdr.QueueName = q.Name
	}
	c.gone = true // no customer on the line until it is dialled
	c.setView(func(v *LiveCall) {
		*v = LiveCall{ID: c.id, Direction: "callback", Caller: due.Caller, Called: due.Caller, State: "callback",
			Queue: string(due.Queue), Start: c.start}
	})
	agent := c.callbackAgent()
	if agent == nil {
		c.cdr.Outcome = store.OutcomeFailed
		c.finish()
		return
	}
	c.agent = agent
	ctx, cancel = c.io()
	c.agentRec, _, _ = c.cc.ctl.storedAgent(ctx, agent.agent)
	cancel()
	c.cdr.AgentID, c.cdr.AgentName, c.cdr.Extension = agent.agent, c.agentRec.Name, c.agentRec.Extension
	// Dial the customer from the agent's call.
	c.ch = mediacore.ChannelID(c.id + "-cust")
	c.cc.bind(c.ch, c)
	c.gone = false
	c.cdr.Legs[0].Channel, c.cdr.Legs[0].Start = string(c.ch), c.now()
	ctx, cancel = c.io()
	_, err := c.cc.media.Originate(ctx, mediacore.OriginateRequest{ChannelID: c.ch, Endpoint: ep, Near: agent.ch})
	cancel()
	if node, ok := c.cc.media.NodeOf(c.ch); ok {
		c.cdr.Legs[0].Node, c.cdr.Node = node, node
	}
	if err != nil {
		c.log.Warn("callback: customer not dialled", "endpoint", ep, "err", err)
		c.gone = true
		c.cdr.Legs[0].End, c.cdr.Legs[0].Cause = c.now(), mediacore.CauseFailure.String()
	}
	for !c.gone && !c.answered && !agent.ended {
		if _, ok := c.next(); !ok {
			break
		}
	}
	var to string
	if c.answered && !agent.ended && !c.gone {
		if err := c.connectLeg(agent); err != nil {
			c.log.Warn("callback: bridge", "err", err)
		}
		// Answered when the customer answered (the media node's stamp),
		// not when the bridge was made: bridging takes its time.
		t := c.now()
		if a := c.cdr.Legs[0].Answer; a != nil {
			t = *a
		}
		c.cdr.Answer = &t
		c.cdr.Outcome = store.OutcomeAnswered
		c.setView(func(v *LiveCall) { v.State, v.AgentID, v.Answer = "talking", agent.agent, &t })
		c.startRecording()
		c.publish("call.answered", agent.agent, nil, map[string]any{"agent_id": agent.agent, "callback": true})
		to = c.talk(agent)
	} else {
		c.cdr.Outcome = store.OutcomeFailed
	}
	ctx, cancel = c.io()
	if err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) { return e.CallEnded(acd.CallID(c.id)) }); err != nil {
		c.log.Warn("callback end not taken by the ACD", "err", err)
	}
	cancel()
	if to != "" {
		c.dial(to, "blind")
	}
	for t := c.takeNext(); t != nil && !c.gone; {
		t = c.execute(*t, 0) // an API transfer of the callback (callcontrol.go)
	}
	c.finish()
}

// callbackAgent rings the agents the ACD reserves for the callback until
// one answers (OfferAccepted), and returns its leg; nil when the callback
// is withdrawn or the actor stops.
func (c *call) callbackAgent() *leg {
	var cur *leg
	for {
		m, ok := c.next()
		if !ok {
			return nil
		}
		switch v := m.(type) {
		case acd.Event:
			switch v.Kind {
			case acd.EventCallbackDue:
				cur = c.ringCallbackAgent(v)
			case acd.EventOfferTimeout, acd.EventOfferCancelled:
				if cur != nil && cur.agent == string(v.Agent) {
					cur.offerLive = false
					c.hangupLeg(cur, mediacore.CauseCancelled)
					cur = nil
				}
			case acd.EventAbandoned, acd.EventOverflow:
				return nil
			}
		case mediacore.Event:
			if cur == nil || v.Channel != cur.ch || !cur.offerLive {
				continue
			}
			switch v.Type {
			case mediacore.EventAnswered:
				cur.offerLive = false
				ctx, cancel := c.io()
				err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
					return e.OfferAccepted(acd.CallID(c.id), acd.AgentID(cur.agent))
				})
				cancel()
				if err == nil {
					return cur
				}
				c.hangupLeg(cur, mediacore.CauseCancelled)
				cur = nil
			case mediacore.EventHangup:
				cur.offerLive = false
				a := cur.agent
				cur = nil
				ctx, cancel := c.io()
				if err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
					return e.OfferFailed(acd.CallID(c.id), acd.AgentID(a), v.Cause.String())
				}); err != nil {
					c.log.Debug("callback offer failure not taken", "err", err)
				}
				cancel()
			}
		}
	}
}

// ringCallbackAgent rings a reserved agent for a callback; nil when the
// device cannot be reached (the ACD is told).
func (c *call) ringCallbackAgent(ev acd.Event) *leg {
	agent := string(ev.Agent)
	ctx, cancel := c.io()
	a, _, _ := c.cc.ctl.storedAgent(ctx, agent)
	cancel()
	dev := c.cc.agents.deviceOf(agent, a.Extension)
	c.publish("call.offered", agent, nil, map[string]any{"caller": ev.Caller, "callback": true,
		"queue": string(ev.Queue), "device": dev, "until": ev.Until})
	l := c.newLeg("agent", dev, agent)
	l.offerLive = true
	timeout := max(ev.Until.Sub(c.now())+time.Second, time.Second)
	ctx, cancel = c.io()
	defer cancel()
	_, err := c.cc.media.Originate(ctx, mediacore.OriginateRequest{ChannelID: l.ch, Endpoint: dev,
		CallerIDNumber: ev.Caller, Timeout: timeout})
	if node, ok := c.cc.media.NodeOf(l.ch); ok {
		c.cdr.Legs[l.idx].Node = node
	}
	if err == nil {
		return l
	}
	l.offerLive, l.ended = false, true
	c.cdr.Legs[l.idx].End, c.cdr.Legs[l.idx].Cause = c.now(), mediacore.CauseFailure.String()
	if err := c.cc.ctl.acd.Do(ctx, func(e *acd.Engine) ([]acd.Event, error) {
		return e.OfferFailed(acd.CallID(c.id), ev.Agent, "unreachable")
	}); err != nil {
		c.log.Debug("callback offer failure not taken", "err", err)
	}
	return nil
}
