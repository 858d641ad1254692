package rtpengine

import (
	"testing"
	"time"
)

// TestHotPathAllocs: receive+relay, receive+decode and the generated send
// path allocate nothing per packet. AllocsPerRun counts every goroutine's
// allocations, so the peers are discarding sinks and the engine's ticker
// is off.
func TestHotPathAllocs(t *testing.T) {
	relayed, decoding, src := benchLegs(t)
	pkt := rtpPacket(0, 1, 160, src.ssrc, make([]byte, 160))
	buf := make([]byte, len(pkt))
	seq := uint16(1)
	ts := uint32(160)
	next := func() []byte {
		seq++
		ts += frameSamples
		copy(buf, pkt)
		buf[2], buf[3] = byte(seq>>8), byte(seq)
		buf[4], buf[5], buf[6], buf[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		return buf
	}
	// Warm up: lock the source, start the relay mapping.
	for range 5 {
		relayed.handlePacket(next(), src.addr, time.Now())
		decoding.handlePacket(next(), src.addr, time.Now())
	}
	if r := relayed.route.Load(); r.relayTo == nil {
		t.Fatal("leg is not relaying")
	}
	if r := decoding.route.Load(); !r.decode {
		t.Fatal("leg is not decoding")
	}
	tests := []struct {
		name string
		fn   func()
	}{
		{"receive+relay", func() { relayed.handlePacket(next(), src.addr, time.Now()) }},
		{"receive+decode", func() { decoding.handlePacket(next(), src.addr, time.Now()) }},
		{"send frame", func() {
			r := decoding.route.Load()
			_ = decoding.tx.sendFrame(decoding.dst(r), 0, pkt[12:], 0, time.Now())
		}},
		{"wrong source", func() { relayed.handlePacket(next(), relayed.LocalAddr(), time.Now()) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(200, tc.fn); n != 0 {
				t.Errorf("%v allocs per packet, want 0", n)
			}
		})
	}
}
