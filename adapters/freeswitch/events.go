package freeswitch

import (
	"strconv"
	"strings"
	"time"

	"hotline/mediacore"
)

// onEvent handles one switch event. It runs on the connection's reader
// goroutine, so events are handled in the order the switch sent them (per
// channel, Event-Sequence only grows; a repeated or older sequence is
// dropped). It never sends a command (that would wait for a reply the same
// goroutine must read); it updates state and emits, after unlocking, in
// order.
func (b *Backend) onEvent(ev *event) {
	out := b.handle(ev)
	for _, e := range out {
		b.emit(e)
	}
}

func (b *Backend) handle(ev *event) []mediacore.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer func() {
		close(b.changed)
		b.changed = make(chan struct{})
	}()
	uuid := ev.get("Unique-ID")
	cs := b.chans[uuid]
	if cs != nil {
		if s := ev.seq(); s != 0 {
			if s <= cs.lastSeq {
				return nil // a duplicate or a late copy
			}
			cs.lastSeq = s
		}
	}
	id := mediacore.ChannelID(uuid)
	switch ev.name() {
	case "BACKGROUND_JOB":
		if ch := b.jobs[ev.get("Job-UUID")]; ch != nil {
			delete(b.jobs, ev.get("Job-UUID"))
			ch <- ev
		}
		return nil
	case "CHANNEL_CREATE":
		if cs == nil {
			if ev.get("Call-Direction") == "outbound" || mediacore.ValidateID(uuid) != nil {
				// An outbound leg we did not originate (a transfer on the
				// switch, another controller): not ours.
				return nil
			}
			b.chans[uuid] = &chanState{id: uuid, dir: mediacore.Inbound, state: mediacore.ChannelRinging,
				created: time.Now(), lastSeq: ev.seq(), answerCh: make(chan struct{}), created1: make(chan struct{})}
			return nil
		}
		if cs.dir == mediacore.Outbound && !cs.announced {
			cs.announced = true
			cs.created = time.Now()
			close(cs.created1)
			return []mediacore.Event{{Type: mediacore.EventChannelCreated, Channel: id, Direction: mediacore.Outbound,
				Caller: ev.get("Caller-Caller-ID-Number"), Called: cs.called}}
		}
		return nil
	case "CHANNEL_PARK":
		if cs != nil && cs.parkCh != nil {
			close(cs.parkCh)
			cs.parkCh = nil
		}
		if cs == nil || cs.dir != mediacore.Inbound || cs.announced {
			return nil
		}
		cs.announced = true
		close(cs.created1)
		cs.caller = ev.get("Caller-Caller-ID-Number")
		cs.called = ev.get("Caller-Destination-Number")
		hdr := map[string]string{}
		for k, v := range ev.h {
			if name, ok := strings.CutPrefix(k, "variable_sip_h_"); ok {
				hdr[name] = v
			}
		}
		for _, k := range []string{"sip_user_agent", "sip_P-Asserted-Identity"} {
			if v := ev.get("variable_" + k); v != "" {
				hdr[k] = v
			}
		}
		return []mediacore.Event{{Type: mediacore.EventChannelCreated, Channel: id, Direction: mediacore.Inbound,
			Caller: cs.caller, CallerName: ev.get("Caller-Caller-ID-Name"), Called: cs.called, Headers: hdr}}
	}
	if cs == nil || !cs.announced {
		return b.handleOther(ev)
	}
	switch ev.name() {
	case "CHANNEL_PROGRESS":
		if cs.state == mediacore.ChannelRinging {
			return []mediacore.Event{{Type: mediacore.EventRinging, Channel: id}}
		}
	case "CHANNEL_PROGRESS_MEDIA":
		// uuid_answer pre-answers on the way: an inbound channel reports
		// Progress only when the controller asked for it.
		if cs.state == mediacore.ChannelRinging && (cs.dir == mediacore.Outbound || cs.progress) {
			cs.state = mediacore.ChannelEarly
			return []mediacore.Event{{Type: mediacore.EventProgress, Channel: id}}
		}
	case "CHANNEL_ANSWER":
		if cs.answered.IsZero() {
			cs.state, cs.answered = mediacore.ChannelUp, time.Now()
			close(cs.answerCh)
			return []mediacore.Event{{Type: mediacore.EventAnswered, Channel: id}}
		}
	case "CHANNEL_HOLD":
		if !cs.held {
			cs.held = true
			return []mediacore.Event{{Type: mediacore.EventHold, Channel: id}}
		}
	case "CHANNEL_UNHOLD":
		if cs.held {
			cs.held = false
			return []mediacore.Event{{Type: mediacore.EventUnhold, Channel: id}}
		}
	case "DTMF":
		d := ev.get("DTMF-Digit")
		if len(d) != 1 || !strings.Contains("0123456789*#ABCD", d) {
			return nil
		}
		n, _ := strconv.Atoi(ev.get("DTMF-Duration"))
		return []mediacore.Event{{Type: mediacore.EventDTMF, Channel: id, Digit: d[0], Duration: time.Duration(n) * time.Second / 8000}}
	case "CHANNEL_EXECUTE_COMPLETE":
		pid := mediacore.PlaybackID(ev.get("Application-UUID"))
		p := b.plays[pid]
		if p == nil || p.ch != uuid {
			return nil
		}
		delete(b.plays, pid)
		if p.hidden {
			return nil
		}
		return []mediacore.Event{{Type: mediacore.EventPlaybackFinished, Channel: id, Playback: pid}}
	case "RECORD_STOP":
		return b.recordStopLocked(ev.get("Record-File-Path"))
	case "CHANNEL_HANGUP_COMPLETE":
		if cs.ended {
			return nil
		}
		cs.ended = true
		var out []mediacore.Event
		for pid, p := range b.plays {
			if p.ch == uuid {
				delete(b.plays, pid)
				if !p.hidden {
					out = append(out, mediacore.Event{Type: mediacore.EventPlaybackFinished, Channel: id, Playback: pid})
				}
			}
		}
		for _, r := range b.recs {
			if r.ch == uuid && !r.stopped {
				out = append(out, b.recordStopLocked(r.path)...)
			}
		}
		out = append(out, b.leaveLocked(cs)...)
		cause, sip, q := hangupCause(ev)
		out = append(out, mediacore.Event{Type: mediacore.EventHangup, Channel: id, Cause: cause, SIPCode: sip, Q850: q})
		select {
		case <-cs.answerCh:
		default:
			close(cs.answerCh)
		}
		b.forgetLocked(cs)
		return out
	default:
		return b.handleOther(ev)
	}
	return nil
}

// handleOther: conference, registration events.
func (b *Backend) handleOther(ev *event) []mediacore.Event {
	switch ev.name() {
	case "CUSTOM conference::maintenance":
		return b.conferenceEventLocked(ev)
	case "CUSTOM sofia::register":
		user := ev.get("from-user")
		if mediacore.ValidateID(user) != nil {
			return nil
		}
		return []mediacore.Event{{Type: mediacore.EventEndpointRegistered, Endpoint: "user/" + user, Contact: ev.get("contact")}}
	case "CUSTOM sofia::unregister", "CUSTOM sofia::expire":
		user := ev.get("from-user")
		if mediacore.ValidateID(user) != nil {
			return nil
		}
		return []mediacore.Event{{Type: mediacore.EventEndpointUnregistered, Endpoint: "user/" + user, Contact: ev.get("contact")}}
	}
	return nil
}

func (b *Backend) conferenceEventLocked(ev *event) []mediacore.Event {
	switch ev.get("Action") {
	case "stop-recording":
		return b.recordStopLocked(ev.get("Path"))
	case "play-file-done":
		// Conference-wide plays only (a member play names its member).
		if ev.get("Member-ID") != "" && ev.get("Unique-ID") != "" {
			return nil
		}
		br := b.bridges[mediacore.BridgeID(ev.get("Conference-Name"))]
		if br == nil || len(br.plays) == 0 {
			return nil
		}
		pid := br.plays[0]
		br.plays = br.plays[1:]
		if b.plays[pid] == nil {
			return nil
		}
		delete(b.plays, pid)
		return []mediacore.Event{{Type: mediacore.EventPlaybackFinished, Bridge: br.id, Playback: pid}}
	}
	cs := b.chans[ev.get("Unique-ID")]
	if cs == nil || cs.ended {
		return nil
	}
	room := mediacore.BridgeID(ev.get("Conference-Name"))
	id := mediacore.ChannelID(cs.id)
	switch ev.get("Action") {
	case "add-member":
		cs.memberID = ev.get("Member-ID")
		quiet := cs.quiet
		cs.quiet = false
		if cs.joinCh != nil {
			close(cs.joinCh)
			cs.joinCh = nil
		}
		if quiet || cs.bridge != room {
			return nil
		}
		return []mediacore.Event{{Type: mediacore.EventBridgeJoined, Channel: id, Bridge: room, Member: cs.member}}
	case "del-member":
		if cs.memberID != ev.get("Member-ID") {
			return nil
		}
		cs.memberID = ""
		if cs.quiet || cs.bridge != room {
			return nil
		}
		return b.leaveLocked(cs)
	}
	return nil
}

func (b *Backend) recordStopLocked(path string) []mediacore.Event {
	for _, r := range b.recs {
		if r.path != path || r.stopped {
			continue
		}
		r.stopped = true
		delete(b.recs, r.id)
		b.finished[r.id] = r.path
		return []mediacore.Event{{Type: mediacore.EventRecordingFinished, Channel: mediacore.ChannelID(r.ch), Bridge: r.bridge,
			Recording: r.id, Path: r.path, Duration: time.Since(r.started)}}
	}
	return nil
}

// hangupCause maps a hangup event: the SIP status when the switch has one
// (sip_term_status), else the Q.850 cause name and value.
func hangupCause(ev *event) (mediacore.Cause, int, int) {
	name := ev.get("Hangup-Cause")
	q, _ := strconv.Atoi(ev.get("variable_hangup_cause_q850"))
	sip, _ := strconv.Atoi(ev.get("variable_sip_term_status"))
	cause, ok := causeFromName[name]
	if !ok {
		cause = mediacore.CauseFromQ850(q)
		if sip >= 300 {
			cause = mediacore.CauseFromSIP(sip)
		}
	}
	if q == 0 {
		q = cause.Q850()
	}
	if sip < 300 && cause != mediacore.CauseNormal {
		sip = cause.SIPCode()
	}
	return cause, sip, q
}

// causeFromName maps FreeSWITCH's cause names (switch_types.h, Q.850
// names) to the contract's causes.
var causeFromName = map[string]mediacore.Cause{
	"NORMAL_CLEARING":           mediacore.CauseNormal,
	"NORMAL_UNSPECIFIED":        mediacore.CauseNormal,
	"USER_BUSY":                 mediacore.CauseBusy,
	"NO_ANSWER":                 mediacore.CauseNoAnswer,
	"ALLOTTED_TIMEOUT":          mediacore.CauseNoAnswer,
	"NO_USER_RESPONSE":          mediacore.CauseTimeout,
	"RECOVERY_ON_TIMER_EXPIRE":  mediacore.CauseTimeout,
	"CALL_REJECTED":             mediacore.CauseRejected,
	"UNALLOCATED_NUMBER":        mediacore.CauseUnallocated,
	"NO_ROUTE_DESTINATION":      mediacore.CauseUnallocated,
	"NO_ROUTE_TRANSIT_NET":      mediacore.CauseUnallocated,
	"INVALID_NUMBER_FORMAT":     mediacore.CauseUnallocated,
	"USER_NOT_REGISTERED":       mediacore.CauseUnavailable,
	"SUBSCRIBER_ABSENT":         mediacore.CauseUnavailable,
	"ORIGINATOR_CANCEL":         mediacore.CauseCancelled,
	"NORMAL_CIRCUIT_CONGESTION": mediacore.CauseCongestion,
	"SWITCH_CONGESTION":         mediacore.CauseCongestion,
	"NORMAL_TEMPORARY_FAILURE":  mediacore.CauseCongestion,
	"INCOMPATIBLE_DESTINATION":  mediacore.CauseIncompatible,
	"BEARERCAPABILITY_NOTAVAIL": mediacore.CauseIncompatible,
	"MEDIA_TIMEOUT":             mediacore.CauseMediaTimeout,
	"DESTINATION_OUT_OF_ORDER":  mediacore.CauseFailure,
	"NETWORK_OUT_OF_ORDER":      mediacore.CauseFailure,
	"OUTGOING_CALL_BARRED":      mediacore.CauseForbidden,
	"INCOMING_CALL_BARRED":      mediacore.CauseForbidden,
	"LOSE_RACE":                 mediacore.CauseCancelled,
	"PICKED_OFF":                mediacore.CauseCancelled,
	"MANAGER_REQUEST":           mediacore.CauseNormal,
	"SYSTEM_SHUTDOWN":           mediacore.CauseFailure,
	"CHAN_NOT_IMPLEMENTED":      mediacore.CauseFailure,
	"SERVICE_UNAVAILABLE":       mediacore.CauseCongestion,
	"EXCHANGE_ROUTING_ERROR":    mediacore.CauseFailure,
	"FACILITY_REJECTED":         mediacore.CauseRejected,
}

// causeName maps a contract cause to the FreeSWITCH cause uuid_kill sends
// (sofia turns it into the SIP status of Cause.SIPCode where one exists).
func causeName(c mediacore.Cause) string {
	switch c {
	case mediacore.CauseNormal:
		return "NORMAL_CLEARING"
	case mediacore.CauseBusy:
		return "USER_BUSY"
	case mediacore.CauseNoAnswer:
		return "NO_ANSWER"
	case mediacore.CauseRejected:
		return "CALL_REJECTED"
	case mediacore.CauseUnallocated:
		return "UNALLOCATED_NUMBER"
	case mediacore.CauseUnavailable:
		return "SUBSCRIBER_ABSENT"
	case mediacore.CauseCancelled:
		return "ORIGINATOR_CANCEL"
	case mediacore.CauseCongestion:
		return "NORMAL_CIRCUIT_CONGESTION"
	case mediacore.CauseTimeout:
		return "RECOVERY_ON_TIMER_EXPIRE"
	case mediacore.CauseIncompatible:
		return "INCOMPATIBLE_DESTINATION"
	case mediacore.CauseFailure:
		return "DESTINATION_OUT_OF_ORDER"
	case mediacore.CauseMediaTimeout:
		return "MEDIA_TIMEOUT"
	case mediacore.CauseForbidden:
		return "OUTGOING_CALL_BARRED"
	case mediacore.CauseNodeLost:
		return "NORMAL_TEMPORARY_FAILURE"
	}
	return "NORMAL_CLEARING"
}
