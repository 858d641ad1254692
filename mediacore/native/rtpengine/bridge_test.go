package rtpengine

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hotline/mediacore/audio"
)

// setupPair makes two legs A and B with peers streaming fa and fb, bridged.
func setupPair(t *testing.T, e *Engine, fa, fb float64) (a, b *Leg, pa, pb *peer, br *Bridge) {
	t.Helper()
	pa, pb = newPeer(t, fa), newPeer(t, fb)
	a = newLegTo(t, e, "a", pa, 101, nil)
	b = newLegTo(t, e, "b", pb, 101, nil)
	br = e.NewBridge("br")
	t.Cleanup(br.Close)
	if err := br.Add(a, Speak, nil); err != nil {
		t.Fatal(err)
	}
	if err := br.Add(b, Speak, nil); err != nil {
		t.Fatal(err)
	}
	return
}

func TestTwoPartyBridgeRelay(t *testing.T) {
	e := newTestEngine(t, nil)
	a, b, pa, pb, br := setupPair(t, e, 1000, 400)
	if !br.Relayed() {
		t.Fatal("two sendrecv Speak legs on PCMU with nothing to decode should relay")
	}
	defer pa.stream(a.LocalAddr())()
	defer pb.stream(b.LocalAddr())()
	gotA := pa.waitAudio(t, 8000)
	gotB := pb.waitAudio(t, 8000)
	if r := ratio(tail(gotA, 4000), 400); r < 0.8 {
		t.Errorf("A hears 400 Hz ratio %.2f, want >= 0.8", r)
	}
	if r := ratio(tail(gotB, 4000), 1000); r < 0.8 {
		t.Errorf("B hears 1 kHz ratio %.2f, want >= 0.8", r)
	}
	// Each outbound stream: one SSRC (ours, not the source's), sequence +1.
	hs := pb.receivedHeaders()
	for i := 1; i < len(hs); i++ {
		if hs[i].SSRC != hs[0].SSRC {
			t.Fatalf("SSRC changed %x -> %x", hs[0].SSRC, hs[i].SSRC)
		}
	}
	if hs[0].SSRC == pa.ssrc {
		t.Error("relay kept the source's SSRC; want our own")
	}
	if !hs[0].Marker {
		t.Error("first relayed packet has no marker bit")
	}
	gaps := 0
	for i := 1; i < len(hs); i++ {
		if hs[i].SequenceNumber != hs[i-1].SequenceNumber+1 {
			gaps++
		}
		if d := hs[i].Timestamp - hs[i-1].Timestamp; d != frameSamples && hs[i].SequenceNumber == hs[i-1].SequenceNumber+1 {
			t.Errorf("timestamp step %d at %d", d, i)
		}
	}
	if gaps > 0 {
		t.Errorf("%d sequence gaps on loopback", gaps)
	}
}

// TestRelayToMixContinuity switches a bridge from relay to mixing (an
// announcement starts) and back, and checks the outbound stream stays one
// stream with no sequence gap and a forward timestamp.
func TestRelayToMixContinuity(t *testing.T) {
	e := newTestEngine(t, nil)
	a, b, pa, pb, br := setupPair(t, e, 1000, 400)
	defer pa.stream(a.LocalAddr())()
	defer pb.stream(b.LocalAddr())()
	pb.waitAudio(t, 1600)
	id, err := br.Play(mustTone(t, 700), false) // endless
	if err != nil {
		t.Fatal(err)
	}
	if br.Relayed() {
		t.Fatal("bridge playing an announcement still relays")
	}
	n := len(pb.received())
	pb.waitAudio(t, n+4000)
	if err := br.StopPlayback(id); err != nil {
		t.Fatal(err)
	}
	if !br.Relayed() {
		t.Fatal("bridge did not return to relay after the announcement stopped")
	}
	n = len(pb.received())
	got := pb.waitAudio(t, n+4000)
	if r := ratio(tail(got, 2000), 1000); r < 0.8 {
		t.Errorf("B hears 1 kHz ratio %.2f after mode switches", r)
	}
	hs := pb.receivedHeaders()
	for i := 1; i < len(hs); i++ {
		if hs[i].SSRC != hs[0].SSRC {
			t.Fatalf("SSRC changed at packet %d", i)
		}
		if hs[i].SequenceNumber != hs[i-1].SequenceNumber+1 {
			t.Fatalf("sequence jump %d -> %d at packet %d", hs[i-1].SequenceNumber, hs[i].SequenceNumber, i)
		}
		if d := int32(hs[i].Timestamp - hs[i-1].Timestamp); d <= 0 {
			t.Fatalf("timestamp went back by %d at packet %d", -d, i)
		}
	}
}

func TestBridgeStereoRecordingWithPause(t *testing.T) {
	e := newTestEngine(t, nil)
	a, b, pa, pb, br := setupPair(t, e, 1000, 400)
	path := filepath.Join(t.TempDir(), "rec.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bev := &eventLog{}
	br.OnEvent(bev.add)
	defer pa.stream(a.LocalAddr())()
	defer pb.stream(b.LocalAddr())()
	pb.waitAudio(t, 800)
	rec, err := br.Record(f, true)
	if err != nil {
		t.Fatal(err)
	}
	if !br.Relayed() {
		t.Fatal("a recorded two-party bridge should stay on the relay (the recording taps it)")
	}
	time.Sleep(800 * time.Millisecond)
	rec.Pause()
	time.Sleep(800 * time.Millisecond)
	rec.Resume()
	time.Sleep(800 * time.Millisecond)
	d, err := rec.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if d < 2*time.Second {
		t.Fatalf("recorded %v, want >= 2s", d)
	}
	waitFor(t, "RecordingFinished", func() bool {
		for _, ev := range bev.all() {
			if _, ok := ev.(RecordingFinished); ok {
				return true
			}
		}
		return false
	})
	left, right := readStereoWAV(t, path)
	// The pause: the longest run where both channels are exactly zero must
	// cover most of the 800 ms paused and lie in the middle. Tones never
	// hold exact zeros that long; a lost packet is at most a few frames.
	start, length := 0, 0
	for i := 0; i < len(left); {
		if left[i] != 0 || right[i] != 0 {
			i++
			continue
		}
		j := i
		for j < len(left) && left[j] == 0 && right[j] == 0 {
			j++
		}
		if j-i > length {
			start, length = i, j-i
		}
		i = j
	}
	if length < 8*600 {
		t.Fatalf("longest silent stretch %d ms, want the ~800 ms pause", length/8)
	}
	if start < 8*300 || start+length > len(left)-8*300 {
		t.Errorf("silent stretch at %d-%d ms of %d ms: not in the middle", start/8, (start+length)/8, len(left)/8)
	}
	check := func(what string, l, r []int16) {
		t.Helper()
		if got := ratio(l, 1000); got < 0.8 {
			t.Errorf("%s: left 1 kHz ratio %.2f", what, got)
		}
		if got := ratio(l, 400); got > 0.05 {
			t.Errorf("%s: left has 400 Hz (ratio %.2f)", what, got)
		}
		if got := ratio(r, 400); got < 0.8 {
			t.Errorf("%s: right 400 Hz ratio %.2f", what, got)
		}
		if got := ratio(r, 1000); got > 0.05 {
			t.Errorf("%s: right has 1 kHz (ratio %.2f)", what, got)
		}
	}
	check("before pause", left[:start], right[:start])
	check("after resume", left[start+length:], right[start+length:])
}

// TestRelayedBridgeMonoRecording: a mono recording of a relayed bridge
// holds both parties, and the packets are relayed and tapped, not mixed.
func TestRelayedBridgeMonoRecording(t *testing.T) {
	e := newTestEngine(t, nil)
	a, b, pa, pb, br := setupPair(t, e, 1000, 400)
	path := filepath.Join(t.TempDir(), "mono.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer pa.stream(a.LocalAddr())()
	defer pb.stream(b.LocalAddr())()
	pb.waitAudio(t, 800)
	rec, err := br.Record(f, false)
	if err != nil {
		t.Fatal(err)
	}
	if !br.Relayed() {
		t.Fatal("a recorded two-party bridge should stay on the relay")
	}
	n := len(pa.received())
	got := pa.waitAudio(t, n+8000) // a second more at a's phone
	if r := ratio(tail(got, 4000), 400); r < 0.8 {
		t.Errorf("a hears b's 400 Hz at ratio %.2f while recording", r)
	}
	if _, err := rec.Stop(); err != nil {
		t.Fatal(err)
	}
	if c := a.Counters(); c.Relayed == 0 || c.Decoded == 0 {
		t.Errorf("a's counters %+v: want packets relayed and tapped", c)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 44+2*8000 || binary.LittleEndian.Uint16(raw[22:]) != 1 {
		t.Fatalf("not a mono WAV of at least 1 s (%d bytes)", len(raw))
	}
	var pcm []int16
	for i := 44; i+2 <= len(raw); i += 2 {
		pcm = append(pcm, int16(binary.LittleEndian.Uint16(raw[i:])))
	}
	mid := pcm[len(pcm)/4 : 3*len(pcm)/4]
	for _, f := range []float64{1000, 400} {
		if r := ratio(mid, f); r < 0.3 {
			t.Errorf("mono recording: %v Hz ratio %.2f, want both parties", f, r)
		}
	}
}

// readStereoWAV reads a 16-bit stereo WAV written by the recorder.
func readStereoWAV(t *testing.T, path string) (left, right []int16) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || binary.LittleEndian.Uint16(b[22:]) != 2 {
		t.Fatalf("not a stereo WAV")
	}
	size := int(binary.LittleEndian.Uint32(b[40:]))
	if size != len(b)-44 {
		t.Fatalf("data size %d, file holds %d", size, len(b)-44)
	}
	data := b[44:]
	for i := 0; i+4 <= len(data); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(data[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(data[i+2:])))
	}
	return left, right
}

func TestThreePartyMixMinus(t *testing.T) {
	e := newTestEngine(t, nil)
	freqs := []float64{500, 1000, 1500}
	br := e.NewBridge("conf")
	t.Cleanup(br.Close)
	var peers []*peer
	for i, f := range freqs {
		p := newPeer(t, f)
		l := newLegTo(t, e, string(rune('a'+i)), p, 101, nil)
		if err := br.Add(l, Speak, nil); err != nil {
			t.Fatal(err)
		}
		defer p.stream(l.LocalAddr())()
		peers = append(peers, p)
	}
	if br.Relayed() {
		t.Fatal("three members must mix")
	}
	for i, p := range peers {
		got := tail(p.waitAudio(t, 8000), 4000)
		for j, f := range freqs {
			r := ratio(got, f)
			if i == j && r > 0.02 {
				t.Errorf("peer %d hears itself (%.0f Hz ratio %.3f)", i, f, r)
			}
			if i != j && r < 0.25 {
				t.Errorf("peer %d hears %.0f Hz at ratio %.3f, want >= 0.3", i, f, r)
			}
		}
	}
}

// TestRoles: caller (500 Hz) and agent (1000 Hz) talk; a supervisor
// (1500 Hz) whispers to the agent, then listens only.
func TestRoles(t *testing.T) {
	e := newTestEngine(t, nil)
	pc, pa, ps := newPeer(t, 500), newPeer(t, 1000), newPeer(t, 1500)
	caller := newLegTo(t, e, "caller", pc, 101, nil)
	agent := newLegTo(t, e, "agent", pa, 101, nil)
	sup := newLegTo(t, e, "sup", ps, 101, nil)
	br := e.NewBridge("call")
	t.Cleanup(br.Close)
	for _, l := range []*Leg{caller, agent} {
		if err := br.Add(l, Speak, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := br.Add(sup, Whisper, agent); err != nil {
		t.Fatal(err)
	}
	defer pc.stream(caller.LocalAddr())()
	defer pa.stream(agent.LocalAddr())()
	defer ps.stream(sup.LocalAddr())()

	check := func(name string, p *peer, hear, notHear []float64) {
		t.Helper()
		p.reset()
		got := tail(p.waitAudio(t, 6400), 4000)
		for _, f := range hear {
			if r := ratio(got, f); r < 0.25 {
				t.Errorf("%s: %.0f Hz ratio %.3f, want audible", name, f, r)
			}
		}
		for _, f := range notHear {
			if r := ratio(got, f); r > 0.02 {
				t.Errorf("%s: %.0f Hz ratio %.3f, want inaudible", name, f, r)
			}
		}
	}
	t.Run("whisper", func(t *testing.T) {
		check("agent", pa, []float64{500, 1500}, []float64{1000})
		check("caller", pc, []float64{1000}, []float64{500, 1500})
		check("supervisor", ps, []float64{500, 1000}, []float64{1500})
	})
	t.Run("listen-only", func(t *testing.T) {
		if err := br.SetRole(sup, ListenOnly, nil); err != nil {
			t.Fatal(err)
		}
		check("agent", pa, []float64{500}, []float64{1000, 1500})
		check("caller", pc, []float64{1000}, []float64{500, 1500})
		check("supervisor", ps, []float64{500, 1000}, []float64{1500})
	})
	t.Run("barge", func(t *testing.T) {
		if err := br.SetRole(sup, Speak, nil); err != nil {
			t.Fatal(err)
		}
		check("caller", pc, []float64{1000, 1500}, []float64{500})
	})
}

// TestHold: the held leg (SendOnly) hears only its music, not the other
// party, and the other party no longer hears it.
func TestHold(t *testing.T) {
	e := newTestEngine(t, nil)
	a, b, pa, pb, br := setupPair(t, e, 1000, 400)
	defer pa.stream(a.LocalAddr())()
	defer pb.stream(b.LocalAddr())()
	pa.waitAudio(t, 1600)
	a.SetDirection(SendOnly)
	moh := mustTone(t, 700)
	if _, err := a.Play(moh, true); err != nil {
		t.Fatal(err)
	}
	if br.Relayed() {
		t.Fatal("held bridge still relays")
	}
	pa.reset()
	pb.reset()
	got := tail(pa.waitAudio(t, 6400), 4000)
	if r := ratio(got, 700); r < 0.8 {
		t.Errorf("held party hears music ratio %.2f", r)
	}
	if r := ratio(got, 400); r > 0.02 {
		t.Errorf("held party hears the other party (ratio %.3f)", r)
	}
	gotB := tail(pb.waitAudio(t, 6400), 4000)
	if r := ratio(gotB, 1000); r > 0.02 {
		t.Errorf("other party hears the held party (ratio %.3f)", r)
	}
}

// TestInbandDTMFInRelayedBridge: in-band digits need the mixing path; once
// sent, the bridge goes back to relaying.
func TestInbandDTMFInRelayedBridge(t *testing.T) {
	e := newTestEngine(t, nil)
	pa, pb := newPeer(t, 1000), newPeer(t, 400)
	a := newLegTo(t, e, "a", pa, 0, nil) // no telephone-event: in-band
	b := newLegTo(t, e, "b", pb, 101, nil)
	a.SetInbandDTMF(false) // not collecting digits: relay allowed
	br := e.NewBridge("br")
	t.Cleanup(br.Close)
	_ = br.Add(a, Speak, nil)
	_ = br.Add(b, Speak, nil)
	if !br.Relayed() {
		t.Fatal("bridge should relay")
	}
	if err := a.SendDTMF("5"); err != nil {
		t.Fatal(err)
	}
	if br.Relayed() {
		t.Fatal("bridge still relays while sending in-band digits")
	}
	waitFor(t, "relay after the digit", br.Relayed)
	// And the digit reached the phone, as tones it can detect.
	det, err := audio.NewDTMFDetector(audio.DefaultDTMFDetectorConfig())
	if err != nil {
		t.Fatal(err)
	}
	var digits []rune
	waitFor(t, "digit 5 in the phone's audio", func() bool {
		det.Reset()
		digits = det.Detect(digits[:0], pa.received())
		return len(digits) > 0
	})
	if string(digits) != "5" {
		t.Errorf("phone heard digits %q, want %q", string(digits), "5")
	}
}

// TestBridgeWithoutTelephoneEventRelays: legs that negotiated no
// telephone-event (PCMA-only carrier trunks) are relayed, not decoded,
// while nothing listens for digits; arming in-band detection on one leg
// moves the bridge to the decoding path and its digits are reported;
// disarming it brings the relay back.
func TestBridgeWithoutTelephoneEventRelays(t *testing.T) {
	e := newTestEngine(t, nil)
	pa, pb := newPeer(t, 1000), newPeer(t, 400)
	ev := &eventLog{}
	a := newLegTo(t, e, "a", pa, 0, ev) // no telephone-event on either leg
	b := newLegTo(t, e, "b", pb, 0, nil)
	br := e.NewBridge("br")
	t.Cleanup(br.Close)
	_ = br.Add(a, Speak, nil)
	_ = br.Add(b, Speak, nil)
	if !br.Relayed() {
		t.Fatal("a bridge of two legs without telephone-event and no listener should relay")
	}
	stopA := pa.stream(a.LocalAddr())
	stopB := pb.stream(b.LocalAddr())
	defer stopB()
	got := tail(pb.waitAudio(t, 4000), 2000)
	if r := ratio(got, 1000); r < 0.8 {
		t.Errorf("b's phone hears a's tone ratio %.2f", r)
	}
	c := a.Counters()
	if c.Relayed == 0 || c.Decoded != 0 {
		t.Fatalf("a's counters %+v: want packets relayed and none decoded", c)
	}
	if c := b.Counters(); c.Relayed == 0 || c.Decoded != 0 {
		t.Fatalf("b's counters %+v: want packets relayed and none decoded", c)
	}

	// An IVR-like listener arms detection on a: decoding path, digit heard.
	a.SetInbandDTMF(true)
	if br.Relayed() {
		t.Fatal("bridge still relays with in-band detection armed")
	}
	stopA()
	sendInbandDigits(t, pa, a.LocalAddr(), "7")
	waitFor(t, "in-band digit 7", func() bool { return len(ev.all()) >= 1 })
	if d, ok := ev.all()[0].(DTMF); !ok || d.Digit != '7' {
		t.Fatalf("event %#v, want DTMF 7", ev.all()[0])
	}
	if c := a.Counters(); c.Decoded == 0 {
		t.Fatalf("a's counters %+v: armed, want packets decoded", c)
	}

	a.SetInbandDTMF(false)
	if !br.Relayed() {
		t.Fatal("bridge should relay again once detection is disarmed")
	}
}

// TestRelayedLegHousekeeping: a relayed leg skips the 20 ms frame work but
// still sends RFC 4733 digits, raises MediaTimeout and sends RTCP.
func TestRelayedLegHousekeeping(t *testing.T) {
	e := newTestEngine(t, func(c *Config) {
		c.MediaTimeout = 300 * time.Millisecond
		c.RTCPInterval = 100 * time.Millisecond
	})
	pa, rc := rtcpPeer(t)
	pb := newPeer(t, 400)
	ev := &eventLog{}
	a := newLegTo(t, e, "a", pa, 101, ev)
	b := newLegTo(t, e, "b", pb, 101, nil)
	br := e.NewBridge("br")
	t.Cleanup(br.Close)
	_ = br.Add(a, Speak, nil)
	_ = br.Add(b, Speak, nil)
	rtcpIn := make(chan struct{}, 1)
	go func() {
		var buf [1500]byte
		if _, _, err := rc.ReadFromUDPAddrPort(buf[:]); err == nil {
			rtcpIn <- struct{}{}
		}
	}()
	stopA := pa.stream(a.LocalAddr())
	stopB := pb.stream(b.LocalAddr())
	defer stopB()
	pb.waitAudio(t, 1600)
	if !br.Relayed() {
		t.Fatal("bridge should relay")
	}
	if err := b.SendDTMF("4"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "RFC 4733 digit 4 at b's phone", func() bool {
		pb.mu.Lock()
		defer pb.mu.Unlock()
		for _, p := range pb.events {
			if len(p) >= 4 && p[0] == 4 && p[1]&0x80 != 0 {
				return true
			}
		}
		return false
	})
	waitFor(t, "relay resumes after the digit", func() bool { return !b.eventsOut.Load() })
	select {
	case <-rtcpIn:
	case <-time.After(10 * time.Second):
		t.Fatal("no RTCP from the relayed leg")
	}
	stopA()
	waitFor(t, "MediaTimeout on the relayed leg", func() bool {
		for _, x := range ev.all() {
			if _, ok := x.(MediaTimeout); ok {
				return true
			}
		}
		return false
	})
	if !br.Relayed() {
		t.Error("bridge left the relay")
	}
}

// TestRelayDrainsBurst: the reactor's epoll set is edge-triggered, so a
// burst queued on one socket (a peer catching up, a network hiccup) must
// be drained in one wake-up: nothing may wait for a later packet.
func TestRelayDrainsBurst(t *testing.T) {
	e := newTestEngine(t, nil)
	a, _, pa, pb, br := setupPair(t, e, 1000, 400)
	if !br.Relayed() {
		t.Fatal("bridge should relay")
	}
	const burst = 3*perWakeup + 3 // several recvmmsg batches, within maxBatches
	for range burst {
		pa.send(a.LocalAddr(), pa.frame())
	}
	waitFor(t, fmt.Sprintf("%d relayed packets at b's phone", burst), func() bool {
		return len(pb.receivedHeaders()) >= burst
	})
	if c := a.Counters(); c.Relayed != burst {
		t.Errorf("a relayed %d packets, want %d", c.Relayed, burst)
	}
}
