package native

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"hotline/mediacore"
)

// tortureExpect lists how the server treats each RFC 4475 message of
// testdata/torture (copied from sipgo's testdata, which holds the RFC's
// §3.1 messages). "handled": a SIP response comes back (any status: a
// request may be valid and still refused, e.g. 481 for an unknown dialog).
// "rejected": a 4xx comes back or nothing (dropped), never 1xx/2xx/5xx.
//
// Overrides, each following the RFC's own description of the message:
// zeromf (§3.3.? "Max-Forwards of zero") and badbranch and baddate are
// legal for a UAS, which answers them normally; noreason and unreason are
// responses (nothing is sent back); dblreq is a UDP datagram holding two
// requests, of which only the first may be processed, so over TCP the
// stream framing decides and only survival is checked.
func tortureExpect(dir, name string) string {
	switch name {
	case "zeromf", "badbranch", "baddate":
		return "handled"
	case "noreason", "unreason", "dblreq":
		return "survive"
	}
	if dir == "valid" {
		return "handled"
	}
	return "rejected"
}

// TestTorture sends every RFC 4475 torture message over TCP to a running
// server (TCP carries responses back on the connection; over UDP the
// responses would go to the messages' non-loopback Via addresses) and checks
// the outcome and that the server still answers OPTIONS afterwards.
func TestTorture(t *testing.T) {
	b := newTestBackend(t, func(c *Config) { c.SetupTimeout = time.Second })
	core, err := mediacore.New(b, mediacore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	// Each TCP message has its own connection: they run in parallel.
	t.Run("tcp", func(t *testing.T) {
		tortureTCP(t, b)
	})

	// The same messages over UDP, where they can be made to keep their
	// responses on loopback: the top Via gets ";rport" (RFC 3581), so the
	// response goes back to the sending socket. Messages whose top Via
	// cannot be patched that way are left out.
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata/torture", dir, "*.dat"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".dat")
			msg, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			patched, ok := addRport(msg)
			if !ok {
				continue
			}
			t.Run("udp/"+dir+"/"+name, func(t *testing.T) {
				codes := sendUDP(t, udp, b.Addr().String(), patched, callID(patched), tortureExpect(dir, name) == "handled")
				switch tortureExpect(dir, name) {
				case "handled":
					if len(codes) == 0 {
						t.Errorf("no response to a valid message")
					}
				case "rejected":
					for _, c := range codes {
						if c < 400 || c >= 500 {
							t.Errorf("invalid message answered %d, want a 4xx or nothing", c)
						}
					}
				}
			})
		}
	}

	// The server is still up and answers on both transports.
	for _, tr := range []string{"UDP", "TCP"} {
		if code := optionsStatus(t, b, tr); code != 200 {
			t.Errorf("%s: OPTIONS after the torture run answered %d", tr, code)
		}
	}
}

// sendTCP writes msg on a new connection and returns the status codes of
// the responses read within a short time.
func sendTCP(t *testing.T, addr string, msg []byte, first bool) []int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("server down: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Write(msg); err != nil {
		return nil
	}
	_ = conn.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
	var codes []int
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if strings.HasPrefix(line, "SIP/2.0 ") && len(line) >= 11 {
			if c, err := strconv.Atoi(line[8:11]); err == nil {
				codes = append(codes, c)
				if c >= 200 || first {
					return codes
				}
			}
		}
		if err != nil {
			return codes
		}
	}
}

// addRport appends ";rport" to the top Via's line that carries its branch
// parameter. It gives up (false) on messages that are responses, have no
// Via, or whose first Via header holds several values before the branch.
func addRport(msg []byte) ([]byte, bool) {
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
			lines[i] = l[:end] + "udp" + l[end:] + ";rport\r\n"
			return []byte(strings.Join(lines, "")), true
		}
	}
	return nil, false
}

// sendUDP sends msg from conn and returns the status codes received within
// a short time.
// Responses to other messages (late finals of earlier INVITEs) are told
// apart by Call-ID.
// With first set it returns at the first response.
func sendUDP(t *testing.T, conn net.PacketConn, addr string, msg []byte, id string, first bool) []int {
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
	// A valid message is waited for longer (the INVITE handler answers
	// 100 Trying within sipgo's 200 ms); a dropped invalid one costs the
	// whole wait, so it is kept short.
	wait := 300 * time.Millisecond
	if first {
		wait = time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		_ = conn.SetReadDeadline(deadline)
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return codes
		}
		if bytes.HasPrefix(buf[:n], []byte("SIP/2.0 ")) && n >= 12 && callID(buf[:n]) == id {
			if c, err := strconv.Atoi(string(buf[8:11])); err == nil {
				codes = append(codes, c)
				if first {
					return codes
				}
				if c >= 200 {
					// Drain what else arrives briefly, then stop.
					deadline = time.Now().Add(50 * time.Millisecond)
				}
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

func tortureTCP(t *testing.T, b *Backend) {
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata/torture", dir, "*.dat"))
		if len(files) == 0 {
			t.Fatalf("no torture files in %s", dir)
		}
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".dat")
			t.Run(dir+"/"+name, func(t *testing.T) {
				t.Parallel()
				msg, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				// Sent over TCP, the message says so in its Via: otherwise
				// the responses would go over UDP to the Via's
				// (non-loopback, unresolvable) host.
				msg = bytes.ReplaceAll(msg, []byte("SIP/2.0/UDP"), []byte("SIP/2.0/TCP"))
				msg = viaToLoopback(msg)
				codes := sendTCP(t, b.Addr().String(), msg, tortureExpect(dir, name) == "handled")
				switch tortureExpect(dir, name) {
				case "handled":
					if len(codes) == 0 {
						t.Errorf("no response to a valid message")
					}
				case "rejected":
					for _, c := range codes {
						if c < 400 || c >= 500 {
							t.Errorf("invalid message answered %d, want a 4xx or nothing", c)
						}
					}
				}
			})
		}
	}
}
