package registrar

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

const fuzzSeed = "REGISTER sip:127.0.0.1 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n" +
	"Max-Forwards: 70\r\n" +
	"From: <sip:1001@127.0.0.1>;tag=a\r\n" +
	"To: <sip:1001@127.0.0.1>\r\n" +
	"Call-ID: c1\r\n" +
	"CSeq: 2 REGISTER\r\n" +
	"Contact: <sip:1001@127.0.0.1:5060>;expires=600, <sip:1001@10.0.0.1>\r\n" +
	"Expires: 3600\r\n" +
	`Authorization: Digest username="1001", realm="hotline", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", uri="sip:127.0.0.1", response="00112233445566778899aabbccddeeff", qop=auth, nc=00000001, cnonce="x"` + "\r\n" +
	"Content-Length: 0\r\n\r\n"

// FuzzServe feeds arbitrary REGISTER messages through the handler logic:
// it must never panic, answer with a final status or drop the request, never bind
// without a valid digest (a fuzzer cannot forge the nonce's HMAC), and
// never emit a header value containing CR or LF.
func FuzzServe(f *testing.F) {
	f.Add(fuzzSeed)
	f.Add(strings.Replace(fuzzSeed, "Contact: <sip:1001@127.0.0.1:5060>;expires=600, <sip:1001@10.0.0.1>", "Contact: *", 1))
	f.Add(strings.Replace(fuzzSeed, "Expires: 3600", "Expires: 99999999999999999999", 1))
	f.Add(strings.Replace(fuzzSeed, "Authorization: Digest", "Authorization: Digest x=1,", 1))
	f.Fuzz(func(t *testing.T, raw string) {
		msg, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		req.SetSource("127.0.0.1:5060")
		req.SetTransport("UDP")
		r, _, rec := newTestRegistrar(t)
		res := r.serve(req)
		if res == nil {
			return
		}
		if res.StatusCode < 200 || res.StatusCode > 699 {
			t.Fatalf("no final response: %v", res)
		}
		if res.StatusCode == 200 && len(res.GetHeaders("Contact")) > 0 {
			t.Fatalf("bound without authentication:\n%s", res)
		}
		if ev := rec.take(); len(ev) != 0 {
			t.Fatalf("events without authentication: %v", ev)
		}
		for _, h := range res.Headers() {
			if strings.ContainsAny(h.Value(), "\r\n") {
				t.Fatalf("header %s contains CR/LF: %q", h.Name(), h.Value())
			}
		}
	})
}

func FuzzParseDeltaSeconds(f *testing.F) {
	for _, s := range []string{"0", "3600", " 60 ", "-1", "4294967296", "99999999999999999999", "", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDeltaSeconds(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("negative duration %v from %q", d, s)
		}
	})
}
