package sipdigest

import (
	"crypto/md5" //nolint:gosec // MD5 is mandated by RFC 3261 §22.4 for interoperability.
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// Algorithm is a digest hash algorithm (RFC 7616 §3.3 "algorithm", RFC 8760).
// The zero value is invalid.
type Algorithm int

const (
	// MD5 is the RFC 2617/RFC 3261 algorithm, still the only one many
	// deployed phones speak.
	MD5 Algorithm = iota + 1
	// SHA256 is "SHA-256" (RFC 8760 §2), preferred by the server.
	SHA256
)

// String returns the algorithm's token as it appears on the wire.
func (a Algorithm) String() string {
	switch a {
	case MD5:
		return "MD5"
	case SHA256:
		return "SHA-256"
	default:
		return fmt.Sprintf("Algorithm(%d)", int(a))
	}
}

// Valid reports whether a is one of the implemented algorithms.
func (a Algorithm) Valid() bool { return a == MD5 || a == SHA256 }

// ParseAlgorithm maps a wire token to an Algorithm, ignoring case. An empty
// token means MD5, the default of RFC 2617 §3.2.1 and RFC 7616 §3.3.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch {
	case s == "" || strings.EqualFold(s, "MD5"):
		return MD5, nil
	case strings.EqualFold(s, "SHA-256"):
		return SHA256, nil
	default:
		return 0, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, s)
	}
}

func (a Algorithm) newHash() hash.Hash {
	switch a {
	case MD5:
		return md5.New() //nolint:gosec // see import.
	case SHA256:
		return sha256.New()
	default:
		// A programmer error: every exported entry point validates first.
		panic("sipdigest: invalid algorithm " + a.String())
	}
}

// hexLen is the length of a hex-encoded digest for a.
func (a Algorithm) hexLen() int {
	if a == SHA256 {
		return 2 * sha256.Size
	}
	return 2 * md5.Size
}

// hashJoin returns hex(H(p0 ":" p1 ":" ...)), the building block of
// RFC 7616 §3.4.1 (KD and H are the same construction over joined strings).
func hashJoin(h hash.Hash, parts ...string) string {
	h.Reset()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{':'})
		}
		h.Write([]byte(p))
	}
	var buf [sha256.Size]byte
	sum := h.Sum(buf[:0])
	return hex.EncodeToString(sum)
}

// HA1 returns hex(H(user ":" realm ":" password)), the value an administrator
// stores instead of the password (RFC 7616 §3.4.2; RFC 8760 for SHA-256). It
// panics if alg is not valid.
func HA1(alg Algorithm, user, realm, password string) string {
	return hashJoin(alg.newHash(), user, realm, password)
}

// Response computes the request-digest for qop=auth (RFC 7616 §3.4.1):
//
//	KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri))
//
// with ha1 as stored. It panics if alg is not valid.
func Response(alg Algorithm, ha1, nonce, nc, cnonce, qop, method, uri string) string {
	h := alg.newHash()
	ha2 := hashJoin(h, method, uri)
	return hashJoin(h, ha1, nonce, nc, cnonce, qop, ha2)
}
