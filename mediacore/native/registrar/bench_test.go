package registrar

import (
	"fmt"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/internal/clock"
	"hotline/internal/sipdigest"
)

// benchRequests prepares n authenticated REGISTERs (one nonce, increasing
// nc, a refresh of the same binding each time) so the timed loop measures
// only the registrar: parse of Authorization, HA1 lookup, digest check,
// nonce-count check, binding update and the 200 response.
func benchRequests(b *testing.B, r *Registrar, alg sipdigest.Algorithm, nonce string, first uint32, n int) []*sip.Request {
	b.Helper()
	p := newPhone(b, testUser, "127.0.0.1:5090")
	p.cseq = int(first)
	tmpl := p.request("Contact: "+p.contact, "Expires: 600")
	ha1 := sipdigest.HA1(alg, testUser, r.Realm(), testPass)
	out := make([]*sip.Request, n)
	for i := range out {
		nc := fmt.Sprintf("%08x", first+uint32(i))
		resp := sipdigest.Response(alg, ha1, nonce, nc, "cn", "auth", "REGISTER", "sip:127.0.0.1")
		req := tmpl.Clone()
		req.CSeq().SeqNo = first + uint32(i)
		req.AppendHeader(sip.NewHeader("Authorization", fmt.Sprintf(
			`Digest username="%s", realm="%s", nonce="%s", uri="sip:127.0.0.1", response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="cn"`,
			testUser, r.Realm(), nonce, resp, alg, nc)))
		req.SetSource("127.0.0.1:5090")
		req.SetTransport("UDP")
		out[i] = req
	}
	return out
}

func benchmarkRegister(b *testing.B, alg sipdigest.Algorithm) {
	creds := NewStaticCredentials(DefaultRealm, map[string]string{testUser: testPass})
	r, err := New(creds)
	if err != nil {
		b.Fatal(err)
	}
	nonce := r.verifier.NewNonce()
	const chunk = 4096
	var reqs []*sip.Request
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%chunk == 0 {
			b.StopTimer()
			if i > 0 && i%(1<<20) == 0 {
				nonce = r.verifier.NewNonce()
			}
			reqs = benchRequests(b, r, alg, nonce, uint32(i%(1<<20))+1, chunk)
			b.StartTimer()
		}
		if res := r.serve(reqs[i%chunk]); res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

func BenchmarkRegisterMD5(b *testing.B)    { benchmarkRegister(b, sipdigest.MD5) }
func BenchmarkRegisterSHA256(b *testing.B) { benchmarkRegister(b, sipdigest.SHA256) }

// BenchmarkChallenge measures the 401 every exchange starts with.
func BenchmarkChallenge(b *testing.B) {
	r, err := New(StaticCredentials{})
	if err != nil {
		b.Fatal(err)
	}
	p := newPhone(b, testUser, "127.0.0.1:5091")
	req := p.request("Contact: " + p.contact)
	b.ReportAllocs()
	for b.Loop() {
		if res := r.serve(req); res.StatusCode != 401 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

// BenchmarkBlocked measures what a blocked source costs.
func BenchmarkBlocked(b *testing.B) {
	clk := clock.NewFake(t0)
	r, err := New(StaticCredentials{}, WithClock(clk.Now), WithBlocking(1, time.Second, time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	r.guard.fail("127.0.0.1", t0)
	r.guard.fail("127.0.0.1", t0)
	p := newPhone(b, testUser, "127.0.0.1:5092")
	req := p.request("Contact: " + p.contact)
	b.ReportAllocs()
	for b.Loop() {
		if res := r.serve(req); res.StatusCode != 403 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
