package testenv

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequireAllEnv names the environment variable that turns skips for missing
// tools or servers into failures.
const RequireAllEnv = "HOTLINE_REQUIRE_ALL"

// PostgresURLEnv names the environment variable holding the URL of a
// PostgreSQL server the tests may use (each test in its own schema).
const PostgresURLEnv = "HOTLINE_TEST_DATABASE_URL"

// RequireAll reports whether CI asked for every real peer to be present.
func RequireAll() bool { return os.Getenv(RequireAllEnv) == "1" }

// Unavailable skips the test with reason, or fails it when RequireAll is set.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if RequireAll() {
		t.Fatalf("%s (required: %s=1)", reason, RequireAllEnv)
	}
	t.Skip(reason)
}

// RequireTool returns the path of the named executable, or skips (fails under
// RequireAll) when it is not installed.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "tool "+name+" not found in PATH")
	}
	return path
}

// PostgresURL returns HOTLINE_TEST_DATABASE_URL, or skips (fails under
// RequireAll) when it is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv(PostgresURLEnv)
	if url == "" {
		Unavailable(t, PostgresURLEnv+" is not set")
	}
	return url
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free udp port: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// FreeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreeTCPPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free tcp port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeSIPPort returns a port on 127.0.0.1 that was free a moment ago for
// both UDP and TCP: a SIP stack (the native core, baresip) listens on
// both, and a UDP-free port may be a TCP port in use.
func FreeSIPPort(t testing.TB) int {
	t.Helper()
	for range 20 {
		port := FreeUDPPort(t)
		l, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no port free for both UDP and TCP in 20 tries")
	return 0
}

// PeersScriptEnv names the environment variable holding the path of the
// shared test peers' peers.sh (real FreeSWITCH and Asterisk builds that it
// installs, configures on loopback and starts).
const PeersScriptEnv = "HOTLINE_PEERS_SH"

// PeersScript returns the path of peers.sh: $HOTLINE_PEERS_SH, else
// peers.sh on PATH, else shared/peers/peers.sh in the working directory or
// one of its parents (a checkout has the shared folder beside it). It
// returns "" when none is found.
func PeersScript() string {
	if p := os.Getenv(PeersScriptEnv); p != "" {
		return p
	}
	if p, err := exec.LookPath("peers.sh"); err == nil {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "shared", "peers", "peers.sh")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// RetryPortInUse starts a peer that binds a port of its own choosing
// (baresip's sip_listen): start is given a free port and returns a channel
// closed when the process exits and its output. Another process on a busy
// machine can take the port between the pick and the bind; the peer then
// exits at once saying "Address already in use", and start is called again
// with another port (up to five times). A peer still running after two
// seconds has bound it.
func RetryPortInUse(t testing.TB, start func(port int) (exited <-chan struct{}, output func() string)) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		exited, output := start(FreeUDPPort(t))
		select {
		case <-exited:
			if attempt < 5 && strings.Contains(output(), "Address already in use") {
				t.Logf("the peer's port was taken (attempt %d): starting it again", attempt)
				continue
			}
		case <-time.After(2 * time.Second):
		}
		return
	}
}
