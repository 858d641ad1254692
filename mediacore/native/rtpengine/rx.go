package rtpengine

import (
	"net/netip"
	"time"

	"github.com/pion/rtp"
)

// defaultLearnPackets is how many consecutive packets a NAT-shifted source
// must send before the leg locks onto it (see the learning rule in doc.go).
const defaultLearnPackets = 3

// rxState is owned by the leg's RTP receive loop (and by the fuzz test,
// which calls handlePacket directly). Statistics that RTCP needs are copied
// under Leg.statsMu.
type rxState struct {
	pkt rtp.Packet // reused for every parse: no allocation per packet

	learnGen  uint64 // remote address generation the learning state belongs to
	locked    bool
	candSrc   netip.AddrPort
	candSSRC  uint32
	candSeq   uint16
	candCount int
}

// rxStats are the reception statistics of RFC 3550 Appendix A.1 and A.8,
// guarded by Leg.statsMu (written by the reader, read by the RTCP sender).
type rxStats struct {
	valid         bool
	ssrc          uint32
	baseSeq       uint32
	maxSeq        uint16
	cycles        uint32
	received      uint32
	expectedPrior uint32
	receivedPrior uint32
	transit       int64
	jitter        float64
	// last SR from the remote: middle 32 bits of its NTP time and when it
	// arrived, for LSR/DLSR in our reception reports (RFC 3550 §6.4.1).
	lastSR     uint32
	lastSRTime time.Time
}

// update folds one accepted packet into the statistics.
func (s *rxStats) update(ssrc uint32, seq uint16, ts uint32, arrival time.Duration) {
	if !s.valid || ssrc != s.ssrc {
		*s = rxStats{valid: true, ssrc: ssrc, baseSeq: uint32(seq), maxSeq: seq, lastSR: s.lastSR, lastSRTime: s.lastSRTime}
	}
	s.received++
	if d := seq - s.maxSeq; d != 0 && d < 1<<15 {
		if seq < s.maxSeq {
			s.cycles += 1 << 16 // sequence number wrapped (RFC 3550 A.1)
		}
		s.maxSeq = seq
	}
	// Interarrival jitter, RFC 3550 A.8, in timestamp units.
	arr := int64(arrival / (time.Second / clockRate))
	transit := arr - int64(ts)
	if s.received > 1 {
		d := float64(transit - s.transit)
		if d < 0 {
			d = -d
		}
		s.jitter += (d - s.jitter) / 16
	}
	s.transit = transit
}

// handlePacket is the receive path for one datagram on the RTP socket. It
// must never panic on any input (FuzzReceivePacket) and, for valid packets,
// never allocate.
func (l *Leg) handlePacket(buf []byte, from netip.AddrPort, now time.Time) {
	r := l.route.Load()
	if r == nil || !r.remote.IsValid() {
		return
	}
	rx := &l.rx
	if rx.learnGen != r.learnGen {
		rx.learnGen = r.learnGen
		rx.locked = false
		rx.candCount = 0
	}
	// Cheap checks before parsing: RTP version 2 (RFC 3550 §5.1); RTCP on
	// the RTP port (PT 200-204 with the marker bit, RFC 5761 §4) is not
	// multiplexed here and is dropped.
	if len(buf) < rtpHeaderLen || buf[0]>>6 != 2 {
		return
	}
	if pt := buf[1] & 0x7f; pt != r.pt && (r.dtmfPT == 0 || pt != r.dtmfPT) {
		return
	}
	if err := rx.pkt.Unmarshal(buf); err != nil {
		return
	}
	h := &rx.pkt.Header
	if !l.acceptSource(r, from, h.SSRC, h.SequenceNumber) {
		return
	}
	arrival := now.Sub(l.eng.epoch)
	l.lastRecv.Store(int64(arrival))
	l.nRecv.Add(1)

	l.statsMu.Lock()
	l.stats.update(h.SSRC, h.SequenceNumber, h.Timestamp, arrival)
	l.statsMu.Unlock()

	if r.dtmfPT != 0 && h.PayloadType == r.dtmfPT {
		l.receiveEvent(r, buf, rx.pkt.Payload, h.Timestamp, now)
		return
	}
	if r.relayTo != nil {
		l.nRelayed.Add(1)
		if r.tap {
			// A recorded relay: the recording decodes a copy (the jitter
			// buffer copies), the packet itself goes out untouched.
			l.nDecoded.Add(1)
			l.receiveAudio(rx.pkt.Payload, h.SequenceNumber, h.Timestamp)
		}
		l.relayOut(r, buf, now)
		return
	}
	if r.decode {
		l.nDecoded.Add(1)
		l.receiveAudio(rx.pkt.Payload, h.SequenceNumber, h.Timestamp)
	}
}

// acceptSource applies the strict source rule described in doc.go.
func (l *Leg) acceptSource(r *route, from netip.AddrPort, ssrc uint32, seq uint16) bool {
	rx := &l.rx
	if from == r.remote {
		if !rx.locked {
			rx.locked = true
		}
		return true
	}
	if learned := l.learned.Load(); learned != nil && *learned == from {
		return true
	}
	if rx.locked || l.eng.learnPackets <= 0 {
		return false
	}
	if from == rx.candSrc && ssrc == rx.candSSRC && seq == rx.candSeq+1 {
		rx.candCount++
	} else {
		rx.candSrc, rx.candSSRC, rx.candCount = from, ssrc, 1
	}
	rx.candSeq = seq
	if rx.candCount < l.eng.learnPackets {
		return false
	}
	rx.locked = true
	src := from
	l.learned.Store(&src)
	l.eng.log.Info("rtp source learned", "leg", l.id, "negotiated", r.remote.String(), "learned", from.String())
	return true
}

// dst returns where our RTP for this leg goes: the learned source when the
// remote is behind a NAT (symmetric RTP, RFC 4961), else the negotiated one.
func (l *Leg) dst(r *route) netip.AddrPort {
	if learned := l.learned.Load(); learned != nil {
		return *learned
	}
	return r.remote
}

// relayOut forwards an audio packet to the bridged peer (fast path).
func (l *Leg) relayOut(r *route, pkt []byte, now time.Time) {
	peer := r.relayTo
	pr := peer.route.Load()
	if pr == nil || !pr.remote.IsValid() {
		return
	}
	if err := peer.tx.relay(peer.dst(pr), pkt, pr.pt, now); err != nil {
		l.sendErr(err)
	}
}
