package native

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"hotline/internal/clock"
	"hotline/internal/testenv"
)

// FuzzEdgeAnswer feeds arbitrary messages to the edge's answer builder and
// address normalizer: no panic, and an answer is never larger than what
// it answers (no amplification) and is one CRLF-framed status message.
func FuzzEdgeAnswer(f *testing.F) {
	files, _ := filepath.Glob("testdata/torture/*/*.dat")
	for _, name := range files {
		msg, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(msg)
	}
	f.Add([]byte("INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n"))
	f.Add([]byte("\"a\\\" b\" <sip:a@b> ; tag = 1 ;x= \"y ; z\""))
	f.Fuzz(func(t *testing.T, msg []byte) {
		_, _ = normalizeAddress(string(msg))
		res := answerMalformed(msg)
		if res == nil {
			return
		}
		if len(res) > len(msg) {
			t.Fatalf("answer of %d bytes to %d", len(res), len(msg))
		}
		if !bytes.HasPrefix(res, []byte("SIP/2.0 ")) || !bytes.HasSuffix(res, []byte("\r\n\r\n")) {
			t.Fatalf("answer %q", res)
		}
		if bytes.Count(res, []byte("\n")) != bytes.Count(res, []byte("\r\n")) || bytes.Count(res, []byte("\r")) != bytes.Count(res, []byte("\r\n")) {
			t.Fatalf("bare CR or LF in %q", res)
		}
	})
}

// TestMalformedFloodLogs floods the edge with unparseable datagrams, some
// of them 30 KB: each that arrives is counted, a few are logged, each log line is
// short (a truncated start, never the raw message), and the server still
// answers.
func TestMalformedFloodLogs(t *testing.T) {
	var logs testenv.SyncBuffer
	b := newTestBackend(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	startAutoAnswer(t, b)
	conn, err := net.Dial("udp", b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 500
	big := bytes.Repeat([]byte("X-Junk: "+strings.Repeat("A", 100)+"\r\n"), 280)
	for i := range n {
		var msg []byte
		switch i % 5 {
		case 3: // parses, but has no CSeq: no transaction can be made
			msg = []byte(fmt.Sprintf("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK%d\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@b>\r\nCall-ID: %d\r\nContent-Length: 0\r\n\r\n", i, i))
		case 4: // a response without Via
			msg = []byte("SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n")
		case 0:
			msg = append([]byte("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1\r\nFrom <broken\r\n"), big...)
		case 1:
			msg = bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 8000)
		default:
			msg = []byte(fmt.Sprintf("garbage %d\r\n\r\n", i))
		}
		if _, err := conn.Write(msg); err != nil {
			t.Fatal(err)
		}
		// Let the reader keep up: the socket's buffer would drop 30 KB
		// datagrams sent back to back, and the logs, not the socket,
		// are under test.
		time.Sleep(500 * time.Microsecond)
	}
	dropped := func() float64 { return testutil.ToFloat64(b.m.dropped.WithLabelValues(dropMalformed)) }
	waitFor(t, func() bool { return dropped() >= n/2 }, "only %v of %d malformed datagrams counted", dropped(), n)
	if code := optionsStatus(t, b, "UDP"); code != 200 {
		t.Errorf("OPTIONS after the flood: %d", code)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	malformed := 0
	for _, l := range lines {
		if len(l) > 1024 {
			t.Errorf("log line of %d bytes: %.200s...", len(l), l)
		}
		if strings.Contains(l, "malformed SIP message") {
			malformed++
		}
		if strings.Contains(l, "level=ERROR") {
			t.Errorf("ERROR line under a malformed flood: %.300s", l)
		}
	}
	if malformed == 0 || malformed > 10 {
		t.Errorf("%d malformed-message log lines for %d datagrams, want 1 to 10", malformed, n)
	}
}

// chunkConn is a net.Conn whose reads return the given chunks, then EOF;
// writes are kept.
type chunkConn struct {
	net.Conn
	chunks  [][]byte
	written bytes.Buffer
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	if len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func (c *chunkConn) Write(p []byte) (int, error)      { return c.written.Write(p) }
func (c *chunkConn) SetReadDeadline(time.Time) error  { return nil }
func (c *chunkConn) SetWriteDeadline(time.Time) error { return nil }
func (c *chunkConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9} }
func (c *chunkConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060} }
func (c *chunkConn) SetDeadline(time.Time) error      { return nil }
func (c *chunkConn) Close() error                     { return nil }

// FuzzEdgeStream feeds a TCP stream, cut in two reads anywhere, through the
// edge: what reaches sipgo is always a prefix of what was sent (the edge
// never invents bytes), a stream of whole valid messages passes untouched,
// and anything answered is one bounded status message.
func FuzzEdgeStream(f *testing.F) {
	files, _ := filepath.Glob("testdata/torture/*/*.dat")
	for i, name := range files {
		msg, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(msg, uint16(i*37))
	}
	opts := "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK1\r\nFrom: <sip:b@c>;tag=1\r\nTo: <sip:a@c>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	f.Add([]byte(opts+opts), uint16(len(opts)+3))
	f.Add([]byte("\r\n\r\n"+opts), uint16(4))
	m, _ := newMetrics(nil)
	e := newEdge(slog.New(slog.DiscardHandler), m, clock.Real{})
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		k := int(cut) % (len(data) + 1)
		inner := &chunkConn{chunks: [][]byte{slices.Clone(data[:k]), slices.Clone(data[k:])}}
		c := &edgeConn{Conn: inner, e: e, ps: e.parser.NewSIPStream()}
		var got []byte
		buf := make([]byte, 4096)
		for range 10000 {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		if !bytes.HasPrefix(data, got) {
			t.Fatalf("delivered %q, not a prefix of %q", got, data)
		}
		if w := inner.written.Bytes(); len(w) > 0 && (len(w) > len(data) || !bytes.HasPrefix(w, []byte("SIP/2.0 "))) {
			t.Fatalf("answered %q to %q", w, data)
		}
	})
}

// TestEdgeStreamPassesValidMessages: two whole messages cut anywhere
// across reads, with a keep-alive before them, reach sipgo byte for byte,
// with nothing answered.
func TestEdgeStreamPassesValidMessages(t *testing.T) {
	opts := "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK1\r\nFrom: <sip:b@c>;tag=1\r\nTo: <sip:a@c>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 3\r\n\r\nabc"
	data := []byte("\r\n\r\n" + opts + opts)
	m, _ := newMetrics(nil)
	e := newEdge(slog.New(slog.DiscardHandler), m, clock.Real{})
	for cut := 4; cut <= len(data); cut += 7 {
		inner := &chunkConn{chunks: [][]byte{data[:4], slices.Clone(data[4:cut]), slices.Clone(data[cut:])}}
		c := &edgeConn{Conn: inner, e: e, ps: e.parser.NewSIPStream()}
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, data) || inner.written.Len() != 0 {
			t.Fatalf("cut %d: delivered %q (%v), answered %q", cut, got, err, inner.written.Bytes())
		}
	}
}
