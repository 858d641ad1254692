package rtpengine

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// rtcpPeer is a peer whose RTCP socket sits on its RTP port + 1.
func rtcpPeer(t *testing.T) (*peer, *net.UDPConn) {
	t.Helper()
	for range 20 {
		p := newPeer(t, 1000)
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, p.addr.Port()+1)))
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return p, c
		}
	}
	t.Fatal("no RTP/RTCP port pair for the peer")
	return nil, nil
}

// TestRTCPReports: a leg that sends and receives emits compound SR + SDES
// packets whose reception block reports the peer's SSRC and echoes the
// peer's last SR (LSR, RFC 3550 §6.4.1).
func TestRTCPReports(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.RTCPInterval = 100 * time.Millisecond })
	p, rc := rtcpPeer(t)
	l := newLegTo(t, e, "rtcp", p, 101, nil)
	if _, err := l.Play(mustTone(t, 500), false); err != nil {
		t.Fatal(err)
	}
	defer p.stream(l.LocalAddr())()
	p.waitAudio(t, 1600)
	// Our SR towards the leg's RTCP port, from the peer's RTCP socket.
	ntp := uint64(0x1234567890abcdef)
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: p.ssrc, NTPTime: ntp}})
	legRTCP := netip.AddrPortFrom(loopback, l.LocalAddr().Port()+1)
	if _, err := rc.WriteToUDPAddrPort(sr, legRTCP); err != nil {
		t.Fatal(err)
	}
	ourSSRC := l.tx.ssrc
	buf := make([]byte, 1500)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_ = rc.SetReadDeadline(deadline)
		n, err := rc.Read(buf)
		if err != nil {
			break
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			t.Fatalf("our RTCP does not parse: %v", err)
		}
		s, ok := pkts[0].(*rtcp.SenderReport)
		if !ok || len(pkts) < 2 {
			continue
		}
		if _, ok := pkts[1].(*rtcp.SourceDescription); !ok {
			t.Fatalf("second packet %T, want SDES", pkts[1])
		}
		if s.SSRC != ourSSRC || s.PacketCount == 0 {
			t.Fatalf("SR ssrc %x packets %d, want %x and > 0", s.SSRC, s.PacketCount, ourSSRC)
		}
		if len(s.Reports) != 1 || s.Reports[0].SSRC != p.ssrc {
			continue
		}
		if s.Reports[0].LastSenderReport == uint32(ntp>>16) {
			return
		}
	}
	t.Fatal("no SR with a reception report echoing our LSR")
}

// TestRTCPFromStrangerIgnored: an SR from another address does not reach
// the statistics.
func TestRTCPFromStrangerIgnored(t *testing.T) {
	e := newTestEngine(t, nil)
	p := newPeer(t, 0)
	l := newLegTo(t, e, "rtcp", p, 101, nil)
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40}})
	l.handleRTCP(sr, netip.MustParseAddrPort("127.0.0.2:9"), time.Now())
	l.statsMu.Lock()
	got := l.stats.lastSR
	l.statsMu.Unlock()
	if got != 0 {
		t.Errorf("stranger's SR recorded (LSR %x)", got)
	}
	l.handleRTCP(sr, p.addr, time.Now())
	l.statsMu.Lock()
	got = l.stats.lastSR
	l.statsMu.Unlock()
	if got != uint32((uint64(1)<<40)>>16) {
		t.Errorf("remote's SR not recorded (LSR %x)", got)
	}
}
