package rtpengine

import (
	"net/netip"
	"time"

	"github.com/pion/rtcp"
)

// ntpEpochOffset is the seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix).
const ntpEpochOffset = 2208988800

// ntpTime converts t to the 64-bit NTP format of RFC 3550 §4.
func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// rtcpDst is the remote RTCP address: the RTP port + 1 (RFC 3550 §11; we
// do not offer rtcp-mux) of wherever our RTP goes.
func (l *Leg) rtcpDst(r *route) netip.AddrPort {
	d := l.dst(r)
	return netip.AddrPortFrom(d.Addr(), d.Port()+1)
}

// sendRTCP sends one compound report: an SR when we have sent RTP, else an
// RR, each with a reception report block for the remote source when we
// have received from it, followed by SDES CNAME as RFC 3550 §6.1 requires.
// RTCP is rare (every few seconds per leg) so pion's allocating Marshal is
// fine here.
func (l *Leg) sendRTCP(r *route, now time.Time) {
	ssrc, rtpTime, packets, octets, sent := l.tx.snapshot(now)
	var reports []rtcp.ReceptionReport
	l.statsMu.Lock()
	if s := &l.stats; s.valid {
		ext := s.cycles + uint32(s.maxSeq)
		expected := ext - s.baseSeq + 1
		lost := int64(expected) - int64(s.received)
		lost = max(0, min(lost, 0x7fffff))
		expInt := expected - s.expectedPrior
		recvInt := s.received - s.receivedPrior
		s.expectedPrior, s.receivedPrior = expected, s.received
		var fraction uint8
		if expInt > 0 && expInt > recvInt {
			fraction = uint8((expInt - recvInt) << 8 / expInt)
		}
		rr := rtcp.ReceptionReport{
			SSRC:               s.ssrc,
			FractionLost:       fraction,
			TotalLost:          uint32(lost),
			LastSequenceNumber: ext,
			Jitter:             uint32(s.jitter),
		}
		if !s.lastSRTime.IsZero() {
			rr.LastSenderReport = s.lastSR
			rr.Delay = uint32(now.Sub(s.lastSRTime) * 65536 / time.Second)
		}
		reports = append(reports, rr)
	}
	l.statsMu.Unlock()
	var first rtcp.Packet
	if sent {
		first = &rtcp.SenderReport{SSRC: ssrc, NTPTime: ntpTime(now), RTPTime: rtpTime, PacketCount: packets, OctetCount: octets, Reports: reports}
	} else {
		first = &rtcp.ReceiverReport{SSRC: ssrc, Reports: reports}
	}
	sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
		Source: ssrc,
		Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: l.cname()}},
	}}}
	buf, err := rtcp.Marshal([]rtcp.Packet{first, sdes})
	if err != nil {
		return
	}
	if err := l.rtcp.writeTo(buf, l.rtcpDst(r)); err != nil {
		l.sendErr(err)
	}
}

// cname is our canonical name for RTCP SDES (RFC 3550 §6.5.1).
func (l *Leg) cname() string {
	return "hotline-" + l.id + "@" + l.eng.cfg.IP.String()
}

// handleRTCP parses a compound RTCP packet from the remote and keeps what
// our reports need (the last SR's timestamp, RFC 3550 §6.4.1). Anything
// from another address than the remote's, or that does not parse, is
// dropped. It must never panic (FuzzReceivePacket).
func (l *Leg) handleRTCP(buf []byte, from netip.AddrPort, now time.Time) {
	r := l.route.Load()
	if r == nil || !r.remote.IsValid() {
		return
	}
	if from.Addr() != r.remote.Addr() && from.Addr() != l.dst(r).Addr() {
		return
	}
	pkts, err := rtcp.Unmarshal(buf)
	if err != nil {
		return
	}
	for _, p := range pkts {
		switch p := p.(type) {
		case *rtcp.SenderReport:
			l.statsMu.Lock()
			l.stats.lastSR = uint32(p.NTPTime >> 16)
			l.stats.lastSRTime = now
			l.statsMu.Unlock()
		case *rtcp.Goodbye:
			l.eng.log.Debug("rtcp bye", "leg", l.id)
		}
	}
}
