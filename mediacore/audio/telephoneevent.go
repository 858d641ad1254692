package audio

import (
	"encoding/binary"
	"fmt"
	"time"
)

// TelephoneEventSize is the size of one RFC 4733 event payload (§2.3).
const TelephoneEventSize = 4

// TelephoneEventClockRate is the RTP clock rate used for telephone-event
// with narrowband audio: durations and timestamps count 8 kHz samples.
const TelephoneEventClockRate = SampleRate

// TelephoneEvent is one RFC 4733 §2.3 payload:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	|     event     |E|R| volume    |          duration             |
type TelephoneEvent struct {
	// Event is the event code (§3.2: 0-9, 10 '*', 11 '#', 12-15 A-D).
	Event uint8
	// End is the E bit: this packet ends the event (§2.5.1.4).
	End bool
	// Volume is the power level in -dBm0, 0 to 63 (§2.3.4); only the low 6
	// bits are sent.
	Volume uint8
	// Duration is the event's duration so far in timestamp units, counted
	// from the RTP timestamp of the packet (§2.3.5).
	Duration uint16
}

// MarshalTo writes the payload into b[:4] and returns 4, or 0 when b is
// shorter than 4 bytes. The R bit is sent as zero (§2.3.3).
func (e TelephoneEvent) MarshalTo(b []byte) int {
	if len(b) < TelephoneEventSize {
		return 0
	}
	b[0] = e.Event
	b[1] = e.Volume & 0x3F
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:4], e.Duration)
	return TelephoneEventSize
}

// Unmarshal parses the first event of b. A longer payload (several events,
// §2.5.1.5 or RFC 2198 redundancy unpacked by the caller) is accepted and
// its first event read. It returns ErrShortPayload for fewer than 4 bytes.
// The R bit is ignored on receipt (§2.3.3).
func (e *TelephoneEvent) Unmarshal(b []byte) error {
	if len(b) < TelephoneEventSize {
		return fmt.Errorf("%w: %d bytes", ErrShortPayload, len(b))
	}
	e.Event = b[0]
	e.End = b[1]&0x80 != 0
	e.Volume = b[1] & 0x3F
	e.Duration = binary.BigEndian.Uint16(b[2:4])
	return nil
}

// DTMF event codes for the 16 keys (RFC 4733 §3.2, Table 7).
const (
	EventStar  uint8 = 10 // '*'
	EventPound uint8 = 11 // '#'
	EventA     uint8 = 12 // 'A'
	EventD     uint8 = 15 // 'D'
)

// DigitToEvent returns the RFC 4733 event code for a DTMF digit: '0'-'9',
// '*', '#', 'A'-'D' (lower case a-d accepted).
func DigitToEvent(d rune) (uint8, bool) {
	switch {
	case d >= '0' && d <= '9':
		return uint8(d - '0'), true
	case d == '*':
		return EventStar, true
	case d == '#':
		return EventPound, true
	case d >= 'A' && d <= 'D':
		return EventA + uint8(d-'A'), true
	case d >= 'a' && d <= 'd':
		return EventA + uint8(d-'a'), true
	}
	return 0, false
}

// EventToDigit returns the DTMF digit for an event code 0-15.
func EventToDigit(e uint8) (rune, bool) {
	switch {
	case e <= 9:
		return rune('0' + e), true
	case e == EventStar:
		return '*', true
	case e == EventPound:
		return '#', true
	case e >= EventA && e <= EventD:
		return rune('A' + e - EventA), true
	}
	return 0, false
}

// DTMFDigit is a digit the [DTMFReceiver] reports.
type DTMFDigit struct {
	// Digit is '0'-'9', '*', '#' or 'A'-'D'.
	Digit rune
	// Timestamp is the RTP timestamp of the event (its start).
	Timestamp uint32
	// Volume is the event's level in -dBm0.
	Volume uint8
}

// dtmfStaleWindow bounds how far behind the current event a timestamp may be
// and still be a late packet of an older event (ignored) rather than a new
// stream after a timestamp jump: 10 s of 8 kHz samples.
const dtmfStaleWindow = 10 * SampleRate

// DTMFReceiver turns received telephone-event packets into digits, each
// reported exactly once.
//
// All packets of one event share its RTP timestamp (§2.5.1.1), so the
// timestamp identifies the event: updates, the three end retransmissions
// (§2.5.1.4) and duplicates carry a timestamp already seen and are ignored.
// The digit is reported on the first packet seen for a new timestamp, so a
// lost start packet still yields it from an update or end packet. A long
// event split into segments (§2.5.1.3: new timestamp, same code, no marker,
// previous segment not ended) is not reported again. Late packets of an
// earlier event are ignored.
//
// The zero value is ready to use. Call Reset when the RTP stream changes
// (new SSRC).
type DTMFReceiver struct {
	started bool
	lastTS  uint32
	lastEv  uint8
	lastDur uint16 // longest duration seen for the current event
	ended   bool
}

// Receive takes one telephone-event RTP packet: its timestamp, marker bit and
// payload. It returns the digit and true when the packet starts a new event.
// It returns ErrShortPayload for a short payload, and ErrUnknownDigit for an
// event code that is not a DTMF digit (flash and others, §3.2), in both
// cases wrapped.
func (r *DTMFReceiver) Receive(ts uint32, marker bool, payload []byte) (DTMFDigit, bool, error) {
	var ev TelephoneEvent
	if err := ev.Unmarshal(payload); err != nil {
		return DTMFDigit{}, false, err
	}
	digit, ok := EventToDigit(ev.Event)
	if !ok {
		return DTMFDigit{}, false, fmt.Errorf("%w: event code %d", ErrUnknownDigit, ev.Event)
	}
	if r.started {
		d := int32(ts - r.lastTS)
		if d == 0 {
			r.ended = r.ended || ev.End
			r.lastDur = max(r.lastDur, ev.Duration)
			return DTMFDigit{}, false, nil
		}
		if d < 0 && d > -dtmfStaleWindow {
			return DTMFDigit{}, false, nil
		}
		// A segment of a long event starts where the previous one ended
		// (its timestamp plus its duration, §2.5.1.3) and carries no marker.
		if !marker && !r.ended && ev.Event == r.lastEv && d >= int32(r.lastDur) && d <= 0xFFFF+FrameSamples {
			r.lastTS, r.ended, r.lastDur = ts, ev.End, ev.Duration
			return DTMFDigit{}, false, nil
		}
	}
	r.started, r.lastTS, r.lastEv, r.ended, r.lastDur = true, ts, ev.Event, ev.End, ev.Duration
	return DTMFDigit{Digit: digit, Timestamp: ts, Volume: ev.Volume}, true, nil
}

// Reset forgets the last event, as for a new RTP stream.
func (r *DTMFReceiver) Reset() { *r = DTMFReceiver{} }

// DTMFPacket is one telephone-event RTP packet to send.
type DTMFPacket struct {
	// Timestamp is the RTP timestamp: the event's start, the same for every
	// packet of the event (§2.5.1.1).
	Timestamp uint32
	// Marker is the RTP marker bit, set on the first packet only (§2.5.1.1).
	Marker bool
	// Event is the payload.
	Event TelephoneEvent
}

// Default values for sent digits.
const (
	// DefaultDTMFDuration is a digit's length when none is given: 100 ms is
	// well above the 40 ms receivers must accept (ITU-T Q.24).
	DefaultDTMFDuration = 100 * time.Millisecond
	// DefaultDTMFVolume is the level sent, in -dBm0.
	DefaultDTMFVolume = 10
	// dtmfEndPackets is how many times the final packet is sent (§2.5.1.4).
	dtmfEndPackets = 3
)

// DTMFSender produces the packets of one digit, one per 20 ms tick: a start
// packet with the marker bit, updates with growing durations, then the final
// packet with the E bit three times (§2.5.1.4), all with the event's start
// timestamp. The zero value is idle. It allocates nothing.
type DTMFSender struct {
	ts       uint32
	ev       TelephoneEvent
	total    uint16 // event duration in samples
	sent     int    // packets sent
	endsSent int
	active   bool
}

// Start prepares the packets for digit, starting at RTP timestamp ts,
// lasting duration (rounded up to whole 20 ms packets; 0 means
// DefaultDTMFDuration; capped at the 8.19 s one payload can express) at
// volume -dBm0 (0-63). A digit still being sent is abandoned: call Next until
// it returns false first to finish it. It returns ErrUnknownDigit or
// ErrInvalidConfig, wrapped.
func (s *DTMFSender) Start(digit rune, ts uint32, duration time.Duration, volume uint8) error {
	code, ok := DigitToEvent(digit)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownDigit, digit)
	}
	if volume > 63 {
		return fmt.Errorf("%w: volume %d (0-63)", ErrInvalidConfig, volume)
	}
	if duration < 0 {
		return fmt.Errorf("%w: duration %v", ErrInvalidConfig, duration)
	}
	if duration == 0 {
		duration = DefaultDTMFDuration
	}
	frames := (durationSamples(duration) + FrameSamples - 1) / FrameSamples
	samples := min(frames*FrameSamples, 0xFFFF/FrameSamples*FrameSamples)
	*s = DTMFSender{ts: ts, ev: TelephoneEvent{Event: code, Volume: volume}, total: uint16(samples), active: true}
	return nil
}

// Active reports whether packets remain to be sent.
func (s *DTMFSender) Active() bool { return s.active }

// Next returns the next packet to send at this tick, and false when the
// digit is done. The caller assigns RTP sequence numbers (one per packet,
// end retransmissions included) and uses the returned timestamp as is.
func (s *DTMFSender) Next() (DTMFPacket, bool) {
	if !s.active {
		return DTMFPacket{}, false
	}
	p := DTMFPacket{Timestamp: s.ts, Marker: s.sent == 0, Event: s.ev}
	d := uint16(min(int(s.sent+1)*FrameSamples, int(s.total)))
	p.Event.Duration = d
	if d >= s.total {
		p.Event.End = true
		s.endsSent++
		if s.endsSent == dtmfEndPackets {
			s.active = false
		}
	}
	s.sent++
	return p, true
}
