package sipdigest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/clock"
)

// newFakeClock is the shared virtual clock at a fixed start.
func newFakeClock() *clock.Fake { return clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

const (
	testRealm = "hotline"
	testUser  = "1001"
	testPass  = "s3cret"
)

// answer builds the credentials a client computes for ch with password.
func answer(ch Challenge, user, password, method, uri string, nc uint32) *Credentials {
	ha1 := HA1(ch.Algorithm, user, ch.Realm, password)
	ncs := fmt.Sprintf("%08x", nc)
	return &Credentials{
		Username: user, Realm: ch.Realm, Nonce: ch.Nonce, URI: uri,
		Algorithm: ch.Algorithm, CNonce: "cn0", QOP: "auth", NC: ncs,
		Response: Response(ch.Algorithm, ha1, ch.Nonce, ncs, "cn0", "auth", method, uri),
	}
}

func newTestVerifier(t *testing.T, clk *clock.Fake, opts ...Option) *Verifier {
	t.Helper()
	v, err := NewVerifier(testRealm, append([]Option{WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func challengeFor(t *testing.T, v *Verifier, alg Algorithm) Challenge {
	t.Helper()
	for _, c := range v.Challenges(false) {
		if c.Algorithm == alg {
			return c
		}
	}
	t.Fatalf("no %v challenge", alg)
	return Challenge{}
}

func TestChallengesOrder(t *testing.T) {
	v := newTestVerifier(t, newFakeClock())
	cs := v.Challenges(true)
	if len(cs) != 2 || cs[0].Algorithm != SHA256 || cs[1].Algorithm != MD5 {
		t.Fatalf("challenges = %+v, want SHA-256 then MD5", cs)
	}
	if cs[0].Nonce != cs[1].Nonce || !cs[0].Stale || cs[0].Realm != testRealm {
		t.Errorf("challenges = %+v", cs)
	}
	if a, b := v.NewNonce(), v.NewNonce(); a == b {
		t.Errorf("two nonces are equal: %s", a)
	}
}

func TestVerify(t *testing.T) {
	const method, uri = "REGISTER", "sip:127.0.0.1"
	tests := []struct {
		name    string
		alg     Algorithm
		mutate  func(c *Credentials)
		known   bool
		ha1     func(alg Algorithm) string
		wantErr error
	}{
		{name: "md5 right", alg: MD5, known: true},
		{name: "sha256 right", alg: SHA256, known: true},
		{name: "upper-case hex response", alg: SHA256, known: true, mutate: func(c *Credentials) { c.Response = strings.ToUpper(c.Response) }},
		{name: "wrong password", alg: MD5, known: true, wantErr: ErrBadResponse,
			ha1: func(a Algorithm) string { return HA1(a, testUser, testRealm, "guess") }},
		{name: "unknown user", alg: SHA256, known: false, wantErr: ErrBadResponse},
		{name: "unknown user whose answer matches the ha1 passed", alg: MD5, known: false, wantErr: ErrBadResponse},
		{name: "corrupt stored ha1", alg: MD5, known: true, wantErr: ErrBadResponse, ha1: func(Algorithm) string { return "abc" }},
		{name: "wrong realm", alg: MD5, known: true, wantErr: ErrBadResponse, mutate: func(c *Credentials) { c.Realm = "other" }},
		{name: "forged nonce", alg: MD5, known: true, wantErr: ErrBadNonce, mutate: func(c *Credentials) {
			c.Nonce = strings.Repeat("A", len(c.Nonce))
		}},
		{name: "forged nonce, unknown user, same answer", alg: SHA256, known: false, wantErr: ErrBadNonce, mutate: func(c *Credentials) {
			c.Nonce = strings.Repeat("B", len(c.Nonce))
		}},
		{name: "other uri", alg: MD5, known: true, wantErr: ErrBadResponse, mutate: func(c *Credentials) { c.URI = "sip:other" }},
		{name: "no qop", alg: MD5, known: true, wantErr: ErrMalformed, mutate: func(c *Credentials) { c.QOP = "" }},
		{name: "qop auth-int", alg: MD5, known: true, wantErr: ErrMalformed, mutate: func(c *Credentials) { c.QOP = "auth-int" }},
		{name: "nc zero", alg: MD5, known: true, wantErr: ErrReplay, mutate: func(c *Credentials) {
			*c = *answerWithNC(c, 0)
		}},
		{name: "invalid algorithm", alg: MD5, known: true, wantErr: ErrUnsupportedAlgorithm, mutate: func(c *Credentials) { c.Algorithm = 9 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newTestVerifier(t, newFakeClock())
			ch := challengeFor(t, v, tt.alg)
			c := answer(ch, testUser, testPass, method, uri, 1)
			if tt.mutate != nil {
				tt.mutate(c)
			}
			ha1 := HA1(tt.alg, testUser, testRealm, testPass)
			if tt.ha1 != nil {
				ha1 = tt.ha1(tt.alg)
			}
			err := v.Verify(c, method, ha1, tt.known)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// answerWithNC recomputes c's response for another nonce count, as a
// client with the right password would.
func answerWithNC(c *Credentials, nc uint32) *Credentials {
	return answer(Challenge{Realm: c.Realm, Nonce: c.Nonce, Algorithm: c.Algorithm}, testUser, testPass, "REGISTER", c.URI, nc)
}

// The unknown-user answer must be indistinguishable from the wrong-password
// one: same error value, not merely the same class.
func TestVerifyUnknownUserSameAnswer(t *testing.T) {
	v := newTestVerifier(t, newFakeClock())
	ch := challengeFor(t, v, MD5)
	wrong := v.Verify(answer(ch, testUser, "guess", "REGISTER", "sip:x", 1), "REGISTER", HA1(MD5, testUser, testRealm, testPass), true)
	unknown := v.Verify(answer(ch, "nobody", "guess", "REGISTER", "sip:x", 2), "REGISTER", "", false)
	if wrong == nil || wrong != unknown || wrong.Error() != unknown.Error() {
		t.Errorf("wrong password -> %v, unknown user -> %v; want the same", wrong, unknown)
	}
}

func TestVerifyNonceCount(t *testing.T) {
	v := newTestVerifier(t, newFakeClock())
	ha1 := HA1(SHA256, testUser, testRealm, testPass)
	ch := challengeFor(t, v, SHA256)
	steps := []struct {
		nc      uint32
		wantErr error
	}{
		{1, nil},
		{1, ErrReplay},
		{2, nil},
		{5, nil},
		{3, ErrReplay},
		{5, ErrReplay},
		{6, nil},
	}
	for i, s := range steps {
		err := v.Verify(answer(ch, testUser, testPass, "REGISTER", "sip:x", s.nc), "REGISTER", ha1, true)
		if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
			t.Fatalf("step %d nc=%d: err = %v, want %v", i, s.nc, err, s.wantErr)
		}
	}
}

func TestVerifyStale(t *testing.T) {
	clk := newFakeClock()
	v := newTestVerifier(t, clk, WithNonceTTL(time.Minute))
	ha1 := HA1(MD5, testUser, testRealm, testPass)
	ch := challengeFor(t, v, MD5)

	clk.Advance(time.Minute)
	if err := v.Verify(answer(ch, testUser, testPass, "REGISTER", "sip:x", 1), "REGISTER", ha1, true); err != nil {
		t.Fatalf("at TTL: %v", err)
	}
	clk.Advance(time.Second)
	if err := v.Verify(answer(ch, testUser, testPass, "REGISTER", "sip:x", 2), "REGISTER", ha1, true); !errors.Is(err, ErrStale) {
		t.Fatalf("after TTL, right password: err = %v, want ErrStale", err)
	}
	// stale=true promises the credentials were right: a wrong password on an
	// expired nonce must not get it.
	if err := v.Verify(answer(ch, testUser, "guess", "REGISTER", "sip:x", 3), "REGISTER", ha1, true); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("after TTL, wrong password: err = %v, want ErrBadResponse", err)
	}
	if err := v.Verify(answer(ch, "ghost", testPass, "REGISTER", "sip:x", 4), "REGISTER", "", false); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("after TTL, unknown user: err = %v, want ErrBadResponse", err)
	}
}

func TestVerifySharedSecret(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	clk := newFakeClock()
	a := newTestVerifier(t, clk, WithSecret(secret))
	b := newTestVerifier(t, clk, WithSecret(secret))
	other := newTestVerifier(t, clk)
	ha1 := HA1(MD5, testUser, testRealm, testPass)
	ch := challengeFor(t, a, MD5)
	if err := b.Verify(answer(ch, testUser, testPass, "REGISTER", "sip:x", 1), "REGISTER", ha1, true); err != nil {
		t.Errorf("node sharing the secret: %v", err)
	}
	if err := other.Verify(answer(ch, testUser, testPass, "REGISTER", "sip:x", 1), "REGISTER", ha1, true); !errors.Is(err, ErrBadNonce) {
		t.Errorf("node with another secret: err = %v, want ErrBadNonce", err)
	}
}

func TestVerifyAlgorithmNotOffered(t *testing.T) {
	v := newTestVerifier(t, newFakeClock(), WithAlgorithms(MD5))
	if cs := v.Challenges(false); len(cs) != 1 || cs[0].Algorithm != MD5 {
		t.Fatalf("challenges = %+v", cs)
	}
	ch := Challenge{Realm: testRealm, Nonce: v.NewNonce(), Algorithm: SHA256}
	err := v.Verify(answer(ch, testUser, testPass, "REGISTER", "sip:x", 1), "REGISTER", HA1(SHA256, testUser, testRealm, testPass), true)
	if !errors.Is(err, ErrUnsupportedAlgorithm) || !errors.Is(err, ErrMalformed) {
		t.Errorf("err = %v, want ErrMalformed and ErrUnsupportedAlgorithm", err)
	}
}

// When the nonce-count table is full, the oldest record is evicted; its
// nonce must then be answered stale (a fresh challenge) instead of being
// accepted again from nc 1, which would reopen replay.
func TestVerifyEviction(t *testing.T) {
	clk := newFakeClock()
	v := newTestVerifier(t, clk, WithMaxNonces(2))
	ha1 := HA1(MD5, testUser, testRealm, testPass)
	var chs []Challenge
	for i := 0; i < 3; i++ {
		chs = append(chs, challengeFor(t, v, MD5))
		clk.Advance(time.Millisecond)
	}
	for i, ch := range chs {
		if err := v.Verify(answer(ch, testUser, testPass, "REGISTER", "sip:x", 1), "REGISTER", ha1, true); err != nil {
			t.Fatalf("nonce %d: %v", i, err)
		}
	}
	if err := v.Verify(answer(chs[0], testUser, testPass, "REGISTER", "sip:x", 1), "REGISTER", ha1, true); !errors.Is(err, ErrStale) {
		t.Errorf("replay of evicted nonce: err = %v, want ErrStale", err)
	}
	if err := v.Verify(answer(chs[2], testUser, testPass, "REGISTER", "sip:x", 1), "REGISTER", ha1, true); !errors.Is(err, ErrReplay) {
		t.Errorf("replay of tracked nonce: err = %v, want ErrReplay", err)
	}
	fresh := challengeFor(t, v, MD5)
	if err := v.Verify(answer(fresh, testUser, testPass, "REGISTER", "sip:x", 1), "REGISTER", ha1, true); err != nil {
		t.Errorf("fresh nonce after eviction: %v", err)
	}
	v.mu.Lock()
	n := len(v.ncs)
	v.mu.Unlock()
	if n > 2 {
		t.Errorf("table holds %d records, cap 2", n)
	}
}

func TestNewVerifierOptions(t *testing.T) {
	tests := []struct {
		name  string
		realm string
		opts  []Option
	}{
		{"empty realm", "", nil},
		{"CRLF realm", "a\r\nb", nil},
		{"short secret", "r", []Option{WithSecret([]byte("short"))}},
		{"zero ttl", "r", []Option{WithNonceTTL(0)}},
		{"no algorithms", "r", []Option{WithAlgorithms()}},
		{"duplicate algorithm", "r", []Option{WithAlgorithms(MD5, MD5)}},
		{"invalid algorithm", "r", []Option{WithAlgorithms(Algorithm(7))}},
		{"zero max nonces", "r", []Option{WithMaxNonces(0)}},
		{"nil clock", "r", []Option{WithClock(nil)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewVerifier(tt.realm, tt.opts...); err == nil {
				t.Error("NewVerifier succeeded")
			}
		})
	}
}

func TestVerifyConcurrent(t *testing.T) {
	v := newTestVerifier(t, newFakeClock())
	ha1 := HA1(SHA256, testUser, testRealm, testPass)
	ch := challengeFor(t, v, SHA256)
	// 8 goroutines replay the same nc: exactly one may win.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v.Verify(answer(ch, testUser, testPass, "REGISTER", "sip:x", 1), "REGISTER", ha1, true) == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent uses of nc 1 accepted, want 1", wins)
	}
}

func benchmarkVerify(b *testing.B, alg Algorithm) {
	v, err := NewVerifier(testRealm)
	if err != nil {
		b.Fatal(err)
	}
	ha1 := HA1(alg, testUser, testRealm, testPass)
	ch := Challenge{Realm: testRealm, Nonce: v.NewNonce(), Algorithm: alg}
	// Answers are computed outside the timer, a chunk at a time, so the
	// figure is the server's work alone.
	const chunk = 4096
	var answers []*Credentials
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%chunk == 0 {
			b.StopTimer()
			if i > 0 && i%(1<<20) == 0 {
				ch.Nonce = v.NewNonce()
			}
			answers = answers[:0]
			for k := 0; k < chunk; k++ {
				answers = append(answers, answer(ch, testUser, testPass, "REGISTER", "sip:x", uint32(i%(1<<20)+k+1)))
			}
			b.StartTimer()
		}
		if err := v.Verify(answers[i%chunk], "REGISTER", ha1, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyMD5(b *testing.B)    { benchmarkVerify(b, MD5) }
func BenchmarkVerifySHA256(b *testing.B) { benchmarkVerify(b, SHA256) }

func BenchmarkParseCredentials(b *testing.B) {
	h := strings.ReplaceAll(rfc7616Header, "\n       ", " ")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCredentials(h); err != nil {
			b.Fatal(err)
		}
	}
}
