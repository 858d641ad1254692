package sippeer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"hotline/mediacore/audio"
)

// Config configures a Phone.
type Config struct {
	// IP to listen on (SIP and RTP); default 127.0.0.1.
	IP string
	// User is the phone's SIP user (From, Contact).
	User string
	// Answer decides how an incoming INVITE is answered: 200 answers
	// (after a 180), any other code rejects; nil answers 200.
	Answer func(req *sip.Request) int
	// AnswerDelay waits between 180 and the final response.
	AnswerDelay time.Duration
	// RingOnly, when it returns true for an INVITE, makes the phone ring
	// (180) and never answer it, like a person who does not pick up: it
	// waits for the CANCEL (counted by Cancelled). Answer is not asked.
	RingOnly func(req *sip.Request) bool
	// AuthUser and AuthPassword, when set, make the phone challenge every
	// new INVITE with 407 (RFC 3261 §22.3, like a carrier's proxy) and
	// accept only a correct MD5 digest answer.
	AuthUser, AuthPassword string
	// EarlyMedia makes the phone send 183 Session Progress with its SDP
	// (and start its media) before ringing, like a carrier playing an
	// announcement before answer.
	EarlyMedia bool
	// Logger; nil discards.
	Logger *slog.Logger
}

// Phone is one SIP user agent.
type Phone struct {
	cfg  Config
	ua   *sipgo.UserAgent
	srv  *sipgo.Server
	cli  *sipgo.Client
	dua  *sipgo.DialogUA
	port int
	conn net.PacketConn
	tcp  net.Listener

	incoming  chan *Call
	cancelled atomic.Int32

	mu    sync.Mutex // guards calls
	calls map[string]*Call
	wg    sync.WaitGroup
	ctx   context.Context
	stop  context.CancelFunc
}

// New starts a phone listening on UDP and TCP at a free port.
func New(cfg Config) (*Phone, error) {
	if cfg.IP == "" {
		cfg.IP = "127.0.0.1"
	}
	if cfg.User == "" {
		cfg.User = "peer"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("sippeer"), sipgo.WithUserAgentHostname(cfg.IP),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(cfg.Logger)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(cfg.Logger)))
	if err != nil {
		return nil, err
	}
	srv, _ := sipgo.NewServer(ua, sipgo.WithServerLogger(cfg.Logger))
	cli, _ := sipgo.NewClient(ua, sipgo.WithClientHostname(cfg.IP), sipgo.WithClientLogger(cfg.Logger))
	var conn net.PacketConn
	var tcp net.Listener
	for attempt := 0; ; attempt++ {
		conn, err = net.ListenPacket("udp", net.JoinHostPort(cfg.IP, "0"))
		if err != nil {
			ua.Close()
			return nil, err
		}
		// TCP on the same port; the kernel chose it for UDP only.
		tcp, err = net.Listen("tcp", conn.LocalAddr().String())
		if err == nil {
			break
		}
		conn.Close()
		if attempt == 10 {
			ua.Close()
			return nil, err
		}
	}
	p := &Phone{cfg: cfg, ua: ua, srv: srv, cli: cli, port: conn.LocalAddr().(*net.UDPAddr).Port,
		conn: conn, incoming: make(chan *Call, 16), calls: map[string]*Call{}}
	p.ctx, p.stop = context.WithCancel(context.Background())
	p.dua = &sipgo.DialogUA{Client: cli, ContactHDR: sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: cfg.User, Host: cfg.IP, Port: p.port},
	}}
	srv.OnInvite(p.onInvite)
	srv.OnAck(p.onAck)
	srv.OnBye(p.onBye)
	srv.OnNotify(p.onNotify)
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	p.tcp = tcp
	p.wg.Add(2)
	go func() { defer p.wg.Done(); _ = srv.ServeUDP(conn) }()
	go func() { defer p.wg.Done(); _ = srv.ServeTCP(tcp) }()
	return p, nil
}

// Addr returns the phone's SIP address "ip:port".
func (p *Phone) Addr() string { return net.JoinHostPort(p.cfg.IP, strconv.Itoa(p.port)) }

// ContactURI returns the phone's contact, e.g. "sip:1001@127.0.0.1:40000".
func (p *Phone) ContactURI() string { return p.dua.ContactHDR.Address.String() }

// Cancelled counts incoming calls the caller cancelled while the phone was
// waiting to answer (Config.AnswerDelay).
func (p *Phone) Cancelled() int { return int(p.cancelled.Load()) }

// Incoming delivers calls the phone answered.
func (p *Phone) Incoming() <-chan *Call { return p.incoming }

// Close hangs up every call and stops the phone.
func (p *Phone) Close() {
	p.mu.Lock()
	calls := make([]*Call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	for _, c := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = c.Hangup(ctx)
		cancel()
	}
	p.stop()
	p.ua.Close()
	// sipgo does not close a listener handed to ServeUDP.
	p.conn.Close()
	p.tcp.Close()
	p.wg.Wait()
}

// Register sends REGISTER to registrar ("ip:port") for the phone's user,
// answering a digest challenge with password; it returns the final status.
func (p *Phone) Register(ctx context.Context, registrar, password string, expires int) (int, error) {
	host, port, err := net.SplitHostPort(registrar)
	if err != nil {
		return 0, err
	}
	pn, _ := strconv.Atoi(port)
	aor := sip.Uri{Scheme: "sip", User: p.cfg.User, Host: host, Port: pn}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: pn})
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(sip.HeaderClone(&p.dua.ContactHDR))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = p.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.cfg.User, Password: password})
		if err != nil {
			return 0, err
		}
	}
	return res.StatusCode, nil
}

// Call is one call with its RTP stream.
type Call struct {
	p      *Phone
	conn   *net.UDPConn
	srv    *sipgo.DialogServerSession
	cli    *sipgo.DialogClientSession
	id     string
	done   chan struct{}
	closed sync.Once

	// Request is the INVITE that started an incoming call.
	Request *sip.Request

	mu       sync.Mutex // guards the fields below
	remote   netip.AddrPort
	freqs    []float64
	phase    []float64
	dtmf     []byte
	heard    []int16
	lastDir  string
	dtmfSeen []byte
	notifies []*sip.Request
	media    bool   // the RTP loops run
	early    []byte // the SDP of a 183 to our INVITE
	answer   []byte // the SDP of the 200 to our INVITE
	pt       uint8
	ssrc     uint32
	seq      uint16
	ts       uint32
}

const maxHeard = 8000 * 30 // keep 30 s of what was received

func (p *Phone) newCall() (*Call, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(p.cfg.IP), 0)))
	if err != nil {
		return nil, err
	}
	c := &Call{p: p, conn: conn, done: make(chan struct{}), ssrc: uint32(time.Now().UnixNano()), lastDir: "sendrecv"}
	return c, nil
}

func (c *Call) localSDP(dir string) []byte {
	ip := c.p.cfg.IP
	port := c.conn.LocalAddr().(*net.UDPAddr).Port
	return []byte(fmt.Sprintf("v=0\r\no=sippeer 1 %d IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"+
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=%s\r\n",
		time.Now().UnixNano()%1000000, ip, ip, port, dir))
}

// parseRemote reads the remote RTP address, payload type and direction.
func parseRemote(body []byte) (netip.AddrPort, uint8, string, error) {
	var s sdp.SessionDescription
	if err := s.Unmarshal(body); err != nil {
		return netip.AddrPort{}, 0, "", err
	}
	if len(s.MediaDescriptions) == 0 {
		return netip.AddrPort{}, 0, "", errors.New("sippeer: no m= line")
	}
	md := s.MediaDescriptions[0]
	conn := md.ConnectionInformation
	if conn == nil {
		conn = s.ConnectionInformation
	}
	if conn == nil || conn.Address == nil {
		return netip.AddrPort{}, 0, "", errors.New("sippeer: no c= line")
	}
	ip, err := netip.ParseAddr(conn.Address.Address)
	if err != nil {
		return netip.AddrPort{}, 0, "", err
	}
	pt := 0
	if len(md.MediaName.Formats) > 0 {
		pt, _ = strconv.Atoi(md.MediaName.Formats[0])
	}
	dir := "sendrecv"
	for _, a := range append(s.Attributes, md.Attributes...) {
		switch a.Key {
		case "sendonly", "recvonly", "inactive", "sendrecv":
			dir = a.Key
		}
	}
	return netip.AddrPortFrom(ip, uint16(md.MediaName.Port.Value)), uint8(pt), dir, nil
}

// Dial calls uri (e.g. "sip:100@127.0.0.1:5060") and returns once answered.
// headers are added to the INVITE. A non-2xx final response is returned
// as *StatusError.
func (p *Phone) Dial(ctx context.Context, uri string, headers ...sip.Header) (*Call, error) {
	return p.dial(ctx, uri, nil, headers...)
}

// dial is Dial; onEarly, when set, receives the call as soon as a 183
// with SDP started its media (early media), before the answer.
func (p *Phone) dial(ctx context.Context, uri string, onEarly func(*Call), headers ...sip.Header) (*Call, error) {
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		return nil, err
	}
	c, err := p.newCall()
	if err != nil {
		return nil, err
	}
	req := sip.NewRequest(sip.INVITE, u)
	req.SetBody(c.localSDP("sendrecv"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.cfg.User, Host: p.cfg.IP, Port: p.port}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	for _, h := range headers {
		req.AppendHeader(h)
	}
	sess, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		c.conn.Close()
		return nil, err
	}
	opts := sipgo.AnswerOptions{}
	if onEarly != nil {
		opts.OnResponse = func(res *sip.Response) error {
			if res.StatusCode != 183 || len(res.Body()) == 0 || c.mediaRunning() {
				return nil
			}
			if remote, pt, dir, err := parseRemote(res.Body()); err == nil {
				c.mu.Lock()
				c.early = res.Body()
				c.mu.Unlock()
				c.startMedia(remote, pt, dir)
				onEarly(c)
			}
			return nil
		}
	}
	if err := sess.WaitAnswer(ctx, opts); err != nil {
		c.end()
		if r := sess.InviteResponse; r != nil && r.IsSuccess() {
			// The 200 crossed our CANCEL (RFC 3261 §9.1): the call was
			// answered, so it must be acknowledged and ended with a BYE,
			// or the far end keeps it until its ACK timer runs out.
			bctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if sess.Ack(bctx) == nil {
				_ = sess.Bye(bctx)
			}
			cancel()
		}
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return nil, &StatusError{Code: de.Res.StatusCode}
		}
		return nil, err
	}
	if err := sess.Ack(ctx); err != nil {
		c.end()
		return nil, err
	}
	remote, pt, dir, err := parseRemote(sess.InviteResponse.Body())
	if err != nil {
		c.end()
		return nil, err
	}
	c.cli, c.id = sess, sess.ID
	c.mu.Lock()
	c.answer = sess.InviteResponse.Body()
	c.mu.Unlock()
	c.start(remote, pt, dir)
	return c, nil
}

// DialAsync starts a call and returns a channel with its outcome, so a
// test can act while it rings.
func (p *Phone) DialAsync(ctx context.Context, uri string, headers ...sip.Header) <-chan DialResult {
	out := make(chan DialResult, 1)
	go func() {
		c, err := p.Dial(ctx, uri, headers...)
		out <- DialResult{Call: c, Err: err}
	}()
	return out
}

// DialResult is the outcome of DialAsync.
type DialResult struct {
	Call *Call
	Err  error
}

// StatusError is a final non-2xx answer to Dial.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return "sippeer: call answered " + strconv.Itoa(e.Code) }

func (c *Call) start(remote netip.AddrPort, pt uint8, dir string) {
	c.p.mu.Lock()
	c.p.calls[c.id] = c
	c.p.mu.Unlock()
	c.startMedia(remote, pt, dir)
}

// startMedia points the media at remote and starts the RTP loops once (a
// call with early media starts them at the 183 and updates at the 200).
func (c *Call) startMedia(remote netip.AddrPort, pt uint8, dir string) {
	c.mu.Lock()
	c.remote, c.pt, c.lastDir = remote, pt, dir
	running := c.media
	c.media = true
	c.mu.Unlock()
	if running {
		return
	}
	c.p.wg.Add(2)
	go c.sendLoop()
	go c.recvLoop()
}

func (c *Call) mediaRunning() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.media
}

func (c *Call) end() {
	c.closed.Do(func() {
		close(c.done)
		c.conn.Close()
		c.p.mu.Lock()
		delete(c.p.calls, c.id)
		c.p.mu.Unlock()
	})
}

// Done is closed when the call ended (either side).
func (c *Call) Done() <-chan struct{} { return c.done }

// SetTone makes the phone send the sum of freqs (none: silence).
func (c *Call) SetTone(freqs ...float64) {
	c.mu.Lock()
	c.freqs = append([]float64(nil), freqs...)
	c.phase = make([]float64, len(freqs))
	c.mu.Unlock()
}

// SendDTMF queues RFC 4733 digits (100 ms each, 100 ms apart).
func (c *Call) SendDTMF(digits string) {
	c.mu.Lock()
	c.dtmf = append(c.dtmf, digits...)
	c.mu.Unlock()
}

// Heard returns up to the last d of audio received, decoded.
func (c *Call) Heard(d time.Duration) []int16 {
	n := int(d / (time.Second / 8000))
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > len(c.heard) {
		n = len(c.heard)
	}
	return append([]int16(nil), c.heard[len(c.heard)-n:]...)
}

// ClearHeard forgets what was heard so far.
func (c *Call) ClearHeard() {
	c.mu.Lock()
	c.heard = c.heard[:0]
	c.mu.Unlock()
}

// Direction returns the SDP direction the other side last asked for
// ("sendonly" while it holds us).
func (c *Call) Direction() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastDir
}

// Hangup sends BYE.
func (c *Call) Hangup(ctx context.Context) error {
	defer c.end()
	select {
	case <-c.done:
		return nil
	default:
	}
	if c.srv != nil {
		return c.srv.Bye(ctx)
	}
	return c.cli.Bye(ctx)
}

// sendLoop sends one 20 ms frame per tick: DTMF events take precedence
// over the tone (RFC 4733 §2.5.1.1: the audio is replaced while the event
// lasts).
func (c *Call) sendLoop() {
	defer c.p.wg.Done()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var buf [160]int16
	var payload [160]byte
	evFrame := 0 // frames into the current digit; <0 is the gap after it
	var evTS uint32
	for {
		select {
		case <-c.done:
			return
		case <-c.p.ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		remote := c.remote
		c.ts += 160
		c.seq++
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: c.seq, Timestamp: c.ts, SSRC: c.ssrc}}
		switch {
		case len(c.dtmf) > 0 && evFrame >= 0:
			digit := c.dtmf[0]
			if evFrame == 0 {
				evTS = c.ts
				pkt.Marker = true
			}
			evFrame++
			const frames = 5 // 100 ms
			end := evFrame >= frames
			dur := uint16(evFrame * 160)
			code := dtmfCode(digit)
			flags := byte(10) // volume -10 dBm0
			if end {
				flags |= 0x80
			}
			pkt.PayloadType = 101
			pkt.Timestamp = evTS
			pkt.Payload = []byte{code, flags, byte(dur >> 8), byte(dur)}
			if end {
				c.dtmf = c.dtmf[1:]
				evFrame = -5
				// End packets are sent three times (RFC 4733 §2.5.1.4).
				raw, _ := pkt.Marshal()
				c.mu.Unlock()
				for range 3 {
					_, _ = c.conn.WriteToUDPAddrPort(raw, remote)
				}
				continue
			}
		default:
			if evFrame < 0 {
				evFrame++
			}
			for i := range buf {
				var v float64
				for k, f := range c.freqs {
					v += math.Sin(c.phase[k])
					c.phase[k] += 2 * math.Pi * f / 8000
					if c.phase[k] > 2*math.Pi {
						c.phase[k] -= 2 * math.Pi
					}
				}
				buf[i] = int16(v * 8000)
			}
			audio.EncodeUlaw(payload[:], buf[:])
			pkt.Payload = payload[:]
		}
		c.mu.Unlock()
		raw, _ := pkt.Marshal()
		if remote.IsValid() {
			_, _ = c.conn.WriteToUDPAddrPort(raw, remote)
		}
	}
}

func dtmfCode(d byte) byte {
	switch {
	case d >= '0' && d <= '9':
		return d - '0'
	case d == '*':
		return 10
	case d == '#':
		return 11
	case d >= 'A' && d <= 'D':
		return 12 + d - 'A'
	}
	return 0
}

func (c *Call) recvLoop() {
	defer c.p.wg.Done()
	buf := make([]byte, 1500)
	var pcm [320]int16
	var pkt rtp.Packet
	for {
		n, _, err := c.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		var m int
		switch pkt.PayloadType {
		case 0:
			m = audio.DecodeUlaw(pcm[:], pkt.Payload)
		case 8:
			m = audio.DecodeAlaw(pcm[:], pkt.Payload)
		case 101:
			if len(pkt.Payload) >= 4 && pkt.Payload[1]&0x80 != 0 {
				c.mu.Lock()
				c.dtmfSeen = append(c.dtmfSeen, pkt.Payload[0])
				c.mu.Unlock()
			}
			continue
		default:
			continue
		}
		c.mu.Lock()
		c.heard = append(c.heard, pcm[:m]...)
		if len(c.heard) > maxHeard {
			c.heard = append(c.heard[:0], c.heard[len(c.heard)-maxHeard:]...)
		}
		c.mu.Unlock()
	}
}

// DTMFEnds returns the RFC 4733 event codes of end packets received (each
// end packet counted, retransmissions included).
func (c *Call) DTMFEnds() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.dtmfSeen...)
}

func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			p.onReInvite(req, tx)
			return
		}
	}
	if p.cfg.AuthUser != "" && !p.authorized(req) {
		res := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
		chal := digest.Challenge{Realm: "sippeer", Nonce: sip.GenerateTagN(16), Algorithm: "MD5", QOP: []string{"auth"}}
		res.AppendHeader(sip.NewHeader("Proxy-Authenticate", chal.String()))
		_ = tx.Respond(res)
		return
	}
	ringOnly := p.cfg.RingOnly != nil && p.cfg.RingOnly(req)
	code := 200
	if p.cfg.Answer != nil && !ringOnly {
		code = p.cfg.Answer(req)
	}
	sess, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		return
	}
	defer sess.Close()
	if ringOnly {
		_ = sess.Respond(180, "Ringing", nil)
		<-sess.Context().Done()
		p.cancelled.Add(1)
		return
	}
	var early *Call
	if p.cfg.EarlyMedia {
		if early, err = p.earlyMedia(sess, req); err != nil {
			return
		}
	}
	_ = sess.Respond(180, "Ringing", nil)
	if p.cfg.AnswerDelay > 0 {
		select {
		case <-time.After(p.cfg.AnswerDelay):
		case <-sess.Context().Done():
			// The caller cancelled (sipgo answered CANCEL 200 and the
			// INVITE 487).
			p.cancelled.Add(1)
			if early != nil {
				early.end()
			}
			return
		}
	}
	if code != 200 {
		_ = sess.Respond(code, "Rejected", nil)
		if early != nil {
			early.end()
		}
		return
	}
	remote, pt, dir, err := parseRemote(req.Body())
	if err != nil {
		_ = sess.Respond(488, "Not Acceptable Here", nil)
		return
	}
	c := early
	if c == nil {
		c, err = p.newCall()
		if err != nil {
			_ = sess.Respond(500, "Server Internal Error", nil)
			return
		}
	}
	c.srv, c.id, c.Request = sess, sess.ID, req
	c.start(remote, pt, dir)
	if err := sess.RespondSDP(c.localSDP("sendrecv")); err != nil {
		c.end()
		return
	}
	select {
	case p.incoming <- c:
	default:
	}
}

// authorized checks a Proxy-Authorization digest answer against the
// configured user and password, with the nonce it carries (a test phone
// keeps no nonce state).
func (p *Phone) authorized(req *sip.Request) bool {
	h := req.GetHeader("Proxy-Authorization")
	if h == nil {
		return false
	}
	cred, err := digest.ParseCredentials(h.Value())
	if err != nil || cred.Username != p.cfg.AuthUser {
		return false
	}
	want, err := digest.Digest(&digest.Challenge{Realm: cred.Realm, Nonce: cred.Nonce, Algorithm: "MD5", QOP: []string{"auth"}, Opaque: cred.Opaque},
		digest.Options{Method: string(req.Method), URI: cred.URI, Username: p.cfg.AuthUser, Password: p.cfg.AuthPassword, Cnonce: cred.Cnonce, Count: cred.Nc})
	return err == nil && want.Response == cred.Response
}

// Reinvite sends a re-INVITE offering direction dir ("sendonly" to hold
// the other side, "sendrecv" to resume) and returns the direction of the
// answer.
func (c *Call) Reinvite(ctx context.Context, dir string) (string, error) {
	var target sip.Uri
	switch {
	case c.srv != nil:
		target = c.srv.InviteRequest.Contact().Address
	default:
		target = c.cli.InviteResponse.Contact().Address
	}
	req := sip.NewRequest(sip.INVITE, target)
	req.SetBody(c.localSDP(dir))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	var res *sip.Response
	var err error
	if c.srv != nil {
		res, err = c.srv.Do(ctx, req)
	} else {
		res, err = c.cli.Do(ctx, req)
	}
	if err != nil {
		return "", err
	}
	if !res.IsSuccess() {
		return "", &StatusError{Code: res.StatusCode}
	}
	ack := sip.NewRequest(sip.ACK, target)
	if c.srv != nil {
		err = c.srv.WriteRequest(ack)
	} else {
		err = c.cli.WriteRequest(ack)
	}
	if err != nil {
		return "", err
	}
	remote, pt, answerDir, err := parseRemote(res.Body())
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.remote, c.pt = remote, pt
	c.mu.Unlock()
	return answerDir, nil
}

func (p *Phone) findCall(req *sip.Request) *Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil && p.calls[id] != nil {
		return p.calls[id]
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil && p.calls[id] != nil {
		return p.calls[id]
	}
	return nil
}

func (p *Phone) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findCall(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if c.srv != nil {
		_ = c.srv.ReadRequest(req, tx)
	}
	remote, pt, dir, err := parseRemote(req.Body())
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil))
		return
	}
	answer := map[string]string{"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}[dir]
	if answer == "" {
		answer = "sendrecv"
	}
	c.mu.Lock()
	c.remote, c.pt, c.lastDir = remote, pt, dir
	c.mu.Unlock()
	res := sip.NewSDPResponseFromRequest(req, c.localSDP(answer))
	res.AppendHeader(sip.HeaderClone(&p.dua.ContactHDR))
	_ = tx.Respond(res)
	select {
	case <-tx.Acks():
	case <-tx.Done():
	case <-time.After(2 * time.Second):
	}
}

func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := p.findCall(req); c != nil && c.srv != nil {
		_ = c.srv.ReadAck(req, tx)
	}
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findCall(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	var err error
	if c.srv != nil {
		err = c.srv.ReadBye(req, tx)
	} else {
		err = c.cli.ReadBye(req, tx)
	}
	if err != nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	c.end()
}

// HeaderValue is a helper for tests: the value of a header of the INVITE
// that started an incoming call, "" if absent.
func (c *Call) HeaderValue(name string) string {
	if c.Request == nil {
		return ""
	}
	if h := c.Request.GetHeader(name); h != nil {
		return strings.TrimSpace(h.Value())
	}
	return ""
}
