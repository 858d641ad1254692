package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"hotline/controller"
	"hotline/controller/store"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// TestMixedCenter is one Hotline over a native node, a real FreeSWITCH and
// a real Asterisk at once (B1), with one queue and three agents, each
// registered on a different node. Three callers enter through the three
// nodes, one after the other, and wait in the one queue; the agents go
// ready one at a time, in an order that makes every call cross nodes:
// each agent gets the caller who has waited longest (arrival order, across
// nodes), its phone rings with that caller's number, and each side hears
// the other's tone. The CDRs name each call's node (both legs, the agent's
// leg placed near the caller), the recordings hold caller left and agent
// right, and the CTI stream's call.incoming names the node.
func TestMixedCenter(t *testing.T) {
	c := newCenter(t, []string{"native", "freeswitch", "asterisk"}, "1001", "1002", "1101")
	qid := c.queue("1001", "1002", "1101")
	c.number("801", store.Target{Kind: store.TargetQueue, Value: qid})
	ctx, cancel := context.WithTimeout(t.Context(), 85*time.Second)
	defer cancel()

	type agent struct {
		ext, kind string
		tone      float64
		phone     *sippeer.Phone
		call      *sippeer.Call
	}
	agents := []*agent{{ext: "1001", kind: "native", tone: 1100}, {ext: "1002", kind: "freeswitch", tone: 1300},
		{ext: "1101", kind: "asterisk", tone: 1500}}
	for _, a := range agents {
		p, err := sippeer.New(sippeer.Config{User: a.ext})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close) // after the unregistration (cleanups run last first)
		a.phone = p
		n := c.nodes[a.kind]
		c.register(ctx, p, n)
		c.registered(n.name, a.ext)
	}

	type caller struct {
		number, kind string
		tone         float64
		call         *sippeer.Call
		agent        *agent
	}
	callers := []*caller{{number: "13800000001", kind: "native", tone: 500}, {number: "13800000002", kind: "freeswitch", tone: 700},
		{number: "13800000003", kind: "asterisk", tone: 900}}
	queued := func() int {
		v, _ := c.cc.Calls(ctx, admin)
		return len(slices.DeleteFunc(v, func(l controller.LiveCall) bool { return l.State != "queued" }))
	}
	for i, cl := range callers {
		p, err := sippeer.New(sippeer.Config{User: cl.number})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		call, err := p.Dial(ctx, "sip:801@"+c.nodes[cl.kind].sip)
		if err != nil {
			t.Fatalf("caller through %s: %v", cl.kind, err)
		}
		call.SetTone(cl.tone)
		cl.call = call
		// Queued before the next one dials: the arrival order is known.
		eventually(t, fmt.Sprintf("%d queued", i+1), 15*time.Second, func() bool { return queued() == i+1 })
	}

	// Ready one at a time: the Asterisk agent first (gets the native
	// caller), then the native one (the FreeSWITCH caller), then the
	// FreeSWITCH one (the Asterisk caller).
	for i, a := range []*agent{agents[2], agents[0], agents[1]} {
		cl := callers[i]
		cl.agent = a
		if _, err := c.cc.SetAgentState(ctx, admin, c.agents[a.ext], controller.AgentStateRequest{State: "ready"}); err != nil {
			t.Fatal(err)
		}
		select {
		case a.call = <-a.phone.Incoming():
		case <-ctx.Done():
			v, _ := c.cc.Calls(ctx, admin)
			t.Fatalf("agent %s (on %s) never rang for the caller through %s; calls %+v", a.ext, a.kind, cl.kind, v)
		}
		if from := a.call.HeaderValue("From"); !strings.Contains(from, cl.number) {
			t.Errorf("agent %s got From %q, want the caller through %s (%s): not arrival order", a.ext, from, cl.kind, cl.number)
		}
		a.call.SetTone(a.tone)
		hears(t, fmt.Sprintf("caller through %s hears agent %s", cl.kind, a.ext), 15*time.Second, cl.call, a.tone)
		hears(t, fmt.Sprintf("agent %s hears the caller through %s", a.ext, cl.kind), 10*time.Second, a.call, cl.tone)
		musicStopped(t, "the caller through "+cl.kind, cl.call)
		if q := queued(); q != len(callers)-i-1 {
			t.Errorf("after %d answered, %d queued", i+1, q)
		}
	}
	// Two seconds of the last call's tones for its recording (the length
	// of a recording, not a settle).
	time.Sleep(2 * time.Second)
	for _, cl := range callers {
		if err := cl.call.Hangup(ctx); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "three CDRs", 20*time.Second, func() bool { return len(c.j.CDRs()) == 3 })
	eventually(t, "three recordings", 20*time.Second, func() bool { return len(c.j.Recordings()) == 3 })
	cdrs, recs := c.j.CDRs(), c.j.Recordings()
	for _, cl := range callers {
		node := c.nodes[cl.kind].name
		i := slices.IndexFunc(cdrs, func(r store.CDR) bool { return r.Caller == cl.number })
		if i < 0 {
			t.Errorf("no CDR for the caller through %s", cl.kind)
			continue
		}
		cdr := cdrs[i]
		if cdr.Outcome != store.OutcomeAnswered || cdr.AgentID != c.agents[cl.agent.ext] || cdr.QueueName != "sales" ||
			cdr.HangupSide != store.SideCaller || len(cdr.Legs) != 2 {
			t.Errorf("CDR of the caller through %s = %+v", cl.kind, cdr)
			continue
		}
		for j, l := range cdr.Legs {
			if l.Node != node {
				t.Errorf("caller through %s: CDR leg %d (%s) names node %q, want %q", cl.kind, j, l.Role, l.Node, node)
			}
		}
		if ep := cdr.Legs[1].Endpoint; ep != "user/"+cl.agent.ext {
			t.Errorf("caller through %s: agent leg endpoint %q", cl.kind, ep)
		}
		k := slices.IndexFunc(recs, func(r store.Recording) bool { return r.ID == cdr.RecordingID })
		if k < 0 {
			t.Errorf("caller through %s: no recording %q", cl.kind, cdr.RecordingID)
			continue
		}
		l, r, rate, ok := splitStereo(c.recs.get(recs[k].Path))
		if !ok {
			t.Errorf("caller through %s: recording not stereo", cl.kind)
			continue
		}
		l, r = l[len(l)/4:], r[len(r)/4:]
		if !audio.HasTone(l, rate, cl.tone) || audio.HasTone(l, rate, cl.agent.tone) ||
			!audio.HasTone(r, rate, cl.agent.tone) || audio.HasTone(r, rate, cl.tone) {
			t.Errorf("caller through %s: recording left %v Hz %v / %v Hz %v, right %v Hz %v / %v Hz %v", cl.kind,
				cl.tone, audio.HasTone(l, rate, cl.tone), cl.agent.tone, audio.HasTone(l, rate, cl.agent.tone),
				cl.agent.tone, audio.HasTone(r, rate, cl.agent.tone), cl.tone, audio.HasTone(r, rate, cl.tone))
		}
	}
	// The CTI stream: each call.incoming names the node the caller came
	// in through, and the offers went out in arrival order.
	var incoming, offered []string
	callNode := map[string]string{}
	for _, ev := range c.events() {
		switch ev.Type {
		case "call.incoming":
			p := payload(t, ev)
			incoming = append(incoming, fmt.Sprint(p["caller"]))
			callNode[ev.CallID] = fmt.Sprint(p["node"])
		case "call.offered":
			offered = append(offered, ev.CallID)
		}
	}
	if !slices.Equal(incoming, []string{"13800000001", "13800000002", "13800000003"}) {
		t.Errorf("call.incoming callers %v", incoming)
	}
	var offeredNodes []string
	for _, id := range offered {
		offeredNodes = append(offeredNodes, callNode[id])
	}
	if !slices.Equal(offeredNodes, []string{"native", "fs", "ast"}) {
		t.Errorf("call.offered went to calls on nodes %v, want native, fs, ast (arrival order)", offeredNodes)
	}
}
