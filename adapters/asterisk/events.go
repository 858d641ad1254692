package asterisk

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/CyCoreSystems/ari/v6"
	"golang.org/x/net/websocket"

	"hotline/mediacore"
)

// The event side. The adapter reads ARI's WebSocket itself (golang.org/x/net
// /websocket, the library's own transport) instead of through the
// library's native client, whose dial has no timeout, whose reconnects are
// silent (events lost, no hook to reconcile) and whose bus drops events
// when a subscriber's 100-slot buffer is full. One goroutine reads frames
// in order and decodes them with the library's ari.DecodeEvent (v6 returns
// an error for a type it does not know instead of crashing); the adapter
// translates them and hands them to the sink in arrival order, which is
// Asterisk's order for each channel. Core then queues them per channel in
// its own unbounded mailboxes, so nothing is dropped.

// dial opens the event WebSocket for the app within DialTimeout. It
// dials the TCP (or TLS) connection itself so that closing the socket can
// be a half-close that waits for Asterisk to finish the session: Asterisk
// unregisters the app when it tears a session down, and a next connection
// for the same app made before that would be deactivated by it.
func (b *Backend) dial(ctx context.Context) (*websocket.Conn, error) {
	q := url.Values{"app": {b.cfg.App}}
	cfg, err := websocket.NewConfig(b.wsURL+"?"+q.Encode(), b.origin)
	if err != nil {
		return nil, err
	}
	cfg.Header.Set("Authorization", "Basic "+basicAuth(b.cfg.User, b.cfg.Password))
	dctx, cancel := context.WithTimeout(ctx, b.cfg.DialTimeout)
	defer cancel()
	fail := func(err error) (*websocket.Conn, error) {
		// The error names the URL (no credentials in it) and the cause.
		return nil, fmt.Errorf("%w: asterisk: events websocket: %v", mediacore.ErrBackendUnavailable, redact(err))
	}
	host := cfg.Location.Host
	if cfg.Location.Port() == "" {
		host = net.JoinHostPort(cfg.Location.Hostname(), map[string]string{"ws": "80", "wss": "443"}[cfg.Location.Scheme])
	}
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", host)
	if err != nil {
		return fail(err)
	}
	if cfg.Location.Scheme == "wss" {
		tc := tls.Client(nc, &tls.Config{ServerName: cfg.Location.Hostname(), MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(dctx); err != nil {
			nc.Close()
			return fail(err)
		}
		nc = tc
	}
	deadline, _ := dctx.Deadline()
	_ = nc.SetDeadline(deadline)
	conn, err := websocket.NewClient(cfg, &halfCloser{Conn: nc, linger: b.cfg.CommandTimeout})
	if err != nil {
		nc.Close()
		return fail(err)
	}
	_ = nc.SetDeadline(time.Time{})
	b.mu.Lock()
	b.raw[conn] = nc
	b.mu.Unlock()
	return conn, nil
}

// halfCloser turns the WebSocket's Close (after its close frame) into a
// half-close: the reader then sees Asterisk close its end once it has
// finished the session, or a read deadline after linger.
type halfCloser struct {
	net.Conn
	linger time.Duration
	once   sync.Once
}

func (h *halfCloser) Close() error {
	h.once.Do(func() {
		if cw, ok := h.Conn.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			_ = h.Conn.SetReadDeadline(time.Now().Add(h.linger))
			// The reader may move the deadline again (its watchdog), and a
			// peer that never closes its end would then hold Close forever:
			// after linger the connection is closed outright.
			time.AfterFunc(h.linger, func() { _ = h.Conn.Close() })
			return
		}
		_ = h.Conn.Close()
	})
	return nil
}

// run reads events until Close, redialling with backoff after a drop.
func (b *Backend) run(conn *websocket.Conn) {
	defer b.wg.Done()
	for {
		err := b.readLoop(conn)
		if b.ctx.Err() != nil {
			return
		}
		b.log.Warn("asterisk: events connection lost", "node", b.node, "err", err)
		b.setUp(false)
		b.emit(mediacore.Event{Type: mediacore.EventBackendDown, Backend: Name, Err: err.Error()})
		backoff := 50 * time.Millisecond
		for {
			select {
			case <-b.ctx.Done():
				return
			case <-b.clk(backoff):
			}
			backoff = min(2*backoff, b.cfg.MaxBackoff)
			c, err := b.dial(b.ctx)
			if err != nil {
				b.log.Debug("asterisk: redial failed", "node", b.node, "err", err)
				continue
			}
			if err := b.afterConnect(b.ctx); err != nil {
				b.log.Debug("asterisk: reconcile after redial failed", "node", b.node, "err", err)
				b.closeConn(c)
				continue
			}
			conn = c
			break
		}
		b.log.Info("asterisk: events connection back", "node", b.node)
		b.setUp(true)
		b.emit(mediacore.Event{Type: mediacore.EventBackendUp, Backend: Name})
	}
}

func (b *Backend) clk(d time.Duration) <-chan time.Time { return time.After(d) }

// readLoop reads frames until the connection fails, Close, or the
// watchdog (GET /asterisk/ping every PingInterval) finds ARI unresponsive
// and closes the socket.
func (b *Backend) readLoop(conn *websocket.Conn) error {
	b.mu.Lock()
	b.conn = conn
	// Close cancels b.ctx and then closes b.conn under b.mu: a connection
	// redialled while Close ran is registered either before (Close closes
	// it) or after (seen here). Without this check a redial that raced
	// Close left the reader blocked on a socket nobody closed, and Close
	// waiting for it (TestFakeWatchdog hung 12 minutes in CI).
	if err := b.ctx.Err(); err != nil {
		b.mu.Unlock()
		b.closeConn(conn)
		return err
	}
	b.mu.Unlock()
	done := make(chan struct{})
	watchErr := make(chan error, 1)
	go func() {
		t := time.NewTicker(b.cfg.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(b.ctx, b.cfg.CommandTimeout)
				err := b.ari.do(ctx, "GET", "/asterisk/ping", nil, nil, nil)
				cancel()
				if err != nil && b.ctx.Err() == nil {
					watchErr <- fmt.Errorf("watchdog: %w", err)
					conn.Close()
					return
				}
			}
		}
	}()
	defer close(done)
	defer func() {
		conn.Close() // close frame, half-close
		b.mu.Lock()
		raw := b.raw[conn]
		delete(b.raw, conn)
		b.mu.Unlock()
		if raw != nil {
			_ = raw.Close()
		}
	}()
	for {
		var data []byte
		if err := websocket.Message.Receive(conn, &data); err != nil {
			select {
			case werr := <-watchErr:
				return werr
			default:
			}
			return err
		}
		b.handleFrame(data)
	}
}

// handleFrame decodes and translates one frame; nothing in a frame can
// crash the reader: an undecodable or unknown event is logged and dropped.
func (b *Backend) handleFrame(data []byte) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("asterisk: event handler panic", "node", b.node, "panic", fmt.Sprint(r))
		}
	}()
	if b.recent.seen(data) {
		return
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil || head.Type == "" {
		b.log.Warn("asterisk: malformed event frame", "node", b.node, "bytes", len(data))
		return
	}
	if head.Type == "ChannelTransfer" {
		// Not a TransferReporter: deploy/asterisk refuses REFER, and a
		// transfer Asterisk reports anyway is not Hotline's to answer.
		b.log.Debug("asterisk: ChannelTransfer ignored (REFER is refused by the switch)", "node", b.node)
		return
	}
	ev, err := ari.DecodeEvent(data)
	if err != nil {
		b.log.Debug("asterisk: event ignored", "node", b.node, "type", head.Type, "err", err)
		return
	}
	b.translate(ev)
}

func (b *Backend) translate(ev ari.Event) {
	switch e := ev.(type) {
	case *ari.StasisStart:
		b.onStasisStart(e)
	case *ari.ChannelStateChange:
		b.onState(e.Channel)
	case *ari.Dial:
		b.onDial(e)
	case *ari.ChannelDtmfReceived:
		b.mu.Lock()
		known := b.chans[e.Channel.ID] != nil
		b.mu.Unlock()
		if known && len(e.Digit) == 1 {
			b.channelEvent(e.Channel.ID, mediacore.Event{Type: mediacore.EventDTMF, Digit: e.Digit[0],
				Duration: time.Duration(e.DurationMs) * time.Millisecond})
		}
	case *ari.ChannelHangupRequest:
		b.mu.Lock()
		if c := b.chans[e.Channel.ID]; c != nil && e.Cause != 0 {
			c.q850 = e.Cause
		}
		b.mu.Unlock()
	case *ari.ChannelDestroyed:
		b.onDestroyed(e)
	case *ari.ChannelEnteredBridge:
		b.onEntered(e.Bridge.ID, e.Channel.ID)
	case *ari.ChannelLeftBridge:
		b.onLeft(e.Bridge.ID, e.Channel.ID)
	case *ari.PlaybackFinished:
		b.onPlaybackFinished(e.Playback.ID, e.Playback.State)
	case *ari.RecordingFinished:
		b.onRecordingEnd(e.Recording.Name, "")
	case *ari.RecordingFailed:
		b.onRecordingEnd(e.Recording.Name, e.Recording.Cause)
	case *ari.ContactStatusChange:
		b.onContact(e)
	case *ari.StasisEnd:
		// A channel leaves the app only when it hangs up (ChannelDestroyed
		// follows) or is moved away by someone else.
	}
}

func (b *Backend) onStasisStart(e *ari.StasisStart) {
	id := e.Channel.ID
	b.mu.Lock()
	if w := b.stasis[id]; w != nil {
		close(w)
		delete(b.stasis, id)
	}
	if b.helpers[id] || b.chans[id] != nil || strings.HasPrefix(id, helperPrefix) {
		b.mu.Unlock()
		return
	}
	c := &channel{id: id, dir: mediacore.Inbound, created: chanCreated(e.Channel), state: e.Channel.State}
	if e.Channel.Caller != nil {
		c.caller, c.callerName = e.Channel.Caller.Number, e.Channel.Caller.Name
	}
	if e.Channel.Dialplan != nil {
		c.called = e.Channel.Dialplan.Exten
	}
	b.chans[id] = c
	b.mu.Unlock()
	b.channelEvent(id, mediacore.Event{Type: mediacore.EventChannelCreated, Direction: mediacore.Inbound,
		Caller: c.caller, CallerName: c.callerName, Called: c.called})
	if strings.EqualFold(e.Channel.State, "Up") {
		b.onState(e.Channel)
	}
}

func chanCreated(d ari.ChannelData) time.Time {
	if d.Creationtime != nil {
		return time.Unix(d.Creationtime.Seconds, int64(d.Creationtime.Nanos))
	}
	return time.Now()
}

func (b *Backend) onState(d ari.ChannelData) {
	b.mu.Lock()
	c := b.chans[d.ID]
	if c == nil {
		b.mu.Unlock()
		return
	}
	c.state = d.State
	var out []mediacore.Event
	switch d.State {
	case "Up":
		if c.answered.IsZero() {
			c.answered = time.Now()
			out = append(out, mediacore.Event{Type: mediacore.EventAnswered})
		}
	case "Ringing":
		if c.dir == mediacore.Outbound && !c.ringing {
			c.ringing = true
			out = append(out, mediacore.Event{Type: mediacore.EventRinging})
		}
	}
	b.mu.Unlock()
	for _, ev := range out {
		b.channelEvent(d.ID, ev)
	}
}

func (b *Backend) onDial(e *ari.Dial) {
	if e.Peer.ID == "" {
		return
	}
	b.mu.Lock()
	c := b.chans[e.Peer.ID]
	if c == nil {
		b.mu.Unlock()
		return
	}
	if e.Dialstatus != "" {
		c.dialStatus = e.Dialstatus
	}
	var out []mediacore.Event
	switch e.Dialstatus {
	case "RINGING":
		if !c.ringing {
			c.ringing = true
			out = append(out, mediacore.Event{Type: mediacore.EventRinging})
		}
	case "PROGRESS":
		if !c.early {
			c.early = true
			out = append(out, mediacore.Event{Type: mediacore.EventProgress})
		}
	}
	b.mu.Unlock()
	for _, ev := range out {
		b.channelEvent(e.Peer.ID, ev)
	}
}

// hangupCause picks the cause of a channel's end: the one Hotline asked
// for, else the dial status of an originated leg, else Asterisk's Q.850
// cause; a caller that gives up before answer is Cancelled.
func hangupCause(c *channel, q850 int) (mediacore.Cause, int) {
	if c.requested != nil {
		return *c.requested, c.requested.SIPCode()
	}
	if c.dir == mediacore.Outbound && c.answered.IsZero() {
		switch c.dialStatus {
		case "BUSY":
			return mediacore.CauseBusy, 486
		case "NOANSWER":
			return mediacore.CauseNoAnswer, 480
		case "CONGESTION":
			return mediacore.CauseCongestion, 503
		case "CHANUNAVAIL":
			return mediacore.CauseUnavailable, 480
		case "CANCEL":
			return mediacore.CauseCancelled, 487
		}
	}
	cause := mediacore.CauseFromQ850(q850)
	if c.dir == mediacore.Inbound && c.answered.IsZero() && (cause == mediacore.CauseNormal || cause == mediacore.CauseUnknown) {
		return mediacore.CauseCancelled, 487
	}
	if cause == mediacore.CauseUnknown && !c.answered.IsZero() {
		cause = mediacore.CauseNormal
	}
	return cause, 0
}

func (b *Backend) onDestroyed(e *ari.ChannelDestroyed) {
	id := e.Channel.ID
	b.mu.Lock()
	c := b.chans[id]
	if c == nil {
		b.mu.Unlock()
		b.dropHelper(id)
		return
	}
	q := e.Cause
	if q == 0 {
		q = c.q850
	}
	cause, sip := hangupCause(c, q)
	var left []mediacore.Event
	if c.bridge != "" {
		left = append(left, mediacore.Event{Type: mediacore.EventBridgeLeft, Bridge: mediacore.BridgeID(c.bridge)})
		if br := b.bridges[c.bridge]; br != nil {
			delete(br.members, id)
		}
		c.bridge = ""
	}
	helpers := c.helpers
	delete(b.chans, id)
	b.mu.Unlock()
	for _, ev := range left {
		b.channelEvent(id, ev)
	}
	if q == 0 {
		q = cause.Q850()
	}
	b.channelEvent(id, mediacore.Event{Type: mediacore.EventHangup, Cause: cause, SIPCode: sip, Q850: q})
	b.cleanupHelpers(helpers)
}

func (b *Backend) onContact(e *ari.ContactStatusChange) {
	if !strings.EqualFold(e.Endpoint.Technology, "PJSIP") || !isWord(e.Endpoint.Resource) {
		return
	}
	ev := mediacore.Event{Endpoint: "user/" + e.Endpoint.Resource, Contact: e.ContactInfo.Uri}
	switch e.ContactInfo.ContactStatus {
	case "Reachable", "NonQualified", "Created":
		ev.Type = mediacore.EventEndpointRegistered
	case "Removed", "Unreachable":
		ev.Type = mediacore.EventEndpointUnregistered
	default:
		return
	}
	b.emit(ev)
}

// channelEvent emits ev for channel id.
func (b *Backend) channelEvent(id string, ev mediacore.Event) {
	ev.Channel = mediacore.ChannelID(id)
	b.emit(ev)
}

// emit hands ev to the sink; emitMu keeps events that commands make up
// (ChannelCreated of an originate, Progress) in order with the reader's.
func (b *Backend) emit(ev mediacore.Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	b.emitMu.Lock()
	defer b.emitMu.Unlock()
	if b.sink != nil {
		b.sink(ev)
	}
}

// dedupe remembers the hashes of the last frames. Asterisk sends a
// channel's event once per subscription that covers it: the channel's own
// and, for PJSIP channels, the endpoint subscription the adapter holds
// for registration events; the copies are byte for byte the same
// (same timestamp to the millisecond), so the second is dropped.
type dedupe struct {
	ring [64]uint64
	next int
	set  map[uint64]int
}

func (d *dedupe) seen(data []byte) bool {
	h := fnv.New64a()
	h.Write(data)
	sum := h.Sum64()
	if d.set == nil {
		d.set = map[uint64]int{}
	}
	if d.set[sum] > 0 {
		return true
	}
	old := d.ring[d.next]
	if d.set[old] > 0 {
		d.set[old]--
		if d.set[old] == 0 {
			delete(d.set, old)
		}
	}
	d.ring[d.next] = sum
	d.next = (d.next + 1) % len(d.ring)
	d.set[sum]++
	return false
}
