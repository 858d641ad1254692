package native

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"hotline/internal/clock"
)

// The edge sits between the sockets and sipgo: it sees every message before
// sipgo's parser does, so that a message sipgo cannot parse is answered the
// way RFC 3261 wants instead of being logged raw and dropped:
//
//   - a request whose start line and Via can still be read gets 400 (505
//     for another SIP version, 416 for a Request-URI scheme it cannot
//     read, RFC 3261 §8.2.2.1, §21.5.26), sent to the packet's source
//     (RFC 3581: the only address a broken message proves reachable);
//   - anything else (a broken response, garbage) is discarded silently
//     (RFC 3261 §18.1.2, §18.2.1), as is every broken ACK;
//   - over TCP a framing error leaves no message boundary to resync on:
//     the connection is closed after the answer (RFC 3261 §18.3);
//   - each is counted in hotline_sip_dropped_total{reason="malformed"} and
//     logged at most a few times a minute, truncated.
//
// The answer is built from copies of the message's own Via, From, To,
// Call-ID and CSeq lines, bounded so that it is never larger than what
// was received: the edge cannot be used as an amplifier.

// Reasons counted in hotline_sip_dropped_total.
const (
	dropMalformed     = "malformed"      // unparseable message
	dropStrayResponse = "stray_response" // a response matching no transaction
	dropInviteRate    = "invite_rate"    // a source's INVITE rate exceeded (503)
	dropInviteLimit   = "invite_limit"   // too many INVITEs in progress (503)
)

// metrics are the native backend's own counters.
type metrics struct {
	dropped *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_sip_dropped_total",
			Help: "SIP messages refused or discarded at the edge, by reason (malformed, stray_response, invite_rate, invite_limit).",
		}, []string{"reason"}),
	}
	for _, r := range []string{dropMalformed, dropStrayResponse, dropInviteRate, dropInviteLimit} {
		m.dropped.WithLabelValues(r)
	}
	if reg != nil {
		if err := reg.Register(m.dropped); err != nil {
			return nil, fmt.Errorf("%w: metrics: %w", ErrConfig, err)
		}
	}
	return m, nil
}

// logLimiter lets through at most burst log lines per window and reports
// how many it held back with the next line it lets through.
type logLimiter struct {
	clk    clock.Clock
	window time.Duration
	burst  int

	mu         sync.Mutex // guards the fields below
	start      time.Time
	n          int
	suppressed int
}

// allow reports whether a line may be logged now and how many were
// suppressed since the last one that was.
func (l *logLimiter) allow() (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clk.Now()
	if now.Sub(l.start) >= l.window {
		l.start, l.n = now, 0
	}
	if l.n >= l.burst {
		l.suppressed++
		return false, 0
	}
	l.n++
	s := l.suppressed
	l.suppressed = 0
	return true, s
}

// logSnippet is how much of a broken message a log line shows.
const logSnippet = 96

// edge checks messages before sipgo parses them.
type edge struct {
	log     *slog.Logger
	m       *metrics
	parser  *sip.Parser
	limiter *logLimiter
}

func newEdge(log *slog.Logger, m *metrics, clk clock.Clock) *edge {
	return &edge{log: log, m: m, parser: newParser(),
		limiter: &logLimiter{clk: clk, window: time.Minute, burst: 10}}
}

// malformed counts and logs a message that failed to parse and returns the
// answer to send back, or nil.
func (e *edge) malformed(transport string, src net.Addr, raw []byte, err error) []byte {
	e.m.dropped.WithLabelValues(dropMalformed).Inc()
	if ok, suppressed := e.limiter.allow(); ok {
		snippet := raw
		if len(snippet) > logSnippet {
			snippet = snippet[:logSnippet]
		}
		e.log.Warn("malformed SIP message", "transport", transport, "src", src.String(),
			"size", len(raw), "err", truncate(err.Error(), 200), "start", fmt.Sprintf("%q", snippet),
			"suppressed", suppressed)
	}
	return answerMalformed(raw)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// keepAlive reports an RFC 5626 §3.5.1 keep-alive or a NUL padding, which
// sipgo skips too.
func keepAlive(data []byte) bool {
	return len(bytes.Trim(data, "\x00")) == 0 || len(data) <= 4 && len(bytes.Trim(data, "\r\n")) == 0
}

// edgePacketConn is the UDP socket as sipgo sees it: datagrams that do not
// parse never reach sipgo.
type edgePacketConn struct {
	net.PacketConn
	e *edge
}

// ReadFrom implements net.PacketConn.
func (c *edgePacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || keepAlive(p[:n]) {
			return n, addr, err
		}
		msg, perr := c.e.parser.ParseSIP(p[:n])
		if perr == nil {
			if perr = checkParsed(msg); perr == nil {
				return n, addr, nil
			}
		}
		if res := c.e.malformed("udp", addr, p[:n], perr); res != nil {
			_, _ = c.PacketConn.WriteTo(res, addr)
		}
	}
}

// edgeListener wraps accepted TCP connections in edgeConn.
type edgeListener struct {
	net.Listener
	e *edge
}

// Accept implements net.Listener.
func (l *edgeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &edgeConn{Conn: c, e: l.e, ps: l.e.parser.NewSIPStream()}, nil
}

// edgeConn frames the TCP stream with its own parser. Complete messages
// are handed to sipgo; at a framing or parse error the broken message is
// answered (when it can be), and the stream then reads as ended, so sipgo
// closes the connection without logging its content.
type edgeConn struct {
	net.Conn
	e  *edge
	ps *sip.ParserStream
	// raw holds the bytes of the message being parsed (the stream parser
	// consumes its buffer as it goes), for the answer to a broken one.
	raw    []byte
	broken bool
}

// Read implements net.Conn.
func (c *edgeConn) Read(p []byte) (int, error) {
	if c.broken {
		// Give the handlers of the messages before the broken one a moment
		// to answer on this connection before sipgo closes it; what the
		// peer sends meanwhile is discarded.
		_ = c.SetReadDeadline(time.Now().Add(brokenLinger))
		for {
			if _, err := c.Conn.Read(p); err != nil {
				return 0, io.EOF
			}
		}
	}
	n, err := c.Conn.Read(p)
	if n == 0 || len(c.raw) == 0 && keepAlive(p[:n]) {
		return n, err
	}
	good, perr := c.feed(p[:n])
	if perr == nil {
		return n, err
	}
	c.broken = true
	if res := c.e.malformed("tcp", c.RemoteAddr(), c.raw, perr); res != nil {
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = c.Conn.Write(res)
		_ = c.SetWriteDeadline(time.Time{})
	}
	c.ps.Close()
	c.raw = nil
	if good > 0 {
		// The complete messages before the broken one still count.
		return good, nil
	}
	return 0, io.EOF
}

// feed parses data as a continuation of the stream. On an error it returns
// the error and how many leading bytes of data belong to complete messages.
func (c *edgeConn) feed(data []byte) (int, error) {
	pending := len(c.raw) // bytes of an unfinished message before data
	done := 0             // bytes of complete messages since then
	c.raw = append(c.raw, data...)
	_, _ = c.ps.Write(data)
	for c.ps.Buffer().Len() > 0 {
		msg, n, err := c.ps.ParseNext()
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil
		}
		if err == nil {
			err = checkParsed(msg)
		}
		if err != nil {
			return max(done-pending, 0), err
		}
		done += n
		if n >= len(c.raw) {
			c.raw = c.raw[:0]
		} else {
			c.raw = append(c.raw[:0], c.raw[n:]...)
		}
	}
	c.raw = c.raw[:0]
	return 0, nil
}

// newParser is sipgo's parser with stricter and more lenient From and To
// parsers, used by both the edge and sipgo (which must agree on what
// parses):
//   - an unquoted display name must be tokens (RFC 3261 §25.1
//     display-name; RFC 4475 "baddn" wants 400 otherwise);
//   - linear white space around the "=" and ";" of header parameters is
//     legal (RFC 3261 §25.1 EQUAL, SEMI; RFC 4475 "wsinv") and is removed
//     before sipgo, which would not find "tag = x", parses the value.
func newParser() *sip.Parser {
	hp := maps.Clone(sip.DefaultHeadersParser())
	for _, name := range []string{"from", "f", "to", "t"} {
		inner := hp[name]
		hp[name] = func(headerName []byte, text string) (sip.Header, error) {
			text, err := normalizeAddress(text)
			if err != nil {
				return nil, err
			}
			return inner(headerName, text)
		}
	}
	for _, name := range []string{"contact", "m"} {
		inner := hp[name]
		hp[name] = func(headerName []byte, text string) (sip.Header, error) {
			// RFC 3261 §20: a URI with a comma, question mark or semicolon
			// must be in angle brackets; a bare one with "?" cannot be
			// told apart from header parameters (RFC 4475 "regbadct").
			if !strings.ContainsAny(text, "<\"") && strings.Contains(text, "?") {
				return nil, fmt.Errorf("%w: %q", errBareURIHeaders, truncate(text, 64))
			}
			return inner(headerName, text)
		}
	}
	return sip.NewParser(sip.WithHeadersParsers(hp))
}

// errBareURIHeaders is a Contact URI with headers outside angle brackets.
var errBareURIHeaders = errors.New("native: URI with headers outside angle brackets")

// errVersion is a request in a SIP version other than 2.0.
var errVersion = errors.New("native: SIP version not supported")

// checkParsed refuses what parses but cannot be handled: another SIP
// version (505, RFC 4475 "badvers"), and a message without the Via, CSeq
// (or, for an RFC 2543 branch, From tag) that a transaction key needs
// (RFC 3261 §17.2.3): sipgo would answer such a request itself but log an
// ERROR line for every one, which an attacker could repeat at will.
func checkParsed(msg sip.Message) error {
	switch m := msg.(type) {
	case *sip.Request:
		if m.SipVersion != "SIP/2.0" {
			return fmt.Errorf("%w: %q", errVersion, truncate(m.SipVersion, 16))
		}
		if _, err := sip.ServerTxKeyMake(m); err != nil {
			return fmt.Errorf("%w: %s", errNoTxKey, truncate(err.Error(), 120))
		}
	case *sip.Response:
		if _, err := sip.ClientTxKeyMake(m); err != nil {
			return fmt.Errorf("%w: %s", errNoTxKey, truncate(err.Error(), 120))
		}
	}
	return nil
}

// errNoTxKey is a message no transaction can be found or made for.
var errNoTxKey = errors.New("native: no transaction key")

// errDisplayName is a From/To display name that is neither tokens nor a
// quoted string.
var errDisplayName = errors.New("native: unquoted display name with non-token characters")

// normalizeAddress checks the display name of a name-addr and removes LWS
// around "=" and ";" outside quotes and angle brackets.
func normalizeAddress(text string) (string, error) {
	text = strings.TrimSpace(text)
	if lt := strings.IndexByte(text, '<'); lt > 0 && text[0] != '"' {
		for _, word := range strings.Fields(text[:lt]) {
			if !isSIPToken(word) {
				return "", fmt.Errorf("%w: %q", errDisplayName, truncate(text[:lt], 64))
			}
		}
	}
	var b strings.Builder
	inQuote, inAngle, escaped := false, false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case escaped:
			escaped = false
		case inQuote && c == '\\':
			escaped = true
		case c == '"' && !inAngle:
			inQuote = !inQuote
		case inQuote:
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case !inAngle && (c == ' ' || c == '\t'):
			// Drop LWS next to "=" or ";" (before or after).
			j := i
			for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
				j++
			}
			prev := byte(0)
			if b.Len() > 0 {
				prev = b.String()[b.Len()-1]
			}
			if prev == '=' || prev == ';' || j < len(text) && (text[j] == '=' || text[j] == ';') {
				i = j - 1
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// brokenLinger is how long a TCP connection stays open after a framing
// error, for the answers to the messages before it.
const brokenLinger = time.Second

// maxEchoedHeader bounds each header copied into an answer.
const maxEchoedHeader = 512

// answerMalformed builds the response to a request that could not be
// parsed, or returns nil when none is due: a response, an ACK, or a
// message without a readable request line or Via.
func answerMalformed(raw []byte) []byte {
	text := string(raw)
	if i := strings.Index(text, "\r\n\r\n"); i >= 0 {
		text = text[:i]
	} else if i := strings.Index(text, "\n\n"); i >= 0 {
		text = text[:i]
	}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	fields := strings.Fields(lines[0])
	if len(fields) < 2 || !isSIPToken(fields[0]) || strings.HasPrefix(fields[0], "SIP/") || fields[0] == "ACK" {
		return nil
	}
	version := fields[len(fields)-1]
	if !strings.HasPrefix(version, "SIP/") {
		return nil // not SIP at all
	}
	code, reason := 400, "Bad Request"
	switch {
	case version != "SIP/2.0":
		code, reason = 505, "Version Not Supported"
	case len(fields) == 3 && unknownScheme(fields[1]):
		code, reason = 416, "Unsupported URI Scheme"
	}
	// Unfold continuation lines (RFC 3261 §7.3.1), then keep the headers
	// a response must echo (§8.2.6.2), in their order.
	var headers []string
	for _, l := range lines[1:] {
		if l == "" {
			break
		}
		if (l[0] == ' ' || l[0] == '\t') && len(headers) > 0 {
			headers[len(headers)-1] += " " + strings.TrimSpace(l)
			continue
		}
		headers = append(headers, l)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	vias := 0
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			continue
		}
		canon := echoed(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if canon == "" || value == "" || len(value) > maxEchoedHeader || strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			continue
		}
		if canon == "Via" {
			vias++
		}
		b.WriteString(canon + ": " + value + "\r\n")
	}
	if vias == 0 {
		return nil
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	if b.Len() > len(raw) {
		return nil
	}
	return []byte(b.String())
}

// echoed returns the canonical name of a header an answer copies, or "".
func echoed(name string) string {
	switch strings.ToLower(name) {
	case "via", "v":
		return "Via"
	case "from", "f":
		return "From"
	case "to", "t":
		return "To"
	case "call-id", "i":
		return "Call-ID"
	case "cseq":
		return "CSeq"
	}
	return ""
}

// unknownScheme reports a Request-URI whose scheme reads as a scheme
// (RFC 3986 §3.1) other than sip, sips and tel.
func unknownScheme(uri string) bool {
	scheme, _, ok := strings.Cut(uri, ":")
	if !ok || scheme == "" {
		return false
	}
	for i, r := range scheme {
		alpha := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !alpha && (i == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	switch strings.ToLower(scheme) {
	case "sip", "sips", "tel":
		return false
	}
	return true
}

// isSIPToken reports an RFC 3261 §25.1 token (a method name).
func isSIPToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return false
		}
	}
	return s != ""
}
