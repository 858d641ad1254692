package sipdigest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of a Verifier; each has an Option.
const (
	// DefaultNonceTTL is how long a nonce is accepted before answers carry
	// stale=true. Phones re-register every few minutes to an hour; five
	// minutes bounds how long a captured nonce is worth anything.
	DefaultNonceTTL = 5 * time.Minute
	// DefaultMaxNonces bounds the nonce-count table (about 150 bytes a
	// record, so about 10 MB when full). One record per nonce in use: with
	// the default TTL it holds over 200 new nonces a second before live
	// records are evicted (whose clients then get one extra stale 401).
	DefaultMaxNonces = 65536
)

// Nonce layout: 8 bytes issue time (Unix ns, big endian), 12 random bytes,
// then the first 16 bytes of HMAC-SHA256(secret, time || random). Stateless:
// any node holding the secret can check it, and nothing is stored until a
// client uses it.
const (
	nonceTimeLen = 8
	nonceRandLen = 12
	nonceMACLen  = 16
	nonceRawLen  = nonceTimeLen + nonceRandLen + nonceMACLen
)

var nonceEncoding = base64.RawURLEncoding

// Verifier issues digest challenges and verifies credentials for one realm.
// It is safe for concurrent use.
type Verifier struct {
	realm     string
	algs      []Algorithm
	ttl       time.Duration
	now       func() time.Time
	secret    []byte
	maxNonces int
	// dummy holds, per algorithm, an HA1 nobody knows the password of:
	// unknown users are checked against it so that they cost the same work
	// as known ones and get the same answer.
	dummy [SHA256 + 1]string

	// mu guards ncs, order and evictedUpTo.
	mu sync.Mutex
	// ncs maps a nonce in use to the highest nonce count accepted with it.
	ncs map[string]*ncRecord
	// order lists the keys of ncs in first-use order, for eviction.
	order []string
	// evictedUpTo is the latest issue time (Unix ns) of an evicted record:
	// a nonce issued at or before it that has no record may have lost it,
	// so it is answered stale rather than trusted from nc 1 again.
	evictedUpTo int64
}

type ncRecord struct {
	nc     uint32
	issued int64
}

// Option configures a Verifier.
type Option func(*Verifier) error

// WithClock sets the time source (tests pass a fake). Default time.Now.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) error {
		if now == nil {
			return errors.New("sipdigest: nil clock")
		}
		v.now = now
		return nil
	}
}

// WithNonceTTL sets how long a nonce stays fresh. Default DefaultNonceTTL.
func WithNonceTTL(d time.Duration) Option {
	return func(v *Verifier) error {
		if d <= 0 {
			return fmt.Errorf("sipdigest: nonce TTL must be positive, got %v", d)
		}
		v.ttl = d
		return nil
	}
}

// WithSecret sets the HMAC key for nonces (at least 16 bytes). Nodes that
// share it accept each other's nonces. Default: 32 random bytes per process,
// so nonces die with the process and clients simply re-challenge.
func WithSecret(secret []byte) Option {
	return func(v *Verifier) error {
		if len(secret) < 16 {
			return fmt.Errorf("sipdigest: secret must be at least 16 bytes, got %d", len(secret))
		}
		v.secret = append([]byte(nil), secret...)
		return nil
	}
}

// WithAlgorithms sets the accepted algorithms, in the order challenges are
// offered (the first is preferred, RFC 8760 §2.4). Default SHA256, MD5.
func WithAlgorithms(algs ...Algorithm) Option {
	return func(v *Verifier) error {
		if len(algs) == 0 {
			return errors.New("sipdigest: no algorithms")
		}
		seen := map[Algorithm]bool{}
		for _, a := range algs {
			if !a.Valid() {
				return fmt.Errorf("sipdigest: %w: %v", ErrUnsupportedAlgorithm, a)
			}
			if seen[a] {
				return fmt.Errorf("sipdigest: algorithm %v listed twice", a)
			}
			seen[a] = true
		}
		v.algs = append([]Algorithm(nil), algs...)
		return nil
	}
}

// WithMaxNonces bounds the nonce-count table. Default DefaultMaxNonces.
func WithMaxNonces(n int) Option {
	return func(v *Verifier) error {
		if n < 1 {
			return fmt.Errorf("sipdigest: max nonces must be positive, got %d", n)
		}
		v.maxNonces = n
		return nil
	}
}

// NewVerifier returns a Verifier for realm, which must be non-empty and free
// of control characters (it is echoed in every challenge).
func NewVerifier(realm string, opts ...Option) (*Verifier, error) {
	if realm == "" {
		return nil, errors.New("sipdigest: empty realm")
	}
	for i := 0; i < len(realm); i++ {
		if isCTL(realm[i]) || realm[i] == '\t' {
			return nil, fmt.Errorf("sipdigest: control character in realm %q", realm)
		}
	}
	v := &Verifier{
		realm:     realm,
		algs:      []Algorithm{SHA256, MD5},
		ttl:       DefaultNonceTTL,
		now:       time.Now,
		maxNonces: DefaultMaxNonces,
		ncs:       make(map[string]*ncRecord),
	}
	for _, o := range opts {
		if err := o(v); err != nil {
			return nil, err
		}
	}
	if v.secret == nil {
		v.secret = make([]byte, 32)
		if _, err := rand.Read(v.secret); err != nil {
			return nil, fmt.Errorf("sipdigest: secret: %w", err)
		}
	}
	var unknowable [32]byte
	if _, err := rand.Read(unknowable[:]); err != nil {
		return nil, fmt.Errorf("sipdigest: dummy: %w", err)
	}
	for _, a := range []Algorithm{MD5, SHA256} {
		v.dummy[a] = HA1(a, "", realm, string(unknowable[:]))
	}
	return v, nil
}

// Realm returns the realm the verifier challenges for.
func (v *Verifier) Realm() string { return v.realm }

// Algorithms returns the accepted algorithms in preference order.
func (v *Verifier) Algorithms() []Algorithm { return append([]Algorithm(nil), v.algs...) }

// Challenges returns one challenge per accepted algorithm, preferred first
// (RFC 8760 §2.4: a client uses the first one it supports), sharing one fresh
// nonce. Set stale after ErrStale.
func (v *Verifier) Challenges(stale bool) []Challenge {
	nonce := v.NewNonce()
	out := make([]Challenge, len(v.algs))
	for i, a := range v.algs {
		out[i] = Challenge{Realm: v.realm, Nonce: nonce, Algorithm: a, Stale: stale}
	}
	return out
}

// NewNonce returns a fresh signed nonce.
func (v *Verifier) NewNonce() string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:nonceTimeLen], uint64(v.now().UnixNano()))
	// crypto/rand.Read never returns an error since Go 1.24 (it crashes the
	// program instead), so there is nothing to handle.
	_, _ = rand.Read(raw[nonceTimeLen : nonceTimeLen+nonceRandLen])
	copy(raw[nonceTimeLen+nonceRandLen:], v.mac(raw[:nonceTimeLen+nonceRandLen]))
	return nonceEncoding.EncodeToString(raw[:])
}

func (v *Verifier) mac(b []byte) []byte {
	m := hmac.New(sha256.New, v.secret)
	m.Write(b)
	return m.Sum(nil)[:nonceMACLen]
}

// nonceIssued returns the issue time of a nonce this verifier (or one
// sharing its secret) signed.
func (v *Verifier) nonceIssued(nonce string) (int64, bool) {
	if len(nonce) != nonceEncoding.EncodedLen(nonceRawLen) {
		return 0, false
	}
	var raw [nonceRawLen]byte
	n, err := nonceEncoding.Decode(raw[:], []byte(nonce))
	if err != nil || n != nonceRawLen {
		return 0, false
	}
	if !hmac.Equal(raw[nonceTimeLen+nonceRandLen:], v.mac(raw[:nonceTimeLen+nonceRandLen])) {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(raw[:nonceTimeLen])), true
}

// Verify checks credentials c sent with a request of the given method.
// ha1 is the stored HA1 for (c.Username, realm, c.Algorithm) and known says
// whether the user exists; for an unknown user pass known=false (ha1 is then
// ignored) and the verifier does the same work against a dummy HA1 and
// returns the same ErrBadResponse a wrong password gets.
//
// Errors: ErrMalformed (with ErrUnsupportedAlgorithm for a refused
// algorithm, or for a missing qop=auth), ErrBadNonce (a nonce not issued
// here, whatever the user or password), ErrBadResponse (wrong password,
// unknown user, wrong realm), ErrStale (right answer, old nonce), ErrReplay
// (nonce count not increasing). Only a nil error authenticates the request.
//
// The digest-uri is used as the client sent it; checking it against the
// Request-URI is left to the caller, since proxies may rewrite the latter.
func (v *Verifier) Verify(c *Credentials, method string, ha1 string, known bool) error {
	if c == nil {
		return fmt.Errorf("%w: no credentials", ErrMalformed)
	}
	if !v.accepts(c.Algorithm) {
		return fmt.Errorf("%w: %w: %v", ErrMalformed, ErrUnsupportedAlgorithm, c.Algorithm)
	}
	// qop=auth is required: without it there is no nonce count and no
	// replay protection (RFC 7616 §3.4 makes qop mandatory too).
	if !strings.EqualFold(c.QOP, "auth") || c.CNonce == "" || !isNC(c.NC) {
		return fmt.Errorf("%w: qop=auth with nc and cnonce is required", ErrMalformed)
	}
	if !known || len(ha1) != c.Algorithm.hexLen() {
		ha1, known = v.dummy[c.Algorithm], false
	}
	issued, nonceOK := v.nonceIssued(c.Nonce)
	want := Response(c.Algorithm, ha1, c.Nonce, c.NC, c.CNonce, c.QOP, method, c.URI)
	// Some clients send upper-case hex; the comparison is constant-time
	// over equal lengths (ConstantTimeCompare returns early only on length,
	// which is public).
	match := subtle.ConstantTimeCompare([]byte(strings.ToLower(c.Response)), []byte(want)) == 1
	if !nonceOK {
		// Checked after the digest work so every failure costs the same.
		return ErrBadNonce
	}
	if !match || !known || c.Realm != v.realm {
		return ErrBadResponse
	}

	now := v.now().UnixNano()
	if now-issued > int64(v.ttl) || issued-now > int64(v.ttl) {
		return ErrStale
	}
	nc, err := strconv.ParseUint(c.NC, 16, 32)
	if err != nil {
		return fmt.Errorf("%w: nc %q", ErrMalformed, c.NC)
	}
	return v.useCount(c.Nonce, issued, uint32(nc), now)
}

func (v *Verifier) accepts(a Algorithm) bool {
	for _, x := range v.algs {
		if x == a {
			return true
		}
	}
	return false
}

// useCount records nc for nonce, refusing a count that does not increase.
func (v *Verifier) useCount(nonce string, issued int64, nc uint32, now int64) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if rec, ok := v.ncs[nonce]; ok {
		if nc <= rec.nc {
			return fmt.Errorf("%w: nc %08x after %08x", ErrReplay, nc, rec.nc)
		}
		rec.nc = nc
		return nil
	}
	if nc == 0 {
		return fmt.Errorf("%w: nc 00000000", ErrReplay)
	}
	if issued <= v.evictedUpTo {
		return ErrStale
	}
	for len(v.ncs) >= v.maxNonces {
		v.evictOldest(now)
	}
	v.ncs[nonce] = &ncRecord{nc: nc, issued: issued}
	v.order = append(v.order, nonce)
	return nil
}

// evictOldest drops the record used first. An expired one is simply
// forgotten (its nonce is refused as stale anyway); a live one raises the
// watermark so that its nonce is not accepted again from nc 1.
func (v *Verifier) evictOldest(now int64) {
	// Slicing off the front keeps the old array until append next grows it,
	// and append then copies only the live keys, so memory stays bounded.
	key := v.order[0]
	v.order[0] = ""
	v.order = v.order[1:]
	rec := v.ncs[key]
	delete(v.ncs, key)
	if rec != nil && now-rec.issued <= int64(v.ttl) && rec.issued > v.evictedUpTo {
		v.evictedUpTo = rec.issued
	}
}
