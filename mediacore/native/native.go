package native

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"hotline/internal/sipdigest"
	"hotline/mediacore"
	"hotline/mediacore/native/registrar"
	"hotline/mediacore/native/rtpengine"
)

// Name is the name the backend registers under.
const Name = "native"

func init() {
	mediacore.Register(Name, factory)
}

// factory builds the backend for mediacore.Open: its own section of the
// configuration (Config's yaml keys) through opts.Decode, the registrar's
// users from opts.Services.Credentials (credentials are never part of the
// configuration file), and the stored
// trunks from opts.Services.Trunks, added to the configured ones (a
// duplicate name is ErrConfig). Later trunk changes arrive through
// SetTrunks, which replaces both.
func factory(o mediacore.FactoryOptions) (mediacore.Backend, error) {
	var cfg Config
	if err := o.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.Logger == nil {
		cfg.Logger = o.Logger
		if o.Node != "" {
			cfg.Logger = cfg.Logger.With("node", o.Node)
		}
	}
	if cfg.Registerer == nil {
		cfg.Registerer = o.Registerer
	}
	if cfg.Credentials == nil && o.Services.Credentials != nil {
		cfg.Credentials = o.Services.Credentials
	}
	for _, tc := range o.Services.Trunks {
		t, err := trunkFromConfig(tc)
		if err != nil {
			return nil, err
		}
		cfg.Trunks = append(cfg.Trunks, t)
	}
	return New(cfg)
}

// Backend is the native media core: a SIP user agent (sipgo) on UDP and TCP
// with an RTP engine. It implements mediacore.Backend.
type Backend struct {
	cfg Config
	log *slog.Logger
	tts TTS
	reg *registrar.Registrar // the built-in registrar, nil when another is used
	m   *metrics
	e   *edge
	// gate bounds new INVITEs; refusals rate-limits the logs of refused
	// INVITEs (a flood would otherwise write one line each).
	gate     *inviteGate
	refusals *logLimiter

	// Set by Start, read-only afterwards.
	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	cli     *sipgo.Client
	dua     *sipgo.DialogUA
	eng     *rtpengine.Engine
	sink    func(mediacore.Event)
	ctx     context.Context
	cancel  context.CancelFunc
	started bool
	host    string
	port    int
	// listeners are closed by Close (sipgo leaves them open).
	listeners []io.Closer

	wg sync.WaitGroup // background goroutines (originates, sweeps)

	trunks trunkSet // live trunks and their registrations

	// sinkMu guards sinkOff; emit holds it shared while calling the sink
	// so Close can wait for calls in flight.
	sinkMu  sync.RWMutex
	sinkOff bool // set by Close after BackendDown

	// mu guards the maps below and closed.
	mu         sync.Mutex
	closed     bool
	channels   map[mediacore.ChannelID]*channel
	dialogs    map[string]*channel
	bridges    map[mediacore.BridgeID]*bridge
	playbacks  map[mediacore.PlaybackID]*playback
	enginePB   map[rtpengine.PlaybackID]*playback
	recordings map[mediacore.RecordingID]*recording
	finished   finishedRecordings // for OpenRecording
}

// New validates cfg and returns a backend; Start listens.
func New(cfg Config) (*Backend, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Backend{
		cfg:        cfg,
		log:        cfg.Logger,
		tts:        cfg.TTS,
		channels:   map[mediacore.ChannelID]*channel{},
		dialogs:    map[string]*channel{},
		bridges:    map[mediacore.BridgeID]*bridge{},
		playbacks:  map[mediacore.PlaybackID]*playback{},
		enginePB:   map[rtpengine.PlaybackID]*playback{},
		recordings: map[mediacore.RecordingID]*recording{},
	}
	b.trunks.list = cfg.Trunks
	if b.m, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	b.e = newEdge(cfg.Logger.With("component", "sip"), b.m, cfg.Clock)
	b.gate = &inviteGate{max: int64(cfg.MaxInvites)}
	if cfg.InviteRate > 0 {
		b.gate.limiter = newRateLimiter(cfg.Clock, cfg.InviteRate, cfg.InviteBurst)
	}
	b.refusals = &logLimiter{clk: cfg.Clock, window: time.Minute, burst: 10}
	if b.tts == nil {
		b.tts = NewEspeak(cfg.MediaDir+"/tts", cfg.Logger)
	}
	if cfg.Registrar == nil && cfg.Credentials != nil {
		opts := []registrar.Option{registrar.WithLogger(cfg.Logger.With("component", "registrar"))}
		if cfg.Realm != "" {
			opts = append(opts, registrar.WithRealm(cfg.Realm))
		}
		if len(cfg.DigestAlgorithms) > 0 {
			algs := make([]sipdigest.Algorithm, 0, len(cfg.DigestAlgorithms))
			for _, name := range cfg.DigestAlgorithms {
				a, err := sipdigest.ParseAlgorithm(name)
				if err != nil {
					return nil, fmt.Errorf("%w: digest algorithm: %w", ErrConfig, err)
				}
				algs = append(algs, a)
			}
			opts = append(opts, registrar.WithDigestOptions(sipdigest.WithAlgorithms(algs...)))
		}
		reg, err := registrar.New(cfg.Credentials, opts...)
		if err != nil {
			return nil, fmt.Errorf("%w: registrar: %w", ErrConfig, err)
		}
		b.cfg.Registrar = reg
	}
	if reg, ok := b.cfg.Registrar.(*registrar.Registrar); ok {
		b.reg = reg
		reg.OnChange(b.onRegistration)
	}
	return b, nil
}

// Registrar returns the built-in registrar (its blocks, for
// administrators), or nil when Config.Registrar is another one.
func (b *Backend) Registrar() *registrar.Registrar { return b.reg }

// Name implements mediacore.Backend.
func (b *Backend) Name() string { return Name }

// Addr returns the SIP listen address (after Start).
func (b *Backend) Addr() netip.AddrPort {
	a, _ := netip.ParseAddr(b.host)
	return netip.AddrPortFrom(a, uint16(b.port))
}

// Start listens on UDP and TCP, starts the RTP engine and the trunk
// registrations, and emits BackendUp.
func (b *Backend) Start(ctx context.Context, sink func(mediacore.Event)) (err error) {
	b.mu.Lock()
	if b.started || b.closed {
		b.mu.Unlock()
		return fmt.Errorf("native: started twice or after close: %w", mediacore.ErrChannelState)
	}
	b.started = true
	b.mu.Unlock()
	defer func() {
		if err == nil {
			return
		}
		if !isSentinel(err) {
			// Ports taken, a recordings dir we cannot create: the backend
			// cannot run.
			err = fmt.Errorf("%w: %w", mediacore.ErrBackendUnavailable, err)
		}
		// Undo a half start so that Close has nothing to stop.
		if b.cancel != nil {
			b.cancel()
		}
		if b.ua != nil {
			_ = b.ua.Close()
		}
		b.closeEngine()
		b.mu.Lock()
		b.started, b.eng = false, nil
		b.mu.Unlock()
	}()
	b.sink = sink
	host, portStr, _ := net.SplitHostPort(b.cfg.Listen)
	b.host = host
	b.port, _ = strconv.Atoi(portStr)
	rtpIP, _ := netip.ParseAddr(b.cfg.RTPIP)
	if err := os.MkdirAll(b.cfg.RecordingsDir, 0o750); err != nil {
		return fmt.Errorf("native: recordings dir: %w", err)
	}
	eng, err := rtpengine.New(rtpengine.Config{
		IP: rtpIP, PortMin: b.cfg.RTPPortMin, PortMax: b.cfg.RTPPortMax,
		MediaTimeout: b.cfg.MediaTimeout, Logger: b.log.With("component", "rtp"),
	})
	if err != nil {
		return fmt.Errorf("native: rtp engine: %w", err)
	}
	b.eng = eng
	sipLog := b.log.With("component", "sip")
	uaOpts := []sipgo.UserAgentOption{sipgo.WithUserAgent(b.cfg.UserAgent), sipgo.WithUserAgentHostname(host),
		sipgo.WithUserAgentParser(b.e.parser),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog),
			// RFC 3261 §18.1.2: a response that matches no transaction is
			// discarded; it is counted, not logged (an attacker can send
			// any number).
			sip.WithTransactionLayerUnhandledResponseHandler(func(*sip.Response) {
				b.m.dropped.WithLabelValues(dropStrayResponse).Inc()
			}))}
	if b.cfg.Resolver != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgentDNSResolver(b.cfg.Resolver))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return fmt.Errorf("native: sip ua: %w", err)
	}
	b.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(b.log.With("component", "sip")))
	if err != nil {
		return fmt.Errorf("native: sip server: %w", err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname(host), sipgo.WithClientLogger(b.log.With("component", "sip")))
	if err != nil {
		return fmt.Errorf("native: sip client: %w", err)
	}
	b.srv, b.cli = srv, cli
	b.dua = &sipgo.DialogUA{
		Client: cli,
		ContactHDR: sip.ContactHeader{
			Address: sip.Uri{Scheme: "sip", User: "hotline", Host: host, Port: b.port},
		},
		// Send in-dialog requests to where the peer's messages come from:
		// phones behind NAT put unreachable addresses in Contact.
		RewriteContact: true,
	}
	srv.OnInvite(validated(b.onInvite))
	srv.OnAck(validated(b.onAck))
	srv.OnBye(validated(b.onBye))
	srv.OnRefer(validated(b.onRefer))
	srv.OnCancel(validated(func(req *sip.Request, tx sip.ServerTransaction) {
		// CANCELs that match an INVITE transaction are answered by sipgo's
		// transaction layer (200, then 487 for the INVITE); this one
		// matched nothing (RFC 3261 §9.2).
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
	}))
	srv.OnOptions(validated(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, REFER"))
		res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		_ = tx.Respond(res)
	}))
	if b.cfg.Registrar != nil {
		srv.OnRegister(validated(b.cfg.Registrar.HandleRegister))
	}
	srv.OnNoRoute(validated(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil))
	}))

	b.ctx, b.cancel = context.WithCancel(context.Background())
	udp, tcp, err := listenBoth(b.cfg.Listen)
	if err != nil {
		return err
	}
	b.port = udp.LocalAddr().(*net.UDPAddr).Port
	b.dua.ContactHDR.Address.Port = b.port
	b.listeners = []io.Closer{udp, tcp}
	b.wg.Add(2)
	go func() { defer b.wg.Done(); _ = srv.ServeUDP(&edgePacketConn{PacketConn: udp, e: b.e}) }()
	go func() { defer b.wg.Done(); _ = srv.ServeTCP(&edgeListener{Listener: tcp, e: b.e}) }()
	b.startTrunkRegistrations()
	if b.reg != nil {
		b.wg.Add(1)
		go b.sweepRegistrations()
	}
	b.emit(mediacore.Event{Type: mediacore.EventBackendUp, Backend: Name, Time: time.Now()})
	return nil
}

func (b *Backend) closeEngine() {
	if b.eng != nil {
		_ = b.eng.Close()
	}
}

// Close hangs up every channel, stops listening and releases the RTP ports.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed || !b.started {
		b.closed = true
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	chans := make([]*channel, 0, len(b.channels))
	for _, c := range b.channels {
		chans = append(chans, c)
	}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = b.hangup(ctx, c, mediacore.CauseNormal)
		}()
	}
	wg.Wait()
	b.cancel()
	b.stopTrunkRegistrations()
	err := b.ua.Close()
	// sipgo does not close listeners handed to ServeUDP/ServeTCP.
	for _, l := range b.listeners {
		_ = l.Close()
	}
	b.wg.Wait()
	b.mu.Lock()
	bridges := make([]*bridge, 0, len(b.bridges))
	for _, br := range b.bridges {
		bridges = append(bridges, br)
	}
	b.mu.Unlock()
	for _, br := range bridges {
		br.eb.Close()
	}
	b.closeEngine()
	b.emit(mediacore.Event{Type: mediacore.EventBackendDown, Backend: Name, Time: time.Now()})
	b.sinkMu.Lock()
	b.sinkOff = true
	b.sinkMu.Unlock()
	return err
}

// emit hands an event to the sink, unless Close already reported
// BackendDown: a SIP handler still running (sipgo does not wait for them)
// must not call the sink after Close returned.
func (b *Backend) emit(ev mediacore.Event) {
	b.sinkMu.RLock()
	defer b.sinkMu.RUnlock()
	if b.sink != nil && !b.sinkOff {
		b.sink(ev)
	}
}

func (b *Backend) channel(id mediacore.ChannelID) (*channel, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, mediacore.ErrClosed
	}
	c := b.channels[id]
	if c == nil {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchChannel, id)
	}
	return c, nil
}

// ready reports ErrBackendUnavailable before Start and ErrClosed after
// Close.
func (b *Backend) ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return mediacore.ErrClosed
	case b.eng == nil:
		return fmt.Errorf("%w: not started", mediacore.ErrBackendUnavailable)
	}
	return nil
}

// newChannel allocates the RTP leg and registers the channel.
func (b *Backend) newChannel(id mediacore.ChannelID, dir mediacore.Direction) (*channel, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	c := &channel{id: id, dir: dir, b: b, done: make(chan struct{}), up: make(chan struct{})}
	leg, err := b.eng.NewLeg(string(id), func(ev rtpengine.LegEvent) { b.onLegEvent(c, ev) })
	if err != nil {
		return nil, fmt.Errorf("%w: rtp: %w", mediacore.ErrBackendUnavailable, err)
	}
	c.leg = leg
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		_ = leg.Close()
		return nil, mediacore.ErrClosed
	}
	if _, dup := b.channels[id]; dup {
		_ = leg.Close()
		return nil, fmt.Errorf("%w: channel %s exists", mediacore.ErrInvalidArgument, id)
	}
	b.channels[id] = c
	return c, nil
}

func (b *Backend) addDialog(c *channel, id string) {
	if id == "" {
		return
	}
	b.mu.Lock()
	b.dialogs[id] = c
	b.mu.Unlock()
	c.mu.Lock()
	c.dialogIDs = append(c.dialogIDs, id)
	c.mu.Unlock()
}

// matchDialog finds the channel of an in-dialog request; the dialog id is
// computed from both perspectives because the channel may be UAS or UAC.
func (b *Backend) matchDialog(req *sip.Request) *channel {
	b.mu.Lock()
	defer b.mu.Unlock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if c := b.dialogs[id]; c != nil {
			return c
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if c := b.dialogs[id]; c != nil {
			return c
		}
	}
	return nil
}

// end finishes a channel once: it releases the leg (which finishes its
// recording and playbacks, whose events precede Hangup), unmaps it, and
// emits Hangup. It must not run on a leg event goroutine (Leg.Close waits
// for that goroutine).
func (b *Backend) end(c *channel, cause mediacore.Cause, sipCode int) {
	c.mu.Lock()
	if c.state == stateEnded {
		c.mu.Unlock()
		return
	}
	c.state = stateEnded
	if c.hangupBy != mediacore.CauseUnknown && cause == mediacore.CauseNormal {
		cause = c.hangupBy
	}
	br := c.bridge
	c.bridge = ""
	ids := c.dialogIDs
	c.mu.Unlock()
	if br != "" {
		b.mu.Lock()
		bs := b.bridges[br]
		if bs != nil {
			delete(bs.members, c.id)
		}
		b.mu.Unlock()
		if bs != nil {
			_ = bs.eb.Remove(c.leg)
		}
		c.emit(mediacore.Event{Type: mediacore.EventBridgeLeft, Bridge: br})
	}
	b.endTransfers(c)
	_ = c.leg.Close()
	b.mu.Lock()
	delete(b.channels, c.id)
	for _, id := range ids {
		delete(b.dialogs, id)
	}
	b.mu.Unlock()
	close(c.done)
	c.emit(mediacore.Event{Type: mediacore.EventHangup, Cause: cause, SIPCode: sipCode, Q850: cause.Q850()})
}

// respond sends a stateless-looking final response on a server transaction.
func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}

func (b *Backend) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := b.matchDialog(req)
	if c == nil {
		return
	}
	c.mu.Lock()
	srv := c.srv
	c.mu.Unlock()
	if srv != nil {
		_ = srv.ReadAck(req, tx)
	}
}

func (b *Backend) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := b.matchDialog(req)
	if c == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	c.mu.Lock()
	srv, cli := c.srv, c.cli
	c.mu.Unlock()
	var err error
	switch {
	case srv != nil:
		err = srv.ReadBye(req, tx)
	case cli != nil:
		err = cli.ReadBye(req, tx)
	}
	if err != nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	b.end(c, mediacore.CauseNormal, 0)
}

// onLegEvent turns RTP engine events into mediacore events. It runs on the
// leg's event goroutine: anything that closes the leg goes to another
// goroutine.
func (b *Backend) onLegEvent(c *channel, ev rtpengine.LegEvent) {
	switch e := ev.(type) {
	case rtpengine.DTMF:
		c.emit(mediacore.Event{Type: mediacore.EventDTMF, Digit: byte(e.Digit), Duration: e.Duration})
	case rtpengine.PlaybackFinished:
		if pb := b.finishPlayback(e.ID); pb != nil {
			c.emit(mediacore.Event{Type: mediacore.EventPlaybackFinished, Playback: pb.id})
		}
	case rtpengine.RecordingFinished:
		c.mu.Lock()
		id := c.rec
		c.rec = ""
		c.mu.Unlock()
		if r := b.finishRecording(id, e); r != nil {
			c.emit(mediacore.Event{Type: mediacore.EventRecordingFinished, Recording: r.id, Path: r.path, Duration: e.Duration, Err: errString(e.Err)})
		}
	case rtpengine.MediaTimeout:
		b.log.Info("media timeout", "channel", c.id, "silence", e.Silence)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = b.hangup(ctx, c, mediacore.CauseMediaTimeout)
		}()
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Ring implements mediacore.Backend.
func (b *Backend) Ring(ctx context.Context, id mediacore.ChannelID) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	return b.setupCommand(ctx, c, setupCmd{kind: cmdRing})
}

// Answer implements mediacore.Backend: 200 OK with our SDP answer, and
// returns once the ACK arrived.
func (b *Backend) Answer(ctx context.Context, id mediacore.ChannelID) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	return b.setupCommand(ctx, c, setupCmd{kind: cmdAnswer})
}

func (b *Backend) setupCommand(ctx context.Context, c *channel, cmd setupCmd) error {
	if c.setup == nil || c.getState() != stateSetup {
		return fmt.Errorf("%w: channel %s is not an unanswered inbound call", mediacore.ErrChannelState, c.id)
	}
	cmd.reply = make(chan error, 1)
	select {
	case c.setup <- cmd:
	case <-c.done:
		return fmt.Errorf("%w: %s ended", mediacore.ErrNoSuchChannel, c.id)
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-cmd.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Hangup implements mediacore.Backend.
func (b *Backend) Hangup(ctx context.Context, id mediacore.ChannelID, cause mediacore.Cause) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	return b.hangup(ctx, c, cause)
}

func (b *Backend) hangup(ctx context.Context, c *channel, cause mediacore.Cause) error {
	c.mu.Lock()
	state := c.state
	c.hangupBy = cause
	srv, cli := c.srv, c.cli
	cancelDial := c.cancelDial
	c.mu.Unlock()
	switch state {
	case stateEnded:
		return nil
	case stateSetup:
		if c.setup != nil {
			err := b.setupCommand(ctx, c, setupCmd{kind: cmdReject, cause: cause})
			if errors.Is(err, mediacore.ErrNoSuchChannel) || errors.Is(err, mediacore.ErrChannelState) {
				return nil // it ended meanwhile
			}
			return err
		}
		if cancelDial != nil {
			cancelDial(errHangup)
		}
		select {
		case <-c.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var err error
	switch {
	case srv != nil:
		err = srv.Bye(ctx)
	case cli != nil:
		err = cli.Bye(ctx)
	}
	b.end(c, cause, 0)
	if err != nil {
		b.log.Debug("bye", "channel", c.id, "err", err)
	}
	return nil
}

var errHangup = errors.New("native: hangup requested")

// SendDTMF implements mediacore.Backend (RFC 4733 events when negotiated,
// in-band tones otherwise, as the RTP engine decides).
func (b *Backend) SendDTMF(ctx context.Context, id mediacore.ChannelID, digits string) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	if c.getState() != stateUp {
		return fmt.Errorf("%w: %s not answered", mediacore.ErrChannelState, id)
	}
	return engineErr("send dtmf", c.leg.SendDTMF(digits), mediacore.ErrNoSuchChannel)
}

// onRegistration turns registrar events into endpoint events.
func (b *Backend) onRegistration(ev registrar.Event) {
	t := mediacore.EventEndpointRegistered
	if ev.Kind == registrar.Unregistered {
		t = mediacore.EventEndpointUnregistered
	}
	b.emit(mediacore.Event{Type: t, Endpoint: "user/" + ev.User, Contact: ev.Contact.URI, Time: time.Now()})
}

// sweepRegistrations expires lapsed bindings every few seconds, which
// emits their Unregistered events.
func (b *Backend) sweepRegistrations() {
	defer b.wg.Done()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case now := <-t.C:
			b.reg.Sweep(now)
		}
	}
}

// listenBoth opens UDP and TCP on the same port. With port 0 the kernel
// picks the UDP port, which may be taken on TCP: then it tries again.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	host, port, _ := net.SplitHostPort(addr)
	for attempt := 0; ; attempt++ {
		udp, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("native: listen udp: %w", err)
		}
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port)))
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if port != "0" || attempt == 10 {
			return nil, nil, fmt.Errorf("native: listen tcp: %w", err)
		}
	}
}
