package sipdigest

import (
	"fmt"
	"strings"
)

// Limits on client input; generous for any real phone, small enough that a
// hostile header costs little to reject.
const (
	maxCredentialsLen = 4096
	maxParams         = 32
)

// Credentials are the parameters of an Authorization or Proxy-Authorization
// header using the Digest scheme (RFC 7616 §3.4, RFC 3261 §22.4).
//
// Values are unquoted and unescaped. Parameters this package does not use are
// ignored (but still checked for syntax and duplicates).
type Credentials struct {
	Username string
	Realm    string
	Nonce    string
	// URI is the digest-uri as the client hashed it; it is used verbatim.
	URI      string
	Response string
	// Algorithm is MD5 when the client omitted it (RFC 7616 §3.3).
	Algorithm Algorithm
	CNonce    string
	Opaque    string
	// QOP is the chosen quality of protection; empty when the client sent none.
	QOP string
	// NC is the nonce count exactly as sent (8 hex digits): the response is
	// computed over these characters, not over the number.
	NC string
}

// ParseCredentials parses the value of an Authorization or
// Proxy-Authorization header ("Digest username=..., ..."). Parameter names
// are case-insensitive; values may be tokens or quoted strings with
// backslash escapes (RFC 7230 §3.2.6). Duplicate parameters, control
// characters, an unknown algorithm, or a missing username, realm, nonce, uri
// or response are errors wrapping ErrMalformed. When qop is present, nc
// (exactly 8 hex digits) and cnonce are required too.
func ParseCredentials(header string) (*Credentials, error) {
	if len(header) > maxCredentialsLen {
		return nil, fmt.Errorf("%w: header longer than %d bytes", ErrMalformed, maxCredentialsLen)
	}
	s := skipLWS(header)
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if !strings.EqualFold(s[:i], "Digest") {
		return nil, fmt.Errorf("%w: scheme is not Digest", ErrMalformed)
	}
	s = s[i:]
	if s == "" || (s[0] != ' ' && s[0] != '\t') {
		return nil, fmt.Errorf("%w: no parameters after scheme", ErrMalformed)
	}

	var c Credentials
	var alg string
	// Names seen so far, for the duplicate check; a slice beats a map at
	// maxParams entries and does not allocate for typical headers.
	var seenBuf [12]string
	seen := seenBuf[:0]
	for {
		s = skipLWS(s)
		name, rest := cutToken(s)
		if name == "" {
			return nil, fmt.Errorf("%w: expected parameter name at %q", ErrMalformed, clip(s))
		}
		rest = skipLWS(rest)
		if rest == "" || rest[0] != '=' {
			return nil, fmt.Errorf("%w: parameter %q has no value", ErrMalformed, name)
		}
		rest = skipLWS(rest[1:])
		var value string
		var err error
		if rest != "" && rest[0] == '"' {
			value, rest, err = cutQuoted(rest)
			if err != nil {
				return nil, err
			}
		} else {
			value, rest = cutToken(rest)
			if value == "" {
				return nil, fmt.Errorf("%w: parameter %q has an empty or invalid value", ErrMalformed, name)
			}
		}
		lname := strings.ToLower(name)
		for _, n := range seen {
			if n == lname {
				return nil, fmt.Errorf("%w: duplicate parameter %q", ErrMalformed, lname)
			}
		}
		if len(seen) == maxParams {
			return nil, fmt.Errorf("%w: more than %d parameters", ErrMalformed, maxParams)
		}
		seen = append(seen, lname)
		switch lname {
		case "username":
			c.Username = value
		case "realm":
			c.Realm = value
		case "nonce":
			c.Nonce = value
		case "uri":
			c.URI = value
		case "response":
			c.Response = value
		case "algorithm":
			alg = value
		case "cnonce":
			c.CNonce = value
		case "opaque":
			c.Opaque = value
		case "qop":
			c.QOP = value
		case "nc":
			c.NC = value
		}

		s = skipLWS(rest)
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("%w: expected ',' at %q", ErrMalformed, clip(s))
		}
		s = s[1:]
	}

	a, err := ParseAlgorithm(alg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	c.Algorithm = a
	for _, req := range [...]struct{ name, v string }{
		{"username", c.Username}, {"realm", c.Realm}, {"nonce", c.Nonce},
		{"uri", c.URI}, {"response", c.Response},
	} {
		if req.v == "" {
			return nil, fmt.Errorf("%w: missing %s", ErrMalformed, req.name)
		}
	}
	if c.QOP != "" {
		if c.CNonce == "" {
			return nil, fmt.Errorf("%w: qop without cnonce", ErrMalformed)
		}
		if !isNC(c.NC) {
			return nil, fmt.Errorf("%w: nc must be 8 hex digits, got %q", ErrMalformed, clip(c.NC))
		}
	}
	return &c, nil
}

// isNC reports whether s is 8LHEX (RFC 7616 §3.4: nc-value).
func isNC(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

func skipLWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

// isTokenChar reports tchar of RFC 7230 §3.2.6.
func isTokenChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

func cutToken(s string) (token, rest string) {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// cutQuoted unquotes the quoted-string at the start of s (RFC 7230 §3.2.6):
// qdtext is HTAB, SP, visible ASCII except '"' and '\', or obs-text; a
// quoted-pair is '\' followed by HTAB, SP, VCHAR or obs-text. Other control
// characters (CR, LF, NUL, ...) are rejected, so nothing parsed here can
// split a header when echoed.
func cutQuoted(s string) (value, rest string, err error) {
	// Fast path: no escapes, so the value is a substring of s.
	for i := 1; i < len(s); i++ {
		ch := s[i]
		if ch == '\\' {
			break
		}
		if ch == '"' {
			return s[1:i], s[i+1:], nil
		}
		if isCTL(ch) {
			return "", "", fmt.Errorf("%w: control character 0x%02x in quoted string", ErrMalformed, ch)
		}
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"':
			return b.String(), s[i+1:], nil
		case ch == '\\':
			i++
			if i == len(s) {
				return "", "", fmt.Errorf("%w: unterminated quoted-pair", ErrMalformed)
			}
			if isCTL(s[i]) {
				return "", "", fmt.Errorf("%w: control character in quoted-pair", ErrMalformed)
			}
			b.WriteByte(s[i])
		case isCTL(ch):
			return "", "", fmt.Errorf("%w: control character 0x%02x in quoted string", ErrMalformed, ch)
		default:
			b.WriteByte(ch)
		}
	}
	return "", "", fmt.Errorf("%w: unterminated quoted string", ErrMalformed)
}

// isCTL reports a control character other than HTAB.
func isCTL(b byte) bool { return (b < 0x20 && b != '\t') || b == 0x7f }

// clip shortens client input quoted in error messages.
func clip(s string) string {
	const n = 32
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
