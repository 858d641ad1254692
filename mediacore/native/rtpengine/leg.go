package rtpengine

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"hotline/mediacore/audio"

	"github.com/pion/rtp"
)

// Direction is the media direction of a leg seen from our side, as
// negotiated in SDP (RFC 3264 §6.1, §8.4).
type Direction uint8

const (
	// SendRecv: we send to and receive from the remote (the default).
	SendRecv Direction = iota
	// SendOnly: we send (music on hold) and ignore what arrives; in a bridge
	// the leg hears only its own playback, not the other members (hold).
	SendOnly
	// RecvOnly: we receive and send nothing.
	RecvOnly
	// Inactive: neither.
	Inactive
)

func (d Direction) sends() bool    { return d == SendRecv || d == SendOnly }
func (d Direction) receives() bool { return d == SendRecv || d == RecvOnly }

// String returns the SDP attribute name of d.
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// route is the immutable snapshot of a leg's media configuration that the
// receive loop loads once per packet (atomic pointer, no lock).
type route struct {
	learnGen uint64 // changes only with the remote address: restarts learning
	remote   netip.AddrPort
	codec    audio.Codec
	pt       uint8
	dtmfPT   uint8
	dir      Direction
	relayTo  *Leg // fast path: forward audio straight to this peer
	decode   bool // decode audio into the jitter buffer
	tap      bool // relayed and also queued for decoding (bridge recording)
}

// Leg is one RTP session: a socket pair, our outbound stream, the received
// stream, and the leg's playbacks, DTMF and recording. Methods are safe for
// concurrent use.
type Leg struct {
	legIO
	eng    *Engine
	id     string
	port   int
	sock   *rawSocket // RTP
	rtcp   *rawSocket
	events *eventQueue
	tx     *txStream
	phase  uint64 // spreads RTCP reports of many legs over the interval

	route    atomic.Pointer[route]
	learned  atomic.Pointer[netip.AddrPort]
	lastRecv atomic.Int64 // arrival of the last accepted packet, since eng.epoch
	timedOut atomic.Bool
	sendErrs atomic.Uint64
	nRecv    atomic.Uint64 // LegCounters.Received
	nRelayed atomic.Uint64 // LegCounters.Relayed
	nDecoded atomic.Uint64 // LegCounters.Decoded
	// eventsOut mirrors tx.blockRelay for the ticker, lock-free: RFC 4733
	// digits are queued or being sent, so even a relayed leg needs its
	// 20 ms tick.
	eventsOut atomic.Bool

	rx rxState // owned by the RTP receive loop (reactor or reader goroutine)

	statsMu sync.Mutex // guards stats
	stats   rxStats

	jbMu sync.Mutex // guards jb (reader pushes, ticker pops)
	jb   *audio.JitterBuffer

	dtmfIn audio.DTMFReceiver // owned by the RTP receive loop

	mu       sync.Mutex // guards the fields below
	closed   bool
	learnGen uint64
	remote   netip.AddrPort
	codec    audio.Codec
	pt       uint8
	dtmfPT   uint8
	dir      Direction
	inband   bool // in-band DTMF detection armed (SetInbandDTMF)
	bridge   *Bridge
	relayTo  *Leg
	tap      bool // set by the bridge: relayed audio also feeds its recording
	plays    playQueue
	rec      *Recording
	dtmfOut  dtmfOut
	detector *audio.DTMFDetector
	digits   [4]rune // detector output scratch
	plc      audio.LossConcealer

	// ticker-owned frame buffers
	rxFrame  [frameSamples]int16
	txFrame  [frameSamples]int16
	encFrame [frameSamples]byte

	readers sync.WaitGroup
}

// NewLeg allocates an RTP/RTCP socket pair from the engine's port range and
// puts both in the engine's receive loop (the epoll reactor on Linux, reader
// goroutines elsewhere). events receives
// the leg's LegEvents in order (nil: events are discarded). The leg sends
// nothing until SetRemote.
func (e *Engine) NewLeg(id string, events func(LegEvent)) (*Leg, error) {
	jb, err := audio.NewJitterBuffer(audio.DefaultJitterConfig())
	if err != nil {
		return nil, err
	}
	det, err := audio.NewDTMFDetector(audio.DefaultDTMFDetectorConfig())
	if err != nil {
		return nil, err
	}
	rtpSock, rtcpSock, err := e.allocPorts()
	if err != nil {
		return nil, err
	}
	l := &Leg{
		eng:    e,
		id:     id,
		port:   rtpSock.port,
		sock:   rtpSock,
		rtcp:   rtcpSock,
		events: newEventQueue(events),
		tx:     newTxStream(rtpSock),
		jb:     jb,
	}
	l.detector = det
	l.phase = uint64(l.port/2) % e.rtcpEvery
	l.rx.pkt.CSRC = make([]uint32, 0, 15)
	l.rx.pkt.Extensions = make([]rtp.Extension, 0, 16)
	l.route.Store(&route{})
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		_ = rtpSock.close()
		_ = rtcpSock.close()
		e.releasePort(l.port)
		return nil, ErrClosed
	}
	e.legs[l] = struct{}{}
	e.mu.Unlock()
	if err := e.startRTP(l); err != nil {
		e.mu.Lock()
		delete(e.legs, l)
		e.mu.Unlock()
		_ = rtpSock.close()
		_ = rtcpSock.close()
		e.releasePort(l.port)
		return nil, err
	}
	return l, nil
}

// LegCounters are a leg's RTP counters since NewLeg, for tests, metrics
// and load tests.
type LegCounters struct {
	// Received counts RTP packets accepted (audio and telephone-event,
	// after the strict source rule).
	Received uint64
	// Relayed counts audio packets forwarded on the two-party relay fast
	// path, as received, without decoding.
	Relayed uint64
	// Decoded counts audio packets queued for decoding (mixing, recording,
	// in-band DTMF detection).
	Decoded uint64
}

// Counters returns the leg's counters.
func (l *Leg) Counters() LegCounters {
	return LegCounters{Received: l.nRecv.Load(), Relayed: l.nRelayed.Load(), Decoded: l.nDecoded.Load()}
}

// ID returns the id given to NewLeg.
func (l *Leg) ID() string { return l.id }

// LocalAddr returns the local RTP address to put in the SDP (c= and m=);
// RTCP is on the next port up (RFC 3550 §11).
func (l *Leg) LocalAddr() netip.AddrPort {
	return netip.AddrPortFrom(l.eng.cfg.IP, uint16(l.port))
}

// SetRemote sets (or, on a re-INVITE, changes) the remote RTP address and
// the negotiated codec: pt is the audio payload type (0 for PCMU, 8 for
// PCMA unless the SDP mapped others), dtmfPT the telephone-event payload
// type (RFC 4733 §7), 0 when none was negotiated. In-band DTMF detection
// does not follow the SDP: it runs only while armed by SetInbandDTMF.
// Changing the remote restarts source learning.
func (l *Leg) SetRemote(addr netip.AddrPort, codec audio.Codec, pt uint8, dtmfPT uint8) error {
	if !addr.IsValid() || addr.Port() == 0 {
		return fmt.Errorf("%w: remote %v", ErrInvalidArgument, addr)
	}
	if !codec.Valid() {
		return fmt.Errorf("%w: codec %v", ErrInvalidArgument, codec)
	}
	if pt > 127 || dtmfPT > 127 || (dtmfPT != 0 && dtmfPT == pt) {
		return fmt.Errorf("%w: payload types %d/%d", ErrInvalidArgument, pt, dtmfPT)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if addr != l.remote {
		l.learned.Store(nil)
		l.learnGen++
	}
	l.remote, l.codec, l.pt, l.dtmfPT = addr, codec, pt, dtmfPT
	l.lastRecv.Store(int64(time.Since(l.eng.epoch)))
	l.timedOut.Store(false)
	l.updateRouteLocked()
	b := l.bridge
	l.mu.Unlock()
	if b != nil {
		b.reconfigure()
	}
	return nil
}

// SetDirection changes the media direction (hold and unhold, RFC 3264
// §8.4). SendOnly towards a held party: it hears its own playback (music on
// hold via Play) and the bridge stops sending it the other members' audio;
// what it sends is ignored. Media timeouts are suspended while we do not
// expect to receive.
func (l *Leg) SetDirection(d Direction) {
	if d > Inactive {
		return
	}
	l.mu.Lock()
	if l.closed || l.dir == d {
		l.mu.Unlock()
		return
	}
	l.dir = d
	l.lastRecv.Store(int64(time.Since(l.eng.epoch)))
	l.timedOut.Store(false)
	l.updateRouteLocked()
	b := l.bridge
	l.mu.Unlock()
	if b != nil {
		b.reconfigure()
	}
}

// SetInbandDTMF arms (on) or disarms in-band (Goertzel) DTMF detection on
// the leg's received audio. It is off until armed, whatever the SDP says:
// detection needs every packet decoded, so an armed leg keeps its bridge
// off the two-party relay fast path, and it costs a decode and a Goertzel
// bank per 20 ms frame. Arm it only while something listens for digits
// (an IVR menu, a gather, a feature code) and disarm it after. RFC 4733
// telephone-events are reported whatever this setting.
func (l *Leg) SetInbandDTMF(on bool) {
	l.mu.Lock()
	if l.inband == on {
		l.mu.Unlock()
		return
	}
	l.inband = on
	if on {
		l.detector.Reset()
	}
	l.updateRouteLocked()
	b := l.bridge
	l.mu.Unlock()
	if b != nil {
		b.reconfigure()
	}
}

// updateRouteLocked publishes a new route snapshot for the reader.
func (l *Leg) updateRouteLocked() {
	r := &route{
		learnGen: l.learnGen,
		remote:   l.remote,
		codec:    l.codec,
		pt:       l.pt,
		dtmfPT:   l.dtmfPT,
		dir:      l.dir,
		relayTo:  l.relayTo,
	}
	if !l.dir.receives() {
		r.relayTo = nil
	}
	r.tap = r.relayTo != nil && l.tap
	r.decode = r.relayTo == nil && l.dir.receives() && (l.bridge != nil || l.rec != nil || l.inband)
	l.route.Store(r)
}

// needsDecodedLocked reports whether something on this leg needs its audio
// decoded, which rules out the relay fast path.
func (l *Leg) needsDecodedLocked() bool {
	return l.inband || l.rec != nil || !l.plays.empty() || l.dtmfOut.inbandActive()
}

// Close stops the leg's readers, ends its playbacks and recording (with
// their events), removes it from its bridge and frees its ports. It does
// not wait for event delivery, so it may be called from the leg's own event
// callback: events already queued, and those Close raises, are delivered
// after it returns, in order.
func (l *Leg) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	b := l.bridge
	l.mu.Unlock()
	if b != nil {
		_ = b.Remove(l)
	}
	l.eng.mu.Lock()
	delete(l.eng.legs, l)
	l.eng.mu.Unlock()

	l.eng.stopRTP(l)
	l.tx.close()
	err := errors.Join(l.sock.close(), l.rtcp.close())
	l.readers.Wait()
	l.eng.releasePort(l.port)

	l.mu.Lock()
	finished := l.plays.clear()
	rec := l.rec
	l.rec = nil
	l.mu.Unlock()
	for _, id := range finished {
		l.events.push(PlaybackFinished{ID: id, Stopped: true})
	}
	if rec != nil {
		_, _ = rec.stop()
	}
	return err
}

// sendErr counts a failed send and logs the first few.
func (l *Leg) sendErr(err error) {
	if n := l.sendErrs.Add(1); n <= 3 {
		l.eng.log.Warn("rtp send failed", "leg", l.id, "err", err, "count", n)
	}
}

// checkTimeout raises MediaTimeout once per silent stretch.
func (l *Leg) checkTimeout(now time.Time, r *route) {
	to := l.eng.cfg.MediaTimeout
	if to <= 0 || !r.remote.IsValid() || !r.dir.receives() {
		return
	}
	silence := now.Sub(l.eng.epoch) - time.Duration(l.lastRecv.Load())
	if silence < to {
		l.timedOut.Store(false)
		return
	}
	if l.timedOut.CompareAndSwap(false, true) {
		l.events.push(MediaTimeout{Silence: silence})
	}
}
