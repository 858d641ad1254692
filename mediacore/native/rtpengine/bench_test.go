package rtpengine

import (
	"math/rand/v2"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore/audio"
)

// BenchmarkRelayPacket is the fast path per packet: parse, source check,
// rewrite, sendto (one syscall, to a loopback socket).
func BenchmarkRelayPacket(b *testing.B) {
	relayed, _, src := benchLegs(b)
	pkt := rtpPacket(0, 1, 160, src.ssrc, make([]byte, 160))
	buf := make([]byte, len(pkt))
	seq, ts := uint16(1), uint32(160)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		ts += frameSamples
		copy(buf, pkt)
		buf[2], buf[3] = byte(seq>>8), byte(seq)
		buf[4], buf[5], buf[6], buf[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		relayed.handlePacket(buf, src.addr, time.Now())
	}
}

// BenchmarkReceiveDecodePacket is the terminating receive path per packet:
// parse, source check, jitter buffer push.
func BenchmarkReceiveDecodePacket(b *testing.B) {
	_, decoding, src := benchLegs(b)
	pkt := rtpPacket(0, 1, 160, src.ssrc, make([]byte, 160))
	buf := make([]byte, len(pkt))
	seq, ts := uint16(1), uint32(160)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		ts += frameSamples
		copy(buf, pkt)
		buf[2], buf[3] = byte(seq>>8), byte(seq)
		buf[4], buf[5], buf[6], buf[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		decoding.handlePacket(buf, src.addr, time.Now())
		if seq%4 == 0 {
			decoding.mu.Lock()
			decoding.pullRxLocked(decoding.rxFrame[:])
			decoding.mu.Unlock()
		}
	}
}

// benchEngine is an engine without its own ticker: the benchmark ticks.
func benchEngine(b *testing.B) *Engine {
	e, err := newEngine(Config{IP: loopback, PortMin: 40000 + 2*int(time.Now().UnixNano()%5000), PortMax: 65000}, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close() })
	return e
}

// BenchmarkTickPerLeg is the ticker's cost per leg and tick for a leg
// playing a tone (read source, encode, send).
func BenchmarkTickPerLeg(b *testing.B) {
	e := benchEngine(b)
	sink := newSink(b)
	const legs = 20
	for i := range legs {
		l, err := e.NewLeg("l", nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = l.SetRemote(sink.addr, audio.PCMU, 0, 101)
		if _, err := l.Play(mustTone(b, 300+float64(i)*10), false); err != nil { // an endless tone
			b.Fatal(err)
		}
	}
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		now = now.Add(frameDur)
		e.tickOnce(now)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/legs, "ns/leg-tick")
}

// BenchmarkBridgedCallTick is one mixing bridge of two legs (mix-minus,
// encode, two sends per tick), optionally with a stereo recording, per
// tick. A relayed bridge costs nothing here (see BenchmarkRelayPacket).
func BenchmarkBridgedCallTick(b *testing.B) {
	for _, tc := range []struct {
		name string
		rec  bool
	}{{"mix", false}, {"mix+stereo-record", true}} {
		b.Run(tc.name, func(b *testing.B) {
			e := benchEngine(b)
			sink := newSink(b)
			br := e.NewBridge("b")
			for range 2 {
				l, err := e.NewLeg("l", nil)
				if err != nil {
					b.Fatal(err)
				}
				_ = l.SetRemote(sink.addr, audio.PCMU, 0, 0)
				l.SetInbandDTMF(true) // armed in-band DTMF: forces mixing
				_ = br.Add(l, Speak, nil)
			}
			if tc.rec {
				if _, err := br.Record(&testenv.MemFile{}, true); err != nil {
					b.Fatal(err)
				}
			}
			now := time.Now()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				now = now.Add(frameDur)
				e.tickOnce(now)
			}
		})
	}
}

// benchLegs is fuzzLegs with discarding sinks.
func benchLegs(b testing.TB) (relayed, decoding *Leg, src *peer) {
	base := 20000 + 2*rand.IntN(15000)
	e, err := newEngine(Config{IP: loopback, PortMin: base, PortMax: base + 100}, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close() })
	src, sink := newSink(b), newSink(b)
	mk := func(id string, p *peer, dtmfPT uint8) *Leg {
		l, err := e.NewLeg(id, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = l.Close() })
		_ = l.SetRemote(p.addr, audio.PCMU, 0, dtmfPT)
		return l
	}
	a, c := mk("a", src, 101), mk("b", sink, 101)
	br := e.NewBridge("f")
	b.Cleanup(br.Close)
	_ = br.Add(a, Speak, nil)
	_ = br.Add(c, Speak, nil)
	d := mk("c", src, 0)
	d.SetInbandDTMF(true) // armed: decodes every packet
	return a, d, src
}
