package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/testenv"
)

// daemon is one `hotline serve` running inside the test process.
type daemon struct {
	base   string
	stdout *testenv.SyncBuffer
	stop   func() int
}

// startDaemon starts `hotline serve` on dataDir and waits for /healthz.
// Its ports were free a moment before the daemon binds them, and the
// machine is shared: when the media core's bind fails on a port taken
// meanwhile (before anything was written to dataDir), the start is retried
// with fresh ports, unless the caller chose the SIP address itself.
func startDaemon(t *testing.T, dataDir string, env map[string]string, extra ...string) *daemon {
	t.Helper()
	for attempt := 1; ; attempt++ {
		d, err := tryStartDaemon(t, dataDir, env, extra...)
		if err == nil {
			return d
		}
		if errors.Is(err, errSIPPortTaken) && attempt < 3 && !slices.Contains(extra, "--sip") {
			t.Logf("attempt %d: %v; retrying with fresh ports", attempt, err)
			continue
		}
		t.Fatal(err)
	}
}

// errSIPPortTaken: the daemon exited because its SIP port was taken.
var errSIPPortTaken = errors.New("the SIP port was taken before the daemon bound it")

func tryStartDaemon(t *testing.T, dataDir string, env map[string]string, extra ...string) (*daemon, error) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreeTCPPort(t))
	sip := fmt.Sprintf("127.0.0.1:%d", testenv.FreeSIPPort(t))
	args := append([]string{"serve", "--data", dataDir, "--http", addr, "--sip", sip, "--log-level", "warn"}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &testenv.SyncBuffer{}, &testenv.SyncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, envMap(env), out, errOut) }()
	d := &daemon{base: "http://" + addr, stdout: out}
	var once sync.Once
	code := -1
	d.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(20 * time.Second):
				t.Errorf("daemon did not stop after cancel; stderr:\n%s", errOut)
			}
		})
		return code
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(d.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(func() {
					// A clean shutdown (the context cancelled, as by
					// SIGTERM) logs no error: nothing failed.
					if code := d.stop(); code == 0 && strings.Contains(errOut.String(), `"level":"ERROR"`) {
						t.Errorf("clean shutdown logged errors:\n%s", errOut)
					}
				})
				return d, nil
			}
		}
		select {
		case c := <-done:
			// It has exited: nothing is left to stop.
			cancel()
			if msg := errOut.String(); strings.Contains(msg, "start the media nodes") && strings.Contains(msg, "address already in use") {
				return nil, fmt.Errorf("%w (%s); stderr:\n%s", errSIPPortTaken, sip, msg)
			}
			return nil, fmt.Errorf("daemon exited with %d before answering /healthz; stderr:\n%s", c, errOut)
		default:
		}
		if time.Now().After(deadline) {
			c := d.stop()
			return nil, fmt.Errorf("/healthz did not answer within 10 s (last error %v, exit %d); stderr:\n%s", err, c, errOut)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemon) do(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, d.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: body %q is not a JSON object: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, out
}

const bootstrapToken = "test-bootstrap-token-0123456789"

// TestServeBootstrapScriptAndRestart is the foundation issue's "done when":
// a fresh data dir answers /healthz, a script with the bootstrap token
// creates a queue and an agent and reads them back, an invalid one gets 400
// with the field named, an agent's token gets 403 on POST /queues, and a
// restart on the same data dir keeps everything.
func TestServeBootstrapScriptAndRestart(t *testing.T) {
	dataDir := t.TempDir()
	env := map[string]string{"HOTLINE_BOOTSTRAP_TOKEN": bootstrapToken}
	d := startDaemon(t, dataDir, env)

	code, agent := d.do(t, "POST", "/api/v1/agents", bootstrapToken,
		`{"name":"Test Agent","extension":"2001","sip_password":"s3cret-pass","skills":[]}`)
	if code != http.StatusCreated {
		t.Fatalf("create agent: %d %v", code, agent)
	}
	agentID, _ := agent["id"].(string)
	code, queue := d.do(t, "POST", "/api/v1/queues", bootstrapToken,
		fmt.Sprintf(`{"name":"billing","strategy":"round-robin","members":[{"agent_id":%q,"penalty":0}]}`, agentID))
	if code != http.StatusCreated {
		t.Fatalf("create queue: %d %v", code, queue)
	}
	queueID, _ := queue["id"].(string)
	if code, got := d.do(t, "GET", "/api/v1/queues/"+queueID, bootstrapToken, ""); code != 200 || got["name"] != "billing" {
		t.Fatalf("read queue back: %d %v", code, got)
	}
	if code, got := d.do(t, "GET", "/api/v1/agents/"+agentID, bootstrapToken, ""); code != 200 || got["extension"] != "2001" {
		t.Fatalf("read agent back: %d %v", code, got)
	}
	if _, leaked := agent["sip_password"]; leaked {
		t.Errorf("agent response carries the SIP password: %v", agent)
	}

	code, bad := d.do(t, "POST", "/api/v1/queues", bootstrapToken, `{"name":"bad","strategy":"fastest"}`)
	if code != http.StatusBadRequest {
		t.Fatalf("invalid queue: got %d %v, want 400", code, bad)
	}
	if e, _ := bad["error"].(map[string]any); e == nil || e["field"] != "strategy" {
		t.Errorf("invalid queue error does not name the field strategy: %v", bad)
	}

	// An agent user logs in and may not create queues.
	code, user := d.do(t, "POST", "/api/v1/users", bootstrapToken,
		fmt.Sprintf(`{"username":"agent2001","password":"agent-password-1","role":"agent","agent_id":%q}`, agentID))
	if code != http.StatusCreated {
		t.Fatalf("create agent user: %d %v", code, user)
	}
	code, login := d.do(t, "POST", "/api/v1/auth/login", "", `{"username":"agent2001","password":"agent-password-1"}`)
	agentToken, _ := login["token"].(string)
	if code != http.StatusOK || agentToken == "" {
		t.Fatalf("agent login: %d %v", code, login)
	}
	if code, got := d.do(t, "POST", "/api/v1/queues", agentToken, `{"name":"sneaky"}`); code != http.StatusForbidden {
		t.Fatalf("agent POST /queues: got %d %v, want 403", code, got)
	}

	if c := d.stop(); c != 0 {
		t.Fatalf("graceful stop exited %d", c)
	}

	d2 := startDaemon(t, dataDir, env)
	if code, got := d2.do(t, "GET", "/api/v1/queues/"+queueID, bootstrapToken, ""); code != 200 || got["name"] != "billing" {
		t.Fatalf("after restart: %d %v", code, got)
	}
	if code, _ := d2.do(t, "GET", "/api/v1/agents/"+agentID, agentToken, ""); code != 200 {
		t.Fatalf("agent's session after restart: %d", code)
	}
}

// TestServeDemoSeedsOnce checks --demo: the first start seeds and prints the
// admin password, which logs in; the second start leaves the store alone.
func TestServeDemoSeedsOnce(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, nil, "--demo")
	out := d.stdout.String()
	i := strings.Index(out, "password=")
	if i < 0 {
		t.Fatalf("demo printed no admin password:\n%s", out)
	}
	password := strings.Fields(out[i+len("password="):])[0]
	code, login := d.do(t, "POST", "/api/v1/auth/login", "", fmt.Sprintf(`{"username":"admin","password":%q}`, password))
	token, _ := login["token"].(string)
	if code != 200 || token == "" {
		t.Fatalf("admin login with the printed password: %d %v", code, login)
	}
	code, agents := d.do(t, "GET", "/api/v1/agents?limit=100", token, "")
	items, _ := agents["items"].([]any)
	if code != 200 || len(items) != 6 {
		t.Fatalf("demo agents: %d, %d items, want 6", code, len(items))
	}
	code, queues := d.do(t, "GET", "/api/v1/queues", token, "")
	if items, _ := queues["items"].([]any); code != 200 || len(items) != 2 {
		t.Fatalf("demo queues: %d %v", code, queues)
	}
	d.stop()

	d2 := startDaemon(t, dataDir, nil, "--demo")
	if strings.Contains(d2.stdout.String(), "password=") {
		t.Errorf("second start seeded again:\n%s", d2.stdout.String())
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"version"}, envMap(nil), &out, &errOut); code != 0 || !strings.HasPrefix(out.String(), "hotline ") {
		t.Errorf("version: code %d, out %q", code, out.String())
	}
	if code := run(context.Background(), []string{"frobnicate"}, envMap(nil), &out, &errOut); code != 2 {
		t.Errorf("unknown command exited %d, want 2", code)
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"serve", "-h"}, envMap(nil), &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "-database-url") {
		t.Errorf("serve -h: exit %d, usage %q", code, errOut.String())
	}
}

func TestMigrateOnFreshDataDir(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "--data", t.TempDir()}, envMap(nil), &out, &errOut); code != 0 {
		t.Fatalf("migrate exited %d: %s", code, errOut.String())
	}
}

// TestServeAgentPhoneRegisters is the path from the admin API to the SIP
// registrar of the native media core: an agent created over REST with a SIP
// password registers with the real SIPp (digest MD5), and a wrong password
// is refused (SIPp expects the 401/403).
func TestServeAgentPhoneRegisters(t *testing.T) {
	sipp := testenv.RequireTool(t, "sipp")
	env := map[string]string{"HOTLINE_BOOTSTRAP_TOKEN": bootstrapToken}
	sipPort := testenv.FreeSIPPort(t)
	d := startDaemon(t, t.TempDir(), env, "--sip", fmt.Sprintf("127.0.0.1:%d", sipPort))
	code, agent := d.do(t, "POST", "/api/v1/agents", bootstrapToken,
		`{"name":"Phone Agent","extension":"3001","sip_password":"phone-pass-3001"}`)
	if code != http.StatusCreated {
		t.Fatalf("create agent: %d %v", code, agent)
	}
	// Each scenario fails unless the daemon gives its exact answers: 401
	// then 200 for the right password; 401 then a 401 or 403 refusal for a
	// wrong one. A timeout, a port clash or any other answer fails SIPp.
	register := func(scenario, password string) (string, error) {
		path, err := filepath.Abs("../../mediacore/native/registrar/testdata/" + scenario)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, sipp, "-sf", path, "-m", "1",
			"-s", "3001", "-au", "3001", "-ap", password,
			"-i", "127.0.0.1", "-p", fmt.Sprint(testenv.FreeUDPPort(t)), "-mp", fmt.Sprint(testenv.FreeUDPPort(t)),
			"-t", "u1", "-nostdin", "-timeout", "15s", "-timeout_error",
			fmt.Sprintf("127.0.0.1:%d", sipPort))
		cmd.Dir = t.TempDir() // SIPp writes its logs into the working directory
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := register("register_auth.xml", "phone-pass-3001"); err != nil {
		t.Fatalf("SIPp REGISTER with the right password failed: %v\n%s", err, out)
	}
	if out, err := register("register_wrong.xml", "wrong-password"); err != nil {
		t.Fatalf("SIPp REGISTER with a wrong password was not refused with 401 or 403: %v\n%s", err, out)
	}

	// Guessing on: the user's budget (10 failures from one source within
	// 10 minutes) runs out, and then even the right password is refused
	// from this source, until an administrator lifts the block over REST.
	for i := 2; i <= 11; i++ {
		if out, err := register("register_wrong.xml", fmt.Sprintf("guess-%d", i)); err != nil {
			t.Fatalf("guess %d not refused: %v\n%s", i, err, out)
		}
	}
	if _, err := register("register_auth.xml", "phone-pass-3001"); err == nil {
		t.Fatal("the right password registered from a source over its guessing budget")
	}
	code, blocks := d.do(t, "GET", "/api/v1/sip/blocks", bootstrapToken, "")
	items, _ := blocks["items"].([]any)
	if code != http.StatusOK || len(items) != 1 {
		t.Fatalf("GET /api/v1/sip/blocks: %d %v", code, blocks)
	}
	if b := items[0].(map[string]any); b["kind"] != "user" || b["user"] != "3001" || b["source"] != "127.0.0.1" {
		t.Errorf("block %v", b)
	}
	if code, body := d.do(t, "DELETE", "/api/v1/sip/blocks/127.0.0.1?user=3001", bootstrapToken, ""); code != http.StatusNoContent {
		t.Fatalf("lift the block: %d %v", code, body)
	}
	if out, err := register("register_auth.xml", "phone-pass-3001"); err != nil {
		t.Fatalf("the right password after the block was lifted: %v\n%s", err, out)
	}

	// A password changed over REST counts from the next REGISTER, and so
	// does disabling the agent.
	put := func(change map[string]any) {
		t.Helper()
		_, cur := d.do(t, "GET", "/api/v1/agents/"+agent["id"].(string), bootstrapToken, "")
		for k, v := range change {
			cur[k] = v
		}
		body, _ := json.Marshal(cur)
		if code, got := d.do(t, "PUT", "/api/v1/agents/"+agent["id"].(string), bootstrapToken, string(body)); code != http.StatusOK {
			t.Fatalf("update agent: %d %v", code, got)
		}
	}
	put(map[string]any{"sip_password": "phone-pass-new"})
	if out, err := register("register_wrong.xml", "phone-pass-3001"); err != nil {
		t.Fatalf("SIPp REGISTER with the old password was not refused after the change: %v\n%s", err, out)
	}
	if out, err := register("register_auth.xml", "phone-pass-new"); err != nil {
		t.Fatalf("SIPp REGISTER with the new password failed: %v\n%s", err, out)
	}
	put(map[string]any{"disabled": true})
	if out, err := register("register_wrong.xml", "phone-pass-new"); err != nil {
		t.Fatalf("a disabled agent was not refused: %v\n%s", err, out)
	}
}

// TestServeTrunkRegistersToCarrier is the path from the admin API to the
// media core's trunks: a trunk created over REST with register=true makes
// the daemon REGISTER to a real SIPp playing the carrier's registrar
// within seconds, and disabling it over REST unregisters it (Expires: 0).
func TestServeTrunkRegistersToCarrier(t *testing.T) {
	sipp := testenv.RequireTool(t, "sipp")
	d := startDaemon(t, t.TempDir(), map[string]string{"HOTLINE_BOOTSTRAP_TOKEN": bootstrapToken})
	scenario, err := filepath.Abs("../../mediacore/native/testdata/sipp/uas_register.xml")
	if err != nil {
		t.Fatal(err)
	}
	port := testenv.FreeUDPPort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir() // SIPp writes its logs into the working directory
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-m", "2",
		"-i", "127.0.0.1", "-p", fmt.Sprint(port), "-nostdin", "-timeout", "45s", "-timeout_error", "-trace_logs")
	cmd.Dir = dir
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	sippLog := func() string {
		logs, _ := filepath.Glob(filepath.Join(dir, "*_logs.log"))
		var b strings.Builder
		for _, l := range logs {
			data, _ := os.ReadFile(l)
			b.Write(data)
		}
		return b.String()
	}

	code, trunk := d.do(t, "POST", "/api/v1/trunks", bootstrapToken, fmt.Sprintf(
		`{"name":"carrier","host":"127.0.0.1","port":%d,"username":"acct-7","password":"carrier-secret","register":true}`, port))
	if code != http.StatusCreated {
		t.Fatalf("create trunk: %d %v", code, trunk)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(sippLog(), "register user=acct-7 expires=") {
		if time.Now().After(deadline) {
			t.Fatalf("SIPp got no REGISTER within 15 s of the 201\n%s\n%s", sippLog(), out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	trunk["enabled"] = false
	body, _ := json.Marshal(trunk)
	if code, got := d.do(t, "PUT", "/api/v1/trunks/"+trunk["id"].(string), bootstrapToken, string(body)); code != http.StatusOK {
		t.Fatalf("disable trunk: %d %v", code, got)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("sipp: %v\n%s\n%s", err, sippLog(), out)
		}
	case <-ctx.Done():
		t.Fatalf("SIPp did not get the un-REGISTER\n%s", sippLog())
	}
	if !strings.Contains(sippLog(), "register user=acct-7 expires=0") {
		t.Fatalf("the second REGISTER did not unregister:\n%s", sippLog())
	}
}
