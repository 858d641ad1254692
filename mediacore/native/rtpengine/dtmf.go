package rtpengine

import (
	"fmt"
	"time"

	"hotline/mediacore/audio"
)

const (
	// dtmfToneFrames is how long each in-band digit we send lasts: 100 ms,
	// like audio.DefaultDTMFDuration for RFC 4733 digits.
	dtmfToneFrames = 5
	// dtmfGapFrames is the pause after each digit we send (60 ms).
	dtmfGapFrames = 3
	// dtmfLevel is the level of each in-band tone, dBm0 (typical -7..-10).
	dtmfLevel = -8
)

type pendingDigit struct {
	code uint8
	rfc  bool
}

// dtmfOut sends digits, one at a time, as RFC 4733 events (when the remote
// negotiated telephone-event) or as in-band tones. Guarded by Leg.mu.
type dtmfOut struct {
	pending []pendingDigit

	// RFC 4733 digit in progress
	sender audio.DTMFSender
	evGap  int
	evBuf  [audio.TelephoneEventSize]byte

	// in-band digit in progress
	tone *audio.ToneSource
}

// eventActive reports whether RFC 4733 digits own the outbound stream
// (sending or waiting in the queue, including the inter-digit gap).
func (d *dtmfOut) eventActive() bool {
	return d.sender.Active() || d.evGap > 0 || (len(d.pending) > 0 && d.pending[0].rfc)
}

// inbandActive reports whether in-band tones are playing or queued.
func (d *dtmfOut) inbandActive() bool {
	return d.tone != nil || (len(d.pending) > 0 && !d.pending[0].rfc)
}

// inbandFrame fills dst with the next frame of in-band digits and reports
// whether it did.
func (d *dtmfOut) inbandFrame(dst []int16) bool {
	for {
		if d.tone == nil {
			if len(d.pending) == 0 || d.pending[0].rfc {
				return false
			}
			p := d.pending[0]
			d.pending = d.pending[1:]
			digit, _ := audio.EventToDigit(p.code)
			tone, err := audio.DTMFTone(digit, dtmfLevel, dtmfToneFrames*frameDur, dtmfGapFrames*frameDur)
			if err != nil {
				continue
			}
			src, err := audio.NewToneSource(tone)
			if err != nil {
				continue
			}
			d.tone = src
		}
		n, err := d.tone.ReadFrame(dst)
		if n > 0 {
			clear(dst[n:])
			return true
		}
		if err != nil {
			d.tone = nil
		}
	}
}

// SendDTMF queues digits (0-9, *, #, A-D) to the remote, after any digits
// still being sent: as RFC 4733 events when a telephone-event payload type
// was negotiated, else as in-band tones (100 ms tone, 60 ms gap). While
// events are sent, the leg's audio towards the remote pauses (the events and
// the audio share one RTP stream and timeline).
func (l *Leg) SendDTMF(digits string) error {
	codes := make([]uint8, 0, len(digits))
	for _, d := range digits {
		if d >= 'a' && d <= 'd' {
			d -= 'a' - 'A'
		}
		c, ok := audio.DigitToEvent(d)
		if !ok || c > 15 {
			return fmt.Errorf("%w: dtmf digit %q", ErrInvalidArgument, d)
		}
		codes = append(codes, c)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if !l.remote.IsValid() {
		l.mu.Unlock()
		return ErrNoRemote
	}
	rfc := l.dtmfPT != 0
	for _, c := range codes {
		l.dtmfOut.pending = append(l.dtmfOut.pending, pendingDigit{code: c, rfc: rfc})
	}
	if rfc {
		l.tx.mu.Lock()
		l.tx.blockRelay = true
		l.eventsOut.Store(true)
		l.tx.mu.Unlock()
	}
	b := l.bridge
	l.mu.Unlock()
	if !rfc && b != nil {
		b.reconfigure()
	}
	return nil
}

// sendEventsLocked sends this tick's RFC 4733 packet, if any (RFC 4733
// §2.5.1: one packet per 20 ms with the growing duration, all with the
// timestamp of the event start, marker on the first, the end packet three
// times; audio.DTMFSender builds them).
func (l *Leg) sendEventsLocked(r *route, tick uint64, now time.Time) {
	d := &l.dtmfOut
	if d.evGap > 0 {
		d.evGap--
		if d.evGap == 0 && !d.eventActive() {
			l.tx.mu.Lock()
			l.tx.blockRelay = false
			l.eventsOut.Store(false)
			l.tx.mu.Unlock()
		}
		return
	}
	if !d.sender.Active() {
		if len(d.pending) == 0 || !d.pending[0].rfc {
			return
		}
		digit, _ := audio.EventToDigit(d.pending[0].code)
		d.pending = d.pending[1:]
		if err := d.sender.Start(digit, l.tx.nextEventTS(now, tick), 0, audio.DefaultDTMFVolume); err != nil {
			return
		}
	}
	p, ok := d.sender.Next()
	if !ok {
		return
	}
	if !d.sender.Active() {
		d.evGap = dtmfGapFrames
	}
	if r.dtmfPT == 0 || !r.dir.sends() {
		// Renegotiated away or on hold: the digit is dropped.
		return
	}
	n := p.Event.MarshalTo(d.evBuf[:])
	clockTS := p.Timestamp + uint32(p.Event.Duration)
	if err := l.tx.sendEvent(l.dst(r), r.dtmfPT, d.evBuf[:n], p.Timestamp, clockTS, p.Marker, now); err != nil {
		l.sendErr(err)
	}
}
