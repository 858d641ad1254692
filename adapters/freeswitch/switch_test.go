package freeswitch

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/testenv"
)

// A real FreeSWITCH for the tests: HOTLINE_TEST_FREESWITCH ("host:port,
// password") and HOTLINE_TEST_FREESWITCH_SIP when set, else an instance
// started with peers.sh on free ports (once per test process, on first
// use) with deploy/freeswitch as overlay, stopped by TestMain.

const testPassword = "s3cret"

type fsInstance struct {
	name     string
	esl      string
	password string
	sip      string
	pid      int
	recDir   string // the switch's recordings_dir (shared disk in tests)
	rundir   string // peers.sh's run directory
	mediaDir string
	external bool
}

var switches = struct {
	mu      sync.Mutex
	started []*fsInstance
	main    *fsInstance
	mainErr error
	once    sync.Once
}{}

func TestMain(m *testing.M) {
	code := m.Run()
	switches.mu.Lock()
	for _, in := range switches.started {
		_ = stopSwitch(in)
		if code == 0 && in.rundir != "" {
			// Keep the logs of a failed run only.
			_ = os.RemoveAll(in.rundir)
		}
	}
	switches.mu.Unlock()
	os.Exit(code)
}

func testLogger() *slog.Logger {
	if os.Getenv("HOTLINE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// freePort returns a port free on 127.0.0.1 for TCP and UDP.
func freePort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port")
}

// startSwitch starts a FreeSWITCH instance with peers.sh.
func startSwitch(tag string) (*fsInstance, error) {
	script := testenv.PeersScript()
	if script == "" {
		return nil, errors.New("peers.sh not found (set HOTLINE_PEERS_SH)")
	}
	sip, err := freePort()
	if err != nil {
		return nil, err
	}
	esl, err := freePort()
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("hlfs%s%d", tag, os.Getpid())
	pw := "esl-" + randomID()[:12]
	mediaDir, err := os.MkdirTemp("", "hotline-fs-media-")
	if err != nil {
		return nil, err
	}
	_ = os.Chmod(mediaDir, 0o755)
	// RTP ports below both the kernel's ephemeral range (32768-60999) and
	// the native core's and peers.sh's default blocks (16384-32767):
	// FreeSWITCH does not try another port when its pick is held, it
	// refuses the call (488) with "RTP Bind Error".
	rtpMin := 10000 + (os.Getpid()%15)*400
	if tag != "" {
		rtpMin += 200
	}
	root := repoRoot()
	cmd := exec.Command(script, "start", "freeswitch", name, "--sip-port", strconv.Itoa(sip), "--esl-port", strconv.Itoa(esl),
		"--esl-password", pw, "--rtp-min", strconv.Itoa(rtpMin), "--rtp-max", strconv.Itoa(rtpMin+199),
		"--overlay", filepath.Join(root, "deploy", "freeswitch", "conf"),
		"--overlay", filepath.Join(root, "deploy", "freeswitch", "test"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("peers.sh start: %v: %s", err, stderr.String())
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	in := &fsInstance{name: name, esl: "127.0.0.1:" + strconv.Itoa(esl), password: pw, sip: "127.0.0.1:" + strconv.Itoa(sip),
		pid: pid, mediaDir: mediaDir}
	dir := os.Getenv("HOTLINE_PEERS_DIR")
	if dir == "" {
		dir = "/opt/hotline-peers"
	}
	in.rundir = filepath.Join(dir, "run", name)
	if r, err := filepath.EvalSymlinks(in.rundir); err == nil {
		in.rundir = r
	}
	in.recDir = filepath.Join(dir, "run", name, "recordings")
	if r, err := filepath.EvalSymlinks(in.recDir); err == nil {
		in.recDir = r
	}
	switches.mu.Lock()
	switches.started = append(switches.started, in)
	switches.mu.Unlock()
	return in, nil
}

func stopSwitch(in *fsInstance) error {
	if in.external {
		os.RemoveAll(in.mediaDir)
		return nil
	}
	defer os.RemoveAll(in.mediaDir)
	return exec.Command(testenv.PeersScript(), "stop", in.name).Run()
}

// mainSwitch returns the package's shared switch, or skips (fails under
// HOTLINE_REQUIRE_ALL=1) when none can run.
func mainSwitch(t testing.TB) *fsInstance {
	t.Helper()
	switches.once.Do(func() {
		if v := os.Getenv("HOTLINE_TEST_FREESWITCH"); v != "" {
			addr, pw, _ := strings.Cut(v, ",")
			switches.main = &fsInstance{esl: addr, password: pw, sip: os.Getenv("HOTLINE_TEST_FREESWITCH_SIP"), external: true,
				recDir: os.Getenv("HOTLINE_TEST_FREESWITCH_RECORDINGS")}
			d, err := os.MkdirTemp("", "hotline-fs-media-")
			switches.main.mediaDir, switches.mainErr = d, err
			return
		}
		switches.main, switches.mainErr = startSwitch("")
	})
	if switches.mainErr != nil {
		testenv.Unavailable(t, "FreeSWITCH: "+switches.mainErr.Error())
	}
	return switches.main
}

func (in *fsInstance) config() Config {
	return Config{
		Address: in.esl, Password: in.password, Logger: testLogger(),
		MediaDir: in.mediaDir, SharedMediaDir: in.mediaDir,
		SharedRecordingsDir: in.recDir, CommandTimeout: 5 * time.Second, WatchdogInterval: 2 * time.Second,
	}
}
