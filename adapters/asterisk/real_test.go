package asterisk

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/mediatest"
	"hotline/mediacore/mediatest/sippeer"
)

// The real-switch tests start Asterisk instances with peers.sh (see
// /work/shared/peers/README.md) on free loopback ports, with deploy/asterisk
// as the configuration overlay plus deploy/asterisk/test (the test agents),
// at most once per instance name per test process; TestMain stops them.
// HOTLINE_TEST_ASTERISK (url,user,password,app) and HOTLINE_TEST_ASTERISK_SIP
// point the conformance suite at a running one instead.

const agentPassword = "s3cret"

// instance is one Asterisk for the tests.
type instance struct {
	name    string
	url     string
	user    string
	pass    string
	app     string
	sipAddr string
	pid     int
	ext     bool // not ours to stop
}

var peers = struct {
	mu        sync.Mutex
	instances map[string]*instance
	errs      map[string]string
}{instances: map[string]*instance{}, errs: map[string]string{}}

func TestMain(m *testing.M) {
	code := m.Run()
	peers.mu.Lock()
	for _, in := range peers.instances {
		if !in.ext {
			_ = exec.Command(testenv.PeersScript(), "stop", in.name).Run()
		}
	}
	peers.mu.Unlock()
	os.Exit(code)
}

func freePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// asterisk returns the instance named key (started on first use).
func asterisk(t testing.TB, key string) *instance {
	t.Helper()
	peers.mu.Lock()
	defer peers.mu.Unlock()
	if in := peers.instances[key]; in != nil {
		return in
	}
	if msg := peers.errs[key]; msg != "" {
		testenv.Unavailable(t, msg)
	}
	if env := os.Getenv("HOTLINE_TEST_ASTERISK"); env != "" && key == "a" {
		f := strings.Split(env, ",")
		if len(f) == 4 && os.Getenv("HOTLINE_TEST_ASTERISK_SIP") != "" {
			in := &instance{name: "external", url: f[0], user: f[1], pass: f[2], app: f[3], sipAddr: os.Getenv("HOTLINE_TEST_ASTERISK_SIP"), ext: true}
			peers.instances[key] = in
			return in
		}
	}
	in, err := startAsterisk(t, fmt.Sprintf("hlast%d%s", os.Getpid(), key), freePort(t), freePort(t))
	if err != nil {
		peers.errs[key] = err.Error()
		testenv.Unavailable(t, err.Error())
	}
	peers.instances[key] = in
	return in
}

func startAsterisk(t testing.TB, name string, sip, http int) (*instance, error) {
	script := testenv.PeersScript()
	if script == "" {
		return nil, fmt.Errorf("peers.sh not found (set HOTLINE_PEERS_SH)")
	}
	dir := os.Getenv("HOTLINE_PEERS_DIR")
	if dir == "" {
		dir = "/opt/hotline-peers"
	}
	if _, err := os.Stat(filepath.Join(dir, "asterisk", "sbin", "asterisk")); err != nil {
		return nil, fmt.Errorf("asterisk not installed in %s (peers.sh install)", dir)
	}
	root, err := filepath.Abs("../../deploy/asterisk")
	if err != nil {
		return nil, err
	}
	in := &instance{name: name, url: fmt.Sprintf("http://127.0.0.1:%d/ari", http), user: "hotline",
		pass: "ari-" + name, app: "hotline", sipAddr: fmt.Sprintf("127.0.0.1:%d", sip)}
	cmd := exec.Command(script, "start", "asterisk", name, "--sip-port", fmt.Sprint(sip), "--http-port", fmt.Sprint(http),
		"--ari-password", in.pass, "--overlay", root, "--overlay", filepath.Join(root, "test"),
		"--var", "AGENT_PASSWORD="+agentPassword, "--timeout", "60")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return nil, fmt.Errorf("peers.sh start %s: %v: %s", name, err, stderr)
	}
	fmt.Sscan(strings.TrimSpace(string(out)), &in.pid)
	return in, nil
}

func testLogger() *slog.Logger {
	if os.Getenv("HOTLINE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func (in *instance) config() Config {
	return Config{URL: in.url, User: in.user, Password: in.pass, App: in.app, CommandTimeout: 10 * time.Second,
		PingInterval: time.Second, MaxBackoff: 500 * time.Millisecond}
}

// harness runs mediatest against one real Asterisk.
type harness struct{ in *instance }

func (h harness) NewBackend(t *testing.T) mediacore.Backend {
	b, err := New(h.in.config(), "ast", testLogger())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (h harness) InboundURI(_ mediacore.Backend, called string) string {
	return "sip:" + called + "@" + h.in.sipAddr
}

func (h harness) RegisterUser(t *testing.T, _ mediacore.Backend, p *sippeer.Phone, user string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	code, err := p.Register(ctx, h.in.sipAddr, agentPassword, 300)
	if err != nil || code != 200 {
		t.Fatalf("register %s: %d %v", user, code, err)
	}
}

// knownFailures are the suite's scenarios this Asterisk cannot pass, with
// why. TestConformance runs the whole suite (in a child process, on the
// same switch) and fails on any other failure, and on a listed scenario
// that passes (the list must then shrink).
var knownFailures = map[string]string{}

// TestConformance runs mediacore/mediatest against the real Asterisk (by
// default: a missing Asterisk skips through testenv.Unavailable, or fails
// under HOTLINE_REQUIRE_ALL=1) and checks its failures against
// knownFailures. Scenarios of capabilities Asterisk lacks check the
// contract's documented fallbacks: no ReinviteHolder (Core holds locally),
// no TransferReporter (deploy/asterisk refuses REFER: allow_transfer = no,
// since Asterisk 22.10 hands a Stasis call's REFER to no application and
// would carry out a bridged call's REFER itself), no DTMFDetector (PJSIP
// decides per endpoint), no TrunkConfigurer (trunks are pjsip.conf), no
// StereoRecorder (Core assembles two mono snoop recordings).
func TestConformance(t *testing.T) {
	if os.Getenv("HOTLINE_AST_SUITE_CHILD") != "" {
		t.Skip("in the child process: TestConformanceSuite runs")
	}
	in := asterisk(t, "a")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^TestConformanceSuite$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "HOTLINE_AST_SUITE_CHILD=1",
		"HOTLINE_TEST_ASTERISK="+strings.Join([]string{in.url, in.user, in.pass, in.app}, ","),
		"HOTLINE_TEST_ASTERISK_SIP="+in.sipAddr)
	out, _ := cmd.CombinedOutput()
	failed, passed := suiteResults(string(out))
	if len(passed)+len(failed) == 0 {
		t.Fatalf("the suite did not run:\n%s", out)
	}
	for name := range failed {
		if why, ok := knownFailures[name]; ok {
			t.Logf("known failure %s: %s", name, why)
			continue
		}
		t.Errorf("scenario %s failed", name)
	}
	for name := range knownFailures {
		if passed[name] {
			t.Errorf("scenario %s listed as a known failure now passes: update knownFailures", name)
		} else if !failed[name] {
			t.Errorf("scenario %s listed as a known failure did not run", name)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("suite output:\n%s", out)
	}
	t.Logf("%d scenarios (and subtests) passed, %d failed as known", len(passed), len(failed))
}

// suiteResults reads the child's -test.v output: the scenarios (and
// their subtests) that failed and passed.
func suiteResults(out string) (failed, passed map[string]bool) {
	failed, passed = map[string]bool{}, map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		for prefix, set := range map[string]map[string]bool{"--- FAIL: TestConformanceSuite/": failed, "--- PASS: TestConformanceSuite/": passed} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				name, _, _ := strings.Cut(rest, " ")
				set[name] = true
			}
		}
	}
	return failed, passed
}

// TestConformanceSuite is the suite itself, run by TestConformance in a
// child process.
func TestConformanceSuite(t *testing.T) {
	if os.Getenv("HOTLINE_AST_SUITE_CHILD") == "" {
		t.Skip("run by TestConformance, which checks its failures against knownFailures")
	}
	mediatest.Run(t, harness{in: asterisk(t, "a")})
}
