package testenv

import (
	"net"
	"os"
	"os/exec"
	"testing"
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
