package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
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

	"hotline/adapters/asterisk"
	"hotline/adapters/freeswitch"
	"hotline/internal/testenv"
)

// The switches of this test process: one FreeSWITCH and one Asterisk,
// started by peers.sh on first use (free loopback ports, RTP ranges of
// their own) with the project's deploy/
// overlays and their test users, and stopped by TestMain.

// agentPassword is the SIP password of the test users 1001, 1002, 1101,
// 1102 on both switches (deploy/*/test).
const agentPassword = "s3cret"

// switchInstance is one running switch.
type switchInstance struct {
	name   string
	kind   string // "freeswitch" or "asterisk"
	sip    string // host:port
	rundir string
	// FreeSWITCH
	esl, eslPassword string
	mediaDir         string // prompts, shared with the switch
	// Asterisk
	ariURL, ariPassword string
}

var switches = struct {
	mu      sync.Mutex
	started map[string]*switchInstance
	errs    map[string]error
}{started: map[string]*switchInstance{}, errs: map[string]error{}}

func TestMain(m *testing.M) {
	code := m.Run()
	switches.mu.Lock()
	for _, in := range switches.started {
		if err := exec.Command(testenv.PeersScript(), "stop", in.name).Run(); err != nil {
			fmt.Fprintf(os.Stderr, "peers.sh stop %s: %v\n", in.name, err)
		}
		if in.mediaDir != "" {
			_ = os.RemoveAll(in.mediaDir)
		}
		if code == 0 {
			// Keep the switch's logs of a failed run only.
			_ = os.RemoveAll(filepath.Join(peersDir(), "run", in.name))
			if in.rundir != filepath.Join(peersDir(), "run", in.name) {
				_ = os.RemoveAll(in.rundir)
			}
		}
	}
	switches.mu.Unlock()
	os.Exit(code)
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func peersDir() string {
	if d := os.Getenv("HOTLINE_PEERS_DIR"); d != "" {
		return d
	}
	return "/opt/hotline-peers"
}

// freePort is a port free on 127.0.0.1 for both UDP and TCP (SIP listens
// on both), below the kernel's ephemeral range (32768 and up) and the RTP
// blocks peers.sh hands out (16384 and up): a port from the ephemeral
// range can be handed to any client socket (the test phones' own) between
// this check and the switch's bind, and FreeSWITCH then never starts its
// SIP profile.
func freePort(t testing.TB) int {
	t.Helper()
	for range 200 {
		p := 10000 + rand.IntN(6000)
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		c, err := netListenUDP(p)
		l.Close()
		if err == nil {
			c.Close()
			return p
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return 0
}

// startSwitch returns the switch of kind for this process, starting it on
// first use; a switch that cannot run skips the test (fails under
// HOTLINE_REQUIRE_ALL=1), and is not tried again.
func startSwitch(t testing.TB, kind string) *switchInstance {
	t.Helper()
	switches.mu.Lock()
	defer switches.mu.Unlock()
	if in := switches.started[kind]; in != nil {
		return in
	}
	if err := switches.errs[kind]; err != nil {
		testenv.Unavailable(t, err.Error())
	}
	in, err := launch(t, kind)
	if err != nil {
		// A port taken between the check and the bind: once more on
		// other ports.
		t.Logf("starting %s again: %v", kind, err)
		in, err = launch(t, kind)
	}
	if err != nil {
		switches.errs[kind] = err
		testenv.Unavailable(t, err.Error())
	}
	switches.started[kind] = in
	return in
}

func launch(t testing.TB, kind string) (*switchInstance, error) {
	script := testenv.PeersScript()
	if script == "" {
		return nil, errors.New("peers.sh not found (set " + testenv.PeersScriptEnv + ")")
	}
	bin := map[string]string{"freeswitch": "freeswitch/bin/freeswitch", "asterisk": "asterisk/sbin/asterisk"}[kind]
	if _, err := os.Stat(filepath.Join(peersDir(), bin)); err != nil {
		return nil, fmt.Errorf("%s is not installed in %s (peers.sh install)", kind, peersDir())
	}
	root := repoRoot()
	sip := freePort(t)
	in := &switchInstance{kind: kind, sip: "127.0.0.1:" + strconv.Itoa(sip)}
	var args []string
	switch kind {
	case "freeswitch":
		in.name = fmt.Sprintf("hle2efs%d", os.Getpid())
		esl := freePort(t)
		in.esl, in.eslPassword = "127.0.0.1:"+strconv.Itoa(esl), fmt.Sprintf("esl-e2e-%d", time.Now().UnixNano()%1e9)
		d, err := os.MkdirTemp("", "hotline-e2e-fs-media-")
		if err != nil {
			return nil, err
		}
		_ = os.Chmod(d, 0o755)
		in.mediaDir = d
		args = []string{"start", "freeswitch", in.name, "--sip-port", strconv.Itoa(sip), "--esl-port", strconv.Itoa(esl),
			"--esl-password", in.eslPassword,
			"--overlay", filepath.Join(root, "deploy", "freeswitch", "conf"),
			"--overlay", filepath.Join(root, "deploy", "freeswitch", "test")}
	case "asterisk":
		in.name = fmt.Sprintf("hle2east%d", os.Getpid())
		http := freePort(t)
		in.ariURL, in.ariPassword = fmt.Sprintf("http://127.0.0.1:%d/ari", http), "ari-"+in.name
		args = []string{"start", "asterisk", in.name, "--sip-port", strconv.Itoa(sip), "--http-port", strconv.Itoa(http),
			"--ari-password", in.ariPassword,
			"--overlay", filepath.Join(root, "deploy", "asterisk"),
			"--overlay", filepath.Join(root, "deploy", "asterisk", "test"),
			"--var", "AGENT_PASSWORD=" + agentPassword}
	}
	// RTP ranges of our own, above the kernel's ephemeral ports and away
	// from peers.sh's automatic blocks and the native core's default range
	// (both 16384-32767): FreeSWITCH does not probe its RTP ports, so a
	// port a native node (ours, or another test binary's) holds, or one two
	// parallel starts both picked, breaks its calls' audio.
	rtp := 61000 + (os.Getpid()%10)*200
	if kind == "asterisk" {
		rtp += 2000
	}
	args = append(args, "--rtp-min", strconv.Itoa(rtp), "--rtp-max", strconv.Itoa(rtp+199))
	cmd := exec.Command(script, append(args, "--timeout", "40")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if _, err := cmd.Output(); err != nil {
		if in.mediaDir != "" {
			_ = os.RemoveAll(in.mediaDir)
		}
		return nil, fmt.Errorf("peers.sh start %s: %v: %s", in.name, err, strings.TrimSpace(stderr.String()))
	}
	in.rundir = filepath.Join(peersDir(), "run", in.name)
	if r, err := filepath.EvalSymlinks(in.rundir); err == nil {
		in.rundir = r
	}
	return in, nil
}

// freeswitchConfig is the adapter's configuration for the instance: the
// recordings are read from the switch's recordings_dir (same machine).
func (in *switchInstance) freeswitchConfig() freeswitch.Config {
	return freeswitch.Config{Address: in.esl, Password: in.eslPassword, Logger: testLogger("freeswitch"),
		MediaDir: in.mediaDir, SharedMediaDir: in.mediaDir, SharedRecordingsDir: filepath.Join(in.rundir, "recordings"),
		CommandTimeout: 5 * time.Second, WatchdogInterval: 2 * time.Second}
}

func (in *switchInstance) asteriskConfig() asterisk.Config {
	return asterisk.Config{URL: in.ariURL, User: "hotline", Password: in.ariPassword, App: "hotline",
		CommandTimeout: 10 * time.Second, PingInterval: time.Second, MaxBackoff: 500 * time.Millisecond}
}
