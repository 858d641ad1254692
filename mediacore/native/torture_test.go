package native

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/mediatest/sippeer"
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
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata/torture", dir, "*.dat"))
		if len(files) == 0 {
			t.Fatalf("no torture files in %s", dir)
		}
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".dat")
			t.Run(dir+"/"+name, func(t *testing.T) {
				msg, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				// Sent over TCP, the message says so in its Via: otherwise
				// the responses would go over UDP to the Via's
				// (non-loopback, unresolvable) host.
				msg = bytes.ReplaceAll(msg, []byte("SIP/2.0/UDP"), []byte("SIP/2.0/TCP"))
				codes := sendTCP(t, b.Addr().String(), msg)
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
	for _, tr := range []string{"udp", "tcp"} {
		p, err := sippeer.New(sippeer.Config{User: "probe"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = p.Dial(ctx, "sip:options-probe@"+b.Addr().String()+";transport="+tr)
		cancel()
		p.Close()
		if err == nil || !strings.Contains(err.Error(), "480") {
			// No controller answers: the setup timeout rejects with 480,
			// which proves the INVITE was processed after the torture run.
			t.Errorf("%s: probe call after torture: %v, want 480", tr, err)
		}
	}
}

// sendTCP writes msg on a new connection and returns the status codes of
// the responses read within a short time.
func sendTCP(t *testing.T, addr string, msg []byte) []int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("server down: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Write(msg); err != nil {
		return nil
	}
	_ = conn.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	var codes []int
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if strings.HasPrefix(line, "SIP/2.0 ") && len(line) >= 11 {
			if c, err := strconv.Atoi(line[8:11]); err == nil {
				codes = append(codes, c)
				if c >= 200 {
					return codes
				}
			}
		}
		if err != nil {
			return codes
		}
	}
}
