package rtpengine

import (
	"encoding/binary"
	"time"

	"hotline/mediacore/audio"
)

// receiveAudio queues an accepted audio payload, still encoded, in the
// jitter buffer (reader goroutine; the buffer copies into preallocated
// slots, no allocation). Decoding happens at playout, in the ticker.
func (l *Leg) receiveAudio(payload []byte, seq uint16, ts uint32) {
	if len(payload) == 0 {
		return
	}
	l.jbMu.Lock()
	l.jb.Push(seq, ts, payload)
	l.jbMu.Unlock()
}

// receiveEvent handles an RFC 4733 telephone-event packet: the receiver
// reports each digit once (dedupe on the event timestamp, RFC 4733 §2.5.1.1)
// and, on a relayed bridge, the packet is forwarded if the peer negotiated
// telephone-event too.
func (l *Leg) receiveEvent(r *route, pkt, payload []byte, ts uint32, now time.Time) {
	if d, ok, err := l.dtmfIn.Receive(ts, pkt[1]&0x80 != 0, payload); err == nil && ok {
		dur := time.Duration(binary.BigEndian.Uint16(payload[2:4])) * time.Second / clockRate
		l.events.push(DTMF{Digit: d.Digit, Duration: dur})
	}
	if r.relayTo == nil {
		return
	}
	peer := r.relayTo
	if pr := peer.route.Load(); pr != nil && pr.remote.IsValid() && pr.dtmfPT != 0 {
		if err := peer.tx.relay(peer.dst(pr), pkt, pr.dtmfPT, now); err != nil {
			l.sendErr(err)
		}
	}
}

// resetJitterLocked empties the jitter buffer (when decoding starts or
// stops, so stale audio is never played late).
func (l *Leg) resetJitterLocked() {
	l.jbMu.Lock()
	l.jb.Reset()
	l.jbMu.Unlock()
}

// pullRxLocked fills dst with this tick's received audio from the jitter
// buffer (silence while buffering, audio.LossConcealer's fill for a lost
// packet) and runs in-band DTMF detection on it.
// It reports whether the leg is receiving at all.
func (l *Leg) pullRxLocked(dst []int16) bool {
	r := l.route.Load()
	if !r.decode && !r.tap {
		clear(dst)
		return false
	}
	l.jbMu.Lock()
	f, st := l.jb.Pop()
	switch st {
	case audio.PopFrame:
		n := r.codec.Decode(dst, f.Payload)
		clear(dst[n:])
		l.plc.Good(dst)
	case audio.PopLost:
		l.plc.Conceal(dst)
	default:
		clear(dst)
	}
	l.jbMu.Unlock()
	if l.inband {
		for _, d := range l.detector.Detect(l.digits[:0], dst) {
			l.events.push(DTMF{Digit: d})
		}
	}
	return true
}

// playIntoLocked mixes the leg's own output (in-band DTMF tones, else the
// current playback) into dst. It returns the id of a playback that ended
// with this frame, 0 otherwise.
func (l *Leg) playIntoLocked(dst []int16) PlaybackID {
	if l.dtmfOut.inbandFrame(l.txFrame[:]) {
		copy(dst, l.txFrame[:])
		return 0
	}
	has, done := l.plays.next(l.txFrame[:])
	if has {
		for i, s := range l.txFrame {
			dst[i] = sat16(int32(dst[i]) + int32(s))
		}
	}
	return done
}

// emitLocked encodes and sends one frame to the remote, unless the
// direction forbids sending or RFC 4733 digits own the stream right now.
func (l *Leg) emitLocked(frame []int16, tick uint64, now time.Time) {
	r := l.route.Load()
	if !r.remote.IsValid() || !r.dir.sends() || l.dtmfOut.eventActive() {
		return
	}
	n := r.codec.Encode(l.encFrame[:], frame)
	if err := l.tx.sendFrame(l.dst(r), r.pt, l.encFrame[:n], tick, now); err != nil {
		l.sendErr(err)
	}
}

// relayHousekeep is how often (in ticks, 200 ms) a relayed leg's media
// timeout is checked.
const relayHousekeep = 10

// tick is the ticker's per-leg work: media timeout, RTCP, RFC 4733 digits,
// and, for a leg outside any mixing bridge, its playback, in-band DTMF
// detection and recording. (A mixing bridge does the audio of its members.)
func (l *Leg) tick(tick uint64, now time.Time) {
	r := l.route.Load()
	if r.relayTo != nil && !l.eventsOut.Load() {
		// A relayed leg has no frame work: its packets move in the
		// reactor. Only housekeeping, spread over the legs: the media
		// timeout every relayHousekeep ticks, RTCP on its own schedule.
		if (tick+l.phase)%relayHousekeep == 0 {
			l.checkTimeout(now, r)
		}
		if r.remote.IsValid() && (tick+l.phase)%l.eng.rtcpEvery == 0 {
			l.sendRTCP(r, now)
		}
		return
	}
	l.checkTimeout(now, r)
	if r.remote.IsValid() && (tick+l.phase)%l.eng.rtcpEvery == 0 {
		l.sendRTCP(r, now)
	}
	l.mu.Lock()
	if l.closed || !r.remote.IsValid() {
		l.mu.Unlock()
		return
	}
	l.sendEventsLocked(r, tick, now)
	if l.bridge != nil {
		l.mu.Unlock()
		return
	}
	needRx := l.rec != nil || l.inband
	if needRx {
		l.pullRxLocked(l.rxFrame[:])
	}
	var out [frameSamples]int16
	sending := l.dtmfOut.inbandActive() || !l.plays.empty()
	done := l.playIntoLocked(out[:])
	if sending {
		l.emitLocked(out[:], tick, now)
	}
	if l.rec != nil {
		l.rec.writeFrame(l.rxFrame[:], out[:])
	}
	l.mu.Unlock()
	if done != 0 {
		l.events.push(PlaybackFinished{ID: done})
	}
}
