package rtpengine

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// fuzzLegs returns a leg bridged (relay) to another, both with remotes set
// to discarding peers, so the fuzzer reaches every branch of the receive
// path: source check, parse, telephone-event, relay, decode.
func fuzzLegs(t testing.TB) (relayed, decoding *Leg, src *peer) {
	e := newTestEngine(t, nil)
	src, sink := newPeer(t, 0), newPeer(t, 0)
	a := newLegTo(t, e, "a", src, 101, nil)
	b := newLegTo(t, e, "b", sink, 101, nil)
	br := e.NewBridge("f")
	t.Cleanup(br.Close)
	_ = br.Add(a, Speak, nil)
	_ = br.Add(b, Speak, nil)
	c := newLegTo(t, e, "c", src, 0, nil)
	c.SetInbandDTMF(true) // armed: decodes
	return a, c, src
}

func FuzzReceivePacket(f *testing.F) {
	f.Add(rtpPacket(0, 1, 160, 42, make([]byte, 160)), false, false)
	f.Add(rtpPacket(0, 1, 160, 42, nil), false, false)
	f.Add(eventPacket(2, 320, 42, true, 5, true, 800), false, false)
	f.Add([]byte{0x80}, false, false)
	f.Add([]byte{0x9f, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, false, false)                         // 15 CSRCs announced, none present
	f.Add([]byte{0xb0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff}, false, false) // extension too long
	f.Add([]byte{0xa0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0}, false, false)                      // padding of 0
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40}, &rtcp.Goodbye{Sources: []uint32{1}}})
	f.Add(sr, true, false)
	f.Add([]byte{0x81, 0xc9, 0x00, 0x40}, true, false)
	relayed, decoding, src := fuzzLegs(f)
	now := time.Now()
	// A source other than the negotiated one exercises NAT learning (and,
	// once learned on the decoding leg, acceptance from the learned address).
	other := netip.AddrPortFrom(loopback, src.addr.Port()+1)
	f.Add(rtpPacket(0, 7, 1120, 9, make([]byte, 160)), false, true)
	f.Fuzz(func(t *testing.T, data []byte, isRTCP, fromOther bool) {
		from := src.addr
		if fromOther {
			from = other
		}
		buf := append([]byte(nil), data...)
		if isRTCP {
			relayed.handleRTCP(buf, from, now)
			return
		}
		relayed.handlePacket(buf, from, now)
		buf = append(buf[:0], data...)
		decoding.handlePacket(buf, from, now)
	})
}
