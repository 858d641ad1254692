package native

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"hotline/mediacore"
)

// dialTarget is one place to send an outbound INVITE.
type dialTarget struct {
	uri       sip.Uri
	dest      string // "host:port" to send to when it differs from uri (NAT), or ""
	transport string // "udp" or "tcp"
	trunk     *Trunk // nil for users and sip: URIs
}

// resolve maps a neutral endpoint to the targets tried in order.
func (b *Backend) resolve(ep mediacore.Endpoint) ([]dialTarget, error) {
	switch ep.Kind {
	case mediacore.EndpointUser:
		if b.cfg.Registrar == nil {
			return nil, fmt.Errorf("%w: no registrar for %s", mediacore.ErrNotFound, ep)
		}
		var out []dialTarget
		for _, ct := range b.cfg.Registrar.Lookup(ep.User) {
			var u sip.Uri
			if err := sip.ParseUri(ct.URI, &u); err != nil {
				continue
			}
			t := dialTarget{uri: u, transport: strings.ToLower(ct.Transport)}
			if t.transport == "" {
				t.transport = "udp"
			}
			if src := ct.Source; src != "" && src != net.JoinHostPort(u.Host, strconv.Itoa(cmp.Or(u.Port, 5060))) {
				t.dest = src
			}
			out = append(out, t)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: %s is not registered", mediacore.ErrNotFound, ep)
		}
		// Several contacts (desk phone and softphone): ring the most
		// recently registered first; forking in parallel is left to a
		// later change, the controller can originate to each instead.
		slices.Reverse(out)
		return out[:1], nil
	case mediacore.EndpointTel:
		trunks := b.trunkList()
		slices.SortStableFunc(trunks, func(a, c Trunk) int { return cmp.Compare(a.Priority, c.Priority) })
		var out []dialTarget
		for i := range trunks {
			t := &trunks[i]
			if ep.Trunk != "" && t.Name != ep.Trunk {
				continue
			}
			host, port, _ := net.SplitHostPort(t.Address)
			p, _ := strconv.Atoi(port)
			u := sip.Uri{Scheme: "sip", User: ep.Number, Host: host, Port: p}
			if t.Transport == "tcp" {
				u.UriParams = sip.NewParams()
				u.UriParams.Add("transport", "tcp")
			}
			out = append(out, dialTarget{uri: u, transport: t.Transport, trunk: t})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%w: no trunk for %s", mediacore.ErrNotFound, ep)
		}
		return out, nil
	case mediacore.EndpointSIP:
		u := sip.Uri{Scheme: "sip", User: ep.User, Host: ep.Host, Port: ep.Port}
		tr := "udp"
		if ep.Params != "" {
			u.UriParams = sip.NewParams()
			for _, p := range strings.Split(ep.Params, ";") {
				k, v, _ := strings.Cut(p, "=")
				u.UriParams.Add(k, v)
				if strings.EqualFold(k, "transport") {
					tr = strings.ToLower(v)
				}
			}
		}
		return []dialTarget{{uri: u, transport: tr}}, nil
	}
	return nil, mediacore.ErrInvalidEndpoint
}

// Originate implements mediacore.Backend. It returns once the channel
// exists; the call proceeds in the background, trying targets in order and
// failing over between trunks on 5xx, 408 or no response (R1.2).
func (b *Backend) Originate(ctx context.Context, req mediacore.OriginateRequest) (mediacore.ChannelID, error) {
	if err := b.ready(); err != nil {
		return "", err
	}
	ep, err := mediacore.ParseEndpoint(req.Endpoint)
	if err != nil {
		return "", err
	}
	targets, err := b.resolve(ep)
	if err != nil {
		return "", err
	}
	id := req.ChannelID
	if id == "" {
		id = mediacore.ChannelID(newID("out-"))
	}
	c, err := b.newChannel(id, mediacore.Outbound)
	if err != nil {
		return "", err
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = mediacore.DefaultOriginateTimeout
	}
	dialCtx, cancel := context.WithCancelCause(b.ctx)
	c.mu.Lock()
	c.cancelDial = cancel
	c.mu.Unlock()
	c.setInfo(req.CallerIDNumber, ep.String(), req.Variables)
	c.emit(mediacore.Event{
		Type: mediacore.EventChannelCreated, Direction: mediacore.Outbound,
		Caller: req.CallerIDNumber, CallerName: req.CallerIDName, Called: ep.String(),
		Headers: req.Variables,
	})
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer cancel(nil)
		b.dial(dialCtx, c, targets, req, timeout)
	}()
	return id, nil
}

// dial runs an outbound call until it is answered or failed.
func (b *Backend) dial(ctx context.Context, c *channel, targets []dialTarget, req mediacore.OriginateRequest, ring time.Duration) {
	ringCtx, cancelRing := context.WithTimeoutCause(ctx, ring, errRingTimeout)
	defer cancelRing()
	lastCode := 0
	for i, t := range targets {
		code, err := b.attempt(ringCtx, c, t, req)
		if err == nil {
			return
		}
		lastCode = code
		cause := context.Cause(ringCtx)
		switch {
		case errors.Is(cause, errHangup):
			c.mu.Lock()
			hc := c.hangupBy
			c.mu.Unlock()
			b.end(c, hc, sip.StatusRequestTerminated)
			return
		case errors.Is(cause, errRingTimeout):
			b.end(c, mediacore.CauseNoAnswer, sip.StatusRequestTerminated)
			return
		case cause != nil:
			b.end(c, mediacore.CauseCongestion, 0)
			return
		}
		failover := t.trunk != nil && i+1 < len(targets) && (code == 0 || code == 408 || code >= 500 && code < 600)
		b.log.Info("originate attempt failed", "channel", c.id, "target", t.uri.String(), "code", code, "err", err, "failover", failover)
		if !failover {
			break
		}
	}
	cause := mediacore.CauseFromSIP(lastCode)
	if lastCode == 0 {
		cause = mediacore.CauseTimeout
	}
	b.end(c, cause, lastCode)
}

// maxUDPMessage is the largest request sent over UDP (sipgo's limit is
// 1300 bytes; Via and Contact are added after this check).
const maxUDPMessage = 1100

var (
	errRingTimeout = errors.New("native: ring timeout")
	errNoProgress  = errors.New("native: no provisional response")
)

// attempt sends one INVITE and waits for its outcome. It returns the final
// status (0 when none came) and nil when the call was answered and set up.
func (b *Backend) attempt(ctx context.Context, c *channel, t dialTarget, req mediacore.OriginateRequest) (int, error) {
	body, err := b.localDescription(c, mediaOffer{}, dirSendRecv)
	if err != nil {
		return 0, err
	}
	inv := sip.NewRequest(sip.INVITE, t.uri)
	inv.SetBody(body)
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	fromUser := req.CallerIDNumber
	if fromUser == "" && t.trunk != nil {
		fromUser = t.trunk.CallerID
	}
	if fromUser == "" {
		fromUser = "hotline"
	}
	fromHost := b.host
	from := &sip.FromHeader{
		DisplayName: req.CallerIDName,
		Address:     sip.Uri{Scheme: "sip", User: fromUser, Host: fromHost},
		Params:      sip.NewParams(),
	}
	from.Params.Add("tag", sip.GenerateTagN(16))
	inv.AppendHeader(from)
	inv.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: t.uri.User, Host: t.uri.Host, Port: t.uri.Port}, Params: sip.NewParams()})
	// Variables travel as X- headers; Core validated names and values
	// (no CR/LF, no separators), so they cannot inject headers.
	keys := make([]string, 0, len(req.Variables))
	for k := range req.Variables {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		inv.AppendHeader(sip.NewHeader("X-"+strings.TrimPrefix(k, "X-"), req.Variables[k]))
	}
	if req.AutoAnswer {
		inv.AppendHeader(sip.NewHeader("Answer-Mode", "Auto"))
		inv.AppendHeader(sip.NewHeader("Call-Info", "<sip:"+fromHost+">;answer-after=0"))
	}
	transport := strings.ToUpper(t.transport)
	// RFC 3261 §18.1.1: a request within 200 bytes of the path MTU goes
	// over a congestion-controlled transport; sipgo refuses UDP messages
	// above 1300 bytes (ErrUDPMTUCongestion) instead of switching.
	if transport == "UDP" && len(inv.String()) > maxUDPMessage {
		transport = "TCP"
	}
	inv.SetTransport(transport)
	if t.dest != "" {
		inv.SetDestination(t.dest)
	}

	// A trunk that sends nothing back within its timeout is skipped at once
	// (no CANCEL is allowed before a provisional, RFC 3261 §9.1).
	attemptCtx, cancelAttempt := context.WithCancelCause(ctx)
	defer cancelAttempt(nil)
	var progress chan struct{}
	if t.trunk != nil {
		progress = make(chan struct{})
		timer := time.AfterFunc(t.trunk.Timeout, func() {
			select {
			case <-progress:
			default:
				cancelAttempt(sipgo.WaitAnswerForceCancelErr)
			}
		})
		defer timer.Stop()
	}
	sess, err := b.dua.WriteInvite(attemptCtx, inv)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.cli = sess
	c.mu.Unlock()
	opts := sipgo.AnswerOptions{
		OnResponse: func(res *sip.Response) error {
			if progress != nil && res.StatusCode > 100 {
				select {
				case <-progress:
				default:
					close(progress)
				}
			}
			if res.StatusCode == sip.StatusRinging || res.StatusCode == sip.StatusSessionInProgress {
				c.mu.Lock()
				first := !c.ringing
				c.ringing = true
				c.mu.Unlock()
				if first {
					c.emit(mediacore.Event{Type: mediacore.EventRinging})
				}
			}
			b.earlyMedia(c, res)
			return nil
		},
	}
	if t.trunk != nil {
		opts.Username, opts.Password = t.trunk.Username, t.trunk.Password
	}
	err = sess.WaitAnswer(attemptCtx, opts)
	if err != nil {
		code := 0
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			code = de.Res.StatusCode
		}
		if errors.Is(context.Cause(attemptCtx), sipgo.WaitAnswerForceCancelErr) && ctx.Err() == nil {
			err = errNoProgress
		}
		sess.Close()
		return code, err
	}
	answer, perr := parseOffer(sess.InviteResponse.Body())
	if err := sess.Ack(context.Background()); err != nil {
		sess.Close()
		return 0, err
	}
	b.addDialog(c, sess.ID)
	if perr == nil {
		c.mu.Lock()
		c.media = answer
		c.mu.Unlock()
		perr = b.applyRemote(c, answer, dirSendRecv)
	}
	if perr != nil {
		// The callee answered with media we cannot use: end it cleanly.
		byeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = sess.Bye(byeCtx)
		cancel()
		return sip.StatusNotAcceptableHere, perr
	}
	c.mu.Lock()
	c.setUpLocked()
	c.cancelDial = nil
	c.mu.Unlock()
	c.emit(mediacore.Event{Type: mediacore.EventAnswered})
	return sip.StatusOK, nil
}
