package mediafake

//go:generate go run gen_caps.go

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"hotline/internal/clock"
	"hotline/mediacore"
	"hotline/mediacore/audio"
)

// Caps selects the optional mediacore capabilities a Fake claims (see
// Fake.Backend). A capability not claimed is absent from the Backend's
// method set, so *mediacore.Core takes its fallback.
type Caps struct {
	Snooper, Whisperer, TTSPlayer, MediaUploader, StereoRecorder,
	ReinviteHolder, DTMFDetector, TrunkConfigurer bool
}

// AllCaps claims every optional capability.
func AllCaps() Caps {
	return Caps{true, true, true, true, true, true, true, true}
}

// Defaults used when Options leaves a field zero.
const (
	DefaultFileDuration = time.Second
	DefaultTTSDuration  = time.Second
	DefaultReadTone     = 440.0  // Hz, what a channel's far end "says"
	DefaultWriteTone    = 1000.0 // Hz, what a channel "hears"
	DefaultDTMFDuration = 100 * time.Millisecond
)

// Options configures a Fake.
type Options struct {
	// Name is Backend.Name(); "" means "fake".
	Name string
	// Clock drives rings, answers, playbacks and recordings; nil means
	// clock.Real. Tests pass clock.NewFake and advance it.
	Clock clock.Clock
	// Caps are the optional capabilities Backend claims.
	Caps Caps
	// IDPrefix starts the ids the fake chooses ("<prefix>-<n>" for
	// inbound channels, bridges, playbacks, recordings, transfers); ""
	// means "fake". Two fakes with one prefix choose the same ids, as two
	// Asterisk nodes do.
	IDPrefix string
	// FileDurations gives the length of media files; others last
	// DefaultFileDuration (or their WAV length when uploaded).
	FileDurations map[string]time.Duration
	// DefaultAnswer is how endpoints without SetAnswer answer; the zero
	// value answers at once.
	DefaultAnswer Answer
	// TTSDuration is how long a MediaTTS plays (TTSPlayer); 0 means
	// DefaultTTSDuration.
	TTSDuration time.Duration
	// ReadTone and WriteTone are the frequencies recordings hold for each
	// direction: RecordRead and a stereo left channel hold ReadTone,
	// RecordWrite and the right channel WriteTone, a mono mix both.
	ReadTone, WriteTone float64
}

// Answer is how an originated call's far end behaves (SetAnswer).
type Answer struct {
	// After is how long it rings before answering (or rejecting).
	After time.Duration
	// Reject, when not CauseUnknown, ends the call with this cause after
	// After instead of answering (CauseBusy, CauseRejected...).
	Reject mediacore.Cause
	// Never rings until the originate timeout (CauseNoAnswer).
	Never bool
	// Manual rings until AnswerCall (or the originate timeout).
	Manual bool
	// Unreachable makes Originate fail with mediacore.ErrNotFound.
	Unreachable bool
}

// AnswerAfter answers after d of ringing.
func AnswerAfter(d time.Duration) Answer { return Answer{After: d} }

// Busy rejects with CauseBusy after d.
func Busy(after time.Duration) Answer { return Answer{After: after, Reject: mediacore.CauseBusy} }

// NoAnswer rings until the originate timeout.
func NoAnswer() Answer { return Answer{Never: true} }

// Unreachable fails the originate with ErrNotFound.
func Unreachable() Answer { return Answer{Unreachable: true} }

// Call is one command the fake received (Calls).
type Call struct {
	Op  string // the Backend method in snake case: "answer", "originate"...
	ID  string // the channel, bridge, playback or recording it names
	Arg string // the rest, formatted
}

func (c Call) String() string { return strings.TrimSpace(c.Op + " " + c.ID + " " + c.Arg) }

// Played is one playback the fake started (Played).
type Played struct {
	ID     mediacore.PlaybackID
	Target mediacore.Target
	Media  []mediacore.Media
	Loop   bool
}

// Fake is a behaviour-level media backend on a virtual clock. Use
// Backend() to hand it to mediacore; its other exported methods are test
// helpers that act as the far ends, the phones and the node. Safe for
// concurrent use; mu guards every field below it, and events are passed to
// the sink with mu held, so they keep their order.
type Fake struct {
	opts    Options
	backend mediacore.Backend

	mu        sync.Mutex
	sink      func(mediacore.Event)
	up        bool
	closed    bool
	n         int
	channels  map[mediacore.ChannelID]*channel
	bridges   map[mediacore.BridgeID]*bridge
	playbacks map[mediacore.PlaybackID]*playback
	recs      map[mediacore.RecordingID]*recording
	finished  map[mediacore.RecordingID][]byte
	transfers map[mediacore.TransferID]*transfer
	answers   map[string]Answer
	media     map[string][]byte
	trunks    []mediacore.TrunkConfig
	calls     []Call
	played    []Played
	failures  map[string][]error // op -> errors for its next calls
}

type channel struct {
	info   mediacore.ChannelInfo
	vars   map[string]string
	sent   string // DTMF sent with SendDTMF
	detect bool
	timers []clock.Timer
	holdPB *playback
}

type bridge struct {
	id      mediacore.BridgeID
	members map[mediacore.ChannelID]mediacore.Member
}

type playback struct {
	id     mediacore.PlaybackID
	target mediacore.Target
	timer  clock.Timer
	quiet  bool // hold music: no events
}

type recording struct {
	id     mediacore.RecordingID
	target mediacore.Target
	req    mediacore.RecordRequest
	start  time.Time
	pauses [][2]time.Time // [from, to); to zero while paused
}

type transfer struct {
	ch       mediacore.ChannelID
	answered bool
	accept   bool
}

// New returns a Fake. It emits nothing before Start.
func New(opts Options) *Fake {
	if opts.Name == "" {
		opts.Name = "fake"
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.IDPrefix == "" {
		opts.IDPrefix = "fake"
	}
	if opts.TTSDuration <= 0 {
		opts.TTSDuration = DefaultTTSDuration
	}
	if opts.ReadTone == 0 {
		opts.ReadTone = DefaultReadTone
	}
	if opts.WriteTone == 0 {
		opts.WriteTone = DefaultWriteTone
	}
	f := &Fake{
		opts:      opts,
		channels:  map[mediacore.ChannelID]*channel{},
		bridges:   map[mediacore.BridgeID]*bridge{},
		playbacks: map[mediacore.PlaybackID]*playback{},
		recs:      map[mediacore.RecordingID]*recording{},
		finished:  map[mediacore.RecordingID][]byte{},
		transfers: map[mediacore.TransferID]*transfer{},
		answers:   map[string]Answer{},
		media:     map[string][]byte{},
		failures:  map[string][]error{},
	}
	f.backend = wrap(f, opts.Caps)
	return f
}

// Backend returns the fake as a mediacore.Backend claiming exactly
// Options.Caps. (*Fake itself claims no optional capability.)
func (f *Fake) Backend() mediacore.Backend { return f.backend }

// --- helpers (f.mu held) ---

func (f *Fake) now() time.Time { return f.opts.Clock.Now() }

func (f *Fake) nextID(kind string) string {
	f.n++
	if kind == "" {
		return fmt.Sprintf("%s-%d", f.opts.IDPrefix, f.n)
	}
	return fmt.Sprintf("%s-%s-%d", f.opts.IDPrefix, kind, f.n)
}

func (f *Fake) emit(ev mediacore.Event) {
	if f.sink == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = f.now()
	}
	f.sink(ev)
}

func (f *Fake) log(op, id string, args ...any) {
	f.calls = append(f.calls, Call{Op: op, ID: id, Arg: strings.TrimSpace(fmt.Sprintln(args...))})
}

// begin logs a command and checks the fake is up and ctx alive.
func (f *Fake) begin(ctx context.Context, op, id string, args ...any) error {
	f.log(op, id, args...)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mediafake %s: %w", op, err)
	}
	if f.closed {
		return fmt.Errorf("mediafake %s: %w", op, mediacore.ErrClosed)
	}
	if !f.up {
		return fmt.Errorf("mediafake %s: %w", op, mediacore.ErrBackendUnavailable)
	}
	if q := f.failures[op]; len(q) > 0 {
		f.failures[op] = q[1:]
		return q[0]
	}
	return nil
}

func (f *Fake) chanLocked(id mediacore.ChannelID) (*channel, error) {
	c := f.channels[id]
	if c == nil {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchChannel, id)
	}
	return c, nil
}

func (f *Fake) after(c *channel, d time.Duration, fn func()) {
	c.timers = append(c.timers, f.opts.Clock.AfterFunc(d, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.closed {
			fn()
		}
	}))
}

// end hangs a channel up: it leaves its bridge, Hangup follows, then its
// playbacks and recordings finish.
func (f *Fake) end(c *channel, cause mediacore.Cause) {
	id := c.info.ID
	for _, t := range c.timers {
		t.Stop()
	}
	if c.info.Bridge != "" {
		f.leave(c)
	}
	ev := mediacore.Event{Type: mediacore.EventHangup, Channel: id, Cause: cause, Q850: cause.Q850()}
	if c.info.Answered.IsZero() && cause != mediacore.CauseNormal {
		ev.SIPCode = cause.SIPCode()
	}
	delete(f.channels, id)
	f.emit(ev)
	for _, p := range sortedPlaybacks(f.playbacks) {
		if p.target.Channel == id {
			f.finishPlayback(p)
		}
	}
	for _, r := range sortedRecs(f.recs) {
		if r.target.Channel == id {
			f.finishRecording(r)
		}
	}
}

func (f *Fake) leave(c *channel) {
	b := f.bridges[c.info.Bridge]
	c.info.Bridge = ""
	if b == nil {
		return
	}
	delete(b.members, c.info.ID)
	f.emit(mediacore.Event{Type: mediacore.EventBridgeLeft, Channel: c.info.ID, Bridge: b.id})
}

func (f *Fake) finishPlayback(p *playback) {
	if p.timer != nil {
		p.timer.Stop()
	}
	delete(f.playbacks, p.id)
	if p.quiet {
		return
	}
	f.emit(mediacore.Event{Type: mediacore.EventPlaybackFinished, Channel: p.target.Channel, Bridge: p.target.Bridge, Playback: p.id})
}

func (f *Fake) finishRecording(r *recording) {
	end := f.now()
	wav := f.renderRecording(r, end)
	delete(f.recs, r.id)
	f.finished[r.id] = wav
	path := r.req.Name
	if path == "" {
		path = "recordings/" + string(r.id) + ".wav"
	}
	f.emit(mediacore.Event{Type: mediacore.EventRecordingFinished, Channel: r.target.Channel, Bridge: r.target.Bridge,
		Recording: r.id, Path: path, Duration: end.Sub(r.start)})
}

func sortedPlaybacks(m map[mediacore.PlaybackID]*playback) []*playback {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b *playback) int { return strings.Compare(string(a.id), string(b.id)) })
	return out
}

func sortedRecs(m map[mediacore.RecordingID]*recording) []*recording {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b *recording) int { return strings.Compare(string(a.id), string(b.id)) })
	return out
}

// mediaDuration is how long one medium plays.
func (f *Fake) mediaDuration(m mediacore.Media) time.Duration {
	switch m.Kind {
	case mediacore.MediaTone:
		if m.Duration > 0 {
			return m.Duration
		}
		if d := m.Tone.On + m.Tone.Off; d > 0 {
			return d
		}
		return time.Second
	case mediacore.MediaSilence:
		return m.Duration
	case mediacore.MediaTTS:
		return f.opts.TTSDuration
	case mediacore.MediaFile:
		if d, ok := f.opts.FileDurations[m.File]; ok {
			return d
		}
		if b, ok := f.media[m.File]; ok {
			if d, err := wavDuration(b); err == nil {
				return d
			}
		}
	}
	return DefaultFileDuration
}

// --- mediacore.Backend ---

// Name implements mediacore.Backend.
func (f *Fake) Name() string { return f.opts.Name }

// Start implements mediacore.Backend: BackendUp follows at once.
func (f *Fake) Start(ctx context.Context, sink func(mediacore.Event)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log("start", "")
	if f.closed {
		return mediacore.ErrClosed
	}
	if q := f.failures["start"]; len(q) > 0 {
		f.failures["start"] = q[1:]
		return q[0]
	}
	f.sink, f.up = sink, true
	f.emit(mediacore.Event{Type: mediacore.EventBackendUp, Backend: f.opts.Name})
	return nil
}

// Close implements mediacore.Backend: live channels hang up (CauseNormal).
func (f *Fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	for _, c := range f.sortedChannels() {
		f.end(c, mediacore.CauseNormal)
	}
	f.closed, f.up = true, false
	return nil
}

func (f *Fake) sortedChannels() []*channel {
	out := slices.Collect(maps.Values(f.channels))
	slices.SortFunc(out, func(a, b *channel) int {
		if c := a.info.Created.Compare(b.info.Created); c != 0 {
			return c
		}
		return strings.Compare(string(a.info.ID), string(b.info.ID))
	})
	return out
}

// Ring implements mediacore.Backend.
func (f *Fake) Ring(ctx context.Context, ch mediacore.ChannelID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "ring", string(ch)); err != nil {
		return err
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	if c.info.Direction != mediacore.Inbound || !c.info.Answered.IsZero() {
		return fmt.Errorf("%w: ring %s", mediacore.ErrChannelState, ch)
	}
	f.emit(mediacore.Event{Type: mediacore.EventRinging, Channel: ch})
	return nil
}

// Answer implements mediacore.Backend.
func (f *Fake) Answer(ctx context.Context, ch mediacore.ChannelID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "answer", string(ch)); err != nil {
		return err
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	if c.info.Direction != mediacore.Inbound || !c.info.Answered.IsZero() {
		return fmt.Errorf("%w: answer %s", mediacore.ErrChannelState, ch)
	}
	f.answer(c)
	return nil
}

func (f *Fake) answer(c *channel) {
	c.info.State = mediacore.ChannelUp
	c.info.Answered = f.now()
	f.emit(mediacore.Event{Type: mediacore.EventAnswered, Channel: c.info.ID})
}

// Progress implements mediacore.Backend.
func (f *Fake) Progress(ctx context.Context, ch mediacore.ChannelID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "progress", string(ch)); err != nil {
		return err
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	if c.info.Direction != mediacore.Inbound || c.info.State != mediacore.ChannelRinging {
		return fmt.Errorf("%w: progress %s", mediacore.ErrChannelState, ch)
	}
	c.info.State = mediacore.ChannelEarly
	f.emit(mediacore.Event{Type: mediacore.EventProgress, Channel: ch})
	return nil
}

// Hangup implements mediacore.Backend.
func (f *Fake) Hangup(ctx context.Context, ch mediacore.ChannelID, cause mediacore.Cause) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "hangup", string(ch), cause); err != nil {
		return err
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	f.end(c, cause)
	return nil
}

// SendDTMF implements mediacore.Backend.
func (f *Fake) SendDTMF(ctx context.Context, ch mediacore.ChannelID, digits string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "send_dtmf", string(ch), digits); err != nil {
		return err
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	if c.info.Answered.IsZero() {
		return fmt.Errorf("%w: dtmf on unanswered %s", mediacore.ErrChannelState, ch)
	}
	c.sent += digits
	return nil
}

// Originate implements mediacore.Backend: ChannelCreated and Ringing are
// emitted before it returns; the endpoint's Answer (SetAnswer) decides
// what follows.
func (f *Fake) Originate(ctx context.Context, req mediacore.OriginateRequest) (mediacore.ChannelID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "originate", string(req.ChannelID), req.Endpoint, req.Timeout); err != nil {
		return "", err
	}
	a, ok := f.answers[req.Endpoint]
	if !ok {
		a = f.opts.DefaultAnswer
	}
	if a.Unreachable {
		return "", fmt.Errorf("%w: %s", mediacore.ErrNotFound, req.Endpoint)
	}
	id := req.ChannelID
	if id == "" {
		id = mediacore.ChannelID(f.nextID(""))
	}
	if f.channels[id] != nil {
		return "", fmt.Errorf("%w: channel %s exists", mediacore.ErrInvalidArgument, id)
	}
	c := &channel{
		info: mediacore.ChannelInfo{ID: id, Direction: mediacore.Outbound, State: mediacore.ChannelRinging,
			Caller: req.CallerIDNumber, Called: req.Endpoint, Created: f.now()},
		vars: maps.Clone(req.Variables),
	}
	if c.vars == nil {
		c.vars = map[string]string{}
	}
	f.channels[id] = c
	f.emit(mediacore.Event{Type: mediacore.EventChannelCreated, Channel: id, Direction: mediacore.Outbound,
		Caller: req.CallerIDNumber, CallerName: req.CallerIDName, Called: req.Endpoint, Headers: maps.Clone(req.Variables)})
	f.emit(mediacore.Event{Type: mediacore.EventRinging, Channel: id})
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = mediacore.DefaultOriginateTimeout
	}
	if !a.Never && !a.Manual && a.After < timeout {
		f.after(c, a.After, func() {
			if f.channels[id] != c || !c.info.Answered.IsZero() {
				return
			}
			if a.Reject != mediacore.CauseUnknown {
				f.end(c, a.Reject)
				return
			}
			f.answer(c)
		})
		return id, nil
	}
	f.after(c, timeout, func() {
		if f.channels[id] == c && c.info.Answered.IsZero() {
			f.end(c, mediacore.CauseNoAnswer)
		}
	})
	return id, nil
}

// Play implements mediacore.Backend: PlaybackFinished follows after the
// media's total duration (never for Loop until StopPlayback).
func (f *Fake) Play(ctx context.Context, t mediacore.Target, req mediacore.PlayRequest) (mediacore.PlaybackID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "play", targetID(t), fmt.Sprint(req.Media), req.Loop); err != nil {
		return "", err
	}
	if err := f.checkTarget(t, true); err != nil {
		return "", err
	}
	var total time.Duration
	for _, m := range req.Media {
		if m.Kind == mediacore.MediaTTS && !f.opts.Caps.TTSPlayer {
			return "", fmt.Errorf("%w: tts", mediacore.ErrNotSupported)
		}
		total += f.mediaDuration(m)
	}
	id := req.ID
	if id == "" {
		id = mediacore.PlaybackID(f.nextID("pb"))
	}
	if f.playbacks[id] != nil {
		return "", fmt.Errorf("%w: playback %s exists", mediacore.ErrInvalidArgument, id)
	}
	p := &playback{id: id, target: t}
	f.playbacks[id] = p
	f.played = append(f.played, Played{ID: id, Target: t, Media: slices.Clone(req.Media), Loop: req.Loop})
	if !req.Loop {
		p.timer = f.opts.Clock.AfterFunc(total, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.playbacks[id] == p && !f.closed {
				f.finishPlayback(p)
			}
		})
	}
	return id, nil
}

func targetID(t mediacore.Target) string {
	if t.Bridge != "" {
		return string(t.Bridge)
	}
	return string(t.Channel)
}

// checkTarget checks a channel can carry media (answered, held, or early
// media for play) or a bridge exists.
func (f *Fake) checkTarget(t mediacore.Target, early bool) error {
	if t.Bridge != "" {
		if f.bridges[t.Bridge] == nil {
			return fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, t.Bridge)
		}
		return nil
	}
	c, err := f.chanLocked(t.Channel)
	if err != nil {
		return err
	}
	switch c.info.State {
	case mediacore.ChannelUp, mediacore.ChannelHeld:
		return nil
	case mediacore.ChannelEarly:
		if early {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is %v", mediacore.ErrChannelState, t.Channel, c.info.State)
}

// StopPlayback implements mediacore.Backend.
func (f *Fake) StopPlayback(ctx context.Context, id mediacore.PlaybackID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "stop_playback", string(id)); err != nil {
		return err
	}
	p := f.playbacks[id]
	if p == nil {
		return fmt.Errorf("%w: %s", mediacore.ErrNoSuchPlayback, id)
	}
	f.finishPlayback(p)
	return nil
}

// Record implements mediacore.Backend. A channel may carry several
// recordings at once. Stereo needs Caps.StereoRecorder.
func (f *Fake) Record(ctx context.Context, t mediacore.Target, req mediacore.RecordRequest) (mediacore.RecordingID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "record", targetID(t), "stereo="+fmt.Sprint(req.Stereo), "source="+fmt.Sprint(req.Source)); err != nil {
		return "", err
	}
	if req.Stereo && !f.opts.Caps.StereoRecorder {
		return "", fmt.Errorf("%w: stereo", mediacore.ErrNotSupported)
	}
	if err := f.checkTarget(t, true); err != nil {
		return "", err
	}
	id := req.ID
	if id == "" {
		id = mediacore.RecordingID(f.nextID("rec"))
	}
	if f.recs[id] != nil || f.finished[id] != nil {
		return "", fmt.Errorf("%w: recording %s exists", mediacore.ErrInvalidArgument, id)
	}
	f.recs[id] = &recording{id: id, target: t, req: req, start: f.now()}
	return id, nil
}

func (f *Fake) recOp(ctx context.Context, op string, id mediacore.RecordingID) (*recording, error) {
	if err := f.begin(ctx, op, string(id)); err != nil {
		return nil, err
	}
	r := f.recs[id]
	if r == nil {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchRecording, id)
	}
	return r, nil
}

// PauseRecording implements mediacore.Backend.
func (f *Fake) PauseRecording(ctx context.Context, id mediacore.RecordingID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.recOp(ctx, "pause_recording", id)
	if err != nil {
		return err
	}
	if n := len(r.pauses); n == 0 || !r.pauses[n-1][1].IsZero() {
		r.pauses = append(r.pauses, [2]time.Time{f.now()})
	}
	return nil
}

// ResumeRecording implements mediacore.Backend.
func (f *Fake) ResumeRecording(ctx context.Context, id mediacore.RecordingID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.recOp(ctx, "resume_recording", id)
	if err != nil {
		return err
	}
	if n := len(r.pauses); n > 0 && r.pauses[n-1][1].IsZero() {
		r.pauses[n-1][1] = f.now()
	}
	return nil
}

// StopRecording implements mediacore.Backend: RecordingFinished follows
// at once.
func (f *Fake) StopRecording(ctx context.Context, id mediacore.RecordingID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.recOp(ctx, "stop_recording", id)
	if err != nil {
		return err
	}
	f.finishRecording(r)
	return nil
}

// OpenRecording implements mediacore.Backend: the WAV of a finished
// recording.
func (f *Fake) OpenRecording(ctx context.Context, id mediacore.RecordingID) (io.ReadCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "open_recording", string(id)); err != nil {
		return nil, err
	}
	b, ok := f.finished[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchRecording, id)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// CreateBridge implements mediacore.Backend.
func (f *Fake) CreateBridge(ctx context.Context, id mediacore.BridgeID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "create_bridge", string(id)); err != nil {
		return err
	}
	if f.bridges[id] != nil {
		return fmt.Errorf("%w: bridge %s exists", mediacore.ErrInvalidArgument, id)
	}
	f.bridges[id] = &bridge{id: id, members: map[mediacore.ChannelID]mediacore.Member{}}
	return nil
}

// AddToBridge implements mediacore.Backend: BridgeLeft (of a former
// bridge) and BridgeJoined follow.
func (f *Fake) AddToBridge(ctx context.Context, b mediacore.BridgeID, ch mediacore.ChannelID, m mediacore.Member) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "add_to_bridge", string(ch), b, m.Role, m.WhisperTo); err != nil {
		return err
	}
	br, c, err := f.memberArgs(b, ch, m)
	if err != nil {
		return err
	}
	if c.info.State != mediacore.ChannelUp && c.info.State != mediacore.ChannelHeld {
		return fmt.Errorf("%w: %s is %v", mediacore.ErrChannelState, ch, c.info.State)
	}
	if c.info.Bridge == b {
		br.members[ch] = m
		return nil
	}
	if c.info.Bridge != "" {
		f.leave(c)
	}
	c.info.Bridge = b
	br.members[ch] = m
	f.emit(mediacore.Event{Type: mediacore.EventBridgeJoined, Channel: ch, Bridge: b, Member: m})
	return nil
}

func (f *Fake) memberArgs(b mediacore.BridgeID, ch mediacore.ChannelID, m mediacore.Member) (*bridge, *channel, error) {
	br := f.bridges[b]
	if br == nil {
		return nil, nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, b)
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return nil, nil, err
	}
	if m.Role == mediacore.RoleWhisper && !f.opts.Caps.Whisperer {
		return nil, nil, fmt.Errorf("%w: whisper", mediacore.ErrNotSupported)
	}
	return br, c, nil
}

// SetMemberRole implements mediacore.Backend.
func (f *Fake) SetMemberRole(ctx context.Context, b mediacore.BridgeID, ch mediacore.ChannelID, m mediacore.Member) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "set_member_role", string(ch), b, m.Role, m.WhisperTo); err != nil {
		return err
	}
	br, c, err := f.memberArgs(b, ch, m)
	if err != nil {
		return err
	}
	if c.info.Bridge != b {
		return fmt.Errorf("%w: %s is not in %s", mediacore.ErrChannelState, ch, b)
	}
	br.members[ch] = m
	return nil
}

// RemoveFromBridge implements mediacore.Backend: BridgeLeft follows.
func (f *Fake) RemoveFromBridge(ctx context.Context, b mediacore.BridgeID, ch mediacore.ChannelID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "remove_from_bridge", string(ch), b); err != nil {
		return err
	}
	if f.bridges[b] == nil {
		return fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, b)
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	if c.info.Bridge != b {
		return fmt.Errorf("%w: %s is not in %s", mediacore.ErrChannelState, ch, b)
	}
	f.leave(c)
	return nil
}

// DestroyBridge implements mediacore.Backend: a BridgeLeft per member.
func (f *Fake) DestroyBridge(ctx context.Context, b mediacore.BridgeID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "destroy_bridge", string(b)); err != nil {
		return err
	}
	br := f.bridges[b]
	if br == nil {
		return fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, b)
	}
	for _, ch := range slices.Sorted(maps.Keys(br.members)) {
		if c := f.channels[ch]; c != nil {
			f.leave(c)
		}
	}
	for _, p := range sortedPlaybacks(f.playbacks) {
		if p.target.Bridge == b {
			f.finishPlayback(p)
		}
	}
	for _, r := range sortedRecs(f.recs) {
		if r.target.Bridge == b {
			f.finishRecording(r)
		}
	}
	delete(f.bridges, b)
	return nil
}

// Hold implements mediacore.Backend: Hold follows; the music plays
// without events.
func (f *Fake) Hold(ctx context.Context, ch mediacore.ChannelID, music *mediacore.Media) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	arg := "silence"
	if music != nil {
		arg = fmt.Sprint(*music)
	}
	if err := f.begin(ctx, "hold", string(ch), arg); err != nil {
		return err
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	if c.info.State != mediacore.ChannelUp {
		return fmt.Errorf("%w: hold %s (%v)", mediacore.ErrChannelState, ch, c.info.State)
	}
	if music != nil {
		id := mediacore.PlaybackID(f.nextID("moh"))
		c.holdPB = &playback{id: id, target: mediacore.ChannelTarget(ch), quiet: true}
		f.playbacks[id] = c.holdPB
	}
	c.info.State = mediacore.ChannelHeld
	f.emit(mediacore.Event{Type: mediacore.EventHold, Channel: ch})
	return nil
}

// Unhold implements mediacore.Backend.
func (f *Fake) Unhold(ctx context.Context, ch mediacore.ChannelID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "unhold", string(ch)); err != nil {
		return err
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	if c.info.State != mediacore.ChannelHeld {
		return fmt.Errorf("%w: %s is not held", mediacore.ErrChannelState, ch)
	}
	if c.holdPB != nil {
		f.finishPlayback(c.holdPB)
		c.holdPB = nil
	}
	c.info.State = mediacore.ChannelUp
	f.emit(mediacore.Event{Type: mediacore.EventUnhold, Channel: ch})
	return nil
}

// Channels implements mediacore.Backend.
func (f *Fake) Channels(ctx context.Context) ([]mediacore.ChannelInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "channels", ""); err != nil {
		return nil, err
	}
	var out []mediacore.ChannelInfo
	for _, c := range f.sortedChannels() {
		out = append(out, c.info)
	}
	return out, nil
}

// Bridges implements mediacore.Backend.
func (f *Fake) Bridges(ctx context.Context) ([]mediacore.BridgeInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "bridges", ""); err != nil {
		return nil, err
	}
	var out []mediacore.BridgeInfo
	for _, id := range slices.Sorted(maps.Keys(f.bridges)) {
		out = append(out, mediacore.BridgeInfo{ID: id, Members: maps.Clone(f.bridges[id].members)})
	}
	return out, nil
}

// Variable implements mediacore.Backend.
func (f *Fake) Variable(ctx context.Context, ch mediacore.ChannelID, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "variable", string(ch), name); err != nil {
		return "", err
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return "", err
	}
	v, ok := c.vars[name]
	if !ok {
		return "", fmt.Errorf("%w: %s", mediacore.ErrNoSuchVariable, name)
	}
	return v, nil
}

// SetVariable implements mediacore.Backend.
func (f *Fake) SetVariable(ctx context.Context, ch mediacore.ChannelID, name, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "set_variable", string(ch), name, value); err != nil {
		return err
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	c.vars[name] = value
	return nil
}

// AnswerTransfer implements mediacore.Backend: it records the answer
// (TransferAnswer); the fake carries out nothing.
func (f *Fake) AnswerTransfer(ctx context.Context, ch mediacore.ChannelID, id mediacore.TransferID, accept bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "answer_transfer", string(ch), id, accept); err != nil {
		return err
	}
	if _, err := f.chanLocked(ch); err != nil {
		return err
	}
	t := f.transfers[id]
	if t == nil || t.ch != ch {
		return fmt.Errorf("%w: no transfer %s on %s", mediacore.ErrInvalidArgument, id, ch)
	}
	if t.answered {
		return fmt.Errorf("%w: transfer %s already answered", mediacore.ErrChannelState, id)
	}
	t.answered, t.accept = true, accept
	return nil
}

// --- optional capabilities (claimed through Backend) ---

func (f *Fake) snoop(ctx context.Context, target, spy mediacore.ChannelID, mode mediacore.SnoopMode) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "snoop", string(target), spy, mode); err != nil {
		return err
	}
	if _, err := f.chanLocked(target); err != nil {
		return err
	}
	_, err := f.chanLocked(spy)
	return err
}

func (f *Fake) putMedia(ctx context.Context, name string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "put_media", name); err != nil {
		return err
	}
	f.media[name] = b
	return nil
}

func (f *Fake) setDTMFDetection(ctx context.Context, ch mediacore.ChannelID, on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "set_dtmf_detection", string(ch), on); err != nil {
		return err
	}
	c, err := f.chanLocked(ch)
	if err != nil {
		return err
	}
	c.detect = on
	return nil
}

func (f *Fake) setTrunks(ctx context.Context, trunks []mediacore.TrunkConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin(ctx, "set_trunks", "", len(trunks)); err != nil {
		return err
	}
	f.trunks = slices.Clone(trunks)
	return nil
}

// --- recordings' audio ---

// renderRecording writes the WAV of r as it stands at end: ReadTone and
// WriteTone by direction, silence while paused.
func (f *Fake) renderRecording(r *recording, end time.Time) []byte {
	var m memFile
	channels := 1
	if r.req.Stereo {
		channels = 2
	}
	w, err := audio.NewWAVWriter(&m, channels, audio.SampleRate)
	if err != nil {
		return nil
	}
	total := int(end.Sub(r.start) * audio.SampleRate / time.Second)
	const amp = 8000.0
	left := make([]int16, 0, audio.FrameSamples)
	right := make([]int16, 0, audio.FrameSamples)
	readOn, writeOn := true, true
	if r.target.Channel != "" && !r.req.Stereo {
		readOn = r.req.Source != mediacore.RecordWrite
		writeOn = r.req.Source != mediacore.RecordRead
	}
	for i := 0; i < total; i++ {
		t := r.start.Add(time.Duration(i) * time.Second / audio.SampleRate)
		var l, rt float64
		if !paused(r.pauses, t) {
			x := float64(i) / audio.SampleRate
			if readOn {
				l = amp * math.Sin(2*math.Pi*f.opts.ReadTone*x)
			}
			if writeOn {
				rt = amp * math.Sin(2*math.Pi*f.opts.WriteTone*x)
			}
		}
		if channels == 2 {
			left, right = append(left, int16(l)), append(right, int16(rt))
		} else {
			left = append(left, int16(l+rt))
		}
		if len(left) == cap(left) || i == total-1 {
			if channels == 2 {
				_ = w.WriteStereo(left, right)
			} else {
				_ = w.WriteFrame(left)
			}
			left, right = left[:0], right[:0]
		}
	}
	_ = w.Close()
	return m.buf
}

func paused(p [][2]time.Time, t time.Time) bool {
	for _, iv := range p {
		if !t.Before(iv[0]) && (iv[1].IsZero() || t.Before(iv[1])) {
			return true
		}
	}
	return false
}
