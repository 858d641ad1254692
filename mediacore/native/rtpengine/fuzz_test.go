package rtpengine

import (
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
	c := newLegTo(t, e, "c", src, 0, nil) // in-band DTMF on: decodes
	return a, c, src
}

func FuzzReceivePacket(f *testing.F) {
	f.Add(rtpPacket(0, 1, 160, 42, make([]byte, 160)), false)
	f.Add(rtpPacket(0, 1, 160, 42, nil), false)
	f.Add(eventPacket(2, 320, 42, true, 5, true, 800), false)
	f.Add([]byte{0x80}, false)
	f.Add([]byte{0x9f, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, false)                         // 15 CSRCs announced, none present
	f.Add([]byte{0xb0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff}, false) // extension too long
	f.Add([]byte{0xa0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0}, false)                      // padding of 0
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40}, &rtcp.Goodbye{Sources: []uint32{1}}})
	f.Add(sr, true)
	f.Add([]byte{0x81, 0xc9, 0x00, 0x40}, true)
	relayed, decoding, src := fuzzLegs(f)
	now := time.Now()
	f.Fuzz(func(t *testing.T, data []byte, isRTCP bool) {
		buf := append([]byte(nil), data...)
		if isRTCP {
			relayed.handleRTCP(buf, src.addr, now)
			return
		}
		relayed.handlePacket(buf, src.addr, now)
		buf = append(buf[:0], data...)
		decoding.handlePacket(buf, src.addr, now)
	})
}
