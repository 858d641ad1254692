package controller

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"hotline/controller/cti"
	"hotline/controller/ivr"
	"hotline/controller/ivr/ivrhttp"
	"hotline/controller/store"
	"hotline/mediacore"
	"hotline/mediacore/mediafake"
)

// A caller who hangs up while queued is abandoned: the ACD is told, the
// CDR says so with the time waited, and nobody rang.
func TestAbandonWhileQueued(t *testing.T) {
	h := newHarness(t)
	ch := h.fake.Inbound("13800000001", "800")
	h.until("queued", time.Second, h.hasCTI("call.queued"))
	h.clk.Advance(7 * time.Second)
	left := h.clk.Now()
	if calls, _ := h.cc.Calls(h.ctx, admin); len(calls) != 1 || calls[0].State != "queued" || calls[0].WaitSeconds < 7 ||
		calls[0].WaitSeconds > 7.5 || calls[0].Queue != h.queues["sales"] {
		t.Errorf("live calls = %+v", calls)
	}
	if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", time.Second, h.cdrCount(1))
	cdr := h.j.CDRs()[0]
	if cdr.EnqueuedAt == nil || cdr.WaitSeconds != left.Sub(*cdr.EnqueuedAt).Seconds() || cdr.WaitSeconds < 7 {
		t.Errorf("waited %v s, enqueued at %v, left at %v", cdr.WaitSeconds, cdr.EnqueuedAt, left)
	}
	if cdr.Outcome != store.OutcomeAbandoned || cdr.HangupSide != store.SideCaller ||
		cdr.Answer != nil || len(cdr.Legs) != 1 {
		t.Errorf("CDR = %+v", cdr)
	}
	i := slices.IndexFunc(h.j.Events(), func(e store.QueueEvent) bool { return e.Kind == "abandoned" && e.CallID == cdr.ID })
	if i < 0 {
		t.Fatal("the ACD never heard of the abandon")
	}
	// The event log's abandon is the caller's hangup, not when the ACD
	// heard of it: reports measure the wait from it.
	if ev := h.j.Events()[i]; !ev.At.Equal(left) {
		t.Errorf("abandoned at %v, the caller left at %v", ev.At, left)
	}
	h.waitReal("queue.abandoned CTI event", h.hasCTI("queue.abandoned"))
}

// A call waiting longer than the queue's max wait overflows to the
// queue's target (here voicemail).
func TestOverflowAfterMaxWait(t *testing.T) {
	h := newHarness(t)
	q := h.queue(store.Queue{Name: "short", Strategy: store.StrategyLongestIdle, RingTimeout: 10, MaxWait: 20,
		JoinWhenNoAgents: true, Overflow: &store.Target{Kind: store.TargetVoicemail, Value: "short-box"},
		Members: []store.QueueMember{{AgentID: h.agents["1001"]}}})
	h.number(store.Number{Number: "810", Route: store.Target{Kind: store.TargetQueue, Value: q}})
	ch := h.fake.Inbound("13800000001", "810")
	h.until("voicemail recording", 30*time.Second, func() bool { return len(h.fake.CallsOf("record")) == 1 })
	if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", time.Second, h.cdrCount(1))
	cdr := h.j.CDRs()[0]
	if cdr.Outcome != store.OutcomeVoicemail || cdr.Variables["overflow_reason"] != "max-wait" ||
		cdr.Variables["voicemail_box"] != "short-box" || cdr.Queue != q || len(cdr.Transfers) != 1 {
		t.Errorf("CDR = %+v", cdr)
	}
	if w := cdr.WaitSeconds; w < 20 {
		t.Errorf("waited %v s, max wait is 20", w)
	}
	recs := h.j.Recordings()
	if len(recs) != 1 || recs[0].Stereo || recs[0].ID != cdr.RecordingID {
		t.Errorf("voicemail recording = %+v", recs)
	}
}

// An agent who does not answer within the ring timeout is passed over for
// the next; after the queue's no-answer limit it goes not-ready
// (no-answer).
func TestRingNoAnswerMovesOnAndSetsNotReady(t *testing.T) {
	h := newHarness(t)
	q := h.queue(store.Queue{Name: "ring", Strategy: store.StrategyTopDown, RingTimeout: 5, NoAnswerLimit: 1,
		JoinWhenNoAgents: true,
		Members:          []store.QueueMember{{AgentID: h.agents["1001"]}, {AgentID: h.agents["1002"]}}})
	h.number(store.Number{Number: "811", Route: store.Target{Kind: store.TargetQueue, Value: q}})
	h.ready("1001")
	h.ready("1002")
	h.fake.SetAnswer("user/1001", mediafake.NoAnswer())
	h.fake.SetAnswer("user/1002", mediafake.AnswerAfter(time.Second))
	ch := h.fake.Inbound("13800000001", "811")
	h.until("answered by 1002", 20*time.Second, h.hasCTI("call.answered"))
	if len(h.originates("user/1001")) != 1 {
		t.Fatalf("1001 was not rung first: %v", h.fake.CallsOf("originate"))
	}
	if s := h.agentState("1001"); s != "not-ready" {
		t.Errorf("1001 is %s after its no-answer limit", s)
	}
	v, _ := h.cc.AgentState(h.ctx, admin, h.agents["1001"])
	if v.Reason != "no-answer" {
		t.Errorf("1001 reason = %q", v.Reason)
	}
	if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", time.Second, h.cdrCount(1))
	cdr := h.j.CDRs()[0]
	if cdr.AgentID != h.agents["1002"] || len(cdr.Legs) != 3 || cdr.Legs[1].Cause != "no_answer" {
		t.Errorf("CDR agent %s legs %+v", cdr.AgentID, cdr.Legs)
	}
}

// The position is announced at the queue's interval, spoken in the
// call's language, between stretches of music.
func TestPositionAnnouncement(t *testing.T) {
	h := newHarness(t)
	q := h.queue(store.Queue{Name: "ann", Strategy: store.StrategyLongestIdle, RingTimeout: 10, JoinWhenNoAgents: true,
		Announcements: store.Announcements{PositionEvery: 30, ExpectedWait: true},
		Members:       []store.QueueMember{{AgentID: h.agents["1001"]}}})
	h.number(store.Number{Number: "812", Route: store.Target{Kind: store.TargetQueue, Value: q}})
	h.fake.Inbound("13800000001", "812")
	h.fake.Inbound("13800000002", "812")
	said := func(text string) func() bool {
		return func() bool {
			return slices.ContainsFunc(h.fake.Played(), func(p mediafake.Played) bool {
				return len(p.Media) == 2 && p.Media[0].Kind == mediacore.MediaTTS && p.Media[0].Text == text &&
					p.Media[1].Text == keysText("zh")
			})
		}
	}
	h.until("queued", time.Second, func() bool { return len(h.ctiOf("call.queued")) == 2 })
	start := h.clk.Now()
	h.until("second caller hears its position", 31*time.Second, said("您现在排在第2位。"))
	// The timer starts when the call joins the queue, a step of the
	// harness's clock before "queued" is seen at the latest.
	if d := h.clk.Now().Sub(start); d < 29*time.Second || d > 31*time.Second {
		t.Errorf("announced after %v, interval is 30 s", d)
	}
	h.until("first caller hears its position", time.Second, said("您现在排在第1位。"))
	// Music comes back after the announcement.
	mohs := func() int {
		n := 0
		for _, p := range h.fake.Played() {
			if p.Loop {
				n++
			}
		}
		return n
	}
	h.until("music again", 5*time.Second, func() bool { return mohs() >= 4 })
}

func TestPositionText(t *testing.T) {
	if got := positionText("en", 3, 90*time.Second, true); got != "You are number 3 in line. The expected wait is about 2 minutes." {
		t.Error(got)
	}
	if got := positionText("zh", 1, 0, true); got != "您现在排在第1位。" {
		t.Error(got)
	}
}

// The demo flow on its number: the menu is played, the caller presses 1
// (RFC 4733), the call queues in sales (a queue named by the flow) and
// the IVR path is in the CDR.
func TestIVRMenuToQueue(t *testing.T) {
	h := newHarness(t)
	h.number(store.Number{Number: "801", Route: store.Target{Kind: store.TargetIVR, Value: "demo-800"}})
	h.ready("1001")
	ch := h.fake.Inbound("13800000001", "801")
	h.until("menu played", 2*time.Second, func() bool {
		return slices.ContainsFunc(h.fake.Played(), func(p mediafake.Played) bool {
			return len(p.Media) == 2 && p.Media[0].Kind == mediacore.MediaTTS && p.Media[0].Voice == "zh" && p.Media[1].Voice == "en"
		})
	})
	if !h.fake.DTMFDetection(ch) {
		t.Error("in-band DTMF detection is off while the menu collects")
	}
	if err := h.fake.PressDTMF(ch, '1'); err != nil {
		t.Fatal(err)
	}
	h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
	offer := payload(t, h.ctiOf("call.offered")[0])
	if vars, _ := offer["vars"].(map[string]any); vars["ivr_flow"] != "demo-800" {
		t.Errorf("screen pop vars = %v", offer["vars"])
	}
	if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", time.Second, h.cdrCount(1))
	cdr := h.j.CDRs()[0]
	var path []string
	for _, s := range cdr.IVRPath {
		path = append(path, s.Flow+"/"+s.Node)
	}
	if !slices.Equal(path, []string{"demo-800/welcome", "demo-800/sales"}) || cdr.QueueName != "sales" ||
		cdr.Outcome != store.OutcomeAnswered {
		t.Errorf("path %v, queue %q, outcome %q", path, cdr.QueueName, cdr.Outcome)
	}
}

// An http node asks a local server, maps the answer into a variable that
// reaches the screen pop; a server too slow takes the failure branch.
func TestIVRHTTPNode(t *testing.T) {
	slow := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("caller") == "slow" {
			<-slow
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"tier":"gold"}}`))
	}))
	defer srv.Close()
	defer close(slow)
	client, err := ivrhttp.New()
	if err != nil {
		t.Fatal(err)
	}
	flow := &ivr.Flow{ID: "lookup", Version: 1, Language: "en", Start: "ask", Nodes: map[string]ivr.Node{
		"ask": &ivr.HTTP{Method: "GET", URL: srv.URL + "/tier?caller=${caller}", TimeoutMS: 200,
			Result: map[string]string{"tier": "data.tier"}, Next: "q", OnFailure: "sorry"},
		"q":     &ivr.Queue{Queue: "sales"},
		"sorry": &ivr.Hangup{},
	}}
	for _, tc := range []struct {
		caller  string
		outcome store.CallOutcome
		step    string
	}{{"13800000001", store.OutcomeAnswered, "ok"}, {"slow", store.OutcomeSelfServe, "timeout"}} {
		t.Run(tc.caller, func(t *testing.T) {
			h := newHarness(t, func(o *CallCenterOptions) {
				o.HTTP = client
				o.BuiltinFlows = map[string]*ivr.Flow{"lookup": flow}
			})
			h.number(store.Number{Number: "820", Route: store.Target{Kind: store.TargetIVR, Value: "lookup"}})
			h.ready("1001")
			ch := h.fake.Inbound(tc.caller, "820")
			if tc.outcome == store.OutcomeAnswered {
				h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
				offer := payload(t, h.ctiOf("call.offered")[0])
				if vars, _ := offer["vars"].(map[string]any); vars["tier"] != "gold" {
					t.Errorf("screen pop vars = %v", offer["vars"])
				}
				if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
					t.Fatal(err)
				}
			}
			h.waitReal("the CDR", h.cdrCount(1))
			cdr := h.j.CDRs()[0]
			if cdr.Outcome != tc.outcome || len(cdr.IVRPath) < 2 || cdr.IVRPath[0].Node != "ask" {
				t.Errorf("CDR outcome %q path %+v", cdr.Outcome, cdr.IVRPath)
			}
		})
	}
}

// The queue's recording policy: none records nothing, a 0 % sample
// nothing, on-demand starts paused until resumed; pauses are noted.
func TestRecordingPolicy(t *testing.T) {
	cases := []struct {
		name    string
		policy  store.RecordingPolicy
		sample  float64
		records bool
		resume  bool
	}{
		{"none", store.RecordingPolicy{Mode: store.RecordNone}, 0, false, false},
		{"sample miss", store.RecordingPolicy{Mode: store.RecordSample, SamplePercent: 30}, 0.5, false, false},
		{"sample hit", store.RecordingPolicy{Mode: store.RecordSample, SamplePercent: 30}, 0.2, true, false},
		{"on demand never resumed", store.RecordingPolicy{Mode: store.RecordOnDemand}, 0, false, false},
		{"on demand resumed", store.RecordingPolicy{Mode: store.RecordOnDemand}, 0, true, true},
		{"all with a pause", store.RecordingPolicy{Mode: store.RecordAll}, 0, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(o *CallCenterOptions) { o.Sample = func() float64 { return tc.sample } })
			q := h.queue(store.Queue{Name: "rec", Strategy: store.StrategyLongestIdle, RingTimeout: 10,
				JoinWhenNoAgents: true, Recording: tc.policy, Members: []store.QueueMember{{AgentID: h.agents["1001"]}}})
			h.number(store.Number{Number: "830", Route: store.Target{Kind: store.TargetQueue, Value: q}})
			h.ready("1001")
			ch := h.fake.Inbound("13800000001", "830")
			h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
			calls, _ := h.cc.Calls(h.ctx, admin)
			if len(calls) != 1 {
				t.Fatalf("calls = %+v", calls)
			}
			id := calls[0].ID
			agentActor := Actor{UserID: "u1", Role: store.RoleAgent, AgentID: h.agents["1001"]}
			other := Actor{UserID: "u2", Role: store.RoleAgent, AgentID: h.agents["1002"]}
			if err := h.cc.PauseRecording(h.ctx, other, id); !errors.Is(err, ErrForbidden) {
				t.Errorf("another agent paused: %v", err)
			}
			var resumedAt time.Time
			switch {
			case tc.resume:
				h.clk.Advance(3 * time.Second)
				resumedAt = h.clk.Now()
				if err := h.cc.ResumeRecording(h.ctx, agentActor, id); err != nil {
					t.Fatal(err)
				}
			case tc.policy.Mode == store.RecordAll:
				h.clk.Advance(2 * time.Second)
				if err := h.cc.PauseRecording(h.ctx, agentActor, id); err != nil {
					t.Fatal(err)
				}
				if c, _ := h.cc.Calls(h.ctx, admin); !c[0].RecordingPaused {
					t.Error("live call does not say paused")
				}
				h.clk.Advance(4 * time.Second)
				if err := h.cc.ResumeRecording(h.ctx, agentActor, id); err != nil {
					t.Fatal(err)
				}
			case !tc.records && tc.policy.Mode != store.RecordOnDemand:
				if err := h.cc.PauseRecording(h.ctx, agentActor, id); !errors.Is(err, ErrNotRecording) {
					t.Errorf("pause of an unrecorded call: %v", err)
				}
			}
			h.clk.Advance(5 * time.Second)
			if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
				t.Fatal(err)
			}
			h.until("the CDR", time.Second, h.cdrCount(1))
			cdr := h.j.CDRs()[0]
			recs := h.j.Recordings()
			if got := len(recs) == 1 && cdr.RecordingID == recs[0].ID; got != tc.records {
				t.Fatalf("recorded = %v (CDR %q, %+v), want %v", got, cdr.RecordingID, recs, tc.records)
			}
			if !tc.records {
				return
			}
			p := recs[0].Pauses
			switch {
			case tc.resume:
				// Paused from the recording's start (at the bridge, which
				// the harness's clock may have passed by a step before the
				// CTI event was seen) to the resume.
				if len(p) != 1 || !p[0].To.Equal(resumedAt) || p[0].To.Sub(p[0].From) < 3*time.Second ||
					p[0].To.Sub(p[0].From) > 4*time.Second {
					t.Errorf("on-demand pauses = %+v, want one ending at the resume (%v), at least 3 s long", p, resumedAt)
				}
			case tc.policy.Mode == store.RecordAll:
				if len(p) != 1 || p[0].To.Sub(p[0].From) != 4*time.Second || p[0].By != "u1" {
					t.Errorf("pauses = %+v", p)
				}
			}
		})
	}
}

// Agent state changes over the live control: who may do what, devices,
// and the ACD's refusals.
func TestAgentStateControl(t *testing.T) {
	h := newHarness(t)
	a1, a2 := h.agents["1001"], h.agents["1002"]
	self := Actor{UserID: "u1", Role: store.RoleAgent, AgentID: a1}
	if _, err := h.cc.SetAgentState(h.ctx, self, a2, AgentStateRequest{State: "ready"}); !errors.Is(err, ErrForbidden) {
		t.Errorf("agent on another: %v", err)
	}
	if _, err := h.cc.SetAgentState(h.ctx, Actor{Role: store.RoleReporter}, a1, AgentStateRequest{State: "ready"}); !errors.Is(err, ErrForbidden) {
		t.Errorf("reporter: %v", err)
	}
	if _, err := h.cc.SetAgentState(h.ctx, self, a1, AgentStateRequest{State: "ready", Device: "sip:bad uri"}); !errors.Is(err, ErrInvalidDevice) {
		t.Errorf("bad device: %v", err)
	}
	if _, err := h.cc.SetAgentState(h.ctx, self, a1, AgentStateRequest{State: "sleeping"}); !errors.Is(err, ErrInvalidState) {
		t.Errorf("bad state: %v", err)
	}
	if _, err := h.cc.SetAgentState(h.ctx, self, "nobody", AgentStateRequest{State: "ready"}); !errors.Is(err, ErrForbidden) {
		t.Errorf("unknown agent as agent: %v", err)
	}
	if _, err := h.cc.SetAgentState(h.ctx, admin, "nobody", AgentStateRequest{State: "ready"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown agent: %v", err)
	}
	v, err := h.cc.SetAgentState(h.ctx, self, a1, AgentStateRequest{State: "ready", Device: "sip:agent7@10.1.2.3:5060"})
	if err != nil || v.State != "ready" || v.Device != "sip:agent7@10.1.2.3:5060" || v.Extension != "1001" {
		t.Fatalf("ready at a sip device: %+v, %v", v, err)
	}
	v, err = h.cc.SetAgentState(h.ctx, self, a1, AgentStateRequest{State: "not-ready", Reason: "lunch"})
	if err != nil || v.State != "not-ready" || v.Reason != "lunch" || v.Device != "sip:agent7@10.1.2.3:5060" {
		t.Fatalf("not-ready: %+v, %v", v, err)
	}
	sup := Actor{UserID: "s", Role: store.RoleSupervisor, Team: "blue"}
	// A supervisor of another team may not force the agent's state.
	red := Actor{UserID: "r", Role: store.RoleSupervisor, Team: "red"}
	for _, st := range []string{"ready", "not-ready", "logged-out"} {
		if _, err := h.cc.SetAgentState(h.ctx, red, a1, AgentStateRequest{State: st}); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s by another team's supervisor: %v", st, err)
		}
	}
	// Its own team's supervisor forces ready and not-ready; the CTI
	// stream says who did it.
	for _, tc := range []struct{ state, reason string }{{"ready", ""}, {"not-ready", "coaching"}} {
		v, err = h.cc.SetAgentState(h.ctx, sup, a1, AgentStateRequest{State: tc.state, Reason: tc.reason})
		if err != nil || v.State != tc.state || v.Reason != tc.reason {
			t.Fatalf("forced %s: %+v, %v", tc.state, v, err)
		}
		want := `"to":"` + tc.state + `"`
		h.waitReal("agent.state "+tc.state+" by the supervisor", func() bool {
			return slices.ContainsFunc(h.ctiOf("agent.state"), func(e cti.Event) bool {
				p := string(e.Payload)
				return e.AgentID == a1 && strings.Contains(p, want) && strings.Contains(p, `"origin":"supervisor"`) &&
					strings.Contains(p, `"by":"s"`)
			})
		})
	}
	if v, err = h.cc.SetAgentState(h.ctx, sup, a1, AgentStateRequest{State: "logged-out"}); err != nil || v.State != "logged-out" || v.Device != "" {
		t.Fatalf("logged out by a supervisor: %+v, %v", v, err)
	}
	if _, err := h.cc.SetAgentState(h.ctx, sup, a1, AgentStateRequest{State: "logged-out"}); !errors.Is(err, ErrIllegalTransition) ||
		!strings.Contains(err.Error(), "acd") {
		t.Errorf("logout twice: %v", err)
	}
	// A logged-out agent going ready without a device sits at its extension.
	if v, err = h.cc.SetAgentState(h.ctx, self, a1, AgentStateRequest{State: "ready"}); err != nil || v.Device != "user/1001" {
		t.Fatalf("ready again: %+v, %v", v, err)
	}
	all, err := h.cc.AgentStates(h.ctx, sup)
	if err != nil || len(all) != 2 || all[0].Extension != "1001" || all[1].State != "logged-out" {
		t.Errorf("agent states = %+v, %v", all, err)
	}
	mine, err := h.cc.AgentStates(h.ctx, self)
	if err != nil || len(mine) != 1 || mine[0].AgentID != a1 {
		t.Errorf("own states = %+v, %v", mine, err)
	}
	// The supervisor's change is in the event log with its origin.
	if !slices.ContainsFunc(h.j.Events(), func(e store.QueueEvent) bool {
		return e.Kind == "agent-state" && e.State == "logged-out" && strings.Contains(string(e.Data), `"origin":"supervisor"`)
	}) {
		t.Error("the supervisor's logout is not in the event log")
	}
	// agent.state events reach the agent and its team.
	h.waitReal("agent.state events", h.hasCTI("agent.state"))
	evs := h.ctiOf("agent.state")
	if len(evs) == 0 || evs[0].AgentID != a1 || !slices.Contains(evs[0].Audience.Teams, "blue") {
		t.Errorf("agent.state events = %+v", evs)
	}
}

// An agent at a fixed sip: device is rung there.
func TestOfferToFixedDevice(t *testing.T) {
	h := newHarness(t)
	if _, err := h.cc.SetAgentState(h.ctx, admin, h.agents["1001"], AgentStateRequest{State: "ready",
		Device: "sip:agent7@10.1.2.3:5060"}); err != nil {
		t.Fatal(err)
	}
	ch := h.fake.Inbound("13800000001", "800")
	h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
	if len(h.originates("sip:agent7@10.1.2.3:5060")) != 1 {
		t.Errorf("originates = %v", h.fake.CallsOf("originate"))
	}
	if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", time.Second, h.cdrCount(1))
	if l := h.j.CDRs()[0].Legs[1]; l.Endpoint != "sip:agent7@10.1.2.3:5060" {
		t.Errorf("agent leg = %+v", l)
	}
}

// A screen pop whose directory does not answer in time still offers the
// call, without a customer.
func TestScreenPopDirectoryTimeout(t *testing.T) {
	h := newHarness(t, func(o *CallCenterOptions) {
		o.Directory = fakeDirectory{fail: true}
		o.DirectoryTimeout = 20 * time.Millisecond
	})
	h.ready("1001")
	h.fake.Inbound("13800000001", "800")
	h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
	if p := payload(t, h.ctiOf("call.offered")[0]); p["customer"] != nil {
		t.Errorf("customer = %v", p["customer"])
	}
}

// A caller who presses the callback key keeps its place and hangs up;
// when an agent is free the agent's phone rings first, then the customer
// is dialled and they are bridged. Two CDRs: the call (callback) and the
// callback (answered).
func TestCallbackKeepsPlace(t *testing.T) {
	h := newHarness(t)
	ch := h.fake.Inbound("13800000001", "800")
	h.until("queued", time.Second, h.hasCTI("call.queued"))
	if err := h.fake.PressDTMF(ch, KeyCallback); err != nil {
		t.Fatal(err)
	}
	h.until("the call's CDR", 5*time.Second, h.cdrCount(1))
	if cdr := h.j.CDRs()[0]; cdr.Outcome != store.OutcomeCallback || cdr.HangupSide != store.SideSystem {
		t.Fatalf("call CDR = %+v", cdr)
	}
	h.ready("1001")
	h.until("customer dialled", 5*time.Second, func() bool { return len(h.originates("tel/13800000001")) == 1 })
	agentLegs := h.originates("user/1001")
	custLegs := h.originates("tel/13800000001")
	if len(agentLegs) != 1 {
		t.Fatalf("agent rung %d times", len(agentLegs))
	}
	h.until("bridged", 5*time.Second, func() bool { return len(h.fake.CallsOf("add_to_bridge")) == 2 })
	h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
	if info, ok := h.fake.Channel(mediacore.ChannelID(agentLegs[0].ID)); !ok || info.Caller != "13800000001" {
		t.Errorf("agent's caller id: %+v", info)
	}
	h.clk.Advance(4 * time.Second)
	if err := h.fake.RemoteHangup(mediacore.ChannelID(custLegs[0].ID), mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the callback's CDR", 5*time.Second, h.cdrCount(2))
	cb := h.j.CDRs()[1]
	if cb.ID != h.j.CDRs()[0].ID+"-cb" || cb.Direction != "callback" || cb.Outcome != store.OutcomeAnswered ||
		cb.AgentID != h.agents["1001"] || cb.TalkSeconds < 4 || cb.TalkSeconds >= 5 || cb.HangupSide != store.SideCaller {
		t.Errorf("callback CDR = %+v", cb)
	}
	h.waitReal("agent in wrap-up", func() bool { return h.agentState("1001") == "wrap-up" })
}

// The voicemail key leaves the queue for the queue's box; a caller who
// hangs up while an agent's phone rings is abandoned and the ringing is
// cancelled.
func TestQueueKeysAndAbandonWhileRinging(t *testing.T) {
	t.Run("voicemail key", func(t *testing.T) {
		h := newHarness(t)
		ch := h.fake.Inbound("13800000001", "800")
		h.until("queued", time.Second, h.hasCTI("call.queued"))
		if err := h.fake.PressDTMF(ch, KeyVoicemail); err != nil {
			t.Fatal(err)
		}
		h.until("recording", 5*time.Second, func() bool { return len(h.fake.CallsOf("record")) == 1 })
		h.clk.Advance(3 * time.Second)
		if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
			t.Fatal(err)
		}
		h.until("the CDR", time.Second, h.cdrCount(1))
		cdr := h.j.CDRs()[0]
		recs := h.j.Recordings()
		if cdr.Outcome != store.OutcomeVoicemail || cdr.Variables["voicemail_box"] != "sales" || len(recs) != 1 ||
			recs[0].Duration != 3 || recs[0].CallID != cdr.ID {
			t.Errorf("CDR %+v, recordings %+v", cdr, recs)
		}
		if !slices.ContainsFunc(h.j.Events(), func(e store.QueueEvent) bool { return e.Kind == "abandoned" }) {
			t.Error("the ACD was not told the caller left the queue")
		}
	})
	t.Run("abandon while ringing", func(t *testing.T) {
		h := newHarness(t)
		h.ready("1001")
		h.fake.SetAnswer("user/1001", mediafake.NoAnswer())
		ch := h.fake.Inbound("13800000001", "800")
		h.until("ringing", 2*time.Second, func() bool { return len(h.originates("user/1001")) == 1 })
		if err := h.fake.RemoteHangup(ch, mediacore.CauseCancelled); err != nil {
			t.Fatal(err)
		}
		h.until("the CDR", time.Second, h.cdrCount(1))
		cdr := h.j.CDRs()[0]
		if cdr.Outcome != store.OutcomeAbandoned || len(cdr.Legs) != 2 || cdr.Legs[1].Cause != "cancelled" {
			t.Errorf("CDR %+v", cdr)
		}
		agentCh := mediacore.ChannelID(h.originates("user/1001")[0].ID)
		if _, up := h.fake.Channel(agentCh); up {
			t.Error("the agent's phone still rings")
		}
		h.waitReal("agent ready again", func() bool { return h.agentState("1001") == "ready" })
	})
}

// syncJournal can say when its records are on disk.
type syncJournal struct {
	*memJournal
	synced chan int // CDRs handed over when Sync was called
}

func (j syncJournal) Sync(context.Context) error {
	j.synced <- len(j.CDRs())
	return nil
}

// A call's end waits for its CDR to be on disk before it counts as ended.
func TestCallEndSyncsTheJournal(t *testing.T) {
	j := syncJournal{memJournal: &memJournal{}, synced: make(chan int, 4)}
	h := newHarness(t, func(o *CallCenterOptions) { o.Journal = j })
	h.fake.Inbound("13800000001", "999")
	select {
	case n := <-j.synced:
		if n != 1 {
			t.Errorf("Sync called with %d CDRs handed over, want 1", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Sync never called")
	}
	h.waitReal("counted", func() bool { return counterValue(t, h.cc.m.outcomes.WithLabelValues("rejected")) == 1 })
}

// With several media nodes, the agent's leg is placed on the caller's
// node (Near), so they can be bridged; the CDR names the node of each leg.
func TestAgentLegOnTheCallersNode(t *testing.T) {
	h := newHarnessWith(t, harnessConfig{nodes: 2})
	h.ready("1001")
	n2 := h.fakes[1]
	ch := n2.Inbound("13800000001", "800")
	h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
	if len(n2.CallsOf("originate")) != 1 || len(h.fakes[0].CallsOf("originate")) != 0 {
		t.Fatalf("originates: n1 %v, n2 %v", h.fakes[0].CallsOf("originate"), n2.CallsOf("originate"))
	}
	if err := n2.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", time.Second, h.cdrCount(1))
	cdr := h.j.CDRs()[0]
	if cdr.Node != "n2" || cdr.Legs[0].Node != "n2" || cdr.Legs[1].Node != "n2" {
		t.Errorf("nodes: call %q legs %+v", cdr.Node, cdr.Legs)
	}
	if recs := h.j.Recordings(); len(recs) != 1 || recs[0].Node != "n2" || recs[0].Bytes == 0 {
		t.Errorf("recording = %+v", recs)
	}
}

// Time on hold during the conversation is the CDR's hold seconds.
func TestHoldSeconds(t *testing.T) {
	h := newHarness(t)
	h.ready("1001")
	ch := h.fake.Inbound("13800000001", "800")
	h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
	h.clk.Advance(2 * time.Second)
	if err := h.core.Hold(h.ctx, ch, nil); err != nil {
		t.Fatal(err)
	}
	h.waitReal("held", func() bool { c, _ := h.cc.Calls(h.ctx, admin); return len(c) == 1 && c[0].State == "held" })
	h.clk.Advance(3 * time.Second)
	if err := h.core.Unhold(h.ctx, ch); err != nil {
		t.Fatal(err)
	}
	h.waitReal("talking", func() bool { c, _ := h.cc.Calls(h.ctx, admin); return len(c) == 1 && c[0].State == "talking" })
	h.clk.Advance(time.Second)
	if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", time.Second, h.cdrCount(1))
	if cdr := h.j.CDRs()[0]; cdr.HoldSeconds != 3 || cdr.TalkSeconds < 6 || cdr.TalkSeconds >= 6.5 {
		t.Errorf("hold %v talk %v", cdr.HoldSeconds, cdr.TalkSeconds)
	}
}

// An agent's phone transfers the caller blind (REFER): the transfer is
// accepted, the target rings near the caller and is bridged, the agent's
// part ends (wrap-up), and the CDR notes the transfer.
func TestBlindTransferFromTheAgentsPhone(t *testing.T) {
	h := newHarness(t)
	h.ready("1001")
	ch := h.fake.Inbound("13800000001", "800")
	h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
	agentCh := mediacore.ChannelID(h.originates("user/1001")[0].ID)
	bad, err := h.fake.Refer(agentCh, "sip:bad uri", "")
	if err != nil {
		t.Fatal(err)
	}
	h.waitReal("refused", func() bool { _, answered := h.fake.TransferAnswer(bad); return answered })
	if accept, _ := h.fake.TransferAnswer(bad); accept {
		t.Error("a transfer to an invalid target was accepted")
	}
	h.clk.Advance(2 * time.Second)
	id, err := h.fake.Refer(agentCh, "user/1002", "")
	if err != nil {
		t.Fatal(err)
	}
	h.until("the target is bridged", 5*time.Second, func() bool {
		return len(h.originates("user/1002")) == 1 && len(h.fake.CallsOf("add_to_bridge")) == 4
	})
	if accept, answered := h.fake.TransferAnswer(id); !accept || !answered {
		t.Errorf("transfer answered %v accepted %v", answered, accept)
	}
	h.waitReal("agent in wrap-up", func() bool { return h.agentState("1001") == "wrap-up" })
	h.clk.Advance(3 * time.Second)
	if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", time.Second, h.cdrCount(1))
	cdr := h.j.CDRs()[0]
	if len(cdr.Transfers) != 1 || cdr.Transfers[0].Kind != "blind" || cdr.Transfers[0].Target != "user/1002" ||
		cdr.Transfers[0].By != h.agents["1001"] || len(cdr.Legs) != 3 || cdr.AgentID != h.agents["1001"] ||
		cdr.TalkSeconds < 5 || cdr.HangupSide != store.SideCaller || cdr.Outcome != store.OutcomeAnswered {
		t.Errorf("CDR = %+v", cdr)
	}
}

// An offer that rang out, with nobody else to ring, puts the live call
// back to "queued" with no agent: GET /api/v1/calls must not keep showing
// an agent's phone ringing after it stopped.
func TestLiveViewAfterOfferRangOut(t *testing.T) {
	h := newHarness(t)
	q := h.queue(store.Queue{Name: "ringout", Strategy: store.StrategyTopDown, RingTimeout: 5, NoAnswerLimit: 1,
		JoinWhenNoAgents: true, Members: []store.QueueMember{{AgentID: h.agents["1001"]}}})
	h.number(store.Number{Number: "813", Route: store.Target{Kind: store.TargetQueue, Value: q}})
	h.ready("1001")
	h.fake.SetAnswer("user/1001", mediafake.NoAnswer())
	h.fake.Inbound("13800000001", "813")
	view := func() (state, agent string) {
		calls, err := h.cc.Calls(h.ctx, admin)
		if err != nil || len(calls) != 1 {
			return "", ""
		}
		return calls[0].State, calls[0].AgentID
	}
	h.until("ringing 1001", 2*time.Second, func() bool {
		st, ag := view()
		return st == "ringing" && ag == h.agents["1001"]
	})
	h.until("1001 not-ready after the ring timeout", 20*time.Second, func() bool { return h.agentState("1001") == "not-ready" })
	h.until("queued again", 2*time.Second, func() bool {
		st, ag := view()
		return st == "queued" && ag == ""
	})
}

// Click-to-answer when the agent's device cannot be rung again at once
// (unreachable now): ErrCallState (409 over REST), not an internal error,
// and the caller still waits.
func TestClickToAnswerDeviceUnreachable(t *testing.T) {
	h := newHarness(t)
	q := h.queue(store.Queue{Name: "cta", Strategy: store.StrategyTopDown, RingTimeout: 30, JoinWhenNoAgents: true,
		Members: []store.QueueMember{{AgentID: h.agents["1001"]}}})
	h.number(store.Number{Number: "814", Route: store.Target{Kind: store.TargetQueue, Value: q}})
	h.ready("1001")
	h.fake.SetAnswer("user/1001", mediafake.NoAnswer())
	ch := h.fake.Inbound("13800000001", "814")
	var id string
	h.until("ringing 1001", 2*time.Second, func() bool {
		calls, _ := h.cc.Calls(h.ctx, admin)
		if len(calls) == 1 && calls[0].State == "ringing" {
			id = calls[0].ID
			return true
		}
		return false
	})
	h.fake.SetAnswer("user/1001", mediafake.Unreachable())
	_, err := h.cc.ControlCall(h.ctx, agentActor(h.agents["1001"]), id, CallControlRequest{Action: ActionAnswer})
	if !errors.Is(err, ErrCallState) {
		t.Fatalf("click-to-answer of an unreachable device: %v, want ErrCallState", err)
	}
	if _, up := h.fake.Channel(ch); !up {
		t.Error("the caller was hung up")
	}
}
