package sippeer

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// DialEarly is DialAsync for a call that may get early media: early
// receives the call once a 183 with SDP started its media (Heard then
// returns what the other side plays before answering), res the final
// outcome (the same *Call when answered).
func (p *Phone) DialEarly(ctx context.Context, uri string, headers ...sip.Header) (early <-chan *Call, res <-chan DialResult) {
	e := make(chan *Call, 1)
	out := make(chan DialResult, 1)
	go func() {
		c, err := p.dial(ctx, uri, func(c *Call) { e <- c }, headers...)
		out <- DialResult{Call: c, Err: err}
	}()
	return e, out
}

// earlyMedia answers an incoming INVITE with 183 and our SDP and starts
// the call's media (Config.EarlyMedia).
func (p *Phone) earlyMedia(sess *sipgo.DialogServerSession, req *sip.Request) (*Call, error) {
	remote, pt, dir, err := parseRemote(req.Body())
	if err != nil {
		_ = sess.Respond(488, "Not Acceptable Here", nil)
		return nil, err
	}
	c, err := p.newCall()
	if err != nil {
		_ = sess.Respond(500, "Server Internal Error", nil)
		return nil, err
	}
	c.startMedia(remote, pt, dir)
	if err := sess.Respond(183, "Session Progress", c.localSDP("sendrecv"), sip.NewHeader("Content-Type", "application/sdp")); err != nil {
		c.end()
		return nil, err
	}
	return c, nil
}

// Refer sends a REFER inside the call's dialog (RFC 3515) asking the other
// side to transfer it to referTo (a URI, e.g. "sip:1002@127.0.0.1:5060",
// to which "?Replaces=..." may be appended escaped) and returns the final
// status (202 when accepted). NOTIFYs that follow arrive on Notifies.
func (c *Call) Refer(ctx context.Context, referTo string) (int, error) {
	var target sip.Uri
	switch {
	case c.srv != nil:
		target = c.srv.InviteRequest.Contact().Address
	case c.cli != nil:
		target = c.cli.InviteResponse.Contact().Address
	default:
		return 0, errors.New("sippeer: call has no dialog")
	}
	req := sip.NewRequest(sip.REFER, target)
	req.AppendHeader(sip.NewHeader("Refer-To", "<"+referTo+">"))
	req.AppendHeader(sip.NewHeader("Referred-By", "<sip:"+c.p.cfg.User+"@"+c.p.Addr()+">"))
	var res *sip.Response
	var err error
	if c.srv != nil {
		res, err = c.srv.Do(ctx, req)
	} else {
		res, err = c.cli.Do(ctx, req)
	}
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// ReplacesParam returns "?Replaces=..." naming this call's dialog, to
// append to a Refer-To URI for an attended transfer (RFC 3891 §6.1: the
// tags as the receiver of the Replaces, the other side, sees them).
func (c *Call) ReplacesParam() string {
	var callID, local, remote string
	switch {
	case c.cli != nil:
		res := c.cli.InviteResponse
		callID = res.CallID().Value()
		local, _ = res.From().Params.Get("tag")
		remote, _ = res.To().Params.Get("tag")
	case c.srv != nil:
		req := c.srv.InviteRequest
		callID = req.CallID().Value()
		remote, _ = req.From().Params.Get("tag")
		if r := c.srv.InviteResponse; r != nil {
			local, _ = r.To().Params.Get("tag")
		}
	}
	// The receiver's to-tag is its own tag: our remote one.
	v := callID + ";to-tag=" + remote + ";from-tag=" + local
	r := strings.NewReplacer("@", "%40", ";", "%3B", "=", "%3D")
	return "?Replaces=" + r.Replace(v)
}

func (p *Phone) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findCall(req)
	if c == nil {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if c.srv != nil {
		_ = c.srv.ReadRequest(req, tx)
	}
	c.mu.Lock()
	c.notifies = append(c.notifies, req)
	c.mu.Unlock()
	_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// WaitNotify returns the n-th NOTIFY (from 0) received in the call's
// dialog, waiting until ctx ends.
func (c *Call) WaitNotify(ctx context.Context, n int) (*sip.Request, error) {
	for {
		c.mu.Lock()
		if len(c.notifies) > n {
			r := c.notifies[n]
			c.mu.Unlock()
			return r, nil
		}
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// SDPs returns the session descriptions of the 183 (nil without early
// media) and of the 200 that answered a call this phone dialled.
func (c *Call) SDPs() (early, answer []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.early, c.answer
}
