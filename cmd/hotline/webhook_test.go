package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hotline/controller/webhook"
)

// delivery is one POST a fake CRM received.
type delivery struct {
	header http.Header
	body   []byte
}

// TestServeWebhookDeliversSignedAgentState is issue 9's webhook "done
// when" at the daemon: configured with a webhook to a CRM on loopback, an
// agent's state change over REST reaches the CRM as a signed agent.state
// POST; an endpoint filtered to call.* gets nothing; GET /api/v1/webhooks
// lists both without their secrets, and the daemon prints no secret.
func TestServeWebhookDeliversSignedAgentState(t *testing.T) {
	const secret, otherSecret = "crm-secret-0123456789", "calls-only-secret-42"
	got := make(chan delivery, 16)
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{header: r.Header.Clone(), body: body}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(crm.Close)
	calls := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the call.* endpoint received %s", r.Header.Get(webhook.HeaderEvent))
	}))
	t.Cleanup(calls.Close)

	cfgFile := writeFile(t, fmt.Sprintf(`webhooks:
  - id: crm
    url: %s/hooks
    secret: %s
    events: ["agent.*", "call.*"]
  - url: %s/calls
    secret: %s
    events: ["call.*"]
`, crm.URL, secret, calls.URL, otherSecret))
	d := startDaemon(t, t.TempDir(), map[string]string{"HOTLINE_BOOTSTRAP_TOKEN": bootstrapToken}, "--config", cfgFile)

	code, agent := d.do(t, "POST", "/api/v1/agents", bootstrapToken,
		`{"name":"Hook Agent","extension":"2101","sip_password":"s3cret-pass","skills":[]}`)
	if code != http.StatusCreated {
		t.Fatalf("create agent: %d %v", code, agent)
	}
	agentID, _ := agent["id"].(string)
	if code, st := d.do(t, "PUT", "/api/v1/agents/"+agentID+"/state", bootstrapToken, `{"state":"ready"}`); code != http.StatusOK {
		t.Fatalf("set state: %d %v", code, st)
	}

	deadline := time.After(20 * time.Second)
	for {
		var dl delivery
		select {
		case dl = <-got:
		case <-deadline:
			t.Fatal("the CRM received no agent.state event within 20 s")
		}
		if err := webhook.Verify(secret, dl.header, dl.body, time.Now(), 5*time.Minute); err != nil {
			t.Fatalf("delivery %s does not verify: %v", dl.header.Get(webhook.HeaderEvent), err)
		}
		if dl.header.Get(webhook.HeaderEvent) != "agent.state" {
			continue
		}
		if !strings.HasPrefix(dl.header.Get(webhook.HeaderDelivery), "crm/") {
			t.Errorf("%s = %q, want crm/<seq>", webhook.HeaderDelivery, dl.header.Get(webhook.HeaderDelivery))
		}
		if !strings.Contains(string(dl.body), agentID) || !strings.Contains(string(dl.body), "ready") {
			t.Errorf("agent.state body does not name the agent and ready: %s", dl.body)
		}
		break
	}

	code, list := d.do(t, "GET", "/api/v1/webhooks", bootstrapToken, "")
	raw, _ := json.Marshal(list)
	if code != http.StatusOK {
		t.Fatalf("GET /webhooks: %d %s", code, raw)
	}
	items, _ := list["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("GET /webhooks lists %d endpoints, want 2: %s", len(items), raw)
	}
	if second, _ := items[1].(map[string]any); second["id"] != "webhook-2" {
		t.Errorf("the second endpoint's default id = %v, want webhook-2", second["id"])
	}
	for _, s := range []string{secret, otherSecret} {
		if strings.Contains(string(raw), s) {
			t.Errorf("GET /webhooks shows a secret: %s", raw)
		}
		if strings.Contains(d.stdout.String(), s) {
			t.Errorf("the daemon printed a secret:\n%s", d.stdout)
		}
	}
	if c := d.stop(); c != 0 {
		t.Fatalf("graceful stop exited %d", c)
	}
}
