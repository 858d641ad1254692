package mediacore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults used when Options leaves a field zero.
const (
	DefaultCommandTimeout   = 10 * time.Second
	DefaultOriginateTimeout = 30 * time.Second
	// DefaultMailboxLinger is how long a channel's mailbox (and its Seq
	// counter) outlives the channel's Hangup, so late events such as a
	// RecordingFinished keep their order and numbering.
	DefaultMailboxLinger = time.Minute
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
	// Now is the clock for event times; nil means time.Now.
	Now func() time.Time
	// CommandTimeout bounds every command (answer, play, bridge...).
	CommandTimeout time.Duration
	// OriginateTimeout is the ring timeout when OriginateRequest.Timeout is 0.
	OriginateTimeout time.Duration
	// MailboxLinger: see DefaultMailboxLinger.
	MailboxLinger time.Duration
}

// Core is what the controller uses to drive media. It wraps a Backend and
// adds input validation, per-command timeouts, metrics, per-channel event
// ordering and the snoop fallback through bridge roles.
type Core struct {
	b    Backend
	log  *slog.Logger
	opts Options
	m    *metrics

	// mu guards boxes, members and closed.
	mu      sync.Mutex
	boxes   map[mailboxKey]*mailbox
	members map[ChannelID]BridgeID // bridge membership, for Snoop's fallback
	closed  bool

	// drainers counts running mailbox goroutines so Close can wait for them.
	drainers sync.WaitGroup
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

// New returns a Core on backend b. Call Start before use.
func New(b Backend, opts Options) (*Core, error) {
	if b == nil {
		return nil, fmt.Errorf("%w: nil backend", ErrInvalidArgument)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Handler == nil {
		opts.Handler = func(Event) {}
	}
	if opts.Now == nil {
		opts.Now = time.Now
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
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("mediacore: metrics: %w", err)
	}
	return &Core{
		b:       b,
		log:     opts.Logger.With("backend", b.Name()),
		opts:    opts,
		m:       m,
		boxes:   map[mailboxKey]*mailbox{},
		members: map[ChannelID]BridgeID{},
	}, nil
}

// Backend returns the wrapped backend (for optional interfaces).
func (c *Core) Backend() Backend { return c.b }

// Start starts the backend; events flow to Options.Handler from now on.
func (c *Core) Start(ctx context.Context) error {
	return c.do(ctx, "start", func(ctx context.Context) error { return c.b.Start(ctx, c.push) })
}

// Close closes the backend, then waits until every event already accepted
// has been handled.
func (c *Core) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	err := c.b.Close()
	c.drainers.Wait()
	return err
}

func (c *Core) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// push is the sink handed to the backend. It never blocks on the consumer.
func (c *Core) push(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = c.opts.Now()
	}
	c.m.events.WithLabelValues(ev.Type.String()).Inc()
	switch ev.Type {
	case EventChannelCreated:
		c.m.channels.Inc()
	case EventHangup:
		c.m.channels.Dec()
		c.m.hangups.WithLabelValues(ev.Cause.String()).Inc()
		c.mu.Lock()
		delete(c.members, ev.Channel)
		c.mu.Unlock()
	}
	key := mailboxKey{}
	switch {
	case ev.Channel != "":
		key = mailboxKey{'c', string(ev.Channel)}
	case ev.Bridge != "":
		key = mailboxKey{'b', string(ev.Bridge)}
	}
	c.mu.Lock()
	box := c.boxes[key]
	if box == nil {
		box = &mailbox{}
		c.boxes[key] = box
	}
	c.mu.Unlock()

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
		time.AfterFunc(c.opts.MailboxLinger, func() { c.dropBox(key, box) })
	}
	box.mu.Unlock()
	if start {
		c.drainers.Add(1)
		go c.drain(box)
	}
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

func (c *Core) dropBox(key mailboxKey, box *mailbox) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.boxes[key] == box {
		delete(c.boxes, key)
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

// Ring sends a ringing indication on an inbound channel.
func (c *Core) Ring(ctx context.Context, ch ChannelID) error {
	if err := ValidateID(string(ch)); err != nil {
		return c.invalid("ring", err)
	}
	return c.do(ctx, "ring", func(ctx context.Context) error { return c.b.Ring(ctx, ch) })
}

// Answer answers an inbound channel.
func (c *Core) Answer(ctx context.Context, ch ChannelID) error {
	if err := ValidateID(string(ch)); err != nil {
		return c.invalid("answer", err)
	}
	return c.do(ctx, "answer", func(ctx context.Context) error { return c.b.Answer(ctx, ch) })
}

// Hangup ends a channel with a cause.
func (c *Core) Hangup(ctx context.Context, ch ChannelID, cause Cause) error {
	if err := ValidateID(string(ch)); err != nil {
		return c.invalid("hangup", err)
	}
	return c.do(ctx, "hangup", func(ctx context.Context) error { return c.b.Hangup(ctx, ch, cause) })
}

// SendDTMF sends digits (0-9 * # A-D, at most 64).
func (c *Core) SendDTMF(ctx context.Context, ch ChannelID, digits string) error {
	if err := ValidateID(string(ch)); err != nil {
		return c.invalid("send_dtmf", err)
	}
	if err := ValidateDigits(digits); err != nil {
		return c.invalid("send_dtmf", err)
	}
	return c.do(ctx, "send_dtmf", func(ctx context.Context) error { return c.b.SendDTMF(ctx, ch, digits) })
}

// ValidateDigits accepts 1..64 DTMF digits: 0-9, *, #, A-D (RFC 4733 §3.2
// events 0-15).
func ValidateDigits(d string) error {
	if len(d) == 0 || len(d) > 64 {
		return fmt.Errorf("%w: %d digits", ErrInvalidArgument, len(d))
	}
	for i := 0; i < len(d); i++ {
		if !strings.ContainsRune("0123456789*#ABCD", rune(d[i])) {
			return fmt.Errorf("%w: digit %q", ErrInvalidArgument, d[i])
		}
	}
	return nil
}

// Originate validates req (endpoint, caller id, variables), applies the
// default ring timeout, and starts the call. It returns once the channel
// exists; Answered or Hangup follow as events.
func (c *Core) Originate(ctx context.Context, req OriginateRequest) (ChannelID, error) {
	if err := c.validateOriginate(&req); err != nil {
		return "", c.invalid("originate", err)
	}
	var id ChannelID
	err := c.do(ctx, "originate", func(ctx context.Context) error {
		var err error
		id, err = c.b.Originate(ctx, req)
		return err
	})
	return id, err
}

func (c *Core) validateOriginate(req *OriginateRequest) error {
	if req.ChannelID != "" {
		if err := ValidateID(string(req.ChannelID)); err != nil {
			return err
		}
	}
	if _, err := ParseEndpoint(req.Endpoint); err != nil {
		return err
	}
	if req.CallerIDNumber != "" {
		if err := ValidateDialString(req.CallerIDNumber); err != nil {
			return fmt.Errorf("caller id number: %w", err)
		}
		if !isToken(req.CallerIDNumber, userChar) {
			return fmt.Errorf("%w: caller id number %q", ErrInvalidArgument, req.CallerIDNumber)
		}
	}
	if err := ValidateDisplayName(req.CallerIDName); err != nil {
		return fmt.Errorf("caller id name: %w", err)
	}
	if len(req.Variables) > 32 {
		return fmt.Errorf("%w: %d variables", ErrInvalidArgument, len(req.Variables))
	}
	for k, v := range req.Variables {
		if err := ValidateVariable(k, v); err != nil {
			return err
		}
	}
	if req.Timeout < 0 || req.Timeout > 10*time.Minute {
		return fmt.Errorf("%w: timeout %v", ErrInvalidArgument, req.Timeout)
	}
	if req.Timeout == 0 {
		req.Timeout = c.opts.OriginateTimeout
	}
	return nil
}

func validateTarget(t Target) error {
	switch {
	case t.Channel != "" && t.Bridge != "":
		return fmt.Errorf("%w: target has both channel and bridge", ErrInvalidArgument)
	case t.Channel != "":
		return ValidateID(string(t.Channel))
	case t.Bridge != "":
		return ValidateID(string(t.Bridge))
	}
	return fmt.Errorf("%w: empty target", ErrInvalidArgument)
}

// ValidateMedia checks one Media: a relative file path without "..", tones
// within the narrowband range, bounded TTS text and durations.
func ValidateMedia(m Media) error {
	switch m.Kind {
	case MediaFile:
		if m.File == "" || len(m.File) > MaxDialLen || strings.HasPrefix(m.File, "/") ||
			path.Clean(m.File) != m.File || strings.HasPrefix(m.File, "../") || m.File == ".." {
			return fmt.Errorf("%w: media file %q", ErrInvalidArgument, m.File)
		}
		for i := 0; i < len(m.File); i++ {
			if m.File[i] < ' ' || m.File[i] == 0x7f || m.File[i] == '\\' {
				return fmt.Errorf("%w: media file %q", ErrInvalidArgument, m.File)
			}
		}
	case MediaTone:
		if len(m.Tone.Freqs) == 0 || len(m.Tone.Freqs) > 4 || m.Tone.On < 0 || m.Tone.Off < 0 {
			return fmt.Errorf("%w: tone %+v", ErrInvalidArgument, m.Tone)
		}
		for _, f := range m.Tone.Freqs {
			// Narrowband G.711 carries up to 4 kHz (Nyquist at 8 kHz).
			if !(f > 0 && f < 4000) {
				return fmt.Errorf("%w: tone frequency %v", ErrInvalidArgument, f)
			}
		}
	case MediaTTS:
		if strings.TrimSpace(m.Text) == "" || len(m.Text) > MaxTTSText {
			return fmt.Errorf("%w: tts text of %d bytes", ErrInvalidArgument, len(m.Text))
		}
		if m.Voice != "" && !isToken(m.Voice, paramChar) {
			return fmt.Errorf("%w: tts voice %q", ErrInvalidArgument, m.Voice)
		}
	case MediaSilence:
		if m.Duration <= 0 {
			return fmt.Errorf("%w: silence of %v", ErrInvalidArgument, m.Duration)
		}
	default:
		return fmt.Errorf("%w: media kind %d", ErrInvalidArgument, m.Kind)
	}
	if m.Duration < 0 || m.Duration > 24*time.Hour {
		return fmt.Errorf("%w: media duration %v", ErrInvalidArgument, m.Duration)
	}
	return nil
}

// Play plays media into a channel or bridge.
func (c *Core) Play(ctx context.Context, t Target, req PlayRequest) (PlaybackID, error) {
	err := validateTarget(t)
	if err == nil && req.ID != "" {
		err = ValidateID(string(req.ID))
	}
	if err == nil && (len(req.Media) == 0 || len(req.Media) > 64) {
		err = fmt.Errorf("%w: %d media", ErrInvalidArgument, len(req.Media))
	}
	for i := 0; err == nil && i < len(req.Media); i++ {
		err = ValidateMedia(req.Media[i])
	}
	if err != nil {
		return "", c.invalid("play", err)
	}
	var id PlaybackID
	err = c.do(ctx, "play", func(ctx context.Context) error {
		var err error
		id, err = c.b.Play(ctx, t, req)
		return err
	})
	return id, err
}

// StopPlayback stops a playback.
func (c *Core) StopPlayback(ctx context.Context, id PlaybackID) error {
	if err := ValidateID(string(id)); err != nil {
		return c.invalid("stop_playback", err)
	}
	return c.do(ctx, "stop_playback", func(ctx context.Context) error { return c.b.StopPlayback(ctx, id) })
}

// Record starts recording a channel or a bridge.
func (c *Core) Record(ctx context.Context, t Target, req RecordRequest) (RecordingID, error) {
	err := validateTarget(t)
	if err == nil && req.ID != "" {
		err = ValidateID(string(req.ID))
	}
	if err == nil && req.Name != "" {
		if verr := ValidateMedia(File(req.Name)); verr != nil || !strings.HasSuffix(req.Name, ".wav") {
			err = fmt.Errorf("%w: recording name %q", ErrInvalidArgument, req.Name)
		}
	}
	if err != nil {
		return "", c.invalid("record", err)
	}
	var id RecordingID
	err = c.do(ctx, "record", func(ctx context.Context) error {
		var err error
		id, err = c.b.Record(ctx, t, req)
		return err
	})
	return id, err
}

// PauseRecording makes a recording write silence (R6.5).
func (c *Core) PauseRecording(ctx context.Context, id RecordingID) error {
	return c.recOp(ctx, "pause_recording", id, c.b.PauseRecording)
}

// ResumeRecording resumes a paused recording.
func (c *Core) ResumeRecording(ctx context.Context, id RecordingID) error {
	return c.recOp(ctx, "resume_recording", id, c.b.ResumeRecording)
}

// StopRecording finishes a recording; RecordingFinished follows.
func (c *Core) StopRecording(ctx context.Context, id RecordingID) error {
	return c.recOp(ctx, "stop_recording", id, c.b.StopRecording)
}

func (c *Core) recOp(ctx context.Context, op string, id RecordingID, f func(context.Context, RecordingID) error) error {
	if err := ValidateID(string(id)); err != nil {
		return c.invalid(op, err)
	}
	return c.do(ctx, op, func(ctx context.Context) error { return f(ctx, id) })
}

// CreateBridge creates an empty bridge.
func (c *Core) CreateBridge(ctx context.Context, id BridgeID) error {
	if err := ValidateID(string(id)); err != nil {
		return c.invalid("create_bridge", err)
	}
	return c.do(ctx, "create_bridge", func(ctx context.Context) error { return c.b.CreateBridge(ctx, id) })
}

func validateMember(m Member) error {
	switch m.Role {
	case RoleSpeak, RoleListen:
		if m.WhisperTo != "" {
			return fmt.Errorf("%w: WhisperTo with role %v", ErrInvalidArgument, m.Role)
		}
		return nil
	case RoleWhisper:
		return ValidateID(string(m.WhisperTo))
	}
	return fmt.Errorf("%w: role %d", ErrInvalidArgument, m.Role)
}

// AddToBridge adds a channel to a bridge with a role.
func (c *Core) AddToBridge(ctx context.Context, b BridgeID, ch ChannelID, m Member) error {
	err := ValidateID(string(b))
	if err == nil {
		err = ValidateID(string(ch))
	}
	if err == nil {
		err = validateMember(m)
	}
	if err == nil && m.WhisperTo == ch {
		err = fmt.Errorf("%w: a member cannot whisper to itself", ErrInvalidArgument)
	}
	if err != nil {
		return c.invalid("add_to_bridge", err)
	}
	err = c.do(ctx, "add_to_bridge", func(ctx context.Context) error { return c.b.AddToBridge(ctx, b, ch, m) })
	if err == nil {
		c.mu.Lock()
		c.members[ch] = b
		c.mu.Unlock()
	}
	return err
}

// SetMemberRole changes a member's role.
func (c *Core) SetMemberRole(ctx context.Context, b BridgeID, ch ChannelID, m Member) error {
	err := ValidateID(string(b))
	if err == nil {
		err = ValidateID(string(ch))
	}
	if err == nil {
		err = validateMember(m)
	}
	if err == nil && m.WhisperTo == ch {
		err = fmt.Errorf("%w: a member cannot whisper to itself", ErrInvalidArgument)
	}
	if err != nil {
		return c.invalid("set_member_role", err)
	}
	return c.do(ctx, "set_member_role", func(ctx context.Context) error { return c.b.SetMemberRole(ctx, b, ch, m) })
}

// RemoveFromBridge takes a channel out of a bridge.
func (c *Core) RemoveFromBridge(ctx context.Context, b BridgeID, ch ChannelID) error {
	err := ValidateID(string(b))
	if err == nil {
		err = ValidateID(string(ch))
	}
	if err != nil {
		return c.invalid("remove_from_bridge", err)
	}
	err = c.do(ctx, "remove_from_bridge", func(ctx context.Context) error { return c.b.RemoveFromBridge(ctx, b, ch) })
	if err == nil {
		c.mu.Lock()
		if c.members[ch] == b {
			delete(c.members, ch)
		}
		c.mu.Unlock()
	}
	return err
}

// DestroyBridge removes a bridge; its members stay up.
func (c *Core) DestroyBridge(ctx context.Context, b BridgeID) error {
	if err := ValidateID(string(b)); err != nil {
		return c.invalid("destroy_bridge", err)
	}
	err := c.do(ctx, "destroy_bridge", func(ctx context.Context) error { return c.b.DestroyBridge(ctx, b) })
	if err == nil {
		c.mu.Lock()
		for ch, mb := range c.members {
			if mb == b {
				delete(c.members, ch)
			}
		}
		c.mu.Unlock()
	}
	return err
}

// BridgeOf returns the bridge a channel was added to through this Core.
func (c *Core) BridgeOf(ch ChannelID) (BridgeID, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.members[ch]
	return b, ok
}

// Hold puts a channel on hold with music (nil: silence).
func (c *Core) Hold(ctx context.Context, ch ChannelID, music *Media) error {
	err := ValidateID(string(ch))
	if err == nil && music != nil {
		err = ValidateMedia(*music)
	}
	if err != nil {
		return c.invalid("hold", err)
	}
	return c.do(ctx, "hold", func(ctx context.Context) error { return c.b.Hold(ctx, ch, music) })
}

// Unhold takes a channel off hold.
func (c *Core) Unhold(ctx context.Context, ch ChannelID) error {
	if err := ValidateID(string(ch)); err != nil {
		return c.invalid("unhold", err)
	}
	return c.do(ctx, "unhold", func(ctx context.Context) error { return c.b.Unhold(ctx, ch) })
}

// Snoop attaches a supervisor's answered channel spy to target (R5.2). When
// the backend implements Snooper it is used; otherwise spy joins the bridge
// target is in (added through this Core) as RoleListen (SnoopListen),
// RoleWhisper to target (SnoopWhisper) or RoleSpeak (SnoopBarge); a target in
// no bridge gives ErrChannelState. Changing mode later is SetMemberRole on
// that bridge, or Snoop again.
func (c *Core) Snoop(ctx context.Context, target, spy ChannelID, mode SnoopMode) error {
	err := ValidateID(string(target))
	if err == nil {
		err = ValidateID(string(spy))
	}
	if err == nil && target == spy {
		err = fmt.Errorf("%w: a channel cannot snoop on itself", ErrInvalidArgument)
	}
	var m Member
	switch mode {
	case SnoopListen:
		m = Member{Role: RoleListen}
	case SnoopWhisper:
		m = Member{Role: RoleWhisper, WhisperTo: target}
	case SnoopBarge:
		m = Member{Role: RoleSpeak}
	default:
		if err == nil {
			err = fmt.Errorf("%w: snoop mode %d", ErrInvalidArgument, mode)
		}
	}
	if err != nil {
		return c.invalid("snoop", err)
	}
	if s, ok := c.b.(Snooper); ok {
		return c.do(ctx, "snoop", func(ctx context.Context) error { return s.Snoop(ctx, target, spy, mode) })
	}
	b, ok := c.BridgeOf(target)
	if !ok {
		return c.invalid("snoop", fmt.Errorf("%w: channel %s is in no bridge to snoop on", ErrChannelState, target))
	}
	if cur, in := c.BridgeOf(spy); in && cur == b {
		return c.SetMemberRole(ctx, b, spy, m)
	}
	return c.AddToBridge(ctx, b, spy, m)
}

// SetTrunks hands trunks to every node whose backend implements
// TrunkConfigurer; nodes without it keep their own configuration.
func (c *Core) SetTrunks(ctx context.Context, trunks []TrunkConfig) error {
	tc, ok := c.b.(TrunkConfigurer)
	if !ok {
		return nil
	}
	return c.do(ctx, "set_trunks", func(ctx context.Context) error { return tc.SetTrunks(ctx, trunks) })
}
