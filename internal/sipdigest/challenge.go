package sipdigest

import "strings"

// Challenge is one WWW-Authenticate (or Proxy-Authenticate) Digest challenge
// (RFC 7616 §3.3). This server always offers qop="auth".
type Challenge struct {
	Realm     string
	Nonce     string
	Opaque    string
	Algorithm Algorithm
	// Stale tells the client its credentials were right but the nonce had
	// expired, so it may retry at once without asking its user.
	Stale bool
}

// String formats the header value, e.g.
//
//	Digest realm="hotline", nonce="...", algorithm=SHA-256, qop="auth"
//
// Quoted values are escaped; control characters are dropped so that a value
// can never split the header (values come from configuration and from this
// package, never from clients, but the struct is exported).
func (c Challenge) String() string {
	var b strings.Builder
	b.Grow(64 + len(c.Realm) + len(c.Nonce) + len(c.Opaque))
	b.WriteString(`Digest realm=`)
	writeQuoted(&b, c.Realm)
	b.WriteString(`, nonce=`)
	writeQuoted(&b, c.Nonce)
	if c.Opaque != "" {
		b.WriteString(`, opaque=`)
		writeQuoted(&b, c.Opaque)
	}
	b.WriteString(`, algorithm=`)
	b.WriteString(c.Algorithm.String())
	b.WriteString(`, qop="auth"`)
	if c.Stale {
		b.WriteString(`, stale=true`)
	}
	return b.String()
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case isCTL(ch):
			continue
		case ch == '"' || ch == '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(ch)
	}
	b.WriteByte('"')
}
