package mediacore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/internal/clock"
)

// Defaults used when Options leaves a field zero.
const (
	DefaultCommandTimeout   = 10 * time.Second
	DefaultOriginateTimeout = 30 * time.Second
	// DefaultMailboxLinger is how long a channel's mailbox (and its Seq
	// counter, and its id's place on its node) outlives the channel's
	// Hangup, so late events such as a RecordingFinished keep their order,
	// numbering and node.
	DefaultMailboxLinger = time.Minute
	// DefaultNodeLostAfter is how long a node may stay down (BackendDown
	// without BackendUp) before Core ends its calls with CauseNodeLost.
	DefaultNodeLostAfter = 30 * time.Second
	// DefaultRecordingLinger is how long Core remembers a finished
	// recording's node, so OpenRecording finds it.
	DefaultRecordingLinger = 24 * time.Hour
	// MaxTTSText bounds TTS text.
	MaxTTSText = 4096
)

// Options configures a Core.
type Options struct {
	// Logger receives the Core's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the Core's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Handler receives every event. It is called from one goroutine per
	// channel (per bridge for bridge events, one for channel-less events) so
	// events of one channel arrive in order; a slow Handler delays only its
	// own channel. It must not call Core.Close.
	Handler func(Event)
	// Now is the clock for event times; nil means Clock.Now.
	Now func() time.Time
	// Clock schedules the Core's timers (mailbox linger, node loss,
	// recording linger); nil means clock.Real. Command timeouts always use
	// real time (they bound I/O).
	Clock clock.Clock
	// CommandTimeout bounds every command (answer, play, bridge...).
	CommandTimeout time.Duration
	// OriginateTimeout is the ring timeout when OriginateRequest.Timeout is 0.
	OriginateTimeout time.Duration
	// MailboxLinger: see DefaultMailboxLinger.
	MailboxLinger time.Duration
	// NodeLostAfter: see DefaultNodeLostAfter.
	NodeLostAfter time.Duration
	// RecordingLinger: see DefaultRecordingLinger.
	RecordingLinger time.Duration
	// Placement picks the node of a new outbound call; nil means
	// LeastLoaded.
	Placement Placement
	// TTS renders MediaTTS for nodes whose backend is not a TTSPlayer
	// (see Core.Play); nil: such nodes refuse TTS with ErrNotSupported.
	TTS Synthesizer
	// TempDir holds the temporary file of an assembled stereo recording
	// while it is read (see Core.OpenRecording); "" means os.TempDir.
	TempDir string
}

// Core is what the controller uses to drive media. It wraps one or several
// media nodes (each a Backend) and adds input validation, per-command
// timeouts, metrics, per-channel event ordering, id and node bookkeeping,
// placement of new calls, reconciliation after a node's outage, and the
// fallbacks of the optional capabilities (see the package doc).
type Core struct {
	nodes  []*node
	byName map[string]*node
	log    *slog.Logger
	opts   Options
	clock  clock.Clock
	m      *metrics

	// mu guards boxes, the id tables below, the fields of every node, entry
	// and stereo recording marked "guarded by Core.mu", and closed. Events
	// are put into their mailbox with mu held, so events Core synthesizes
	// keep their order with the backends' own.
	mu      sync.Mutex
	boxes   map[mailboxKey]*mailbox
	chans   map[ChannelID]*chanEntry  // Core channel id -> entry
	bridges map[BridgeID]*bridgeEntry // Core bridge id -> entry
	pbs     map[PlaybackID]*pbEntry   // Core playback id -> entry
	recs    map[RecordingID]*recEntry // Core recording id -> entry
	members map[ChannelID]BridgeID    // bridge membership (Core ids)
	holds   map[ChannelID]*softHold   // Hold fallback state per channel
	regs    registrations             // registered contacts per endpoint and node (reach.go)
	closed  bool
	// stopping: Close is waiting for the drainers; new events are dropped.
	stopping bool

	// drainers counts running mailbox goroutines and bg the reconcile
	// goroutines, so Close can wait for them.
	drainers sync.WaitGroup
	bg       sync.WaitGroup
}

type mailboxKey struct {
	kind byte // 'c' channel, 'b' bridge, 0 channel-less
	id   string
}

// mailbox is one ordered, unbounded event queue. mu guards all fields.
type mailbox struct {
	mu      sync.Mutex
	queue   []Event
	running bool
	seq     uint64
	ended   bool
}

// New returns a Core on one backend, as one node named b.Name() (or
// "node" when that is no valid node name). Call Start before use.
func New(b Backend, opts Options) (*Core, error) {
	if b == nil {
		return nil, fmt.Errorf("%w: nil backend", ErrInvalidArgument)
	}
	name := b.Name()
	if ValidateNodeName(name) != nil {
		name = "node"
	}
	return NewNodes([]Node{{Name: name, Backend: b}}, opts)
}

// NewNodes returns a Core driving several media nodes, possibly of
// different kinds. Node names must pass ValidateID, be at most
// MaxNodeNameLen bytes and be unique. Call Start before use.
func NewNodes(nodes []Node, opts Options) (*Core, error) {
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w: no media node", ErrInvalidArgument)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Handler == nil {
		opts.Handler = func(Event) {}
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Now == nil {
		opts.Now = opts.Clock.Now
	}
	if opts.CommandTimeout <= 0 {
		opts.CommandTimeout = DefaultCommandTimeout
	}
	if opts.OriginateTimeout <= 0 {
		opts.OriginateTimeout = DefaultOriginateTimeout
	}
	if opts.MailboxLinger <= 0 {
		opts.MailboxLinger = DefaultMailboxLinger
	}
	if opts.NodeLostAfter <= 0 {
		opts.NodeLostAfter = DefaultNodeLostAfter
	}
	if opts.RecordingLinger <= 0 {
		opts.RecordingLinger = DefaultRecordingLinger
	}
	if opts.Placement == nil {
		opts.Placement = LeastLoaded{}
	}
	c := &Core{
		byName:  map[string]*node{},
		opts:    opts,
		clock:   opts.Clock,
		boxes:   map[mailboxKey]*mailbox{},
		chans:   map[ChannelID]*chanEntry{},
		bridges: map[BridgeID]*bridgeEntry{},
		pbs:     map[PlaybackID]*pbEntry{},
		recs:    map[RecordingID]*recEntry{},
		members: map[ChannelID]BridgeID{},
		holds:   map[ChannelID]*softHold{},
	}
	for _, nd := range nodes {
		if nd.Backend == nil {
			return nil, fmt.Errorf("%w: node %q has no backend", ErrInvalidArgument, nd.Name)
		}
		if err := ValidateNodeName(nd.Name); err != nil {
			return nil, err
		}
		if c.byName[nd.Name] != nil {
			return nil, fmt.Errorf("%w: node %q listed twice", ErrInvalidArgument, nd.Name)
		}
		n := newNode(nd.Name, nd.Backend)
		c.nodes = append(c.nodes, n)
		c.byName[n.name] = n
	}
	if len(c.nodes) == 1 {
		c.log = opts.Logger.With("backend", c.nodes[0].kind)
	} else {
		c.log = opts.Logger
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("mediacore: metrics: %w", err)
	}
	c.m = m
	for _, n := range c.nodes {
		c.setUp(n, false)
		c.m.nodeChans.WithLabelValues(n.name).Set(0)
	}
	return c, nil
}

// Backend returns the first node's backend (the only one for a Core made
// with New), for optional interfaces. See NodeBackend for the others.
func (c *Core) Backend() Backend { return c.nodes[0].b }

// NodeBackend returns the backend of the named node.
func (c *Core) NodeBackend(name string) (Backend, error) {
	n := c.byName[name]
	if n == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchNode, name)
	}
	return n.b, nil
}

// Start starts every node's backend at once; events flow to
// Options.Handler from now on. It returns when all have started or failed:
// the error joins the failures (each wrapped with its node name), and a
// node that failed stays down (never chosen for a call) until it reports
// BackendUp. With one node it is that backend's Start error.
func (c *Core) Start(ctx context.Context) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.do(ctx, "start", func(ctx context.Context) error { return n.b.Start(ctx, c.sink(n)) })
			if err != nil {
				if len(c.nodes) > 1 {
					err = fmt.Errorf("node %s: %w", n.name, err)
				}
				errs[i] = err
				return
			}
			c.mu.Lock()
			if !n.started {
				n.started = true
				c.setUp(n, true)
			}
			c.mu.Unlock()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close closes every backend, then waits until every event already
// accepted has been handled.
func (c *Core) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for _, n := range c.nodes {
		if n.lost != nil {
			n.lost.Stop()
			n.lost = nil
		}
	}
	c.mu.Unlock()
	var errs []error
	for _, n := range c.nodes {
		if err := n.b.Close(); err != nil {
			if len(c.nodes) > 1 {
				err = fmt.Errorf("node %s: %w", n.name, err)
			}
			errs = append(errs, err)
		}
	}
	c.bg.Wait()
	// From here on an event a backend still sends (a late SIP handler, an
	// ESL frame in flight) is dropped instead of starting a drainer: a
	// WaitGroup must not grow from zero while Wait runs.
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	c.drainers.Wait()
	return errors.Join(errs...)
}

func (c *Core) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// sink returns the event sink handed to node n's backend. It never blocks
// on the consumer.
func (c *Core) sink(n *node) func(Event) {
	return func(ev Event) { c.push(n, ev) }
}

// push takes one backend event: it stamps it, rewrites the node's ids into
// Core ids, updates Core's view (channels, bridges, nodes), and queues it
// (and any event it completes, such as a stereo recording's end) in its
// mailbox.
func (c *Core) push(n *node, ev Event) {
	if ev.Time.IsZero() {
		ev.Time = c.opts.Now()
	}
	ev.Node = n.name
	c.mu.Lock()
	defer c.mu.Unlock()
	out, reconcile := c.translate(n, ev)
	for _, e := range out {
		c.deliverLocked(e)
	}
	if reconcile && !c.closed {
		c.bg.Add(1)
		go c.reconcile(n, n.gen)
	}
}

// synth queues an event Core made up (Hold fallback, node loss, stereo
// recording end) as if its node had reported it. c.mu must be held.
func (c *Core) synth(n *node, ev Event) {
	if ev.Time.IsZero() {
		ev.Time = c.opts.Now()
	}
	ev.Node = n.name
	c.deliverLocked(ev)
}

// deliverLocked applies a translated event to Core's state and queues it.
// c.mu must be held.
func (c *Core) deliverLocked(ev Event) {
	c.apply(ev)
	c.enqueue(ev)
}

// apply updates channel liveness, bridge membership and metrics for one
// event in Core ids. c.mu must be held.
func (c *Core) apply(ev Event) {
	c.m.events.WithLabelValues(ev.Type.String()).Inc()
	switch ev.Type {
	case EventChannelCreated:
		c.m.channels.Inc()
	case EventHangup:
		c.m.channels.Dec()
		c.m.hangups.WithLabelValues(ev.Cause.String()).Inc()
		if e := c.chans[ev.Channel]; e != nil {
			c.setAlive(e, false)
		}
		c.leaveBridge(ev.Channel, "")
		delete(c.holds, ev.Channel)
	case EventBridgeJoined:
		if ev.Channel != "" && ev.Bridge != "" {
			c.joinBridge(ev.Bridge, ev.Channel, ev.Member)
		}
	case EventBridgeLeft:
		if ev.Channel != "" && ev.Bridge != "" {
			c.leaveBridge(ev.Channel, ev.Bridge)
		}
	case EventEndpointRegistered, EventEndpointUnregistered:
		c.observeRegistration(ev)
	}
}

// enqueue puts ev into its mailbox and starts the mailbox's drainer if it
// is idle. c.mu must be held (it is taken before box.mu, never after).
func (c *Core) enqueue(ev Event) {
	key := mailboxKey{}
	switch {
	case ev.Channel != "":
		key = mailboxKey{'c', string(ev.Channel)}
	case ev.Bridge != "":
		key = mailboxKey{'b', string(ev.Bridge)}
	}
	box := c.boxes[key]
	if c.stopping {
		c.m.lateEvents.Inc()
		return
	}
	if box == nil || (key.kind == 'c' && ev.Type == EventChannelCreated && box.isEnded()) {
		// A new channel, or a backend reusing the id of a channel that
		// ended: a fresh mailbox and Seq.
		box = &mailbox{}
		c.boxes[key] = box
	}
	box.mu.Lock()
	if box.ended && key.kind == 'c' {
		c.m.lateEvents.Inc()
	}
	box.seq++
	ev.Seq = box.seq
	box.queue = append(box.queue, ev)
	c.m.queued.Inc()
	start := !box.running
	box.running = true
	if ev.Type == EventHangup && key.kind == 'c' && !box.ended {
		box.ended = true
		entry := c.chans[ev.Channel]
		c.clock.AfterFunc(c.opts.MailboxLinger, func() { c.forget(key, box, entry) })
	}
	box.mu.Unlock()
	if start {
		c.drainers.Add(1)
		go c.drain(box)
	}
}

func (b *mailbox) isEnded() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ended
}

// drain hands a mailbox's events to the Handler one at a time, outside the
// mailbox lock, and exits when the queue is empty.
func (c *Core) drain(box *mailbox) {
	defer c.drainers.Done()
	for {
		box.mu.Lock()
		if len(box.queue) == 0 {
			box.running = false
			box.queue = nil
			box.mu.Unlock()
			return
		}
		ev := box.queue[0]
		box.queue[0] = Event{}
		box.queue = box.queue[1:]
		box.mu.Unlock()
		c.m.queued.Dec()
		c.deliver(ev)
	}
}

func (c *Core) deliver(ev Event) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("event handler panicked", "event", ev.Type.String(), "channel", ev.Channel, "panic", r)
		}
	}()
	c.opts.Handler(ev)
}

// forget drops an ended channel's mailbox and its id after the linger.
func (c *Core) forget(key mailboxKey, box *mailbox, e *chanEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.boxes[key] == box {
		delete(c.boxes, key)
	}
	if e != nil && !e.alive {
		if c.chans[e.id] == e {
			delete(c.chans, e.id)
		}
		if e.node.chans[e.raw] == e {
			delete(e.node.chans, e.raw)
		}
	}
}

// do runs one backend command under the command timeout with metrics.
func (c *Core) do(ctx context.Context, op string, f func(context.Context) error) error {
	return c.doTimeout(ctx, op, c.opts.CommandTimeout, f)
}

func (c *Core) doTimeout(ctx context.Context, op string, d time.Duration, f func(context.Context) error) (err error) {
	start := time.Now()
	defer func() {
		c.m.commands.WithLabelValues(op, resultLabel(err)).Inc()
		c.m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	}()
	if c.isClosed() {
		return fmt.Errorf("%s: %w", op, ErrClosed)
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err = f(ctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
		err = fmt.Errorf("%w: %s: %w", ErrTimeout, op, err)
	}
	return err
}

// invalid counts a command rejected before it reached the backend.
func (c *Core) invalid(op string, err error) error {
	c.m.commands.WithLabelValues(op, resultLabel(err)).Inc()
	return err
}
