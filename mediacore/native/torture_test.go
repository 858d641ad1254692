package native

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"hotline/mediacore"
)

// outcome is what one RFC 4475 message must produce on one transport.
type outcome struct {
	codes  []int  // the status codes, in order; nil: no response at all
	metric string // hotline_sip_dropped_total reason counted for a silent discard
	closed bool   // TCP: the server closes the connection (a framing error)
	skip   bool   // not sent on this transport
}

func answered(codes ...int) outcome { return outcome{codes: codes} }

// tortureCase is the expected treatment of one message of testdata/torture
// (sipgo's copy of the RFC 4475 §3.1 messages; its valid/invalid split is
// sipgo's, not the RFC's). The test's core answers every call 486 at once,
// so a valid INVITE gets 100 then 486. Each expectation follows the RFC's
// own description of the message:
//   - parse errors get 400 from the edge (505 for another version, 416 for
//     an unreadable scheme), and over TCP the connection is then closed;
//   - responses that match no transaction and unparseable responses are
//     discarded silently and counted;
//   - well-formed requests get the status RFC 3261 names (400 for CSeq
//     mismatch or repeated single headers, 415, 416, 420, 406, 481 for an
//     INVITE with a To tag that matches no dialog) or their normal answer
//     (401 from the registrar, 405 for a method we do not implement).
var tortureCases = map[string]struct{ tcp, udp outcome }{
	// dblreq is one UDP datagram: only the first request counts (RFC 4475:
	// its Content-Length is 0). Over TCP the same bytes are two requests,
	// the second with a body shorter than its Content-Length followed by
	// garbage: the REGISTER is answered, the garbage refused, the
	// connection closed.
	"valid/dblreq":     {tcp: outcome{codes: []int{400, 401}, closed: true}, udp: answered(401)},
	"valid/esc01":      {tcp: answered(100, 486), udp: answered(100, 486)},
	"valid/esc02":      {tcp: answered(405), udp: answered(405)},
	"valid/escnull":    {tcp: answered(401), udp: answered(401)},
	"valid/intmeth":    {tcp: answered(405), udp: answered(405)},
	"valid/longreq":    {tcp: answered(100, 486), udp: outcome{skip: true}},
	"valid/lwsdisp":    {tcp: answered(200), udp: answered(200)},
	"valid/mpart01":    {tcp: answered(405), udp: answered(405)},
	"valid/noreason":   {tcp: outcome{metric: dropStrayResponse}, udp: outcome{metric: dropStrayResponse}},
	"valid/semiuri":    {tcp: answered(200), udp: answered(200)},
	"valid/transports": {tcp: answered(200), udp: answered(200)},
	"valid/unreason":   {tcp: outcome{metric: dropStrayResponse}, udp: outcome{metric: dropStrayResponse}},
	"valid/wsinv":      {tcp: answered(481), udp: answered(481)},

	"invalid/badaspec":  {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/badbranch": {tcp: answered(200), udp: answered(200)},
	"invalid/baddate":   {tcp: answered(100, 486), udp: answered(100, 486)},
	"invalid/baddn":     {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/badinv01":  {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/badvers":   {tcp: outcome{codes: []int{505}, closed: true}, udp: answered(505)},
	"invalid/bcast":     {tcp: outcome{metric: dropStrayResponse}, udp: outcome{metric: dropStrayResponse}},
	"invalid/bext01":    {tcp: answered(420), udp: answered(420)},
	"invalid/bigcode":   {tcp: outcome{metric: dropMalformed, closed: true}, udp: outcome{metric: dropMalformed}},
	// clerr: over UDP the datagram is shorter than its Content-Length
	// (RFC 3261 §18.3: a 400); over TCP the rest of the body may still come.
	"invalid/clerr":      {tcp: outcome{}, udp: answered(400)},
	"invalid/cparam01":   {tcp: answered(401), udp: answered(401)},
	"invalid/cparam02":   {tcp: answered(401), udp: answered(401)},
	"invalid/escruri":    {tcp: answered(400), udp: answered(400)},
	"invalid/insuf":      {tcp: answered(400), udp: answered(400)},
	"invalid/inv2543":    {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/invut":      {tcp: answered(415), udp: answered(415)},
	"invalid/ltgtruri":   {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/lwsruri":    {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/lwsstart":   {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/mcl01":      {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/mismatch01": {tcp: answered(400), udp: answered(400)},
	"invalid/mismatch02": {tcp: answered(400), udp: answered(400)},
	"invalid/multi01":    {tcp: answered(400), udp: answered(400)},
	"invalid/ncl":        {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/novelsc":    {tcp: outcome{codes: []int{416}, closed: true}, udp: answered(416)},
	"invalid/quotbal":    {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/regaut01":   {tcp: answered(401), udp: answered(401)},
	"invalid/regbadct":   {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/regescrt":   {tcp: answered(401), udp: answered(401)},
	"invalid/scalar02":   {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/scalarlg":   {tcp: outcome{metric: dropMalformed, closed: true}, udp: outcome{metric: dropMalformed}},
	"invalid/sdp01":      {tcp: answered(406), udp: answered(406)},
	// test has no SIP version in its request line and no Via: nothing can
	// be answered.
	"invalid/test":   {tcp: outcome{metric: dropMalformed, closed: true}, udp: outcome{metric: dropMalformed}},
	"invalid/trws":   {tcp: outcome{codes: []int{400}, closed: true}, udp: answered(400)},
	"invalid/unkscm": {tcp: answered(416), udp: answered(416)},
	"invalid/unksm2": {tcp: answered(400), udp: answered(400)},
	"invalid/zeromf": {tcp: answered(200), udp: answered(200)},
}

// TestTorture sends every RFC 4475 torture message to a running server
// over TCP (responses come back on the connection) and over UDP (with
// ";rport" added to the top Via, RFC 3581, so that they come back to the
// sending socket), and checks the exact outcome of each, then that the
// server still answers OPTIONS.
func TestTorture(t *testing.T) {
	b := newTestBackend(t, func(c *Config) { c.SetupTimeout = 10 * time.Second })
	reg := prometheus.NewRegistry()
	var core *mediacore.Core
	core, err := mediacore.New(b, mediacore.Options{Registerer: reg, Handler: func(ev mediacore.Event) {
		if ev.Type == mediacore.EventChannelCreated && ev.Direction == mediacore.Inbound {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = core.Hangup(ctx, ev.Channel, mediacore.CauseBusy)
			}()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer core.Close()

	var names []string
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata/torture", dir, "*.dat"))
		for _, f := range files {
			names = append(names, dir+"/"+strings.TrimSuffix(filepath.Base(f), ".dat"))
		}
	}
	if len(names) != len(tortureCases) {
		t.Fatalf("%d torture files, %d expectations", len(names), len(tortureCases))
	}
	read := func(t *testing.T, name string) []byte {
		msg, err := os.ReadFile(filepath.Join("testdata/torture", name+".dat"))
		if err != nil {
			t.Fatal(err)
		}
		return msg
	}
	dropped := func(reason string) float64 { return testutil.ToFloat64(b.m.dropped.WithLabelValues(reason)) }

	// Silent discards first, one at a time: each must move its counter.
	for _, name := range names {
		want := tortureCases[name].tcp
		if want.codes != nil || want.skip {
			continue
		}
		t.Run("tcp/"+name, func(t *testing.T) {
			before := map[string]float64{dropMalformed: dropped(dropMalformed), dropStrayResponse: dropped(dropStrayResponse)}
			conn := openTCP(t, b.Addr().String(), tcpMessage(read(t, name)))
			defer conn.Close()
			// The counter says the message was dealt with; an answer, if
			// any, would follow at once. Without a counter (clerr: the
			// server waits for the rest of the body) a second of silence.
			quiet := time.Second
			if want.metric != "" {
				waitFor(t, func() bool { return dropped(want.metric) > before[want.metric] },
					"hotline_sip_dropped_total{reason=%q} did not grow", want.metric)
				quiet = 300 * time.Millisecond
			}
			res := readTCP(conn, quiet, want.closed)
			if len(res.codes) != 0 {
				t.Errorf("answered %v, want silence", res.codes)
			}
			if res.closed != want.closed {
				t.Errorf("connection closed %v, want %v", res.closed, want.closed)
			}
		})
	}
	t.Run("tcp", func(t *testing.T) {
		for _, name := range names {
			want := tortureCases[name].tcp
			if want.codes == nil || want.skip {
				continue
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				res := sendTCP(t, b.Addr().String(), tcpMessage(read(t, name)), want.closed)
				got := slices.Clone(res.codes)
				if name == "valid/dblreq" {
					slices.Sort(got) // two transactions answer independently
				}
				if !slices.Equal(got, want.codes) {
					t.Errorf("answered %v, want %v", res.codes, want.codes)
				}
				if want.closed && !res.closed {
					t.Errorf("connection still open after a framing error")
				}
			})
		}
	})

	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	for _, name := range names {
		want := tortureCases[name].udp
		if want.skip {
			continue
		}
		// Requests get ";rport" and a distinct branch, so that answers
		// come back here and are told apart by branch. Messages that
		// cannot be patched (responses, and requests whose Via is
		// broken) are sent as they are: a response is never answered,
		// and the edge answers a broken request to the packet's source;
		// they are told apart by Call-ID.
		tag := strings.ReplaceAll(name, "/", "")
		msg, patched := addRport(read(t, name), tag)
		match := "udp" + tag
		if !patched {
			msg = read(t, name)
			match = callID(msg)
		}
		t.Run("udp/"+name, func(t *testing.T) {
			if want.codes == nil {
				before := dropped(want.metric)
				codes := sendUDPQuiet(t, udp, b.Addr().String(), msg, match, func() bool { return dropped(want.metric) > before })
				if len(codes) != 0 {
					t.Errorf("answered %v, want silence", codes)
				}
				if dropped(want.metric) <= before {
					t.Errorf("hotline_sip_dropped_total{reason=%q} did not grow", want.metric)
				}
				return
			}
			codes := sendUDP(t, udp, b.Addr().String(), msg, match, len(want.codes))
			if !slices.Equal(codes, want.codes) {
				t.Errorf("answered %v, want %v", codes, want.codes)
			}
		})
	}

	// The server is still up and answers on both transports.
	for _, tr := range []string{"UDP", "TCP"} {
		if code := optionsStatus(t, b, tr); code != 200 {
			t.Errorf("%s: OPTIONS after the torture run answered %d", tr, code)
		}
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf(format, args...)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tcpMessage prepares a torture message for TCP: its Via says TCP
// (otherwise responses would go over UDP to the Via's non-loopback host)
// and points at loopback.
func tcpMessage(msg []byte) []byte {
	msg = bytes.ReplaceAll(msg, []byte("SIP/2.0/UDP"), []byte("SIP/2.0/TCP"))
	return viaToLoopback(msg)
}

// tcpResult is what came back on a TCP connection.
type tcpResult struct {
	codes  []int
	closed bool // the server closed the connection
}

// sendTCP writes msg on a new connection and reads the responses (see
// readTCP).
func sendTCP(t *testing.T, addr string, msg []byte, untilClose bool) tcpResult {
	t.Helper()
	conn := openTCP(t, addr, msg)
	defer conn.Close()
	return readTCP(conn, 2*time.Second, untilClose)
}

// openTCP writes msg on a new connection.
func openTCP(t *testing.T, addr string, msg []byte) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("server down: %v", err)
	}
	if _, err := conn.Write(msg); err != nil {
		conn.Close()
		t.Fatalf("write: %v", err)
	}
	return conn
}

// readTCP reads responses until a final one and a quiet 300 ms after it
// (with untilClose: until the server closes the connection, at most 5 s),
// or until first passes without any.
func readTCP(conn net.Conn, first time.Duration, untilClose bool) tcpResult {
	var res tcpResult
	r := bufio.NewReader(conn)
	deadline := time.Now().Add(first)
	if untilClose {
		deadline = time.Now().Add(5 * time.Second)
	}
	for {
		_ = conn.SetReadDeadline(deadline)
		line, err := r.ReadString('\n')
		if strings.HasPrefix(line, "SIP/2.0 ") && len(line) >= 11 {
			if c, err := strconv.Atoi(line[8:11]); err == nil {
				res.codes = append(res.codes, c)
				if c >= 200 && !untilClose {
					deadline = time.Now().Add(300 * time.Millisecond)
				}
			}
		}
		if err != nil {
			res.closed = errors.Is(err, io.EOF)
			return res
		}
	}
}

// addRport appends ";rport" to the top Via's line that carries its branch
// parameter, and makes the branch distinct with tag (several messages share
// a branch, and UDP retransmission matching would answer the later ones
// with the earlier one's response). It gives up (false) on messages that are responses, have no
// Via, or whose first Via header holds several values before the branch.
func addRport(msg []byte, tag string) ([]byte, bool) {
	if bytes.HasPrefix(msg, []byte("SIP/2.0")) {
		return nil, false
	}
	lines := strings.SplitAfter(string(msg), "\n")
	start := -1
	for i, l := range lines {
		if l == "\r\n" || l == "\n" {
			break // end of headers
		}
		name, _, ok := strings.Cut(l, ":")
		if ok && (strings.EqualFold(strings.TrimSpace(name), "via") || strings.EqualFold(strings.TrimSpace(name), "v")) {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, false
	}
	for i := start; i < len(lines) && i < start+4; i++ {
		if i > start && !strings.HasPrefix(lines[i], " ") && !strings.HasPrefix(lines[i], "\t") {
			return nil, false // the header ended without a branch
		}
		if strings.Contains(lines[i], ",") {
			return nil, false
		}
		if k := strings.Index(strings.ToLower(lines[i]), "branch="); k >= 0 {
			l := strings.TrimRight(lines[i], "\r\n")
			// A distinct branch: the TCP run already sent this message,
			// and the same branch would match its transaction.
			end := k + len("branch=")
			for end < len(l) && strings.IndexByte(" ;,\t", l[end]) < 0 {
				end++
			}
			lines[i] = l[:end] + "udp" + tag + l[end:] + ";rport\r\n"
			return []byte(strings.Join(lines, "")), true
		}
	}
	return nil, false
}

// sendUDP sends msg from conn and returns the status codes of the
// responses that carry branchTag, read until want of them arrived and a
// short quiet period passed (2 s before the first).
func sendUDP(t *testing.T, conn net.PacketConn, addr string, msg []byte, branchTag string, want int) []int {
	t.Helper()
	dst, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteTo(msg, dst); err != nil {
		t.Fatalf("send: %v", err)
	}
	var codes []int
	buf := make([]byte, 65535)
	deadline := time.Now().Add(2 * time.Second)
	for {
		_ = conn.SetReadDeadline(deadline)
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return codes
		}
		if bytes.HasPrefix(buf[:n], []byte("SIP/2.0 ")) && n >= 12 && bytes.Contains(buf[:n], []byte(branchTag)) {
			if c, err := strconv.Atoi(string(buf[8:11])); err == nil {
				codes = append(codes, c)
				if len(codes) >= want && c >= 200 {
					// Anything more (a duplicate) would show within this.
					deadline = time.Now().Add(100 * time.Millisecond)
				}
			}
		}
	}
}

// sendUDPQuiet sends msg, waits (up to 5 s) until counted says the server
// dealt with it, then collects for 300 ms what comes back carrying match.
func sendUDPQuiet(t *testing.T, conn net.PacketConn, addr string, msg []byte, match string, counted func() bool) []int {
	t.Helper()
	dst, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteTo(msg, dst); err != nil {
		t.Fatalf("send: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !counted() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var codes []int
	buf := make([]byte, 65535)
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return codes
		}
		if bytes.HasPrefix(buf[:n], []byte("SIP/2.0 ")) && n >= 12 && bytes.Contains(buf[:n], []byte(match)) {
			if c, err := strconv.Atoi(string(buf[8:11])); err == nil {
				codes = append(codes, c)
			}
		}
	}
}

// callID returns the Call-ID (or compact "i") header value of a message.
func callID(msg []byte) string {
	for _, l := range strings.Split(string(msg), "\n") {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			break
		}
		name, v, ok := strings.Cut(l, ":")
		if n := strings.ToLower(strings.TrimSpace(name)); ok && (n == "call-id" || n == "i") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// viaIPv4 matches an IPv4 address with an optional port.
var viaIPv4 = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(:\d+)?`)

// viaToLoopback points every IPv4 sent-by of the messages' Via headers at
// 127.0.0.1:9, where nothing listens. A server whose TCP connection closed
// opens a new one to the sent-by to deliver a late response (RFC 3261
// §18.2.2, e.g. for the second request of dblreq): without this it would
// dial the RFC's 192.0.2.x addresses, and a test sends nothing off the
// machine. Host names in Via fail at the test's offline resolver. Every
// line is looked at, not only the first header block: dblreq carries two
// requests in one message.
func viaToLoopback(msg []byte) []byte {
	lines := strings.SplitAfter(string(msg), "\n")
	inVia := false
	for i, l := range lines {
		if strings.TrimSpace(l) == "" {
			inVia = false
			continue
		}
		if l[0] != ' ' && l[0] != '\t' {
			name, _, _ := strings.Cut(l, ":")
			name = strings.ToLower(strings.TrimSpace(name))
			inVia = name == "via" || name == "v"
		}
		if inVia {
			lines[i] = viaIPv4.ReplaceAllString(l, "127.0.0.1:9")
		}
	}
	return []byte(strings.Join(lines, ""))
}
