package native

import (
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// singleHeaders may appear once in a request (RFC 3261 §7.3.1: only
// headers defined as comma-separated lists may repeat).
var singleHeaders = []string{"To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// validated wraps a handler with the checks a UAS makes before acting on a
// request (RFC 3261 §8.2.1-§8.2.3), each answered with the status the RFC
// names; RFC 4475 §3 tortures exactly these.
func validated(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if code, reason, extra := checkRequest(req); code != 0 {
			if req.IsAck() {
				return // an ACK is never answered (RFC 3261 §17.2.3)
			}
			res := sip.NewResponseFromRequest(req, code, reason, nil)
			for _, hdr := range extra {
				res.AppendHeader(hdr)
			}
			_ = tx.Respond(res)
			return
		}
		h(req, tx)
	}
}

func checkRequest(req *sip.Request) (int, string, []sip.Header) {
	// §8.2.2.1: a Request-URI scheme we do not understand gets 416.
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return 416, "Unsupported URI Scheme", nil
	}
	// Headers escaped into the Request-URI have no meaning for a UAS; RFC
	// 4475 (message "escruri") allows rejecting them with 400.
	if req.Recipient.Headers != nil && req.Recipient.Headers.Length() > 0 {
		return sip.StatusBadRequest, "Bad Request", nil
	}
	for _, name := range singleHeaders {
		hs := req.GetHeaders(name)
		if len(hs) > 1 {
			return sip.StatusBadRequest, "Bad Request: repeated " + name, nil
		}
	}
	// §8.1.1.5: the CSeq method matches the request's (RFC 4475
	// "mismatch01" wants 400 otherwise).
	if cs := req.CSeq(); cs == nil || !strings.EqualFold(string(cs.MethodName), string(req.Method)) {
		return sip.StatusBadRequest, "Bad Request: CSeq method", nil
	}
	if req.IsAck() || req.IsCancel() {
		return 0, "", nil
	}
	// §8.2.2.3: we support no extension, so any Require gets 420 with the
	// options listed in Unsupported.
	if hs := req.GetHeaders("Require"); len(hs) > 0 {
		var opts []string
		for _, h := range hs {
			opts = append(opts, sanitizeToken(h.Value()))
		}
		return sip.StatusBadExtension, "Bad Extension", []sip.Header{sip.NewHeader("Unsupported", strings.Join(opts, ", "))}
	}
	if req.Method == sip.INVITE {
		// §8.2.3: a body we cannot read gets 415 with what we accept.
		if ct := req.ContentType(); ct != nil && len(req.Body()) > 0 && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct.Value())), "application/sdp") {
			return sip.StatusUnsupportedMediaType, "Unsupported Media Type", []sip.Header{sip.NewHeader("Accept", "application/sdp")}
		}
		// §21.4.7: the caller accepts no body type we can send (406).
		if hs := req.GetHeaders("Accept"); len(hs) > 0 && !acceptsSDP(hs) {
			return sip.StatusNotAcceptable, "Not Acceptable", nil
		}
	}
	return 0, "", nil
}

func acceptsSDP(hs []sip.Header) bool {
	for _, h := range hs {
		for _, v := range strings.Split(h.Value(), ",") {
			v = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
			if v == "application/sdp" || v == "application/*" || v == "*/*" || v == "" {
				return true
			}
		}
	}
	return false
}

// sanitizeToken keeps header-safe characters of a client's option tags so
// that echoing them in Unsupported cannot inject anything.
func sanitizeToken(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < 128; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~, ", c) >= 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}
