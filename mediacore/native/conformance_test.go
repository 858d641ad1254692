package native

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/mediatest"
	"hotline/mediacore/mediatest/sippeer"
	"hotline/mediacore/native/registrar"
)

// testPassword is every test user's password.
const testPassword = "s3cret"

// harness runs the conformance suite against the native backend with its
// built-in registrar.
// harness adapts mediatest to the native backend; md5Only offers MD5 digest
// challenges only (for real phones that compute nothing else).
type harness struct{ md5Only bool }

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("HOTLINE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// offlineResolver answers every DNS query with an error without sending
// it anywhere: the RFC 4475 messages name hosts such as example.net, and a
// test must not query the machine's (non-loopback) name server.
var offlineResolver = &net.Resolver{
	PreferGo: true,
	Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
		return nil, errors.New("test resolver: no DNS in tests")
	},
}

func newTestBackend(t testing.TB, mutate func(*Config)) *Backend {
	t.Helper()
	dir := t.TempDir()
	users := map[string]string{}
	for _, u := range []string{"1001", "1002", "1101", "1102", "agent"} {
		users[u] = testPassword
	}
	cfg := Config{
		Listen:              "127.0.0.1:0",
		MediaDir:            dir,
		AllowUnknownSources: true,
		Credentials:         registrar.NewStaticCredentials(registrar.DefaultRealm, users),
		Logger:              testLogger(t),
		SetupTimeout:        20 * time.Second,
		Resolver:            offlineResolver,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (h harness) NewBackend(t *testing.T) mediacore.Backend {
	return newTestBackend(t, func(c *Config) {
		if h.md5Only {
			// SIPp 3.6 and baresip 1.0 compute MD5 digests only.
			c.DigestAlgorithms = []string{"MD5"}
		}
	})
}

func (harness) InboundURI(b mediacore.Backend, called string) string {
	return "sip:" + called + "@" + b.(*Backend).Addr().String()
}

func (harness) RegisterUser(t *testing.T, b mediacore.Backend, p *sippeer.Phone, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	code, err := p.Register(ctx, b.(*Backend).Addr().String(), testPassword, 300)
	if err != nil || code != 200 {
		t.Fatalf("register %s: %d %v", user, code, err)
	}
}

func (harness) ReadRecording(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestConformance(t *testing.T) {
	mediatest.Run(t, harness{})
}

// TestConformanceRealPeers runs the suite's scenarios with SIPp and
// baresip on one side of the calls.
func TestConformanceRealPeers(t *testing.T) {
	peers := mediatest.RealPeers{
		SIPp:     testenv.RequireTool(t, "sipp"),
		Baresip:  testenv.RequireTool(t, "baresip"),
		Password: testPassword,
	}
	mediatest.RunRealPeers(t, harness{md5Only: true}, peers)
}
