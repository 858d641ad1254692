package freeswitch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"hotline/mediacore"
)

// subscribed are the plain events the backend listens to.
var subscribed = []string{
	"CHANNEL_CREATE", "CHANNEL_PARK", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER",
	"CHANNEL_HANGUP_COMPLETE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HOLD", "CHANNEL_UNHOLD", "DTMF",
	"RECORD_STOP", "BACKGROUND_JOB", "HEARTBEAT",
	"CUSTOM", "sofia::register", "sofia::unregister", "sofia::expire", "conference::maintenance",
}

// Backend drives one FreeSWITCH node over its event socket.
type Backend struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex // guards everything below
	c        *conn      // nil while down
	sink     func(mediacore.Event)
	closed   bool
	muted    bool // Close started: events are no longer passed on
	stop     chan struct{}
	wg       sync.WaitGroup
	chans    map[string]*chanState
	bridges  map[mediacore.BridgeID]*bridgeState
	plays    map[mediacore.PlaybackID]*playState
	recs     map[mediacore.RecordingID]*recState
	finished map[mediacore.RecordingID]string // switch path of finished recordings
	jobs     map[string]chan *event           // Job-UUID -> BACKGROUND_JOB
	mediaDir string
	recDir   string
	changed  chan struct{}        // closed and replaced after every event
	ended    map[string]time.Time // recently ended channels (the switch's list lags)
}

type chanState struct {
	id        string
	dir       mediacore.Direction
	announced bool // ChannelCreated emitted
	state     mediacore.ChannelState
	caller    string
	called    string
	created   time.Time
	answered  time.Time
	lastSeq   uint64
	created1  chan struct{} // closed when an originated channel exists
	answerCh  chan struct{} // closed on answer or hangup
	ended     bool

	bridge    mediacore.BridgeID // the conference, also while held
	member    mediacore.Member
	memberID  string        // conference member id
	joinCh    chan struct{} // closed on add-member
	quiet     bool          // hold: leave and rejoin without bridge events
	held      bool          // the far end holds (CHANNEL_HOLD)
	localHold bool          // our Hold is in force
	holdPlay  mediacore.PlaybackID
	parkCh    chan struct{} // closed on the next CHANNEL_PARK
	progress  bool          // Progress was asked for (inbound)
}

type bridgeState struct {
	id      mediacore.BridgeID
	members map[string]bool        // channel ids
	plays   []mediacore.PlaybackID // conference playbacks in play order
}

type playState struct {
	id     mediacore.PlaybackID
	ch     string
	bridge mediacore.BridgeID // a conference playback
	hidden bool
}

type recState struct {
	id      mediacore.RecordingID
	ch      string
	bridge  mediacore.BridgeID // a conference recording
	path    string
	started time.Time
	stopped bool
}

// New checks cfg and returns a backend that is not connected yet.
func New(cfg Config) (*Backend, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return &Backend{
		cfg:      cfg,
		log:      cfg.Logger,
		stop:     make(chan struct{}),
		chans:    map[string]*chanState{},
		bridges:  map[mediacore.BridgeID]*bridgeState{},
		plays:    map[mediacore.PlaybackID]*playState{},
		recs:     map[mediacore.RecordingID]*recState{},
		finished: map[mediacore.RecordingID]string{},
		jobs:     map[string]chan *event{},
		changed:  make(chan struct{}),
		ended:    map[string]time.Time{},
	}, nil
}

// Name returns "freeswitch".
func (b *Backend) Name() string { return "freeswitch" }

// Start connects, subscribes, learns the switch's directories and lists
// live channels; it then keeps the connection up (watchdog, redial).
func (b *Backend) Start(ctx context.Context, sink func(mediacore.Event)) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return mediacore.ErrClosed
	}
	if b.sink != nil {
		b.mu.Unlock()
		return fmt.Errorf("%w: started twice", mediacore.ErrInvalidArgument)
	}
	b.sink = sink
	b.mu.Unlock()
	c, err := b.connect(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", mediacore.ErrBackendUnavailable, err)
	}
	b.emit(mediacore.Event{Type: mediacore.EventBackendUp, Backend: b.Name()})
	b.wg.Add(1)
	go b.supervise(c)
	return nil
}

// connect dials, subscribes and reconciles; it installs the connection.
func (b *Backend) connect(ctx context.Context) (*conn, error) {
	c, err := dialESL(ctx, b.cfg.Address, b.cfg.Password, subscribed, b.cfg.CommandTimeout, b.onEvent, nil)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		c.close(mediacore.ErrClosed)
		return nil, mediacore.ErrClosed
	}
	b.c = c
	b.mu.Unlock()
	if b.mediaDir == "" || b.recDir == "" {
		for _, d := range []struct {
			cfg  string
			name string
			dst  *string
		}{{b.cfg.MediaDir, "sounds_dir", &b.mediaDir}, {b.cfg.RecordingsDir, "recordings_dir", &b.recDir}} {
			v := d.cfg
			if v == "" {
				v, err = b.api(ctx, "global_getvar "+d.name)
				if err != nil {
					c.close(err)
					return nil, err
				}
			}
			v = strings.TrimSpace(v)
			if !safePath(v) {
				c.close(errMalformed)
				return nil, fmt.Errorf("%w: switch %s %q", ErrInsecureConfig, d.name, v)
			}
			b.mu.Lock()
			*d.dst = v
			b.mu.Unlock()
		}
	}
	if err := b.reconcile(ctx); err != nil {
		c.close(err)
		return nil, err
	}
	return c, nil
}

// supervise watches the connection: a watchdog probes it while idle, and
// when it closes the backend reports BackendDown and redials with backoff.
func (b *Backend) supervise(c *conn) {
	defer b.wg.Done()
	for {
		b.watch(c)
		b.mu.Lock()
		if b.c == c {
			b.c = nil
		}
		closed := b.closed
		b.mu.Unlock()
		if closed {
			return
		}
		b.log.Warn("freeswitch: event socket lost", "addr", b.cfg.Address, "err", c.errValue())
		b.emit(mediacore.Event{Type: mediacore.EventBackendDown, Backend: b.Name(), Err: fmt.Sprint(c.errValue())})
		b.failJobs()
		backoff := 100 * time.Millisecond
		for {
			select {
			case <-b.stop:
				return
			case <-time.After(backoff):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*b.cfg.CommandTimeout)
			nc, err := b.connect(ctx)
			cancel()
			if err == nil {
				c = nc
				break
			}
			b.log.Debug("freeswitch: redial failed", "err", err)
			backoff = min(2*backoff, b.cfg.RedialMax)
		}
		b.emit(mediacore.Event{Type: mediacore.EventBackendUp, Backend: b.Name()})
		// A channel whose hangup event fired just before the new
		// subscription still exists for a moment (it is being destroyed):
		// check again once it surely is gone.
		select {
		case <-b.stop:
			return
		case <-c.done:
			continue
		case <-time.After(time.Second):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*b.cfg.CommandTimeout)
		if err := b.reconcile(ctx); err != nil {
			b.log.Debug("freeswitch: second reconcile", "err", err)
		}
		cancel()
	}
}

// watch returns when c closes; it probes c with "api status" every
// WatchdogInterval.
func (b *Backend) watch(c *conn) {
	t := time.NewTicker(b.cfg.WatchdogInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-b.stop:
			c.close(mediacore.ErrClosed)
			<-c.done
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), b.cfg.CommandTimeout)
			_, _ = c.send(ctx, "api status", b.cfg.CommandTimeout)
			cancel()
		}
	}
}

func (b *Backend) failJobs() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, ch := range b.jobs {
		close(ch)
		delete(b.jobs, id)
	}
}

// Close hangs up the channels the backend knows (uuid_kill) and drops the
// connection.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	// No events after Close started: the hangups below are Close's own
	// (and a Core that closes must not get events while it waits for its
	// mailboxes to drain).
	b.muted = true
	var ids []string
	for id, cs := range b.chans {
		if !cs.ended {
			ids = append(ids, id)
		}
	}
	up := b.c != nil
	b.mu.Unlock()
	if up && len(ids) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), b.cfg.CommandTimeout)
		for _, id := range ids {
			if _, err := b.api(ctx, "uuid_kill "+id+" NORMAL_CLEARING"); errors.Is(err, mediacore.ErrBackendUnavailable) {
				break
			}
		}
		// Wait for their hangups, so the switch is clean for whoever
		// connects next.
		_ = b.waitFor(ctx, func() bool {
			for _, id := range ids {
				if cs := b.chans[id]; cs != nil && !cs.ended {
					return false
				}
			}
			return true
		})
		cancel()
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stop)
	c := b.c
	b.mu.Unlock()
	if c != nil {
		c.close(mediacore.ErrClosed)
	}
	b.wg.Wait()
	return nil
}

func (b *Backend) emit(ev mediacore.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	b.mu.Lock()
	sink := b.sink
	if b.muted {
		sink = nil
	}
	b.mu.Unlock()
	if sink != nil {
		sink(ev)
	}
}

// current returns the live connection or ErrBackendUnavailable at once.
func (b *Backend) current() (*conn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, mediacore.ErrClosed
	}
	if b.c == nil {
		return nil, fmt.Errorf("%w: event socket down", mediacore.ErrBackendUnavailable)
	}
	return b.c, nil
}

// raw sends one command line (or a multi-line sendmsg) and returns the
// reply frame.
func (b *Backend) raw(ctx context.Context, msg string) (*frame, error) {
	if strings.Contains(msg, "\n\n") || strings.ContainsAny(msg, "\r\x00") {
		return nil, fmt.Errorf("%w: command with a blank line", mediacore.ErrInvalidArgument)
	}
	c, err := b.current()
	if err != nil {
		return nil, err
	}
	f, err := c.send(ctx, msg, b.cfg.CommandTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("freeswitch: %w", ctx.Err())
		}
		return nil, fmt.Errorf("%w: %w", mediacore.ErrBackendUnavailable, err)
	}
	return f, nil
}

// api runs "api cmd" and returns its body; a body starting "-ERR" or
// "-USAGE" is an error mapped to the contract's sentinels.
func (b *Backend) api(ctx context.Context, cmd string) (string, error) {
	if strings.ContainsAny(cmd, "\n\r") {
		return "", fmt.Errorf("%w: command with a line break", mediacore.ErrInvalidArgument)
	}
	f, err := b.raw(ctx, "api "+cmd)
	if err != nil {
		return "", err
	}
	body := string(f.body)
	if strings.HasPrefix(body, "-ERR") || strings.HasPrefix(body, "-USAGE") {
		return body, apiError(body)
	}
	return body, nil
}

func apiError(body string) error {
	msg := strings.TrimSpace(body)
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "no such channel"), strings.Contains(low, "cannot locate session"),
		strings.Contains(low, "invalid uuid"):
		return fmt.Errorf("%w: %s", mediacore.ErrNoSuchChannel, msg)
	case strings.HasPrefix(low, "-err conference") && strings.HasSuffix(low, "not found") && !strings.Contains(low, "command"):
		return fmt.Errorf("%w: %s", mediacore.ErrNoSuchBridge, msg)
	case strings.Contains(low, "user_not_registered"), strings.Contains(low, "subscriber_absent"),
		strings.Contains(low, "no_route_destination"), strings.Contains(low, "unallocated_number"),
		strings.Contains(low, "invalid_gateway"):
		return fmt.Errorf("%w: %s", mediacore.ErrNotFound, msg)
	}
	return fmt.Errorf("%w: %s", errRefused, msg)
}

// errRefused is a command the switch answered -ERR without a reason the
// adapter maps to a contract sentinel (a transient state of the channel,
// typically).
var errRefused = errors.New("freeswitch: command refused")

// execute runs a dialplan application on a channel (sendmsg), tagging it
// with appID so its CHANNEL_EXECUTE_COMPLETE is recognised.
func (b *Backend) execute(ctx context.Context, uuid, app, arg, appID string) error {
	msg := "sendmsg " + uuid + "\ncall-command: execute\nexecute-app-name: " + app
	if arg != "" {
		msg += "\nexecute-app-arg: " + arg
	}
	if appID != "" {
		msg += "\nEvent-UUID: " + appID
	}
	f, err := b.raw(ctx, msg)
	if err != nil {
		return err
	}
	if r := f.get("Reply-Text"); !strings.HasPrefix(r, "+OK") {
		return apiError(r)
	}
	return nil
}

// bgapi runs a slow command in the background under our own Job-UUID and
// waits for its BACKGROUND_JOB (or ctx, or until stop is closed).
func (b *Backend) bgapi(ctx context.Context, cmd, jobID string, stop <-chan struct{}) (string, error) {
	ch := make(chan *event, 1)
	b.mu.Lock()
	b.jobs[jobID] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		if b.jobs[jobID] == ch {
			delete(b.jobs, jobID)
		}
		b.mu.Unlock()
	}()
	f, err := b.raw(ctx, "bgapi "+cmd+"\nJob-UUID: "+jobID)
	if err != nil {
		return "", err
	}
	if r := f.get("Reply-Text"); !strings.HasPrefix(r, "+OK") {
		return "", apiError(r)
	}
	select {
	case ev, ok := <-ch:
		if !ok {
			return "", fmt.Errorf("%w: connection lost during %s", mediacore.ErrBackendUnavailable, strings.Fields(cmd)[0])
		}
		if strings.HasPrefix(ev.body, "-ERR") {
			return ev.body, apiError(ev.body)
		}
		return ev.body, nil
	case <-stop:
		return "", nil
	case <-ctx.Done():
		return "", fmt.Errorf("freeswitch: %w", ctx.Err())
	}
}

// reconcile lists the switch's channels after a (re)connect: channels we
// knew that are gone get their Hangup (their end happened while we could
// not see it); channels we did not know are adopted (inbound ones that sit
// in park are announced).
func (b *Backend) reconcile(ctx context.Context) error {
	rows, err := b.showChannels(ctx)
	if err != nil {
		return err
	}
	live := map[string]fsChannel{}
	for _, r := range rows {
		if b.known(r.UUID) {
			live[r.UUID] = r
			continue
		}
		// The list may still hold channels that just ended.
		if v, err := b.api(ctx, "uuid_exists "+r.UUID); err == nil && strings.TrimSpace(v) == "true" {
			live[r.UUID] = r
		}
	}
	// "show channels" reads the switch's database, written a little after
	// the fact (it may still list a channel that just ended, or miss one
	// just created): every known channel is asked about directly.
	b.mu.Lock()
	var missing []string
	for id, cs := range b.chans {
		if cs.announced && !cs.ended {
			missing = append(missing, id)
		}
	}
	b.mu.Unlock()
	gone := map[string]bool{}
	for _, id := range missing {
		v, err := b.api(ctx, "uuid_exists "+id)
		if err != nil {
			return err
		}
		if strings.TrimSpace(v) != "true" {
			gone[id] = true
		}
	}
	var out []mediacore.Event
	b.mu.Lock()
	for id, cs := range b.chans {
		if !gone[id] || cs.ended {
			continue
		}
		cs.ended = true
		out = append(out, b.leaveLocked(cs)...)
		out = append(out, mediacore.Event{Type: mediacore.EventHangup, Channel: mediacore.ChannelID(id), Cause: mediacore.CauseUnknown})
		b.forgetLocked(cs)
	}
	for id, r := range live {
		if _, gone := b.ended[id]; gone {
			continue
		}
		if _, ok := b.chans[id]; ok || mediacore.ValidateID(id) != nil {
			continue
		}
		cs := &chanState{id: id, dir: r.direction(), state: r.state(), caller: r.CIDNum, called: r.Dest,
			created: r.created(), answerCh: make(chan struct{}), created1: make(chan struct{})}
		if cs.state == mediacore.ChannelUp || cs.state == mediacore.ChannelHeld {
			cs.answered = cs.created
			close(cs.answerCh)
		}
		close(cs.created1)
		cs.announced = true
		b.chans[id] = cs
		out = append(out, mediacore.Event{Type: mediacore.EventChannelCreated, Channel: mediacore.ChannelID(id),
			Direction: cs.dir, Caller: cs.caller, Called: cs.called})
	}
	b.mu.Unlock()
	for _, ev := range out {
		b.emit(ev)
	}
	return nil
}

// fsChannel is one row of "show channels as json".
type fsChannel struct {
	UUID        string `json:"uuid"`
	Direction   string `json:"direction"`
	CreatedUnix string `json:"created_epoch"`
	CIDNum      string `json:"cid_num"`
	Dest        string `json:"dest"`
	CallState   string `json:"callstate"`
}

func (r fsChannel) direction() mediacore.Direction {
	if r.Direction == "outbound" {
		return mediacore.Outbound
	}
	return mediacore.Inbound
}

func (r fsChannel) state() mediacore.ChannelState {
	switch r.CallState {
	case "ACTIVE":
		return mediacore.ChannelUp
	case "HELD":
		return mediacore.ChannelHeld
	case "EARLY":
		return mediacore.ChannelEarly
	}
	return mediacore.ChannelRinging
}

func (r fsChannel) created() time.Time {
	n, err := strconv.ParseInt(r.CreatedUnix, 10, 64)
	if err != nil || n <= 0 {
		return time.Now()
	}
	return time.Unix(n, 0)
}

func (b *Backend) showChannels(ctx context.Context) ([]fsChannel, error) {
	body, err := b.api(ctx, "show channels as json")
	if err != nil {
		return nil, err
	}
	return parseShowChannels([]byte(body))
}

// parseShowChannels decodes "show channels as json" ({"row_count": 0} when
// empty).
func parseShowChannels(body []byte) ([]fsChannel, error) {
	var res struct {
		RowCount int         `json:"row_count"`
		Rows     []fsChannel `json:"rows"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("%w: show channels: %w", errMalformed, err)
	}
	return res.Rows, nil
}

// Channels lists the switch's channels, with what the backend knows of
// each (state, bridge, answer time).
func (b *Backend) Channels(ctx context.Context) ([]mediacore.ChannelInfo, error) {
	rows, err := b.showChannels(ctx)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []mediacore.ChannelInfo
	// The switch's list lags behind its events: channels we know are
	// listed from our state.
	listed := map[string]bool{}
	for _, r := range rows {
		listed[r.UUID] = true
	}
	for id, cs := range b.chans {
		if !listed[id] && cs.announced && !cs.ended {
			rows = append(rows, fsChannel{UUID: id})
		}
	}
	for _, r := range rows {
		if _, gone := b.ended[r.UUID]; gone || mediacore.ValidateID(r.UUID) != nil {
			continue
		}
		info := mediacore.ChannelInfo{ID: mediacore.ChannelID(r.UUID), Direction: r.direction(), State: r.state(),
			Caller: r.CIDNum, Called: r.Dest, Created: r.created()}
		if cs := b.chans[r.UUID]; cs != nil {
			if cs.ended {
				continue
			}
			info.Direction, info.Caller, info.Called, info.Created = cs.dir, cs.caller, cs.called, cs.created
			info.State, info.Bridge, info.Answered = cs.state, cs.bridge, cs.answered
			if cs.held || cs.localHold {
				info.State = mediacore.ChannelHeld
			}
		}
		if (info.State == mediacore.ChannelUp || info.State == mediacore.ChannelHeld) && info.Answered.IsZero() {
			info.Answered = info.Created
		}
		out = append(out, info)
	}
	return out, nil
}

// Bridges lists the backend's bridges (conferences it created) and their
// members.
func (b *Backend) Bridges(ctx context.Context) ([]mediacore.BridgeInfo, error) {
	if _, err := b.current(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []mediacore.BridgeInfo
	for _, br := range b.bridges {
		info := mediacore.BridgeInfo{ID: br.id, Members: map[mediacore.ChannelID]mediacore.Member{}}
		for id := range br.members {
			if cs := b.chans[id]; cs != nil {
				info.Members[mediacore.ChannelID(id)] = cs.member
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// forgetLocked drops a channel's state (its bridge membership too).
func (b *Backend) forgetLocked(cs *chanState) {
	if br := b.bridges[cs.bridge]; br != nil {
		delete(br.members, cs.id)
	}
	for id, p := range b.plays {
		if p.ch == cs.id {
			delete(b.plays, id)
		}
	}
	delete(b.chans, cs.id)
	now := time.Now()
	b.ended[cs.id] = now
	for id, t := range b.ended {
		if now.Sub(t) > time.Minute {
			delete(b.ended, id)
		}
	}
}

// waitFor waits until cond (called with b.mu held) is true.
func (b *Backend) waitFor(ctx context.Context, cond func() bool) error {
	for {
		b.mu.Lock()
		ok := cond()
		ch := b.changed
		b.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("freeswitch: %w", ctx.Err())
		}
	}
}

// leaveLocked returns the BridgeLeft of a channel still in a bridge.
func (b *Backend) leaveLocked(cs *chanState) []mediacore.Event {
	if cs.bridge == "" {
		return nil
	}
	br := cs.bridge
	if x := b.bridges[br]; x != nil {
		delete(x.members, cs.id)
	}
	cs.bridge, cs.memberID, cs.member = "", "", mediacore.Member{}
	return []mediacore.Event{{Type: mediacore.EventBridgeLeft, Channel: mediacore.ChannelID(cs.id), Bridge: br}}
}

func (b *Backend) chanOf(id mediacore.ChannelID) (*chanState, error) {
	if err := checkID("channel", string(id)); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	cs := b.chans[string(id)]
	if cs == nil || cs.ended || !cs.announced {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchChannel, id)
	}
	return cs, nil
}

func (b *Backend) known(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.chans[id] != nil
}
