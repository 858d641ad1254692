package controller

import (
	"context"
	"testing"
	"time"

	"hotline/controller/store"
	"hotline/mediacore/mediatest/sippeer"
)

// The agent hangs up on a caller of a queue with the survey on: the
// caller stays, is asked, presses 4, and the CDR carries the score with
// the agent as the side that hung up.
func TestNativeSurveyScoreOnCDR(t *testing.T) {
	for _, tc := range []struct {
		name     string
		on       bool // the queue asks for it
		numberOn bool // the access number asks for it
		key      string
		score    int // 0: none
	}{
		{"scored", true, false, "4", 4},
		{"asked by the number", false, true, "5", 5},
		{"out of range", true, false, "8", 0},
		{"survey off", false, false, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNativeCenter(t, nil)
			ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
			defer cancel()
			q, err := n.st.Queues().GetByName(ctx, "sales")
			if err != nil {
				t.Fatal(err)
			}
			q.Survey = tc.on
			if err := n.ctl.Queues().Update(ctx, &q); err != nil {
				t.Fatal(err)
			}
			num, err := n.st.Numbers().GetByNumber(ctx, "800")
			if err != nil {
				t.Fatal(err)
			}
			num.Survey = tc.numberOn
			if err := n.ctl.Numbers().Update(ctx, &num); err != nil {
				t.Fatal(err)
			}
			agentPhone, err := sippeer.New(sippeer.Config{User: "1001"})
			if err != nil {
				t.Fatal(err)
			}
			defer agentPhone.Close()
			if _, err := n.cc.SetAgentState(ctx, admin, n.agent, AgentStateRequest{State: "ready",
				Device: "sip:1001@" + agentPhone.Addr()}); err != nil {
				t.Fatal(err)
			}
			callerPhone, err := sippeer.New(sippeer.Config{User: "13800000001"})
			if err != nil {
				t.Fatal(err)
			}
			defer callerPhone.Close()
			call, err := callerPhone.Dial(ctx, n.uri("800"))
			if err != nil {
				t.Fatal(err)
			}
			call.SendDTMF("1")
			var agentCall *sippeer.Call
			select {
			case agentCall = <-agentPhone.Incoming():
			case <-ctx.Done():
				t.Fatal("the agent's phone never rang")
			}
			eventually(t, "talking", 10*time.Second, func() bool {
				calls, _ := n.cc.Calls(ctx, admin)
				return len(calls) == 1 && calls[0].State == "talking"
			})
			if err := agentCall.Hangup(ctx); err != nil {
				t.Fatal(err)
			}
			if !tc.on && !tc.numberOn {
				select {
				case <-call.Done():
				case <-ctx.Done():
					t.Fatal("the caller was not hung up with the agent")
				}
			} else {
				eventually(t, "survey", 10*time.Second, func() bool {
					calls, _ := n.cc.Calls(ctx, admin)
					return len(calls) == 1 && calls[0].State == "survey"
				})
				call.SendDTMF(tc.key)
				// A key out of range asks again; the caller leaves.
				if tc.score == 0 {
					time.Sleep(time.Second)
					if err := call.Hangup(ctx); err != nil {
						t.Fatal(err)
					}
				}
				select {
				case <-call.Done():
				case <-ctx.Done():
					t.Fatal("the survey did not end the call")
				}
			}
			eventually(t, "the CDR", 20*time.Second, func() bool { return len(n.j.CDRs()) == 1 })
			cdr := n.j.CDRs()[0]
			if cdr.Outcome != store.OutcomeAnswered || cdr.HangupSide != store.SideAgent || cdr.AgentID != n.agent {
				t.Errorf("CDR = %+v", cdr)
			}
			switch {
			case tc.score == 0 && cdr.Survey != nil:
				t.Errorf("survey = %d, want none", *cdr.Survey)
			case tc.score != 0 && (cdr.Survey == nil || *cdr.Survey != tc.score):
				t.Errorf("survey = %v, want %d", cdr.Survey, tc.score)
			}
		})
	}
}
