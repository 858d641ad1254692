package rtpengine

import (
	"encoding/binary"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"hotline/mediacore/audio"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// newTestEngine starts an engine on loopback with a random port range.
func newTestEngine(t testing.TB, mod func(*Config)) *Engine {
	t.Helper()
	base := 20000 + 2*rand.IntN(15000)
	cfg := Config{IP: loopback, PortMin: base, PortMax: base + 400, Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// peer is a plain UDP socket acting as a remote endpoint: it streams a
// tone as PCMU RTP (built with pion/rtp) and collects what it receives.
type peer struct {
	t    testing.TB
	conn *net.UDPConn
	addr netip.AddrPort
	ssrc uint32
	seq  uint16
	ts   uint32
	freq float64
	amp  float64
	n    int // samples generated

	mu      sync.Mutex // guards the received fields
	audio   []int16
	headers []rtp.Header
	events  [][]byte

	stop chan struct{}
	wg   sync.WaitGroup
}

// newSink is a peer that reads and discards, allocating nothing (for
// benchmarks, whose allocation counts include every goroutine).
func newSink(t testing.TB) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	p := &peer{t: t, conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort(), stop: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var buf [1500]byte
		for {
			if _, _, err := c.ReadFromUDPAddrPort(buf[:]); err != nil {
				return
			}
		}
	}()
	t.Cleanup(p.close)
	return p
}

func newPeer(t testing.TB, freq float64) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	p := &peer{t: t, conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort(), ssrc: rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(), freq: freq, amp: 8000, stop: make(chan struct{})}
	p.wg.Add(1)
	go p.read()
	t.Cleanup(p.close)
	return p
}

func (p *peer) close() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.conn.Close()
	p.wg.Wait()
}

func (p *peer) read() {
	defer p.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		p.mu.Lock()
		p.headers = append(p.headers, pkt.Header)
		if pkt.PayloadType == 0 {
			dec := make([]int16, len(pkt.Payload))
			audio.PCMU.Decode(dec, pkt.Payload)
			p.audio = append(p.audio, dec...)
		} else {
			p.events = append(p.events, append([]byte(nil), pkt.Payload...))
		}
		p.mu.Unlock()
	}
}

// frame builds the next 20 ms PCMU packet of the peer's tone.
func (p *peer) frame() []byte {
	pcm := make([]int16, frameSamples)
	for i := range pcm {
		if p.freq > 0 {
			pcm[i] = int16(p.amp * math.Sin(2*math.Pi*p.freq*float64(p.n)/clockRate))
		}
		p.n++
	}
	payload := make([]byte, frameSamples)
	audio.PCMU.Encode(payload, pcm)
	p.seq++
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc}, Payload: payload}
	p.ts += frameSamples
	b, err := pkt.Marshal()
	if err != nil {
		p.t.Fatalf("marshal: %v", err)
	}
	return b
}

func (p *peer) send(to netip.AddrPort, b []byte) {
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Errorf("peer send: %v", err)
	}
}

// stream sends the tone to `to` every 20 ms until stopTone (which waits
// for the sender to stop) or cleanup.
func (p *peer) stream(to netip.AddrPort) (stopTone func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	var once sync.Once
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(exited)
		tk := time.NewTicker(frameDur)
		defer tk.Stop()
		start := time.Now()
		sent := 0
		for {
			select {
			case <-p.stop:
				return
			case <-done:
				return
			case now := <-tk.C:
				// Keep 50 packets/s even when the ticker skipped ticks on a
				// loaded machine (a real phone's clock does not pause).
				due := int((now.Sub(start) + frameDur/2) / frameDur)
				sent = max(sent, due-4)
				for ; sent < due; sent++ {
					_, _ = p.conn.WriteToUDPAddrPort(p.frame(), to)
				}
			}
		}
	}()
	// stopTone returns once the streaming goroutine has stopped.
	return func() { once.Do(func() { close(done) }); <-exited }
}

// received returns a copy of the audio received so far.
func (p *peer) received() []int16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int16(nil), p.audio...)
}

func (p *peer) receivedHeaders() []rtp.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]rtp.Header(nil), p.headers...)
}

func (p *peer) reset() {
	p.mu.Lock()
	p.audio, p.headers, p.events = nil, nil, nil
	p.mu.Unlock()
}

// waitAudio waits until the peer has received at least n samples.
func (p *peer) waitAudio(t testing.TB, n int) []int16 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if a := p.received(); len(a) >= n {
			return a
		}
		time.Sleep(10 * time.Millisecond)
	}
	a := p.received()
	t.Fatalf("peer %v received %d samples, want %d", p.addr, len(a), n)
	return nil
}

// ratio is the typical share of energy at freq: the median over the
// 20 ms frames of samples that are not silent. Frames lost on a loaded
// machine (silence, or the concealer's fading repeats) shift a whole-window
// measure but not the median, so the check stays about what is mixed
// where, not about scheduling.
func ratio(samples []int16, freq float64) float64 {
	var rs []float64
	for i := 0; i+frameSamples <= len(samples); i += frameSamples {
		f := samples[i : i+frameSamples]
		if audio.LevelDBm0(f) < -45 {
			continue
		}
		rs = append(rs, audio.ToneRatio(f, clockRate, freq))
	}
	if len(rs) == 0 {
		return 0
	}
	slices.Sort(rs)
	return rs[len(rs)/2]
}

// tail returns the last n samples (skipping the start-up transient).
func tail(s []int16, n int) []int16 {
	if len(s) < n {
		return s
	}
	return s[len(s)-n:]
}

// eventLog collects a leg's events for assertions.
type eventLog struct {
	mu sync.Mutex
	ev []LegEvent
}

func (e *eventLog) add(ev LegEvent) {
	e.mu.Lock()
	e.ev = append(e.ev, ev)
	e.mu.Unlock()
}

func (e *eventLog) all() []LegEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]LegEvent(nil), e.ev...)
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// newLegTo creates a leg whose remote is p (PCMU, telephone-event 101 unless dtmfPT 0).
func newLegTo(t testing.TB, e *Engine, id string, p *peer, dtmfPT uint8, ev *eventLog) *Leg {
	t.Helper()
	var fn func(LegEvent)
	if ev != nil {
		fn = ev.add
	}
	l, err := e.NewLeg(id, fn)
	if err != nil {
		t.Fatalf("NewLeg: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	if err := l.SetRemote(p.addr, audio.PCMU, 0, dtmfPT); err != nil {
		t.Fatalf("SetRemote: %v", err)
	}
	return l
}

// eventPacket builds an RFC 4733 packet.
func eventPacket(seq uint16, ts, ssrc uint32, marker bool, code byte, end bool, dur uint16) []byte {
	b := make([]byte, 16)
	b[0] = 0x80
	b[1] = 101
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	b[12] = code
	b[13] = 10
	if end {
		b[13] |= 0x80
	}
	binary.BigEndian.PutUint16(b[14:], dur)
	return b
}
