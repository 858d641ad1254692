package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
)

// daemonEnv makes the test binary run the daemon instead of the tests
// (TestMain), so a test can SIGKILL a real process.
const daemonEnv = "HOTLINE_TEST_RUN_DAEMON"

func TestMain(m *testing.M) {
	if os.Getenv(daemonEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// proc is `hotline serve` in a child process.
type proc struct {
	cmd    *exec.Cmd
	base   string
	sip    string
	stdout *testenv.SyncBuffer
}

func startProc(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	p := &proc{base: fmt.Sprintf("http://127.0.0.1:%d", testenv.FreeTCPPort(t)),
		sip: fmt.Sprintf("127.0.0.1:%d", testenv.FreeSIPPort(t)), stdout: &testenv.SyncBuffer{}}
	args := append([]string{"serve", "--data", dataDir, "--http", strings.TrimPrefix(p.base, "http://"),
		"--sip", p.sip, "--log-level", "warn"}, extra...)
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(os.Environ(), daemonEnv+"=1", "HOTLINE_BOOTSTRAP_TOKEN="+bootstrapToken)
	p.cmd.Stdout = p.stdout
	errOut := &testenv.SyncBuffer{}
	p.cmd.Stderr = errOut
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon did not answer /healthz: %v; stderr:\n%s", err, errOut)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *proc) do(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	d := &daemon{base: p.base}
	return d.do(t, method, path, bootstrapToken, body)
}

func (p *proc) metric(t *testing.T, name string) string {
	t.Helper()
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), name+" ") {
			return strings.TrimPrefix(sc.Text(), name+" ")
		}
	}
	return ""
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeDemoCallPathSurvivesKill is the demo walk over real SIP: the
// agent's phone registers as 1001 and the agent goes ready over REST; a
// second phone dials 800, hears the menu, presses 1, hears music, the
// agent's phone rings and answers, they hear each other, the caller hangs
// up. The daemon is then killed with SIGKILL and started again on the same
// data dir: the CDR of the call that ended before the kill is there.
func TestServeDemoCallPathSurvivesKill(t *testing.T) {
	dataDir := t.TempDir()
	p := startProc(t, dataDir, "--demo")
	out := p.stdout.String()
	i := strings.Index(out, "SIP password=")
	if i < 0 {
		t.Fatalf("the demo printed no SIP password:\n%s", out)
	}
	sipPassword := strings.Fields(out[i+len("SIP password="):])[0]
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	agentPhone, err := sippeer.New(sippeer.Config{User: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	defer agentPhone.Close()
	callerPhone, err := sippeer.New(sippeer.Config{User: "1002"})
	if err != nil {
		t.Fatal(err)
	}
	defer callerPhone.Close()
	for _, ph := range []*sippeer.Phone{agentPhone, callerPhone} {
		if code, err := ph.Register(ctx, p.sip, sipPassword, 300); err != nil || code != 200 {
			t.Fatalf("register: %d %v", code, err)
		}
	}
	code, agents := p.do(t, "GET", "/api/v1/agents?limit=100", "")
	if code != 200 {
		t.Fatalf("agents: %d %v", code, agents)
	}
	var agentID string
	for _, it := range agents["items"].([]any) {
		if a := it.(map[string]any); a["extension"] == "1001" {
			agentID = a["id"].(string)
		}
	}
	code, st := p.do(t, "PUT", "/api/v1/agents/"+agentID+"/state", `{"state":"ready"}`)
	if code != 200 || st["state"] != "ready" || st["device"] != "user/1001" {
		t.Fatalf("agent ready: %d %v", code, st)
	}

	call, err := callerPhone.Dial(ctx, "sip:800@"+p.sip)
	if err != nil {
		t.Fatal(err)
	}
	call.SetTone(600)
	time.Sleep(300 * time.Millisecond)
	call.SendDTMF("1")
	var agentCall *sippeer.Call
	select {
	case agentCall = <-agentPhone.Incoming():
	case <-ctx.Done():
		t.Fatal("the agent's phone never rang")
	}
	agentCall.SetTone(1400)
	waitUntil(t, "the caller hears the agent", 15*time.Second, func() bool {
		return audio.HasTone(call.Heard(time.Second), audio.SampleRate, 1400)
	})
	waitUntil(t, "the agent hears the caller", 15*time.Second, func() bool {
		return audio.HasTone(agentCall.Heard(time.Second), audio.SampleRate, 600)
	})
	code, live := p.do(t, "GET", "/api/v1/calls", "")
	if code != 200 || !strings.Contains(fmt.Sprint(live), "talking") {
		t.Errorf("live calls: %d %v", code, live)
	}
	if err := call.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	// The call has ended for the daemon when its CDR went to the journal.
	waitUntil(t, "the call ended", 20*time.Second, func() bool {
		return p.metric(t, `hotline_calls_ended_total{outcome="answered"}`) == "1"
	})
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()

	p2 := startProc(t, dataDir)
	var cdr map[string]any
	waitUntil(t, "the CDR after the restart", 20*time.Second, func() bool {
		code, cdrs := p2.do(t, "GET", "/api/v1/cdrs", "")
		items, _ := cdrs["items"].([]any)
		if code != 200 || len(items) != 1 {
			return false
		}
		cdr = items[0].(map[string]any)
		return true
	})
	path := []string{}
	for _, s := range cdr["ivr_path"].([]any) {
		path = append(path, s.(map[string]any)["node"].(string))
	}
	if cdr["outcome"] != "answered" || cdr["agent_id"] != agentID || cdr["queue_name"] != "sales" ||
		cdr["hangup_side"] != "caller" || !slices.Equal(path, []string{"welcome", "sales"}) {
		b, _ := json.Marshal(cdr)
		t.Errorf("CDR after SIGKILL and restart: %s", b)
	}
}
