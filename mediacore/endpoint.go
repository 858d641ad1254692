package mediacore

import (
	"fmt"
	"strings"
)

// MaxDialLen bounds every string that can reach a dial string or a SIP header.
const MaxDialLen = 256

// EndpointKind says how an endpoint is reached.
type EndpointKind int

// Endpoint kinds.
const (
	// EndpointUser is a registered user: "user/1001". The backend resolves it
	// through its registrar (native) or its own directory.
	EndpointUser EndpointKind = iota + 1
	// EndpointTel is a telephone number reached through a trunk:
	// "tel/+861012345678", optionally pinned to one trunk as
	// "tel/+861012345678@trunkname".
	EndpointTel
	// EndpointSIP is a SIP URI dialled directly: "sip:alice@127.0.0.1:5070".
	EndpointSIP
)

// Endpoint is a parsed, validated neutral address.
type Endpoint struct {
	Kind EndpointKind
	// User is the user name for EndpointUser, and the user part of the URI
	// for EndpointSIP (may be empty).
	User string
	// Number is the digits for EndpointTel.
	Number string
	// Trunk pins an EndpointTel to one trunk; empty means "all trunks in
	// priority order".
	Trunk string
	// Host and Port are set for EndpointSIP (Port 0 = default).
	Host string
	Port int
	// Params is the URI parameter part of a sip: URI without the leading ';'
	// (e.g. "transport=tcp"), already validated.
	Params string
	raw    string
}

// String returns the endpoint in its neutral text form.
func (e Endpoint) String() string { return e.raw }

// ParseEndpoint parses and validates a neutral endpoint. Anything that is not
// one of the three documented forms, or holds a character that could alter a
// dial string (see ValidateDialString), is rejected with ErrInvalidEndpoint.
func ParseEndpoint(s string) (Endpoint, error) {
	if err := ValidateDialString(s); err != nil {
		return Endpoint{}, fmt.Errorf("%w: %w", ErrInvalidEndpoint, err)
	}
	switch {
	case strings.HasPrefix(s, "user/"):
		u := s[len("user/"):]
		if !isToken(u, userChar) {
			return Endpoint{}, fmt.Errorf("%w: bad user %q", ErrInvalidEndpoint, u)
		}
		return Endpoint{Kind: EndpointUser, User: u, raw: s}, nil
	case strings.HasPrefix(s, "tel/"):
		rest := s[len("tel/"):]
		num, trunk, hasTrunk := strings.Cut(rest, "@")
		if !isNumber(num) {
			return Endpoint{}, fmt.Errorf("%w: bad number %q", ErrInvalidEndpoint, num)
		}
		if hasTrunk && !isToken(trunk, userChar) {
			return Endpoint{}, fmt.Errorf("%w: bad trunk %q", ErrInvalidEndpoint, trunk)
		}
		return Endpoint{Kind: EndpointTel, Number: num, Trunk: trunk, raw: s}, nil
	case strings.HasPrefix(s, "sip:"):
		return parseSIPEndpoint(s)
	}
	return Endpoint{}, fmt.Errorf("%w: %q: want user/NAME, tel/NUMBER or a sip: URI", ErrInvalidEndpoint, s)
}

// parseSIPEndpoint accepts the subset of RFC 3261 §19.1.1 SIP-URIs a call
// center dials: sip:[user@]host[:port][;params]. No headers part ('?'), no
// password, no escapes: they have no use here and widen the attack surface.
func parseSIPEndpoint(s string) (Endpoint, error) {
	rest := s[len("sip:"):]
	e := Endpoint{Kind: EndpointSIP, raw: s}
	if i := strings.IndexByte(rest, ';'); i >= 0 {
		e.Params = rest[i+1:]
		rest = rest[:i]
		for _, p := range strings.Split(e.Params, ";") {
			k, v, _ := strings.Cut(p, "=")
			if !isToken(k, paramChar) || (v != "" && !isToken(v, paramChar)) {
				return Endpoint{}, fmt.Errorf("%w: bad uri parameter %q", ErrInvalidEndpoint, p)
			}
		}
	}
	if user, host, ok := strings.Cut(rest, "@"); ok {
		if !isToken(user, userChar) {
			return Endpoint{}, fmt.Errorf("%w: bad uri user %q", ErrInvalidEndpoint, user)
		}
		e.User = user
		rest = host
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return Endpoint{}, fmt.Errorf("%w: bad IPv6 host %q", ErrInvalidEndpoint, rest)
		}
		host = rest[1:end]
		if !isToken(host, func(c byte) bool { return isHex(c) || c == ':' || c == '.' }) {
			return Endpoint{}, fmt.Errorf("%w: bad IPv6 host %q", ErrInvalidEndpoint, host)
		}
		port = strings.TrimPrefix(rest[end+1:], ":")
		if rest[end+1:] != "" && !strings.HasPrefix(rest[end+1:], ":") {
			return Endpoint{}, fmt.Errorf("%w: bad host %q", ErrInvalidEndpoint, rest)
		}
	} else {
		if h, p, ok := strings.Cut(rest, ":"); ok {
			host, port = h, p
		}
		if !isToken(host, hostChar) {
			return Endpoint{}, fmt.Errorf("%w: bad host %q", ErrInvalidEndpoint, host)
		}
	}
	e.Host = host
	if port != "" {
		n := 0
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' || i > 4 {
				return Endpoint{}, fmt.Errorf("%w: bad port %q", ErrInvalidEndpoint, port)
			}
			n = n*10 + int(port[i]-'0')
		}
		if n == 0 || n > 65535 {
			return Endpoint{}, fmt.Errorf("%w: bad port %q", ErrInvalidEndpoint, port)
		}
		e.Port = n
	}
	return e, nil
}

// ValidateDialString rejects a string that could change the meaning of a dial
// string or inject a SIP header: empty or longer than MaxDialLen; any control
// byte (CR, LF, NUL, tab, DEL) or whitespace; the FreeSWITCH separators '&',
// ',' and '|'; variable expansion "${"; quotes, backslash, angle brackets and
// '?'. It is applied to endpoints, caller id numbers, channel and bridge ids
// and variable values before any backend sees them.
func ValidateDialString(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalidArgument)
	}
	if len(s) > MaxDialLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidArgument, MaxDialLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c >= 0x7f:
			return fmt.Errorf("%w: byte 0x%02x at %d", ErrInvalidArgument, c, i)
		case c == '&' || c == ',' || c == '|' || c == '"' || c == '\'' || c == '`' ||
			c == '\\' || c == '<' || c == '>' || c == '?' || c == '{' || c == '}':
			return fmt.Errorf("%w: character %q at %d", ErrInvalidArgument, c, i)
		case c == '$':
			return fmt.Errorf("%w: character %q at %d", ErrInvalidArgument, c, i)
		}
	}
	return nil
}

// ValidateDisplayName accepts a caller id name: printable UTF-8 and spaces,
// no control bytes, quotes, backslashes, angle brackets or dial separators.
func ValidateDisplayName(s string) error {
	if len(s) > MaxDialLen {
		return fmt.Errorf("%w: display name longer than %d bytes", ErrInvalidArgument, MaxDialLen)
	}
	for i, r := range s {
		switch {
		case r < ' ' || r == 0x7f || r == 0xfffd:
			return fmt.Errorf("%w: display name rune %U at %d", ErrInvalidArgument, r, i)
		case strings.ContainsRune("\"'`\\<>&,|${}", r):
			return fmt.Errorf("%w: display name character %q at %d", ErrInvalidArgument, r, i)
		}
	}
	return nil
}

// ValidateID accepts channel, bridge, playback and recording ids: 1..64 bytes
// of letters, digits, '-', '_' and '.'.
func ValidateID(s string) error {
	if len(s) == 0 || len(s) > 64 || !isToken(s, func(c byte) bool {
		return isAlnum(c) || c == '-' || c == '_' || c == '.'
	}) {
		return fmt.Errorf("%w: id %q", ErrInvalidArgument, s)
	}
	return nil
}

// ValidateVariable accepts one originate variable: a key of letters, digits,
// '-' and '_' (it becomes an X- SIP header or a channel variable) and a value
// that passes ValidateDialString.
func ValidateVariable(k, v string) error {
	if len(k) == 0 || len(k) > 64 || !isToken(k, func(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }) {
		return fmt.Errorf("%w: variable name %q", ErrInvalidArgument, k)
	}
	if err := ValidateDialString(v); err != nil {
		return fmt.Errorf("variable %s: %w", k, err)
	}
	return nil
}

func isToken(s string, ok func(byte) bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// userChar is RFC 3261 §25.1 "unreserved" minus '!', '~', '*', '\”, '(' and
// ')', plus '+' (E.164 users), which is what real user names use.
func userChar(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' || c == '+' }

func hostChar(c byte) bool { return isAlnum(c) || c == '-' || c == '.' }

func paramChar(c byte) bool { return isAlnum(c) || c == '-' || c == '_' || c == '.' }

// isNumber accepts a dialled number: an optional leading '+' then 1..32
// digits, '*' or '#'.
func isNumber(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	return isToken(s, func(c byte) bool { return c >= '0' && c <= '9' || c == '*' || c == '#' })
}
