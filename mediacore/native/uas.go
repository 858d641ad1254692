package native

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/mediacore"
	"hotline/mediacore/native/rtpengine"
)

// copyHeaders are the INVITE headers, besides X- headers, that
// ChannelCreated carries to the controller.
const copyHeaders = "user-agent,diversion,p-asserted-identity,remote-party-id,referred-by"

// onInvite handles a new INVITE (or a re-INVITE in an existing dialog). For
// a new call it blocks until the controller answered or rejected it, the
// caller cancelled, or the setup timeout fired: sipgo ends the INVITE server
// transaction when this handler returns.
func (b *Backend) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, has := to.Params.Get("tag"); has {
			b.onReInvite(req, tx)
			return
		}
	}
	if b.ctx.Err() != nil {
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	from := req.From()
	if from == nil || req.Contact() == nil || req.CallID() == nil {
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	// Floods are refused before anything is allocated: too many INVITEs
	// in progress, or too many from this source (RFC 3261 §21.5.4: 503
	// with Retry-After).
	var ip netip.Addr
	if src, err := netip.ParseAddrPort(req.Source()); err == nil {
		ip = src.Addr().Unmap()
	}
	retry, reason, release := b.gate.enter(ip, b.trunkOf(ip) != "")
	if release == nil {
		b.m.dropped.WithLabelValues(reason).Inc()
		if ok, suppressed := b.refusals.allow(); ok {
			b.log.Warn("INVITE refused: "+reason, "source", req.Source(), "retry_after", retry, "suppressed", suppressed)
		}
		refuseBusy(tx, req, retry)
		return
	}
	defer release()
	trunk, ok := b.admit(req)
	if !ok {
		// Calls come from trunks (by source address) or from registered
		// phones (from the address they registered from); anything else
		// is refused, so that nobody places calls through the center
		// without credentials.
		if ok, suppressed := b.refusals.allow(); ok {
			b.log.Info("INVITE refused with 403: the source is no trunk and no registered phone of the From user",
				"source", req.Source(), "from", from.Address.User, "suppressed", suppressed)
		}
		respond(tx, req, sip.StatusForbidden, "Forbidden")
		return
	}
	offer, err := parseOffer(req.Body())
	if err != nil {
		// Offerless INVITEs (RFC 3261 §13.2.1 lets the offer come in the
		// 200/ACK) are not supported: every device and trunk in scope sends
		// SDP in the INVITE.
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	sess, err := b.dua.ReadInvite(req, tx)
	if err != nil {
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	defer sess.Close()
	_ = sess.Respond(sip.StatusTrying, "Trying", nil)

	c, err := b.newChannel(mediacore.ChannelID(newID("in-")), mediacore.Inbound)
	if err != nil {
		_ = sess.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	c.setup = make(chan setupCmd)
	c.mu.Lock()
	c.srv = sess
	c.media = offer
	c.mu.Unlock()
	b.addDialog(c, sess.ID)
	called := req.Recipient.User
	if called == "" && req.To() != nil {
		called = req.To().Address.User
	}
	headers := pickHeaders(req)
	c.setInfo(from.Address.User, called, headers)
	c.emit(mediacore.Event{
		Type: mediacore.EventChannelCreated, Direction: mediacore.Inbound,
		Caller: from.Address.User, CallerName: from.DisplayName, Called: called,
		Headers: headers, Trunk: trunk,
	})

	timer := time.NewTimer(b.cfg.SetupTimeout)
	defer timer.Stop()
	for {
		select {
		case cmd := <-c.setup:
			switch cmd.kind {
			case cmdRing:
				err := sess.Respond(sip.StatusRinging, "Ringing", nil)
				if err == nil {
					c.mu.Lock()
					first := !c.ringing
					c.ringing = true
					c.mu.Unlock()
					if first {
						c.emit(mediacore.Event{Type: mediacore.EventRinging})
					}
				}
				cmd.reply <- sipErr("ring", err)
			case cmdProgress:
				cmd.reply <- b.progress(c, sess, offer)
			case cmdAnswer:
				// Media starts with the answer, or with Progress (early
				// media): nothing is sent to an address before the
				// controller accepted the call.
				body, err := b.answerSDP(c, offer)
				if err == nil {
					// Blocks until the ACK (RFC 3261 §13.3.1.4): media may
					// flow before, but the call is up only when confirmed.
					err = sess.RespondSDP(body)
				}
				if err != nil {
					cmd.reply <- sipErr("answer", err)
					b.end(c, mediacore.CauseFailure, 0)
					return
				}
				c.mu.Lock()
				c.setUpLocked()
				c.mu.Unlock()
				c.emit(mediacore.Event{Type: mediacore.EventAnswered})
				cmd.reply <- nil
				return
			case cmdReject:
				code := cmd.cause.SIPCode()
				err := refuse(tx, sess.InviteRequest, code, reasonPhrase(code))
				cmd.reply <- sipErr("reject", err)
				b.end(c, cmd.cause, code)
				return
			}
		case <-sess.Context().Done():
			// CANCEL: sipgo answered it 200 and the INVITE 487 (RFC 3261
			// §9.2).
			b.end(c, mediacore.CauseCancelled, sip.StatusRequestTerminated)
			return
		case <-timer.C:
			_ = refuse(tx, sess.InviteRequest, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable")
			b.end(c, mediacore.CauseNoAnswer, sip.StatusTemporarilyUnavailable)
			return
		case <-b.ctx.Done():
			_ = refuse(tx, sess.InviteRequest, sip.StatusServiceUnavailable, "Service Unavailable")
			b.end(c, mediacore.CauseCongestion, sip.StatusServiceUnavailable)
			return
		}
	}
}

// refuse sends a final non-2xx answer to an INVITE (the session's copy,
// which carries the To tag of the 180) and returns at once.
// The INVITE server transaction absorbs the ACK and retransmits the answer
// until it comes (RFC 3261 §17.2.1); the call has nothing to wait for, and
// a caller that never ACKs (a flood) keeps no call state alive. sipgo's
// DialogServerSession.Respond would block until the ACK or Timer H (32 s).
func refuse(tx sip.ServerTransaction, req *sip.Request, code int, reason string) error {
	return tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}

func reasonPhrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 603:
		return "Decline"
	}
	return "Error"
}

// pickHeaders copies the headers a controller routes on: X- headers and a
// few well-known ones.
func pickHeaders(req *sip.Request) map[string]string {
	out := map[string]string{}
	for _, h := range req.Headers() {
		name := strings.ToLower(h.Name())
		if strings.HasPrefix(name, "x-") || strings.Contains(","+copyHeaders+",", ","+name+",") {
			if len(out) < 32 && len(h.Value()) <= 512 {
				out[h.Name()] = h.Value()
			}
		}
	}
	return out
}

// admit decides whether an INVITE may start a call: from a trunk's
// address (the trunk's name is returned), from the source of a registered
// contact of its From user, or from anywhere when configured.
func (b *Backend) admit(req *sip.Request) (trunk string, ok bool) {
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return "", b.cfg.AllowUnknownSources
	}
	ip := src.Addr().Unmap()
	if name := b.trunkOf(ip); name != "" {
		return name, true
	}
	if b.cfg.Registrar != nil {
		for _, ct := range b.cfg.Registrar.Lookup(req.From().Address.User) {
			if s, err := netip.ParseAddrPort(ct.Source); err == nil && s.Addr().Unmap() == ip {
				return "", true
			}
		}
	}
	return "", b.cfg.AllowUnknownSources
}

// trunkOf names the trunk whose InboundFrom holds ip, or "".
func (b *Backend) trunkOf(ip netip.Addr) string {
	for _, t := range b.trunkList() {
		for _, p := range t.InboundFrom {
			if p.Contains(ip) {
				return t.Name
			}
		}
	}
	return ""
}

// applyRemote points the leg at the negotiated remote media. local is the
// direction we want ourselves (sendrecv, or sendonly while we hold).
func (b *Backend) applyRemote(c *channel, m mediaOffer, local dir) error {
	dtmf := m.dtmfPT
	if dtmf == dtmfPTNone {
		dtmf = 0 // the engine's "none": it then detects DTMF in-band
	}
	if err := c.leg.SetRemote(m.addr, m.codec, m.pt, dtmf); err != nil {
		return err
	}
	c.leg.SetDirection(legDirection(m, local))
	return nil
}

// legDirection combines what the peer asked (its offer or answer) with
// what we want: we send only when both allow it (RFC 3264 §6.1, §8.4).
func legDirection(m mediaOffer, local dir) rtpengine.Direction {
	send := !m.hold && (m.dir == dirSendRecv || m.dir == dirRecvOnly) && (local == dirSendRecv || local == dirSendOnly)
	recv := (m.dir == dirSendRecv || m.dir == dirSendOnly) && (local == dirSendRecv || local == dirRecvOnly)
	switch {
	case send && recv:
		return rtpengine.SendRecv
	case send:
		return rtpengine.SendOnly
	case recv:
		return rtpengine.RecvOnly
	}
	return rtpengine.Inactive
}

// localDescription renders our SDP for channel c: an answer to offer when
// offer is set (keeping its m= lines), else a new offer; version bumps on
// every new description (RFC 3264 §8).
func (b *Backend) localDescription(c *channel, offer mediaOffer, local dir) ([]byte, error) {
	c.mu.Lock()
	p := c.localSDP
	if p.sessionID == 0 {
		p.sessionID = uint64(time.Now().UnixNano()&0x7fffffffffff) + 1
		p.ip = c.leg.LocalAddr().Addr()
		p.port = int(c.leg.LocalAddr().Port())
	}
	p.version++
	if offer.addr.IsValid() {
		p.codecs = []codecPT{{offer.codec, offer.pt}}
		p.dtmfPT = offer.dtmfPT
		p.dir = combineAnswerDir(offer.dir, local)
		p.mlines, p.audioIndex = offer.mlines, offer.audioIndex
	} else {
		if len(p.codecs) == 0 {
			p.codecs = offerCodecs
			p.dtmfPT = defaultDTMFPT
		}
		p.dir = local
		p.mlines = nil
	}
	c.localSDP = p
	c.mu.Unlock()
	return buildSDP(p)
}

// combineAnswerDir answers an offered direction given our own wish.
func combineAnswerDir(offered, local dir) dir {
	a := offered.answer()
	if local == dirSendRecv {
		return a
	}
	send := (a == dirSendRecv || a == dirSendOnly) && (local == dirSendOnly)
	recv := (a == dirSendRecv || a == dirRecvOnly) && (local == dirRecvOnly)
	switch {
	case send:
		return dirSendOnly
	case recv:
		return dirRecvOnly
	}
	return dirInactive
}

// onReInvite handles an INVITE inside a dialog: a hold/unhold or a media
// change from the peer (RFC 3264 §8, §8.4).
func (b *Backend) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c := b.matchDialog(req)
	if c == nil {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	// The peer may send a re-INVITE right after its ACK, before the
	// answering goroutine marked the call up: wait a little for it.
	select {
	case <-c.up:
	case <-c.done:
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	case <-time.After(2 * time.Second):
		// RFC 3261 §14.2: a re-INVITE while ours is pending gets 491.
		respond(tx, req, sip.StatusRequestPending, "Request Pending")
		return
	}
	c.mu.Lock()
	srv := c.srv
	held := c.held
	wasRemoteHold := c.media.dir == dirSendOnly || c.media.dir == dirInactive || c.media.hold
	c.mu.Unlock()
	// RFC 3261 §12.2.2: a request with a lower CSeq than the last one in
	// the dialog gets 500. Only the UAS side tracks it: sipgo seeds a
	// client dialog's remote CSeq with our own INVITE's, which is not the
	// peer's sequence space.
	if srv != nil && srv.ReadRequest(req, tx) != nil {
		respond(tx, req, sip.StatusInternalServerError, "Server Internal Error")
		return
	}
	offer, err := parseOffer(req.Body())
	if err != nil {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	local := dirSendRecv
	if held {
		local = dirSendOnly
	}
	if err := b.applyRemote(c, offer, local); err != nil {
		respond(tx, req, sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return
	}
	c.mu.Lock()
	c.media = offer
	c.mu.Unlock()
	body, err := b.localDescription(c, offer, local)
	if err != nil {
		respond(tx, req, sip.StatusInternalServerError, "Server Internal Error")
		return
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(sip.HeaderClone(&b.dua.ContactHDR))
	if err := tx.Respond(res); err != nil {
		return
	}
	remoteHold := offer.dir == dirSendOnly || offer.dir == dirInactive || offer.hold
	switch {
	case remoteHold && !wasRemoteHold:
		c.emit(mediacore.Event{Type: mediacore.EventHold})
	case !remoteHold && wasRemoteHold:
		c.emit(mediacore.Event{Type: mediacore.EventUnhold})
	}
	// The 2xx is retransmitted by sipgo's server transaction until the ACK
	// (handled in onAck) or until it gives up; nothing to wait for here.
	select {
	case <-tx.Acks():
	case <-tx.Done():
	case <-time.After(2 * time.Second):
	}
}

// reinvite sends a re-INVITE with our new description (hold/unhold, RFC
// 3264 §8.4) and ACKs its 2xx.
func (b *Backend) reinvite(ctx context.Context, c *channel, local dir) error {
	target, ok := c.remoteTarget()
	if !ok {
		return mediacore.ErrChannelState
	}
	body, err := b.localDescription(c, mediaOffer{}, local)
	if err != nil {
		return err
	}
	req := sip.NewRequest(sip.INVITE, target)
	req.SetBody(body)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res, err := c.request(ctx, req)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("%w: native: re-INVITE answered %s", mediacore.ErrChannelState, res.StartLine())
	}
	ack := sip.NewRequest(sip.ACK, target)
	if err := c.writeRequest(ack); err != nil {
		return err
	}
	answer, err := parseOffer(res.Body())
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.media = answer
	c.mu.Unlock()
	return b.applyRemote(c, answer, local)
}
