package rtpengine

import (
	"math/rand/v2"
	"testing"
	"time"

	"hotline/internal/testenv"
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

// TestRecordTapAllocs: a recorded two-party bridge stays relayed and the
// recording's tap (jitter-buffer push of each relayed packet) allocates
// nothing per packet either.
func TestRecordTapAllocs(t *testing.T) {
	base := 20000 + 2*rand.IntN(15000)
	e, err := newEngine(Config{IP: loopback, PortMin: base, PortMax: base + 100}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	src, sink := newSink(t), newSink(t)
	a, b := newLegTo(t, e, "a", src, 101, nil), newLegTo(t, e, "b", sink, 101, nil)
	br := e.NewBridge("f")
	t.Cleanup(br.Close)
	_ = br.Add(a, Speak, nil)
	_ = br.Add(b, Speak, nil)
	if _, err := br.Record(&testenv.MemFile{}, true); err != nil {
		t.Fatal(err)
	}
	if r := a.route.Load(); r.relayTo == nil || !r.tap {
		t.Fatal("recorded bridge: leg not relayed with a tap")
	}
	pkt := rtpPacket(0, 1, 160, src.ssrc, make([]byte, 160))
	buf := make([]byte, len(pkt))
	seq, ts := uint16(1), uint32(160)
	next := func() []byte {
		seq++
		ts += frameSamples
		copy(buf, pkt)
		buf[2], buf[3] = byte(seq>>8), byte(seq)
		buf[4], buf[5], buf[6], buf[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		return buf
	}
	for range 5 {
		a.handlePacket(next(), src.addr, time.Now())
	}
	if n := testing.AllocsPerRun(200, func() {
		a.handlePacket(next(), src.addr, time.Now())
		if seq%4 == 0 {
			br.mu.Lock()
			br.recordRelayLocked()
			br.mu.Unlock()
		}
	}); n != 0 {
		t.Errorf("%v allocs per tapped packet, want 0", n)
	}
}
