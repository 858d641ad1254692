package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/controller"
	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// asksAutoAnswer: the INVITE asks the phone to answer by itself
// (Answer-Mode: Auto, RFC 5373 §5; Call-Info answer-after=0).
func asksAutoAnswer(req *sip.Request) bool {
	mode, info := "", ""
	if h := req.GetHeader("Answer-Mode"); h != nil {
		mode = h.Value()
	}
	if h := req.GetHeader("Call-Info"); h != nil {
		info = h.Value()
	}
	return mode == "Auto" && strings.Contains(info, "answer-after=0")
}

// Click-to-answer over real SIP on the native core: agent A's phone only
// rings for a plain INVITE and answers by itself only when asked to. The
// queue offer rings it; another agent's token and a supervisor's get 403;
// A's token answers: the ringing leg is cancelled, a new one answers by
// itself, caller and agent hear each other. The offer was never counted
// a no-answer (with no_answer_limit 1 a counted one would set A
// not-ready and withdraw the offer); the call was offered once; the CDR
// has the cancelled leg and the answered one; answering again is 409.
func TestCallAnswerRoute(t *testing.T) {
	cdrs := make(chan store.CDR, 1)
	e := newCallEnv(t, func(o *controller.CallCenterOptions) { o.Journal = cdrJournal(cdrs) })
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	a, _, _, tokA, tokB := e.supportQueue("blue", map[string]any{"ring_timeout": 40, "no_answer_limit": 1})
	supTok := e.supervisorToken("sam", "blue")
	sub, err := e.cc.Events().Subscribe(nil, cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	invites := make(chan bool, 8) // true: the INVITE asked for auto-answer
	phoneA, caller := e.callReadyAgent(ctx, a, tokA, sippeer.Config{RingOnly: func(req *sip.Request) bool {
		auto := asksAutoAnswer(req)
		invites <- auto
		return !auto
	}})
	caller.SetTone(900)
	select {
	case auto := <-invites:
		if auto {
			t.Fatal("the offer asked agent A's phone to answer by itself before the agent did")
		}
	case <-ctx.Done():
		t.Fatal("agent A's phone never rang")
	}
	var id string
	waitFor(t, "ringing", func() bool {
		var calls liveCallList
		e.must(req{method: "GET", path: "/api/v1/calls", token: supTok}, http.StatusOK, &calls)
		if len(calls.Items) == 1 && calls.Items[0].State == "ringing" {
			id = calls.Items[0].ID
			return true
		}
		return false
	})
	base := "/api/v1/calls/" + id
	// Nobody but the agent the offer rings answers it.
	wantField(t, e.do(req{method: "POST", path: base + "/answer", token: tokB}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "POST", path: base + "/answer", token: supTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "POST", path: base + "/answer", token: adminSecret}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls/call-nope/answer", token: tokA}), http.StatusNotFound, "")

	e.must(req{method: "POST", path: base + "/answer", token: tokA}, http.StatusOK, nil)
	select {
	case auto := <-invites:
		if !auto {
			t.Fatal("the replacing leg did not ask the phone to answer by itself")
		}
	case <-ctx.Done():
		t.Fatal("agent A's phone was not rung again")
	}
	var agent *sippeer.Call
	select {
	case agent = <-phoneA.Incoming():
	case <-ctx.Done():
		t.Fatal("agent A's phone never answered by itself")
	}
	agent.SetTone(1400)
	waitFor(t, "talking", func() bool {
		var calls liveCallList
		e.must(req{method: "GET", path: "/api/v1/calls", token: supTok}, http.StatusOK, &calls)
		return len(calls.Items) == 1 && calls.Items[0].State == "talking" && calls.Items[0].AgentID == a.ID
	})
	waitFor(t, "the caller hears the agent", func() bool {
		return audio.HasTone(caller.Heard(time.Second), audio.SampleRate, 1400)
	})
	waitFor(t, "the agent hears the caller", func() bool {
		return audio.HasTone(agent.Heard(time.Second), audio.SampleRate, 900)
	})
	if n := phoneA.Cancelled(); n != 1 {
		t.Errorf("agent A's phone saw %d cancelled INVITEs, want 1 (the replaced leg)", n)
	}
	// In conversation, nothing rings A any more.
	wantField(t, e.do(req{method: "POST", path: base + "/answer", token: tokA}), http.StatusConflict, "")
	var st controller.AgentStateView
	e.must(req{method: "GET", path: "/api/v1/agents/" + a.ID + "/state", token: tokA}, http.StatusOK, &st)
	if st.State != "busy" || st.Reason != "" {
		t.Errorf("agent A in conversation: %s (%s), want busy", st.State, st.Reason)
	}
	e.must(req{method: "POST", path: base + "/hangup", token: tokA}, http.StatusOK, nil)
	select {
	case <-caller.Done():
	case <-ctx.Done():
		t.Fatal("the caller was not hung up")
	}

	// The CTI stream: offered once, the answer requested, then answered.
	var types []string
	for !strings.Contains(strings.Join(types, " "), "call.ended") {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("CTI stream: %v (so far %v)", err, types)
		}
		if ev.CallID == id && strings.HasPrefix(ev.Type, "call.") {
			types = append(types, ev.Type)
		}
	}
	got := strings.Join(types, " ")
	if strings.Count(got, "call.offered") != 1 || !strings.Contains(got, "call.answer-requested call.answered") {
		t.Errorf("CTI events of the call: %s", got)
	}
	// The CDR: the replaced leg cancelled, the new one answered.
	var cdr store.CDR
	select {
	case cdr = <-cdrs:
	case <-ctx.Done():
		t.Fatal("no CDR")
	}
	if cdr.Outcome != store.OutcomeAnswered || cdr.AgentID != a.ID {
		t.Errorf("CDR outcome %s agent %s", cdr.Outcome, cdr.AgentID)
	}
	var legs []string
	for _, l := range cdr.Legs[1:] {
		legs = append(legs, l.Role+"/"+l.Cause+"/"+map[bool]string{true: "answered", false: "unanswered"}[l.Answer != nil])
	}
	if want := "agent/cancelled/unanswered agent/normal/answered"; strings.Join(legs, " ") != want {
		t.Errorf("CDR agent legs %q, want %q", strings.Join(legs, " "), want)
	}
}

// cdrJournal hands the CDRs over; the rest is dropped.
type cdrJournal chan store.CDR

func (j cdrJournal) CallEnded(cdr store.CDR)         { j <- cdr }
func (cdrJournal) QueueEvents(...store.QueueEvent)   {}
func (cdrJournal) RecordingFinished(store.Recording) {}

// An offer that rang out (no answer: the agent went not-ready at the
// queue's no_answer_limit) can no longer be answered: 409 for the agent
// it rang, 403 for another agent.
func TestCallAnswerNotRinging(t *testing.T) {
	e := newCallEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	a, _, _, tokA, tokB := e.supportQueue("", map[string]any{"ring_timeout": 5, "no_answer_limit": 1})
	phoneA, caller := e.callReadyAgent(ctx, a, tokA, sippeer.Config{RingOnly: func(*sip.Request) bool { return true }})
	defer func() { _ = caller.Hangup(context.WithoutCancel(ctx)) }()
	waitFor(t, "the offer rang out", func() bool { return phoneA.Cancelled() == 1 })
	waitFor(t, "agent A not-ready", func() bool {
		var st controller.AgentStateView
		e.must(req{method: "GET", path: "/api/v1/agents/" + a.ID + "/state", token: tokA}, http.StatusOK, &st)
		return st.State == "not-ready"
	})
	var calls liveCallList
	e.must(req{method: "GET", path: "/api/v1/calls", token: adminSecret}, http.StatusOK, &calls)
	if len(calls.Items) != 1 {
		t.Fatalf("live calls: %+v", calls.Items)
	}
	base := "/api/v1/calls/" + calls.Items[0].ID
	wantField(t, e.do(req{method: "POST", path: base + "/answer", token: tokA}), http.StatusConflict, "")
	wantField(t, e.do(req{method: "POST", path: base + "/answer", token: tokB}), http.StatusForbidden, "")
}
