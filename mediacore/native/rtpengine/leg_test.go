package rtpengine

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"hotline/mediacore/audio"
)

func mustTone(t testing.TB, freq float64) *audio.ToneSource {
	t.Helper()
	src, err := audio.NewToneSource(audio.Tone{Freqs: []float64{freq}, Level: -10})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestRFC4733DigitsOnceInOrder(t *testing.T) {
	e := newTestEngine(t, nil)
	p := newPeer(t, 0)
	ev := &eventLog{}
	l := newLegTo(t, e, "ivr", p, 101, ev)
	seq, ts := uint16(100), uint32(5000)
	for _, d := range "1234#" {
		code, _ := audio.DigitToEvent(d)
		// start + 4 updates, then the end packet three times (RFC 4733
		// §2.5.1.4), plus a duplicate of an update.
		for i := 1; i <= 5; i++ {
			seq++
			p.send(l.LocalAddr(), eventPacket(seq, ts, p.ssrc, i == 1, code, false, uint16(i*160)))
			if i == 3 {
				p.send(l.LocalAddr(), eventPacket(seq, ts, p.ssrc, false, code, false, uint16(i*160)))
			}
		}
		for range 3 {
			seq++
			p.send(l.LocalAddr(), eventPacket(seq, ts, p.ssrc, false, code, true, 960))
		}
		ts += 1600
		time.Sleep(5 * time.Millisecond)
	}
	waitFor(t, "5 digits", func() bool { return len(ev.all()) >= 5 })
	time.Sleep(100 * time.Millisecond)
	var got string
	for _, x := range ev.all() {
		d, ok := x.(DTMF)
		if !ok {
			t.Fatalf("unexpected event %#v", x)
		}
		got += string(d.Digit)
	}
	if got != "1234#" {
		t.Fatalf("digits %q, want %q exactly once each", got, "1234#")
	}
}

func TestInbandDTMFDetection(t *testing.T) {
	e := newTestEngine(t, nil)
	p := newPeer(t, 0)
	ev := &eventLog{}
	l := newLegTo(t, e, "ivr", p, 0, ev) // no telephone-event
	l.SetInbandDTMF(true)                // an IVR listens: armed
	sendInbandDigits(t, p, l.LocalAddr(), "59#")
	waitFor(t, "3 in-band digits", func() bool { return len(ev.all()) >= 3 })
	time.Sleep(200 * time.Millisecond)
	var got string
	for _, x := range ev.all() {
		if d, ok := x.(DTMF); ok {
			got += string(d.Digit)
		}
	}
	if got != "59#" {
		t.Fatalf("in-band digits %q, want 59#", got)
	}
}

// sendInbandDigits sends digits from p to `to` as in-band DTMF (200 ms
// tone, 200 ms pause, PCMU), paced by the wall clock like a phone.
func sendInbandDigits(t testing.TB, p *peer, to netip.AddrPort, digits string) {
	t.Helper()
	start := time.Now()
	k := 0
	for _, d := range digits {
		tone, err := audio.DTMFTone(d, -8, 200*time.Millisecond, 200*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		src, err := audio.NewToneSource(tone)
		if err != nil {
			t.Fatal(err)
		}
		pcm, err := audio.ReadAll(src, 8000)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
			payload := make([]byte, frameSamples)
			audio.PCMU.Encode(payload, pcm[i:i+frameSamples])
			p.seq++
			b := rtpPacket(0, p.seq, p.ts, p.ssrc, payload)
			p.ts += frameSamples
			// Pace by the wall clock, as a phone would, even if a sleep
			// overran on a loaded machine.
			k++
			time.Sleep(time.Until(start.Add(time.Duration(k) * frameDur)))
			p.send(to, b)
		}
	}
}

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, rtpHeaderLen+len(payload))
	b[0] = 0x80
	b[1] = pt
	b[2], b[3] = byte(seq>>8), byte(seq)
	b[4], b[5], b[6], b[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
	b[8], b[9], b[10], b[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
	copy(b[rtpHeaderLen:], payload)
	return b
}

func TestPlayReachesPeer(t *testing.T) {
	e := newTestEngine(t, nil)
	p := newPeer(t, 0)
	ev := &eventLog{}
	l := newLegTo(t, e, "play", p, 101, ev)
	src, err := audio.NewToneSource(audio.Tone{Freqs: []float64{1000}, Level: -10, Cadence: []time.Duration{600 * time.Millisecond}, Repeat: 1})
	if err != nil {
		t.Fatal(err)
	}
	id, err := l.Play(src, false)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "PlaybackFinished", func() bool {
		for _, x := range ev.all() {
			if pf, ok := x.(PlaybackFinished); ok && pf.ID == id && !pf.Stopped {
				return true
			}
		}
		return false
	})
	got := p.received()
	if len(got) < 4000 {
		t.Fatalf("peer got %d samples", len(got))
	}
	if r := ratio(got[800:4000], 1000); r < 0.9 {
		t.Errorf("1 kHz ratio %.2f", r)
	}
	hs := p.receivedHeaders()
	if !hs[0].Marker {
		t.Error("first packet of the talk spurt has no marker")
	}
	for i := 1; i < len(hs); i++ {
		if hs[i].Timestamp-hs[i-1].Timestamp != frameSamples || hs[i].SequenceNumber != hs[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: ts step %d seq step %d", i, hs[i].Timestamp-hs[i-1].Timestamp, hs[i].SequenceNumber-hs[i-1].SequenceNumber)
		}
	}
	// Nothing plays now: the leg sends nothing.
	n := len(p.receivedHeaders())
	time.Sleep(200 * time.Millisecond)
	if m := len(p.receivedHeaders()); m != n {
		t.Errorf("idle leg sent %d packets", m-n)
	}
}

func TestPlayLoopAndStop(t *testing.T) {
	e := newTestEngine(t, nil)
	p := newPeer(t, 0)
	ev := &eventLog{}
	l := newLegTo(t, e, "moh", p, 101, ev)
	src, err := audio.NewToneSource(audio.Tone{Freqs: []float64{600}, Level: -10, Cadence: []time.Duration{100 * time.Millisecond}, Repeat: 1})
	if err != nil {
		t.Fatal(err)
	}
	id, err := l.Play(src, true)
	if err != nil {
		t.Fatal(err)
	}
	p.waitAudio(t, 8*500) // 500 ms: longer than one pass
	if err := l.StopPlayback(id); err != nil {
		t.Fatal(err)
	}
	if err := l.StopPlayback(id); !errors.Is(err, ErrNoSuchPlayback) {
		t.Errorf("second stop: %v, want ErrNoSuchPlayback", err)
	}
	waitFor(t, "stopped event", func() bool {
		for _, x := range ev.all() {
			if pf, ok := x.(PlaybackFinished); ok && pf.ID == id && pf.Stopped {
				return true
			}
		}
		return false
	})
	if r := ratio(p.received()[:4000], 600); r < 0.9 {
		t.Errorf("looped 600 Hz ratio %.2f", r)
	}
}

func TestMediaTimeout(t *testing.T) {
	e := newTestEngine(t, func(c *Config) { c.MediaTimeout = 200 * time.Millisecond })
	p := newPeer(t, 1000)
	ev := &eventLog{}
	l := newLegTo(t, e, "quiet", p, 101, ev)
	stop := p.stream(l.LocalAddr())
	time.Sleep(400 * time.Millisecond)
	for _, x := range ev.all() {
		if _, ok := x.(MediaTimeout); ok {
			t.Fatal("MediaTimeout while RTP flows")
		}
	}
	stop()
	waitFor(t, "MediaTimeout", func() bool {
		for _, x := range ev.all() {
			if mt, ok := x.(MediaTimeout); ok && mt.Silence >= 200*time.Millisecond {
				return true
			}
		}
		return false
	})
}

func TestWrongSourceIgnored(t *testing.T) {
	e := newTestEngine(t, nil)
	a, b, pa, pb, _ := setupPair(t, e, 1000, 400)
	intruder := newPeer(t, 1500)
	defer pa.stream(a.LocalAddr())()
	defer pb.stream(b.LocalAddr())()
	pb.waitAudio(t, 1600)
	defer intruder.stream(a.LocalAddr())()
	pb.reset()
	got := tail(pb.waitAudio(t, 8000), 6000)
	if r := ratio(got, 1500); r > 0.01 {
		t.Errorf("intruder audio reached B (ratio %.3f)", r)
	}
	if r := ratio(got, 1000); r < 0.8 {
		t.Errorf("A's audio ratio %.2f", r)
	}
}

// TestNATLearning: the remote sends from another port than it announced;
// after LearnPackets consecutive packets the leg locks onto it, sends there,
// and then ignores the announced-but-silent address's impostors.
func TestNATLearning(t *testing.T) {
	tests := []struct {
		name  string
		learn int
		want  bool
	}{
		{"learning on", 3, true},
		{"learning off", -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t, func(c *Config) { c.LearnPackets = tc.learn })
			// a's announced peer (what the SDP said) stays silent.
			a, b, _, pb, _ := setupPair(t, e, 0, 400)
			natted := newPeer(t, 1000) // where packets really come from
			defer natted.stream(a.LocalAddr())()
			defer pb.stream(b.LocalAddr())()
			time.Sleep(600 * time.Millisecond)
			gotB := pb.received()
			heard := len(gotB) > 2000 && ratio(tail(gotB, 2000), 1000) > 0.8
			if heard != tc.want {
				t.Fatalf("B hears the NATed source: %v, want %v", heard, tc.want)
			}
			toNAT := len(natted.received()) > 0
			if toNAT != tc.want {
				t.Errorf("our RTP goes to the learned address: %v, want %v", toNAT, tc.want)
			}
			if tc.want {
				if learned := a.learned.Load(); learned == nil || *learned != natted.addr {
					t.Errorf("learned %v, want %v", learned, natted.addr)
				}
			}
		})
	}
}

func TestSendDTMF(t *testing.T) {
	e := newTestEngine(t, nil)
	t.Run("rfc4733", func(t *testing.T) {
		p := newPeer(t, 0)
		l := newLegTo(t, e, "out", p, 101, nil)
		if err := l.SendDTMF("7#"); err != nil {
			t.Fatal(err)
		}
		var rx audio.DTMFReceiver
		var got string
		waitFor(t, "two digits", func() bool {
			got = ""
			rx.Reset()
			hs := p.receivedHeaders()
			p.mu.Lock()
			evs := append([][]byte(nil), p.events...)
			p.mu.Unlock()
			i := 0
			for _, h := range hs {
				if h.PayloadType != 101 {
					continue
				}
				if d, ok, err := rx.Receive(h.Timestamp, h.Marker, evs[i]); err == nil && ok {
					got += string(d.Digit)
				}
				i++
			}
			return got == "7#"
		})
		ends := func() int {
			n := 0
			p.mu.Lock()
			defer p.mu.Unlock()
			for _, ev := range p.events {
				if ev[1]&0x80 != 0 {
					n++
				}
			}
			return n
		}
		waitFor(t, "end packets", func() bool { return ends() >= 6 })
		time.Sleep(100 * time.Millisecond)
		if n := ends(); n != 6 {
			t.Errorf("%d end packets, want 3 per digit", n)
		}
	})
	t.Run("in-band", func(t *testing.T) {
		p := newPeer(t, 0)
		l := newLegTo(t, e, "out2", p, 0, nil)
		if err := l.SendDTMF("3"); err != nil {
			t.Fatal(err)
		}
		got := p.waitAudio(t, 800)
		tone, _ := audio.DTMFTone('3', -8, time.Second, 0)
		if r := ratio(got[:800], tone.Freqs[0]) + ratio(got[:800], tone.Freqs[1]); r < 0.8 {
			t.Errorf("in-band digit 3 tones ratio %.2f", r)
		}
		det, _ := audio.NewDTMFDetector(audio.DefaultDTMFDetectorConfig())
		if d := det.Detect(nil, got[:800]); string(d) != "3" {
			t.Errorf("detector finds %q in our in-band digit, want 3", string(d))
		}
	})
	t.Run("invalid", func(t *testing.T) {
		p := newPeer(t, 0)
		l := newLegTo(t, e, "out3", p, 101, nil)
		if err := l.SendDTMF("1x"); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("got %v, want ErrInvalidArgument", err)
		}
	})
}

func TestConfigAndPorts(t *testing.T) {
	if _, err := New(Config{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("no IP: %v", err)
	}
	if _, err := New(Config{IP: loopback, PortMin: 30000, PortMax: 20000}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad range: %v", err)
	}
	e := newTestEngine(t, func(c *Config) { c.PortMax = c.PortMin + 19 }) // ten pairs
	var legs []*Leg
	for {
		l, err := e.NewLeg("x", nil)
		if errors.Is(err, ErrNoPorts) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p := l.LocalAddr().Port(); p%2 != 0 || int(p) < e.cfg.PortMin || int(p)+1 > e.cfg.PortMax {
			t.Errorf("RTP port %d: want even, in range", p)
		}
		legs = append(legs, l)
	}
	if len(legs) == 0 || len(legs) > 10 {
		t.Fatalf("%d legs from ten pairs", len(legs))
	}
	_ = legs[0].Close()
	l3, err := e.NewLeg("again", nil)
	if err != nil {
		t.Fatalf("after close: %v", err)
	}
	_ = l3.Close()
	for _, l := range legs[1:] {
		_ = l.Close()
	}
	l2 := legs[1%len(legs)]
	if err := l2.SetRemote(netip.MustParseAddrPort("127.0.0.1:4000"), audio.PCMU, 0, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("SetRemote after Close: %v", err)
	}
}

// TestReinviteAfterLock: once the leg has locked onto the negotiated
// remote, a re-INVITE that moves the remote must let the new address in,
// and a NAT in front of the next address must be learned again.
func TestReinviteAfterLock(t *testing.T) {
	e := newTestEngine(t, nil)
	a, b, first, pb, _ := setupPair(t, e, 1000, 400)
	moved := newPeer(t, 600)
	natted := newPeer(t, 1500) // the moved remote's NAT, learned after the second re-INVITE
	defer pb.stream(b.LocalAddr())()

	hears := func(freq float64) bool {
		got := pb.received()
		return len(got) > 2000 && ratio(tail(got, 2000), freq) > 0.8
	}
	stopFirst := first.stream(a.LocalAddr())
	waitFor(t, "B hears the first remote", func() bool { return hears(1000) })

	// Re-INVITE: the remote moves; the first one keeps sending (refused).
	if err := a.SetRemote(moved.addr, audio.PCMU, 0, 101); err != nil {
		t.Fatal(err)
	}
	pb.reset()
	stopMoved := moved.stream(a.LocalAddr())
	waitFor(t, "B hears the moved remote", func() bool { return hears(600) })
	stopMoved()
	stopFirst()

	// Re-INVITE to an address that stays silent: the real source is a NAT.
	silent := newPeer(t, 0)
	if err := a.SetRemote(silent.addr, audio.PCMU, 0, 101); err != nil {
		t.Fatal(err)
	}
	pb.reset()
	defer natted.stream(a.LocalAddr())()
	waitFor(t, "B hears the NATed source", func() bool { return hears(1500) })
	if learned := a.learned.Load(); learned == nil || *learned != natted.addr {
		t.Errorf("learned %v, want %v", learned, natted.addr)
	}
}
