package mediacore

// Cause is the neutral reason a channel ended. Backends map their own codes
// onto it with CauseFromSIP and CauseFromQ850; the controller only sees Cause.
type Cause int

// The causes, chosen so that each has a clear SIP status and Q.850 value.
const (
	CauseUnknown      Cause = iota // nothing better is known
	CauseNormal                    // normal clearing (BYE, hangup)
	CauseBusy                      // user busy (486, 600; Q.850 17)
	CauseNoAnswer                  // rang out without answer (480 after ring, Q.850 19)
	CauseRejected                  // call rejected (603; Q.850 21)
	CauseUnallocated               // no such number or user (404; Q.850 1)
	CauseUnavailable               // temporarily unavailable, not registered (480; Q.850 20)
	CauseCancelled                 // originator cancelled before answer (487; Q.850 16 in ISUP, 487 in SIP)
	CauseCongestion                // no circuit / service unavailable (503; Q.850 34)
	CauseTimeout                   // no response from the far end (408; Q.850 102)
	CauseIncompatible              // no common media (488; Q.850 88)
	CauseFailure                   // network or server failure (500, other 5xx; Q.850 38)
	CauseMediaTimeout              // RTP stopped arriving
	CauseForbidden                 // not allowed (403; Q.850 21 in RFC 3398, kept apart here)
	// CauseNodeLost: the media node carrying the channel was lost (down
	// for longer than Options.NodeLostAfter, or it came back without the
	// channel); set by Core, never by a backend. SIP 503 Service
	// Unavailable, Q.850 38 network out of order.
	CauseNodeLost
)

var causeNames = [...]string{
	CauseUnknown:      "unknown",
	CauseNormal:       "normal",
	CauseBusy:         "busy",
	CauseNoAnswer:     "no_answer",
	CauseRejected:     "rejected",
	CauseUnallocated:  "unallocated",
	CauseUnavailable:  "unavailable",
	CauseCancelled:    "cancelled",
	CauseCongestion:   "congestion",
	CauseTimeout:      "timeout",
	CauseIncompatible: "incompatible",
	CauseFailure:      "failure",
	CauseMediaTimeout: "media_timeout",
	CauseForbidden:    "forbidden",
	CauseNodeLost:     "node_lost",
}

// String returns the cause's stable lower-case name (used in CDRs and metrics).
func (c Cause) String() string {
	if c >= 0 && int(c) < len(causeNames) {
		return causeNames[c]
	}
	return "unknown"
}

// CauseFromSIP maps a final SIP response status to a Cause, following the
// spirit of RFC 3398 §8.2.6.1 (SIP status -> ISUP cause). 2xx is Normal.
func CauseFromSIP(code int) Cause {
	switch {
	case code >= 200 && code < 300:
		return CauseNormal
	}
	switch code {
	case 403:
		return CauseForbidden
	case 404, 410, 484, 604:
		return CauseUnallocated
	case 408:
		return CauseTimeout
	case 480:
		return CauseUnavailable
	case 486, 600:
		return CauseBusy
	case 487:
		return CauseCancelled
	case 488, 606, 415:
		return CauseIncompatible
	case 503:
		return CauseCongestion
	case 603:
		return CauseRejected
	case 504:
		return CauseTimeout
	}
	switch {
	case code >= 500 && code < 600:
		return CauseFailure
	case code >= 400 && code < 500:
		return CauseRejected
	case code >= 600:
		return CauseRejected
	}
	return CauseUnknown
}

// SIPCode returns the SIP status a UAS sends to reject a call with this cause
// (RFC 3398 §7.2.4.1, ISUP cause -> SIP status).
func (c Cause) SIPCode() int {
	switch c {
	case CauseBusy:
		return 486
	case CauseNoAnswer, CauseUnavailable:
		return 480
	case CauseRejected:
		return 603
	case CauseForbidden:
		return 403
	case CauseUnallocated:
		return 404
	case CauseCancelled:
		return 487
	case CauseCongestion, CauseNodeLost:
		return 503
	case CauseTimeout:
		return 408
	case CauseIncompatible:
		return 488
	case CauseFailure, CauseMediaTimeout:
		return 500
	}
	return 480
}

// CauseFromQ850 maps a Q.850 cause value (as carried by FreeSWITCH's
// Hangup-Cause-Code, Asterisk's cause, or a SIP Reason header, RFC 3326) to a
// Cause.
func CauseFromQ850(v int) Cause {
	switch v {
	case 16, 31:
		return CauseNormal
	case 1, 2, 3, 22, 28:
		return CauseUnallocated
	case 17:
		return CauseBusy
	case 18, 102:
		return CauseTimeout
	case 19:
		return CauseNoAnswer
	case 20:
		return CauseUnavailable
	case 21:
		return CauseRejected
	case 34, 42, 44, 47:
		return CauseCongestion
	case 38, 41:
		return CauseFailure
	case 58, 65, 79, 88:
		return CauseIncompatible
	case 127:
		return CauseUnknown
	}
	return CauseUnknown
}

// Q850 returns the Q.850 cause value for c (ITU-T Q.850 Table 1).
func (c Cause) Q850() int {
	switch c {
	case CauseNormal:
		return 16
	case CauseBusy:
		return 17
	case CauseNoAnswer:
		return 19
	case CauseUnavailable:
		return 20
	case CauseRejected, CauseForbidden:
		return 21
	case CauseUnallocated:
		return 1
	case CauseCancelled:
		return 16
	case CauseCongestion:
		return 34
	case CauseTimeout:
		return 102
	case CauseIncompatible:
		return 88
	case CauseFailure, CauseNodeLost:
		return 38
	case CauseMediaTimeout:
		return 41
	}
	return 127
}
