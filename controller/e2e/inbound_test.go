package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"hotline/controller"
	"hotline/controller/store"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// holdChime is the queue's default music on hold (controller/queue.go
// holdTone): two notes the caller must hear while queued.
var holdChime = []float64{523.25, 659.25}

// TestInboundFullPath is the controller's inbound path, unchanged, on each
// kind of media node: a caller dials 800 at the node, hears the menu,
// presses 1 (RFC 4733), hears music while queued; the agent, registered
// on that node as 1001, goes ready, its phone rings and answers; each
// hears the other; the caller's tone is on the stereo recording's left
// channel and the agent's on the right, each absent from the other; the
// caller hangs up; the CDR says exactly that and names the node; the agent
// passes wrap-up back to ready.
func TestInboundFullPath(t *testing.T) {
	for _, kind := range []string{"native", "freeswitch", "asterisk"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			inboundFullPath(t, kind)
		})
	}
}

func inboundFullPath(t *testing.T, kind string) {
	c := newCenter(t, []string{kind}, "1001")
	c.queue("1001")
	c.number("800", store.Target{Kind: store.TargetIVR, Value: "demo-800"})
	n := c.nodes[kind]
	ctx, cancel := context.WithTimeout(t.Context(), 75*time.Second)
	defer cancel()

	phone, err := sippeer.New(sippeer.Config{User: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(phone.Close) // after the unregistration (cleanups run last first)
	c.register(ctx, phone, n)
	callerPhone, err := sippeer.New(sippeer.Config{User: "13800000001"})
	if err != nil {
		t.Fatal(err)
	}
	defer callerPhone.Close()
	const callerTone, agentTone = 600.0, 1400.0
	call, err := callerPhone.Dial(ctx, "sip:800@"+n.sip)
	if err != nil {
		t.Fatal(err)
	}
	call.SetTone(callerTone)
	// 1 is pressed at once, over the menu (barge-in; a key pressed before
	// the menu collects waits in the call's mailbox).
	call.SendDTMF("1")
	calls := func() []controller.LiveCall {
		v, _ := c.cc.Calls(ctx, admin)
		return v
	}
	eventually(t, "queued", 15*time.Second, func() bool {
		v := calls()
		return len(v) == 1 && v[0].State == "queued"
	})
	eventually(t, "music on hold heard", 15*time.Second, func() bool {
		heard := call.Heard(2 * time.Second)
		return audio.HasTone(heard, audio.SampleRate, holdChime[0]) && audio.HasTone(heard, audio.SampleRate, holdChime[1])
	})
	if _, err := c.cc.SetAgentState(ctx, admin, c.agents["1001"], controller.AgentStateRequest{State: "ready"}); err != nil {
		t.Fatal(err)
	}
	var agentCall *sippeer.Call
	select {
	case agentCall = <-phone.Incoming():
	case <-ctx.Done():
		t.Fatalf("the agent's phone never rang; calls %+v", calls())
	}
	if from := agentCall.HeaderValue("From"); !strings.Contains(from, "13800000001") {
		t.Errorf("agent's caller id = %q", from)
	}
	agentCall.SetTone(agentTone)
	eventually(t, "talking", 15*time.Second, func() bool {
		v := calls()
		return len(v) == 1 && v[0].State == "talking"
	})
	hears(t, "the caller hears the agent", 10*time.Second, call, agentTone)
	hears(t, "the agent hears the caller", 10*time.Second, agentCall, callerTone)
	musicStopped(t, "the caller", call)
	// Two seconds of both tones for the recording (its length, not a
	// settle).
	time.Sleep(2 * time.Second)
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the CDR", 20*time.Second, func() bool { return len(c.j.CDRs()) == 1 })
	cdr := c.j.CDRs()[0]
	var path []string
	for _, s := range cdr.IVRPath {
		path = append(path, s.Node)
	}
	if cdr.Outcome != store.OutcomeAnswered || cdr.HangupSide != store.SideCaller || cdr.AgentID != c.agents["1001"] ||
		cdr.QueueName != "sales" || !slices.Equal(path, []string{"welcome", "sales"}) || cdr.Caller != "13800000001" ||
		cdr.Called != "800" || cdr.TalkSeconds < 1 || cdr.RecordingID == "" || len(cdr.Legs) != 2 {
		t.Errorf("CDR = %+v", cdr)
	}
	for i, l := range cdr.Legs {
		if l.Node != n.name {
			t.Errorf("CDR leg %d (%s) on node %q, want %q", i, l.Role, l.Node, n.name)
		}
	}
	eventually(t, "the recording", 20*time.Second, func() bool { return len(c.j.Recordings()) == 1 })
	recs := c.j.Recordings()
	if !recs[0].Stereo || recs[0].ID != cdr.RecordingID {
		t.Fatalf("recordings = %+v", recs)
	}
	l, r, rate, ok := splitStereo(c.recs.get(recs[0].Path))
	if !ok {
		t.Fatalf("the recording is not stereo (%d bytes)", len(c.recs.get(recs[0].Path)))
	}
	// Skip the start (the tones begin a little after the bridge).
	l, r = l[len(l)/4:], r[len(r)/4:]
	if !audio.HasTone(l, rate, callerTone) || audio.HasTone(l, rate, agentTone) {
		t.Errorf("left channel: caller tone %v, agent tone %v", audio.HasTone(l, rate, callerTone), audio.HasTone(l, rate, agentTone))
	}
	if !audio.HasTone(r, rate, agentTone) || audio.HasTone(r, rate, callerTone) {
		t.Errorf("right channel: agent tone %v, caller tone %v", audio.HasTone(r, rate, agentTone), audio.HasTone(r, rate, callerTone))
	}
	select {
	case <-agentCall.Done():
	case <-ctx.Done():
		t.Fatal("the agent's call was not ended")
	}
	eventually(t, "wrap-up then ready", 15*time.Second, func() bool {
		v, _ := c.cc.AgentState(ctx, admin, c.agents["1001"])
		return v.State == "ready" && v.CallsToday == 1
	})
	if !slices.ContainsFunc(c.j.Events(), func(e store.QueueEvent) bool { return e.Kind == "agent-state" && e.State == "wrap-up" }) {
		t.Error("no wrap-up in the event log")
	}
	for _, ev := range c.events() {
		if ev.Type == "call.incoming" && payload(t, ev)["node"] != n.name {
			t.Errorf("call.incoming names node %v, want %q", payload(t, ev)["node"], n.name)
		}
	}
}
