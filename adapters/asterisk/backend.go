package asterisk

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/websocket"

	"hotline/mediacore"
)

// Name is the backend's registered name.
const Name = "asterisk"

func init() {
	mediacore.Register(Name, func(opts mediacore.FactoryOptions) (mediacore.Backend, error) {
		var cfg Config
		if err := opts.Decode(&cfg); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
		return New(cfg, opts.Node, opts.Logger)
	})
}

// Backend drives one Asterisk over ARI.
type Backend struct {
	cfg    Config
	node   string
	log    *slog.Logger
	ari    *ariClient
	wsURL  string
	origin string
	media  *mediaServer

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	emitMu sync.Mutex // serializes sink calls
	sink   func(mediacore.Event)

	mu        sync.Mutex // guards the fields below
	conn      *websocket.Conn
	raw       map[*websocket.Conn]net.Conn // each socket's TCP/TLS connection
	up        bool
	started   bool
	closed    bool
	chans     map[string]*channel
	helpers   map[string]bool // snoop channels and hidden bridges the adapter made
	helperNo  int             // numbers the hidden parts' ids
	bridges   map[string]*bridge
	playbacks map[string]*playback // by Core's playback id
	items     map[string]*playback // by ARI playback id (one per media item)
	recs      map[string]*recording
	recByName map[string]*recording
	stasis    map[string]chan struct{} // channels waited for in Stasis
	recent    dedupe                   // frames seen lately (see handleFrame)
}

// channel is what the adapter knows of one call leg.
type channel struct {
	id                 string
	dir                mediacore.Direction
	created, answered  time.Time
	caller, callerName string
	called             string
	state              string // Asterisk's channel state
	ringing, early     bool
	dialStatus         string
	q850               int
	requested          *mediacore.Cause
	bridge             string // visible bridge it is in
	role               mediacore.Member
	pendingRole        *mediacore.Member // role of a join in progress
	swallow            int               // bridge events of a role change to hide
	helpers            []string          // snoop channels and hidden bridges to clean up with it
	virtual            bool              // a whisper member: in the bridge for Core, not in Asterisk's
	held               bool
	holdMusic          mediacore.PlaybackID
	recIn              int // live recordings that hear its "in" direction (tones are files then)
}

type bridge struct {
	id        string
	members   map[string]mediacore.Member
	destroyed bool
}

// New builds a backend for cfg; node names it in logs.
func New(cfg Config, node string, log *slog.Logger) (*Backend, error) {
	cfg.withDefaults()
	u, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ws := *u
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	ws.Path = strings.TrimSuffix(u.Path, "/") + "/events"
	origin := url.URL{Scheme: u.Scheme, Host: u.Host}
	b := &Backend{
		cfg: cfg, node: node, log: log,
		ari: &ariClient{base: strings.TrimSuffix(u.String(), "/"), user: cfg.User, pass: cfg.Password,
			timeout: cfg.CommandTimeout, http: newHTTP()},
		wsURL: ws.String(), origin: origin.String(),
		chans: map[string]*channel{}, helpers: map[string]bool{}, bridges: map[string]*bridge{},
		playbacks: map[string]*playback{}, items: map[string]*playback{},
		recs: map[string]*recording{}, recByName: map[string]*recording{}, stasis: map[string]chan struct{}{}, raw: map[*websocket.Conn]net.Conn{},
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

// Name returns "asterisk".
func (b *Backend) Name() string { return Name }

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// Start connects the event socket, checks the credentials, subscribes to
// PJSIP endpoint events, starts the prompt server and adopts the
// channels already in the app, then emits BackendUp.
func (b *Backend) Start(ctx context.Context, sink func(mediacore.Event)) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return mediacore.ErrClosed
	}
	if b.started {
		b.mu.Unlock()
		return fmt.Errorf("%w: started twice", mediacore.ErrChannelState)
	}
	b.started = true
	b.mu.Unlock()
	b.emitMu.Lock()
	b.sink = sink
	b.emitMu.Unlock()
	ms, err := newMediaServer(b.cfg.MediaListen, b.cfg.MediaURL, b.log)
	if err != nil {
		return err
	}
	b.media = ms
	conn, err := b.dial(ctx)
	if err != nil {
		return err
	}
	if err := b.afterConnect(ctx); err != nil {
		b.closeConn(conn)
		return err
	}
	b.setUp(true)
	b.emit(mediacore.Event{Type: mediacore.EventBackendUp, Backend: Name})
	b.wg.Add(1)
	go b.run(conn)
	return nil
}

// afterConnect checks ARI answers, subscribes the app to endpoint events
// and reconciles the adapter's state with Asterisk's channel and bridge
// lists (after a redial: channels that ended meanwhile are forgotten,
// Core ends them with CauseNodeLost when it lists Channels).
func (b *Backend) afterConnect(ctx context.Context) error {
	if err := b.ari.do(ctx, "GET", "/asterisk/info", nil, nil, nil); err != nil {
		return fmt.Errorf("asterisk: info: %w", ariErr(err, mediacore.ErrBackendUnavailable))
	}
	if err := b.ari.do(ctx, "POST", "/applications/"+seg(b.cfg.App)+"/subscription",
		url.Values{"eventSource": {"endpoint:PJSIP"}}, nil, nil); err != nil {
		b.log.Warn("asterisk: no endpoint events", "node", b.node, "err", err)
	}
	return b.reconcile(ctx)
}

// closeConn closes a socket that never got a reader.
func (b *Backend) closeConn(conn *websocket.Conn) {
	conn.Close()
	b.mu.Lock()
	raw := b.raw[conn]
	delete(b.raw, conn)
	b.mu.Unlock()
	if raw != nil {
		_ = raw.Close()
	}
}

func (b *Backend) setUp(up bool) {
	b.mu.Lock()
	b.up = up
	b.mu.Unlock()
}

// Close hangs up the channels and destroys the bridges the adapter
// holds, closes the event socket and the prompt server. Safe twice.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	var chans, bridges []string
	for id := range b.chans {
		chans = append(chans, id)
	}
	for id := range b.bridges {
		bridges = append(bridges, id)
	}
	for id := range b.helpers {
		bridges = append(bridges, id) // hidden bridges; channels among them answer 404
	}
	up := b.up
	b.mu.Unlock()
	if up {
		ctx, cancel := context.WithTimeout(context.Background(), b.cfg.CommandTimeout)
		for _, id := range chans {
			_ = b.ari.do(ctx, "DELETE", "/channels/"+seg(id), nil, nil, nil)
		}
		for _, id := range bridges {
			_ = b.ari.do(ctx, "DELETE", "/bridges/"+seg(id), nil, nil, nil)
		}
		cancel()
	}
	b.cancel()
	b.mu.Lock()
	if b.conn != nil {
		b.conn.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
	if b.media != nil {
		b.media.close()
	}
	b.ari.http.CloseIdleConnections()
	return nil
}

// ready refuses commands before Start, after Close and while the events
// connection is down.
func (b *Backend) ready() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return mediacore.ErrClosed
	case !b.up:
		return fmt.Errorf("%w: asterisk node %s not connected", mediacore.ErrBackendUnavailable, b.node)
	}
	return nil
}

// known returns the channel's state or ErrNoSuchChannel.
func (b *Backend) known(id mediacore.ChannelID) (*channel, error) {
	if err := mediacore.ValidateID(string(id)); err != nil {
		return nil, err
	}
	if err := b.ready(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.chans[string(id)]
	if c == nil {
		return nil, fmt.Errorf("%w: %s", mediacore.ErrNoSuchChannel, id)
	}
	return c, nil
}

func (b *Backend) chanPost(ctx context.Context, id mediacore.ChannelID, op string, q url.Values) error {
	if _, err := b.known(id); err != nil {
		return err
	}
	err := b.ari.do(ctx, "POST", "/channels/"+seg(string(id))+"/"+op, q, nil, nil)
	return ariErr(err, mediacore.ErrNoSuchChannel)
}

// Ring sends 180 Ringing on an unanswered inbound channel.
func (b *Backend) Ring(ctx context.Context, ch mediacore.ChannelID) error {
	if err := b.chanPost(ctx, ch, "ring", nil); err != nil {
		return err
	}
	b.emitIf(ch, func(c *channel) bool {
		if c.ringing || !c.answered.IsZero() {
			return false
		}
		c.ringing = true
		return true
	}, mediacore.Event{Type: mediacore.EventRinging})
	return nil
}

// Progress sends 183 Session Progress (ARI channels/{id}/progress,
// Asterisk 22): playbacks are heard from then on, before Answer.
func (b *Backend) Progress(ctx context.Context, ch mediacore.ChannelID) error {
	c, err := b.known(ch)
	if err != nil {
		return err
	}
	b.mu.Lock()
	answered := !c.answered.IsZero()
	b.mu.Unlock()
	if answered {
		return fmt.Errorf("%w: channel %s is answered", mediacore.ErrChannelState, ch)
	}
	if err := b.chanPost(ctx, ch, "progress", nil); err != nil {
		return err
	}
	b.emitIf(ch, func(c *channel) bool {
		if c.early {
			return false
		}
		c.early = true
		return true
	}, mediacore.Event{Type: mediacore.EventProgress})
	return nil
}

// emitIf emits ev for ch when the channel still exists and cond (run
// under the state lock) says so, in order with the reader's events.
func (b *Backend) emitIf(ch mediacore.ChannelID, cond func(*channel) bool, ev mediacore.Event) {
	b.emitMu.Lock()
	defer b.emitMu.Unlock()
	b.mu.Lock()
	c := b.chans[string(ch)]
	ok := c != nil && cond(c)
	b.mu.Unlock()
	if ok && b.sink != nil {
		ev.Channel = ch
		ev.Time = time.Now()
		b.sink(ev)
	}
}

// Answer answers an inbound channel; EventAnswered follows from
// Asterisk's state change.
func (b *Backend) Answer(ctx context.Context, ch mediacore.ChannelID) error {
	c, err := b.known(ch)
	if err != nil {
		return err
	}
	b.mu.Lock()
	answered := !c.answered.IsZero()
	b.mu.Unlock()
	if answered {
		return fmt.Errorf("%w: channel %s is answered", mediacore.ErrChannelState, ch)
	}
	return b.chanPost(ctx, ch, "answer", nil)
}

// Hangup ends a channel with cause (ARI reason_code = its Q.850 value;
// chan_pjsip turns that into the SIP status of a rejection).
func (b *Backend) Hangup(ctx context.Context, ch mediacore.ChannelID, cause mediacore.Cause) error {
	if _, err := b.known(ch); err != nil {
		return err
	}
	b.mu.Lock()
	if c := b.chans[string(ch)]; c != nil {
		cc := cause
		c.requested = &cc
	}
	b.mu.Unlock()
	err := b.ari.do(ctx, "DELETE", "/channels/"+seg(string(ch)),
		url.Values{"reason_code": {strconv.Itoa(cause.Q850())}}, nil, nil)
	return ariErr(err, mediacore.ErrNoSuchChannel)
}

// SendDTMF sends digits (RFC 4733 on PJSIP channels with dtmf_mode rfc4733).
func (b *Backend) SendDTMF(ctx context.Context, ch mediacore.ChannelID, digits string) error {
	if err := mediacore.ValidateDigits(digits); err != nil {
		return err
	}
	return b.chanPost(ctx, ch, "dtmf", url.Values{"dtmf": {digits}, "between": {"100"}, "duration": {"100"}})
}

// dialString maps a neutral endpoint to an Asterisk dial string, checking
// everything that reaches it. user/NAME must be a PJSIP endpoint with a
// reachable contact (else ErrNotFound).
func (b *Backend) dialString(ctx context.Context, endpoint string) (string, error) {
	ep, err := mediacore.ParseEndpoint(endpoint)
	if err != nil {
		return "", err
	}
	switch ep.Kind {
	case mediacore.EndpointUser:
		if !isWord(ep.User) {
			return "", fmt.Errorf("%w: user %q", mediacore.ErrInvalidEndpoint, ep.User)
		}
		// The endpoint's state follows a REGISTER asynchronously: look
		// again for a short while before calling the user absent.
		for try := 0; ; try++ {
			var st struct {
				State string `json:"state"`
			}
			err := b.ari.do(ctx, "GET", "/endpoints/PJSIP/"+seg(ep.User), nil, nil, &st)
			if err != nil {
				return "", ariErr(err, mediacore.ErrNotFound)
			}
			if st.State == "online" {
				return "PJSIP/" + ep.User, nil
			}
			if try == 10 {
				return "", fmt.Errorf("%w: user/%s is %s", mediacore.ErrNotFound, ep.User, st.State)
			}
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	case mediacore.EndpointTel:
		trunk := ep.Trunk
		if trunk == "" {
			trunk = b.cfg.Trunk
		}
		if trunk == "" {
			return "", fmt.Errorf("%w: no trunk for %s", mediacore.ErrNotFound, endpoint)
		}
		if !isWord(trunk) || !isDialNumber(ep.Number) {
			return "", fmt.Errorf("%w: %s", mediacore.ErrInvalidEndpoint, endpoint)
		}
		return "PJSIP/" + ep.Number + "@" + trunk, nil
	case mediacore.EndpointSIP:
		uri := "sip:"
		if ep.User != "" {
			if !isWord(strings.ReplaceAll(ep.User, "+", "")) && ep.User != "+" {
				return "", fmt.Errorf("%w: uri user %q", mediacore.ErrInvalidEndpoint, ep.User)
			}
			uri += ep.User + "@"
		}
		if strings.Contains(ep.Host, ":") {
			uri += "[" + ep.Host + "]"
		} else {
			uri += ep.Host
		}
		if ep.Port != 0 {
			uri += ":" + strconv.Itoa(ep.Port)
		}
		switch ep.Params {
		case "":
		case "transport=udp", "transport=tcp":
			uri += ";" + ep.Params
		default:
			return "", fmt.Errorf("%w: uri parameters %q (only transport=udp|tcp)", mediacore.ErrInvalidEndpoint, ep.Params)
		}
		return "PJSIP/" + b.cfg.SIPEndpoint + "/" + uri, nil
	}
	return "", fmt.Errorf("%w: %s", mediacore.ErrInvalidEndpoint, endpoint)
}

// isDialNumber: '+'? then digits (no '*', '#': they are not dialplan-safe
// through a PJSIP endpoint's user part here).
func isDialNumber(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validateOriginate repeats Core's checks (the backend may be called
// directly) before anything reaches ARI.
func validateOriginate(req mediacore.OriginateRequest) error {
	if err := mediacore.ValidateID(string(req.ChannelID)); err != nil {
		return err
	}
	if req.CallerIDNumber != "" {
		if err := mediacore.ValidateDialString(req.CallerIDNumber); err != nil {
			return err
		}
		if !isDialNumber(req.CallerIDNumber) && !isWord(req.CallerIDNumber) {
			return fmt.Errorf("%w: caller id number %q", mediacore.ErrInvalidArgument, req.CallerIDNumber)
		}
	}
	if err := mediacore.ValidateDisplayName(req.CallerIDName); err != nil {
		return err
	}
	if strings.ContainsAny(req.CallerIDName, "()\"") {
		return fmt.Errorf("%w: caller id name %q", mediacore.ErrInvalidArgument, req.CallerIDName)
	}
	if len(req.Variables) > 32 {
		return fmt.Errorf("%w: %d variables", mediacore.ErrInvalidArgument, len(req.Variables))
	}
	for k, v := range req.Variables {
		if err := mediacore.ValidateVariable(k, v); err != nil {
			return err
		}
		if strings.ContainsAny(v, "()") {
			return fmt.Errorf("%w: variable %s value %q", mediacore.ErrInvalidArgument, k, v)
		}
	}
	if req.Timeout < 0 || req.Timeout > 10*time.Minute {
		return fmt.Errorf("%w: timeout %v", mediacore.ErrInvalidArgument, req.Timeout)
	}
	return nil
}

// Originate creates the channel in the app with Core's id (ARI
// channels/create: it is in Stasis, and subscribed, before it dials), then
// dials it (channels/{id}/dial with the ring timeout). Variables become
// channel variables and X- headers of the INVITE.
func (b *Backend) Originate(ctx context.Context, req mediacore.OriginateRequest) (mediacore.ChannelID, error) {
	if req.ChannelID == "" {
		req.ChannelID = mediacore.ChannelID(mediacore.NewID("ch"))
	}
	if err := validateOriginate(req); err != nil {
		return "", err
	}
	if err := b.ready(); err != nil {
		return "", err
	}
	dial, err := b.dialString(ctx, req.Endpoint)
	if err != nil {
		return "", err
	}
	id := string(req.ChannelID)
	vars := map[string]string{}
	for k, v := range req.Variables {
		vars[k] = v
		vars["PJSIP_HEADER(add,X-"+k+")"] = v
	}
	if req.AutoAnswer {
		vars["PJSIP_HEADER(add,Answer-Mode)"] = "Auto"
		vars["PJSIP_HEADER(add,Call-Info)"] = "<sip:hotline>;answer-after=0"
	}
	if req.CallerIDNumber != "" {
		vars["CALLERID(num)"] = req.CallerIDNumber
		vars["CONNECTEDLINE(num)"] = req.CallerIDNumber
	}
	if req.CallerIDName != "" {
		vars["CALLERID(name)"] = req.CallerIDName
		vars["CONNECTEDLINE(name)"] = req.CallerIDName
	}
	b.mu.Lock()
	if b.chans[id] != nil || b.helpers[id] {
		b.mu.Unlock()
		return "", fmt.Errorf("%w: channel id %s in use", mediacore.ErrInvalidArgument, id)
	}
	c := &channel{id: id, dir: mediacore.Outbound, created: time.Now(), caller: req.CallerIDNumber,
		callerName: req.CallerIDName, called: req.Endpoint, state: "Down"}
	b.chans[id] = c
	b.mu.Unlock()
	fail := func(err error) (mediacore.ChannelID, error) {
		b.mu.Lock()
		delete(b.chans, id)
		b.mu.Unlock()
		return "", err
	}
	q := url.Values{"endpoint": {dial}, "app": {b.cfg.App}, "channelId": {id}, "appArgs": {"hotline-originate"}}
	var body any
	if len(vars) > 0 {
		body = map[string]any{"variables": vars}
	}
	wait := b.expectStasis(id)
	if err := b.ari.do(ctx, "POST", "/channels/create", q, body, nil); err != nil {
		b.forgetStasis(id)
		return fail(createErr(err))
	}
	if err := b.waitStasis(ctx, id, wait); err != nil {
		return fail(err)
	}
	b.channelEvent(id, mediacore.Event{Type: mediacore.EventChannelCreated, Direction: mediacore.Outbound,
		Caller: req.CallerIDNumber, CallerName: req.CallerIDName, Called: req.Endpoint})
	secs := 30
	if req.Timeout > 0 {
		secs = int(math.Ceil(req.Timeout.Seconds()))
	}
	if err := b.ari.do(ctx, "POST", "/channels/"+seg(id)+"/dial", url.Values{"timeout": {strconv.Itoa(secs)}}, nil, nil); err != nil {
		hctx, cancel := context.WithTimeout(context.Background(), b.cfg.CommandTimeout)
		_ = b.ari.do(hctx, "DELETE", "/channels/"+seg(id), nil, nil, nil)
		cancel()
		return "", ariErr(err, mediacore.ErrNoSuchChannel)
	}
	return req.ChannelID, nil
}

// createErr maps a failed channels/create: Asterisk answers 500
// "Allocation failed" when the endpoint does not exist or has no contact.
func createErr(err error) error {
	var se *statusError
	if errors.As(err, &se) && se.code == 500 {
		return fmt.Errorf("%w: %w", mediacore.ErrNotFound, err)
	}
	return ariErr(err, mediacore.ErrNotFound)
}

// expectStasis registers a wait for channel id's StasisStart (ARI
// creates channels, snoops included, before they enter the app: commands
// on them fail with 409/422 until then).
func (b *Backend) expectStasis(id string) chan struct{} {
	ch := make(chan struct{})
	b.mu.Lock()
	b.stasis[id] = ch
	b.mu.Unlock()
	return ch
}

func (b *Backend) forgetStasis(id string) {
	b.mu.Lock()
	delete(b.stasis, id)
	b.mu.Unlock()
}

func (b *Backend) waitStasis(ctx context.Context, id string, ch chan struct{}) error {
	defer b.forgetStasis(id)
	t := time.NewTimer(b.cfg.CommandTimeout)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("asterisk: waiting for %s in Stasis: %w", id, ctx.Err())
	case <-t.C:
		return fmt.Errorf("%w: %s did not enter Stasis", mediacore.ErrTimeout, id)
	case <-b.ctx.Done():
		return mediacore.ErrClosed
	}
}

// Variable reads a channel variable; a name starting with "X-", or one
// that is not set as a variable, is read from the INVITE's X- header
// (PJSIP_HEADER(read,X-name)).
func (b *Backend) Variable(ctx context.Context, ch mediacore.ChannelID, name string) (string, error) {
	if err := mediacore.ValidateVariable(name, "x"); err != nil {
		return "", err
	}
	if _, err := b.known(ch); err != nil {
		return "", err
	}
	get := func(v string) (string, error) {
		var out struct {
			Value string `json:"value"`
		}
		err := b.ari.do(ctx, "GET", "/channels/"+seg(string(ch))+"/variable", url.Values{"variable": {v}}, nil, &out)
		return out.Value, err
	}
	gone := func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.chans[string(ch)] == nil
	}
	names := []string{name, "PJSIP_HEADER(read,X-" + name + ")"}
	if len(name) > 2 && strings.EqualFold(name[:2], "X-") {
		names = []string{"PJSIP_HEADER(read," + name + ")"}
	}
	for _, n := range names {
		v, err := get(n)
		if err == nil && v != "" {
			return v, nil
		}
		var se *statusError
		if err != nil && !errors.As(err, &se) {
			return "", err // transport error or ctx
		}
		if gone() {
			return "", fmt.Errorf("%w: %s", mediacore.ErrNoSuchChannel, ch)
		}
	}
	return "", fmt.Errorf("%w: %s on %s", mediacore.ErrNoSuchVariable, name, ch)
}

// SetVariable sets a channel variable.
func (b *Backend) SetVariable(ctx context.Context, ch mediacore.ChannelID, name, value string) error {
	if err := mediacore.ValidateVariable(name, value); err != nil {
		return err
	}
	if strings.ContainsAny(value, "()") {
		return fmt.Errorf("%w: variable %s value %q", mediacore.ErrInvalidArgument, name, value)
	}
	return b.chanPost(ctx, ch, "variable", url.Values{"variable": {name}, "value": {value}})
}
