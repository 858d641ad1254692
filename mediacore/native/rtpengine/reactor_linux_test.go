//go:build linux

package rtpengine

import (
	"testing"
	"time"
)

// The reactor polls while packets come densely and waits for readiness
// again once they stop; no packet is lost at either switch, and a lone
// packet after the switch back still wakes it (the sockets' set was
// attached again to the watched one).
func TestReactorModes(t *testing.T) {
	e := newTestEngine(t, nil)
	p := newPeer(t, 0)
	l := newLegTo(t, e, "a", p, 0, nil)
	ssrc, seq, ts := uint32(7), uint16(1), uint32(0)
	send := func() {
		p.send(l.LocalAddr(), rtpPacket(0, seq, ts, ssrc, make([]byte, 160)))
		seq++
		ts += 160
	}
	sent := 0
	deadline := time.Now().Add(10 * time.Second)
	for !e.reactor.polling.Load() {
		if time.Now().After(deadline) {
			t.Fatal("dense packets never made the reactor poll")
		}
		send() // one every 200 µs: far denser than reactorPace
		sent++
		time.Sleep(200 * time.Microsecond)
	}
	for range 50 { // more while it polls
		send()
		sent++
		time.Sleep(200 * time.Microsecond)
	}
	waitFor(t, "every dense packet received", func() bool { return l.Counters().Received == uint64(sent) })
	waitFor(t, "the reactor waits again once quiet", func() bool { return !e.reactor.polling.Load() })
	send()
	sent++
	waitFor(t, "a lone packet after the switch back", func() bool { return l.Counters().Received == uint64(sent) })
}
