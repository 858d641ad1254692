package rtpengine

import (
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// Config configures an Engine. Zero values get the defaults documented on
// each field.
type Config struct {
	// IP is the local address the RTP/RTCP sockets bind to (required).
	IP netip.Addr
	// PortMin and PortMax bound the ports used: each leg takes an even RTP
	// port and the next odd port for RTCP (RFC 3550 §11). Defaults
	// 16384-32767.
	PortMin, PortMax int
	// MediaTimeout raises a MediaTimeout event on a leg that received no RTP
	// for this long after SetRemote. Zero disables it.
	MediaTimeout time.Duration
	// Logger receives the engine's structured logs. Default: discard.
	Logger *slog.Logger
	// LearnPackets is how many consecutive packets (same source address,
	// same SSRC, sequence +1, negotiated payload type) from an address other
	// than the negotiated one lock the leg onto that address, for remotes
	// behind NAT. Zero means 3; negative disables learning (only the
	// negotiated address is ever accepted).
	LearnPackets int
	// RTCPInterval is the period of our RTCP reports (RFC 3550 §6.2 suggests
	// 5 s minimum). Zero means 5 s.
	RTCPInterval time.Duration
}

// Engine owns the port range, the legs and bridges, and the single 20 ms
// ticker that does every leg's and bridge's frame work (playback, mixing,
// recording, in-band DTMF detection, RTCP, media timeouts).
type Engine struct {
	engineIO
	cfg          Config
	log          *slog.Logger
	epoch        time.Time // monotonic origin for arrival times
	learnPackets int
	rtcpEvery    uint64 // in ticks

	mu       sync.Mutex // guards the fields below
	closed   bool
	legs     map[*Leg]struct{}
	bridges  map[*Bridge]struct{}
	ports    map[int]bool // even RTP ports in use
	nextPort int

	tickerDone chan struct{}
	tickerWG   sync.WaitGroup
	tick       uint64 // frame counter, owned by the ticker goroutine

	// ticker-owned scratch, reused every tick (no allocation per tick).
	legScratch    []*Leg
	bridgeScratch []*Bridge
}

// New validates cfg, applies defaults and starts the engine's ticker.
func New(cfg Config) (*Engine, error) {
	return newEngine(cfg, true)
}

// newEngine is New; benchmarks pass startTicker false to drive tickOnce
// themselves.
func newEngine(cfg Config, startTicker bool) (*Engine, error) {
	if !cfg.IP.IsValid() {
		return nil, fmt.Errorf("%w: IP is required", ErrInvalidConfig)
	}
	if cfg.PortMin == 0 && cfg.PortMax == 0 {
		cfg.PortMin, cfg.PortMax = 16384, 32767
	}
	if cfg.PortMin%2 == 1 {
		cfg.PortMin++
	}
	if cfg.PortMin < 1024 || cfg.PortMax > 65535 || cfg.PortMax < cfg.PortMin+1 {
		return nil, fmt.Errorf("%w: port range %d-%d", ErrInvalidConfig, cfg.PortMin, cfg.PortMax)
	}
	if cfg.MediaTimeout < 0 {
		return nil, fmt.Errorf("%w: negative MediaTimeout", ErrInvalidConfig)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RTCPInterval <= 0 {
		cfg.RTCPInterval = 5 * time.Second
	}
	learn := cfg.LearnPackets
	if learn == 0 {
		learn = defaultLearnPackets
	}
	e := &Engine{
		cfg:          cfg,
		log:          cfg.Logger,
		epoch:        time.Now(),
		learnPackets: learn,
		rtcpEvery:    uint64(max(1, cfg.RTCPInterval/frameDur)),
		legs:         make(map[*Leg]struct{}),
		bridges:      make(map[*Bridge]struct{}),
		ports:        make(map[int]bool),
		nextPort:     cfg.PortMin,
		tickerDone:   make(chan struct{}),
	}
	if err := e.startIO(); err != nil {
		return nil, err
	}
	if startTicker {
		e.tickerWG.Add(1)
		go e.run()
	}
	return e, nil
}

// Close stops the ticker and closes every leg and bridge still open.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	legs := make([]*Leg, 0, len(e.legs))
	for l := range e.legs {
		legs = append(legs, l)
	}
	bridges := make([]*Bridge, 0, len(e.bridges))
	for b := range e.bridges {
		bridges = append(bridges, b)
	}
	e.mu.Unlock()
	close(e.tickerDone)
	e.tickerWG.Wait()
	for _, b := range bridges {
		b.Close()
	}
	for _, l := range legs {
		_ = l.Close()
	}
	e.stopIO()
	return nil
}

// allocPorts binds an even RTP port and the odd RTCP port above it, scanning
// the range round-robin so a just-freed pair is not reused at once (late
// packets of the old call would land on the new one).
func (e *Engine) allocPorts() (rtpSock, rtcpSock *rawSocket, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, nil, ErrClosed
	}
	first := e.cfg.PortMin
	last := e.cfg.PortMax - 1 // RTCP needs port+1 <= PortMax
	n := (last-first)/2 + 1
	for range n {
		p := e.nextPort
		e.nextPort += 2
		if e.nextPort > last {
			e.nextPort = first
		}
		if e.ports[p] {
			continue
		}
		rc, err := bindRTP(netip.AddrPortFrom(e.cfg.IP, uint16(p)))
		if err != nil {
			continue
		}
		cc, err := bindRTP(netip.AddrPortFrom(e.cfg.IP, uint16(p+1)))
		if err != nil {
			_ = rc.close()
			continue
		}
		e.ports[p] = true
		return rc, cc, nil
	}
	return nil, nil, fmt.Errorf("%w: %d-%d", ErrNoPorts, e.cfg.PortMin, e.cfg.PortMax)
}

func (e *Engine) releasePort(p int) {
	e.mu.Lock()
	delete(e.ports, p)
	e.mu.Unlock()
}

// run is the one ticker: every 20 ms it does one frame of work for every
// bridge in mixing mode and every leg that is not relayed.
func (e *Engine) run() {
	defer e.tickerWG.Done()
	t := time.NewTicker(frameDur)
	defer t.Stop()
	start := time.Now()
	var done uint64 // frames processed
	for {
		select {
		case <-e.tickerDone:
			return
		case now := <-t.C:
			// time.Ticker drops ticks when we are late (a loaded machine, a
			// GC pause): catch up by doing the missed frames at once, so
			// every stream keeps 50 packets a second on average; beyond
			// maxCatchUp frames behind, skip ahead (the audio is late
			// anyway and a burst would overflow the remotes' buffers).
			due := uint64((now.Sub(start) + frameDur/2) / frameDur)
			if due > done+maxCatchUp {
				done = due - maxCatchUp
			}
			for done < due {
				e.tickOnce(now)
				done++
			}
		}
	}
}

// maxCatchUp is how many late frames the ticker makes up in one go.
const maxCatchUp = 5

// tickOnce does one frame of work. Exported to tests through the ticker
// only; it is a method so benchmarks can drive it directly.
func (e *Engine) tickOnce(now time.Time) {
	e.tick++
	tick := e.tick
	e.mu.Lock()
	legs := e.legScratch[:0]
	for l := range e.legs {
		legs = append(legs, l)
	}
	bridges := e.bridgeScratch[:0]
	for b := range e.bridges {
		bridges = append(bridges, b)
	}
	e.legScratch, e.bridgeScratch = legs, bridges
	e.mu.Unlock()

	for _, b := range bridges {
		b.tick(tick, now)
	}
	for _, l := range legs {
		l.tick(tick, now)
	}
	clear(legs)
	clear(bridges)
}
