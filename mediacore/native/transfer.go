package native

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/mediacore"
)

// errBadReferTo reports a Refer-To header we cannot use (answered 400).
var errBadReferTo = errors.New("native: bad Refer-To")

// maxPendingTransfers bounds the REFERs waiting for the controller on one
// channel; more are answered 491 Request Pending.
const maxPendingTransfers = 4

// pendingTransfer is a REFER waiting for the controller: answers carries
// the decision to the goroutine holding its transaction, finished is
// closed when that goroutine is done (answered, timed out or ended).
type pendingTransfer struct {
	answers  chan transferAnswer
	finished chan struct{}
}

// transferAnswer is the controller's decision on one REFER, carried to
// the goroutine that holds its server transaction.
type transferAnswer struct {
	ctx    context.Context
	accept bool
	done   chan error // the outcome: nil once 202 (and NOTIFY) or 603 went out
}

// onRefer handles a REFER inside a dialog (RFC 3515): it reports
// EventTransferRequested and holds the transaction until AnswerTransfer,
// the channel's end, or Config.TransferTimeout (then 480). The transfer
// itself is never carried out here: the controller does it with the
// contract's other operations.
func (b *Backend) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	c := b.matchDialog(req)
	if c == nil || c.getState() != stateUp {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	c.mu.Lock()
	srv := c.srv
	c.mu.Unlock()
	if srv != nil && srv.ReadRequest(req, tx) != nil {
		respond(tx, req, sip.StatusInternalServerError, "Server Internal Error")
		return
	}
	hs := req.GetHeaders("Refer-To")
	if len(hs) != 1 {
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	uri, replaces, err := parseReferTo(hs[0].Value())
	var target string
	if err == nil {
		target, err = b.referTarget(uri)
	}
	if err != nil {
		b.log.Info("refer refused", "channel", c.id, "refer_to", hs[0].Value(), "err", err)
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	id := mediacore.TransferID(newID("xfer-"))
	pt := &pendingTransfer{answers: make(chan transferAnswer, 1), finished: make(chan struct{})}
	answers := pt.answers
	c.mu.Lock()
	if c.state != stateUp || len(c.transfers) >= maxPendingTransfers {
		c.mu.Unlock()
		respond(tx, req, sip.StatusRequestPending, "Request Pending")
		return
	}
	if c.transfers == nil {
		c.transfers = map[mediacore.TransferID]*pendingTransfer{}
	}
	c.transfers[id] = pt
	c.mu.Unlock()
	// An AnswerTransfer racing with the timeout or the channel's end
	// learns that the REFER was answered without it.
	defer close(pt.finished)
	defer func() {
		c.mu.Lock()
		delete(c.transfers, id)
		c.mu.Unlock()
	}()
	c.emit(mediacore.Event{Type: mediacore.EventTransferRequested, Transfer: id, ReferTo: target, Replaces: b.replacedChannel(replaces)})

	timer := time.NewTimer(b.cfg.TransferTimeout)
	defer timer.Stop()
	var a transferAnswer
	select {
	case a = <-answers:
	case <-timer.C:
		respond(tx, req, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
		return
	case <-c.done:
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	case <-b.ctx.Done():
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if !a.accept {
		a.done <- sipErr("refuse transfer", tx.Respond(sip.NewResponseFromRequest(req, sip.StatusGlobalDecline, "Decline", nil)))
		return
	}
	if err := tx.Respond(sip.NewResponseFromRequest(req, sip.StatusAccepted, "Accepted", nil)); err != nil {
		a.done <- sipErr("accept transfer", err)
		return
	}
	a.done <- b.notifyRefer(a.ctx, c, req)
}

// notifyRefer ends the implicit subscription of a REFER with its final
// state (RFC 3515 §2.4.4-2.4.7): the controller took the transfer in hand.
func (b *Backend) notifyRefer(ctx context.Context, c *channel, refer *sip.Request) error {
	target, ok := c.remoteTarget()
	if !ok {
		return fmt.Errorf("%w: no remote target", mediacore.ErrChannelState)
	}
	req := sip.NewRequest(sip.NOTIFY, target)
	event := "refer"
	// §2.4.6: the first REFER of a dialog may omit id; later ones are
	// told apart by the CSeq of their REFER.
	if cs := refer.CSeq(); cs != nil {
		event += ";id=" + strconv.FormatUint(uint64(cs.SeqNo), 10)
	}
	req.AppendHeader(sip.NewHeader("Event", event))
	req.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte("SIP/2.0 200 OK\r\n"))
	res, err := c.request(ctx, req)
	if err != nil {
		return sipErr("notify", err)
	}
	if !res.IsSuccess() {
		return fmt.Errorf("%w: native: NOTIFY answered %s", mediacore.ErrChannelState, res.StartLine())
	}
	return nil
}

// AnswerTransfer implements mediacore.Backend: accept sends 202 Accepted
// and a NOTIFY whose sipfrag says "SIP/2.0 200 OK"; refuse sends 603
// Decline. It returns once that went out. A transfer that was answered
// already, timed out (Config.TransferTimeout, answered 480) or never
// existed gives ErrChannelState.
func (b *Backend) AnswerTransfer(ctx context.Context, id mediacore.ChannelID, tid mediacore.TransferID, accept bool) error {
	c, err := b.channel(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	pt := c.transfers[tid]
	delete(c.transfers, tid)
	c.mu.Unlock()
	if pt == nil {
		return fmt.Errorf("%w: no pending transfer %s on %s", mediacore.ErrChannelState, tid, id)
	}
	a := transferAnswer{ctx: ctx, accept: accept, done: make(chan error, 1)}
	select {
	case pt.answers <- a:
	default:
		return fmt.Errorf("%w: transfer %s already answered", mediacore.ErrChannelState, tid)
	}
	select {
	case err := <-a.done:
		return err
	case <-pt.finished:
		select {
		case err := <-a.done:
			return err
		default:
			return fmt.Errorf("%w: transfer %s ended before its answer (timeout or hangup)", mediacore.ErrChannelState, tid)
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endTransfers forgets the pending transfers of an ending channel (their
// REFER goroutines answer 481 on c.done).
func (b *Backend) endTransfers(c *channel) {
	c.mu.Lock()
	c.transfers = nil
	c.mu.Unlock()
}

// parseReferTo splits a Refer-To value (RFC 3515 §2.1: a name-addr or
// addr-spec, the URI possibly carrying "?Replaces=..." as an embedded
// header, RFC 3891 §3) into the URI and the unescaped Replaces value.
func parseReferTo(v string) (sip.Uri, string, error) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return sip.Uri{}, "", fmt.Errorf("%w: unclosed <", errBadReferTo)
		}
		v = v[i+1 : i+j]
	} else if k := strings.IndexByte(v, ';'); k >= 0 {
		// addr-spec form: parameters after ';' belong to the header.
		v = v[:k]
	}
	if len(v) > mediacore.MaxDialLen*2 {
		return sip.Uri{}, "", fmt.Errorf("%w: too long", errBadReferTo)
	}
	raw, headers, _ := strings.Cut(v, "?")
	var replaces string
	for _, h := range strings.Split(headers, "&") {
		name, val, ok := strings.Cut(h, "=")
		if !ok || !strings.EqualFold(name, "Replaces") {
			continue
		}
		uv, err := url.PathUnescape(val)
		if err != nil {
			return sip.Uri{}, "", fmt.Errorf("%w: Replaces %q: %w", errBadReferTo, val, err)
		}
		replaces = uv
	}
	var u sip.Uri
	if err := sip.ParseUri(raw, &u); err != nil {
		return sip.Uri{}, "", fmt.Errorf("%w: %q: %w", errBadReferTo, raw, err)
	}
	if !strings.EqualFold(u.Scheme, "sip") || u.User == "" || u.Host == "" {
		return sip.Uri{}, "", fmt.Errorf("%w: %q: want sip:user@host", errBadReferTo, raw)
	}
	return u, replaces, nil
}

// referTarget maps a Refer-To URI to a neutral endpoint: "user/NAME" when
// it names us (our listen address, or our host without a port), else the
// sip: URI, validated like any endpoint.
func (b *Backend) referTarget(u sip.Uri) (string, error) {
	var s string
	if u.Host == b.host && (u.Port == 0 || u.Port == b.port) {
		s = "user/" + u.User
	} else {
		s = "sip:" + u.User + "@" + u.Host
		if u.Port != 0 {
			s += ":" + strconv.Itoa(u.Port)
		}
	}
	ep, err := mediacore.ParseEndpoint(s)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errBadReferTo, err)
	}
	return ep.String(), nil
}

// replacedChannel resolves a Replaces value ("call-id;to-tag=x;from-tag=y",
// RFC 3891 §6.1) to our channel with that dialog, "" when none. The tags
// are the dialog's as seen by the transfer target; both orders are tried
// since our side may be the UAS or the UAC of that dialog.
func (b *Backend) replacedChannel(v string) mediacore.ChannelID {
	callID, toTag, fromTag, ok := parseReplaces(v)
	if !ok {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range []string{sip.DialogIDMake(callID, toTag, fromTag), sip.DialogIDMake(callID, fromTag, toTag)} {
		if c := b.dialogs[id]; c != nil {
			return c.id
		}
	}
	return ""
}

// parseReplaces parses the Replaces header value of RFC 3891 §6.1.
func parseReplaces(v string) (callID, toTag, fromTag string, ok bool) {
	parts := strings.Split(v, ";")
	callID = strings.TrimSpace(parts[0])
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			toTag = val
		case "from-tag":
			fromTag = val
		}
	}
	return callID, toTag, fromTag, callID != "" && toTag != "" && fromTag != ""
}
