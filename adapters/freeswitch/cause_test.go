package freeswitch

import (
	"testing"

	"hotline/mediacore"
)

// TestCauseRoundTrip: every contract cause sent with uuid_kill comes back
// as itself from the switch's hangup event (by name), except node loss,
// which the switch knows only as a temporary failure.
func TestCauseRoundTrip(t *testing.T) {
	for c := mediacore.CauseNormal; c <= mediacore.CauseNodeLost; c++ {
		name := causeName(c)
		got, ok := causeFromName[name]
		if !ok {
			t.Errorf("%v -> %s: not mapped back", c, name)
			continue
		}
		want := c
		if c == mediacore.CauseNodeLost {
			want = mediacore.CauseCongestion
		}
		if got != want {
			t.Errorf("%v -> %s -> %v", c, name, got)
		}
	}
}

func TestHangupCauseFromEvent(t *testing.T) {
	for _, tc := range []struct {
		h         map[string]string
		cause     mediacore.Cause
		sip, q850 int
	}{
		{map[string]string{"Hangup-Cause": "NORMAL_CLEARING", "variable_hangup_cause_q850": "16"}, mediacore.CauseNormal, 0, 16},
		{map[string]string{"Hangup-Cause": "USER_BUSY", "variable_hangup_cause_q850": "17", "variable_sip_term_status": "486"}, mediacore.CauseBusy, 486, 17},
		{map[string]string{"Hangup-Cause": "NO_ANSWER", "variable_hangup_cause_q850": "19"}, mediacore.CauseNoAnswer, 480, 19},
		{map[string]string{"Hangup-Cause": "ORIGINATOR_CANCEL", "variable_hangup_cause_q850": "487"}, mediacore.CauseCancelled, 487, 487},
		{map[string]string{"Hangup-Cause": "CALL_REJECTED", "variable_sip_term_status": "603"}, mediacore.CauseRejected, 603, 21},
		// Unknown names fall back to the SIP status, then the Q.850 value.
		{map[string]string{"Hangup-Cause": "SOMETHING_NEW", "variable_sip_term_status": "404"}, mediacore.CauseUnallocated, 404, 1},
		{map[string]string{"Hangup-Cause": "SOMETHING_NEW", "variable_hangup_cause_q850": "34"}, mediacore.CauseCongestion, 503, 34},
		{map[string]string{}, mediacore.CauseUnknown, 480, 127},
	} {
		c, sip, q := hangupCause(&event{h: tc.h})
		if c != tc.cause || sip != tc.sip || q != tc.q850 {
			t.Errorf("%v: got %v/%d/%d, want %v/%d/%d", tc.h, c, sip, q, tc.cause, tc.sip, tc.q850)
		}
	}
}

func TestSDPHeld(t *testing.T) {
	for _, tc := range []struct {
		sdp  string
		held bool
	}{
		{"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=recvonly\r\n", true},
		{"v=0\na=inactive\nm=audio 4000 RTP/AVP 0\n", true},
		{"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n", false},
		{"v=0\r\nm=audio 4000 RTP/AVP 0\r\n", false},
		{"v=0\r\na=sendonly\r\n", false},
		{"a=recvonlyx\r\n", false},
		{"", false},
		{"_undef_", false},
	} {
		if got := sdpHeld(tc.sdp); got != tc.held {
			t.Errorf("sdpHeld(%q) = %v, want %v", tc.sdp, got, tc.held)
		}
	}
}
