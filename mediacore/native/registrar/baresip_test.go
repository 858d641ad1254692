package registrar

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hotline/internal/sipdigest"
	"hotline/internal/testenv"
)

// waitFor polls cond (the registrar's own state, not the clock) until it
// holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool, out fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // baresip starts slowly on a loaded machine
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\nbaresip output:\n%s", what, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A real softphone registers with digest and unregisters when it quits.
//
// The registrar offers MD5 alone here: baresip 1.0 (libre 1.1, Debian 13)
// fails with "Register: Function not implemented" as soon as any challenge
// names SHA-256, whichever comes first, instead of skipping it.
func TestBaresipRegisterAndUnregister(t *testing.T) {
	bin := testenv.RequireTool(t, "baresip")
	r, _, rec := newTestRegistrar(t, WithDigestOptions(sipdigest.WithAlgorithms(sipdigest.MD5)))
	port := startServer(t, r)

	account := fmt.Sprintf("<sip:%s@127.0.0.1:%d;transport=udp>;auth_pass=%s;regint=600;audio_codecs=PCMU\n", testUser, port, testPass)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	var out *testenv.SyncBuffer
	testenv.RetryPortInUse(t, func(sipPort int) (<-chan struct{}, func() string) {
		dir := t.TempDir()
		config := fmt.Sprintf("poll_method\tpoll\nsip_listen\t127.0.0.1:%d\nmodule_path\t/usr/lib/baresip/modules\nmodule\tg711.so\nmodule_app\taccount.so\n", sipPort)
		for name, data := range map[string]string{"config": config, "accounts": account} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		c := exec.CommandContext(ctx, bin, "-f", dir)
		o := &testenv.SyncBuffer{}
		c.Stdout, c.Stderr = o, o
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmd, out = c, o
		exited := make(chan struct{})
		go func() { _ = c.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = c.Process.Kill()
			<-exited
		})
		return exited, out.String
	})

	waitFor(t, "baresip to register", func() bool { return len(r.Lookup(testUser)) == 1 }, out)
	c := r.Lookup(testUser)[0]
	if !strings.Contains(c.UserAgent, "baresip") || !strings.HasPrefix(c.URI, "sip:"+testUser) || c.Source == "" {
		t.Errorf("binding %+v", c)
	}

	// On SIGTERM baresip unregisters (expires=0) before it exits.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "baresip to unregister", func() bool { return len(r.Lookup(testUser)) == 0 }, out)
	ev := rec.take()
	if len(ev) != 2 || !strings.HasPrefix(ev[0], "registered:") || !strings.HasSuffix(ev[1], ":removed") {
		t.Errorf("events %v", ev)
	}
}
