package controller

import (
	"fmt"
	"testing"
	"time"

	"hotline/controller/store"
	"hotline/mediacore"
	"hotline/mediacore/mediafake"
)

// TestAnswerRetriesAMomentaryOutage: the switch refuses the caller's
// answer once (an Asterisk over its HTTP session limit closes the
// request): the answer is tried again, the caller is answered before it
// waits, and reaches the agent.
func TestAnswerRetriesAMomentaryOutage(t *testing.T) {
	h := newHarness(t)
	h.ready("1001")
	h.fake.SetAnswer("user/1001", mediafake.AnswerAfter(time.Second))
	h.fake.Fail("answer", fmt.Errorf("%w: connection closed", mediacore.ErrBackendUnavailable))
	caller := h.fake.Inbound("13800000001", "800")

	h.until("the agent answers", 10*time.Second, h.hasCTI("call.answered"))
	answers := 0
	for _, c := range h.fake.CallsOf("answer") {
		if c.ID == string(caller) {
			answers++
		}
	}
	if answers != 2 {
		t.Fatalf("answer sent %d times for the caller, want 2 (one refused, one done)", answers)
	}
}

// TestUnanswerableCallerFails: when the caller cannot be answered at all,
// the call fails at once (caller released, CDR outcome failed) instead of
// being queued and bridged while the caller still hears ringing.
func TestUnanswerableCallerFails(t *testing.T) {
	h := newHarness(t)
	h.ready("1001")
	for range len(answerBackoff) + 1 {
		h.fake.Fail("answer", fmt.Errorf("%w: connection closed", mediacore.ErrBackendUnavailable))
	}
	h.fake.Inbound("13800000001", "800")

	h.until("the CDR", 10*time.Second, h.cdrCount(1))
	cdr := h.j.CDRs()[0]
	if cdr.Outcome != store.OutcomeFailed || cdr.HangupSide != store.SideSystem {
		t.Errorf("CDR outcome %q side %q, want failed by the system", cdr.Outcome, cdr.HangupSide)
	}
	if legs := h.originates("user/1001"); len(legs) != 0 {
		t.Errorf("the agent was rung for an unanswered caller: %+v", legs)
	}
}
