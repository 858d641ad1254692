package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/internal/sipdigest"
)

func sipdigestHA1MD5(user, realm, pw string) string {
	return sipdigest.HA1(sipdigest.MD5, user, realm, pw)
}

func TestAudit(t *testing.T) {
	e := newEnv(t)
	var q store.Queue
	e.must(req{method: "POST", path: "/api/v1/queues", token: adminSecret, body: map[string]any{"name": "q"},
		header: map[string]string{"X-Request-ID": "req-create-1"}}, http.StatusCreated, &q)
	e.admin("POST", "/api/v1/queues", map[string]any{"name": "q"}, http.StatusConflict, nil)
	e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "mallory", "password": "guess-guess"}})
	_, supTok := e.userToken("sue", store.RoleSupervisor, "")
	e.must(req{method: "DELETE", path: "/api/v1/queues/" + q.ID + "?version=1", token: supTok}, http.StatusForbidden, nil)
	e.admin("DELETE", "/api/v1/queues/"+q.ID+"?version=1", nil, http.StatusNoContent, nil)
	// Reads and unauthenticated writes are not audited.
	e.admin("GET", "/api/v1/queues", nil, http.StatusOK, nil)
	e.must(req{method: "POST", path: "/api/v1/queues", body: map[string]any{"name": "x"}}, http.StatusUnauthorized, nil)

	var all page[store.AuditEntry]
	e.admin("GET", "/api/v1/audit", nil, http.StatusOK, &all)
	type row struct {
		user, action, resource, id string
		result                     int
	}
	var got []row
	for _, a := range all.Items {
		got = append(got, row{a.Username, a.Action, a.Resource, a.ResourceID, a.Result})
		if a.Remote != "127.0.0.1" || a.RequestID == "" || a.At.IsZero() {
			t.Errorf("entry lacks where/when/request id: %+v", a)
		}
	}
	want := []row{ // newest first
		{"bootstrap", "delete", "queues", q.ID, 204},
		{"sue", "delete", "queues", q.ID, 403},
		{"bootstrap", "create", "tokens", "", 201},
		{"bootstrap", "create", "users", "", 201},
		{"mallory", "login", "auth", "", 401},
		{"bootstrap", "create", "queues", "", 409},
		{"bootstrap", "create", "queues", q.ID, 201},
	}
	if len(got) != len(want) {
		t.Fatalf("audit rows:\n got %v\nwant %v", got, want)
	}
	for i := range want {
		w := want[i]
		if w.id == "" {
			w.id = got[i].id // ids of users/tokens are not known here
			if got[i].result == 409 && got[i].id != "" {
				t.Errorf("failed create has a resource id: %+v", got[i])
			}
		}
		if got[i] != w {
			t.Errorf("row %d: got %+v want %+v", i, got[i], w)
		}
	}
	if dup := all.Items[len(all.Items)-2]; dup.Detail != "conflict: name" {
		t.Errorf("refused create's detail %q", dup.Detail)
	}
	if last := all.Items[len(all.Items)-1]; last.RequestID != "req-create-1" {
		t.Errorf("request id %q, want the client's", last.RequestID)
	}

	var filtered page[store.AuditEntry]
	e.admin("GET", "/api/v1/audit?resource=queues&limit=2", nil, http.StatusOK, &filtered)
	if len(filtered.Items) != 2 || filtered.Next == "" || filtered.Items[0].Resource != "queues" {
		t.Fatalf("filtered page %+v", filtered)
	}
	var rest page[store.AuditEntry]
	e.admin("GET", "/api/v1/audit?resource=queues&limit=2&after="+filtered.Next, nil, http.StatusOK, &rest)
	if len(rest.Items) != 2 || rest.Next != "" {
		t.Fatalf("second page %+v", rest)
	}
	bootstrap, _ := e.st.Users().GetByUsername(t.Context(), "bootstrap")
	var mine page[store.AuditEntry]
	e.admin("GET", "/api/v1/audit?user_id="+bootstrap.ID, nil, http.StatusOK, &mine)
	if len(mine.Items) != 5 {
		t.Fatalf("bootstrap's entries: %d", len(mine.Items))
	}
	var none page[store.AuditEntry]
	e.admin("GET", "/api/v1/audit?until=2000-01-01T00:00:00Z", nil, http.StatusOK, &none)
	if len(none.Items) != 0 {
		t.Fatalf("until filter ignored: %d", len(none.Items))
	}
	r := e.must(req{method: "GET", path: "/api/v1/audit?since=yesterday", token: adminSecret}, http.StatusBadRequest, nil)
	if f := r.err(t).Field; f != "since" {
		t.Fatalf("field %q", f)
	}
}

func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
		Comps   struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	e.must(req{method: "GET", path: "/api/v1/openapi.json"}, http.StatusOK, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	inDoc := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			inDoc[strings.ToUpper(m)+" "+p] = true
		}
	}
	inRouter := map[string]bool{}
	for _, r := range e.srv.engine.Routes() {
		inRouter[r.Method+" "+openAPIPath(r.Path)] = true
	}
	var missing, extra []string
	for k := range inRouter {
		if !inDoc[k] {
			missing = append(missing, k)
		}
	}
	for k := range inDoc {
		if !inRouter[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("routes not documented: %v; documented but not routed: %v", missing, extra)
	}
	// Every $ref resolves to a component.
	var raw any
	if err := json.Unmarshal(e.do(req{method: "GET", path: "/api/v1/openapi.json"}).Body, &raw); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				name, found := strings.CutPrefix(ref, "#/components/schemas/")
				if _, ok := doc.Comps.Schemas[name]; !found || !ok {
					t.Errorf("dangling $ref %q", ref)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(raw)
	if len(inRouter) < 50 {
		t.Fatalf("only %d routes registered", len(inRouter))
	}
	for _, name := range []string{"Agent", "AgentInput", "Queue", "QueueInput", "User", "UserInput", "Skill", "Number", "Trunk", "TrunkInput",
		"Schedule", "ListEntry", "Token", "AuditEntry", "ErrorResponse", "LoginInput", "LoginResponse"} {
		if _, ok := doc.Comps.Schemas[name]; !ok {
			t.Errorf("component schema %s missing", name)
		}
	}
	var agentIn struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(doc.Comps.Schemas["AgentInput"], &agentIn); err != nil {
		t.Fatal(err)
	}
	if agentIn.Properties["sip_password"]["writeOnly"] != true || agentIn.Properties["id"]["readOnly"] != true {
		t.Fatalf("AgentInput lacks writeOnly/readOnly marks: %v", agentIn.Properties)
	}
	if _, ok := agentIn.Properties["sip_password"]; !ok {
		t.Fatal("sip_password undocumented")
	}
	var agentOut struct {
		Properties map[string]any `json:"properties"`
	}
	_ = json.Unmarshal(doc.Comps.Schemas["Agent"], &agentOut)
	if _, ok := agentOut.Properties["sip_password"]; ok {
		t.Fatal("the Agent answer documents the write-only sip_password")
	}
}

func TestDenyByDefault(t *testing.T) {
	e := newEnv(t)
	r := route{method: "GET", path: "/api/v1/secret", summary: "s", status: 200, handler: e.srv.handleMe}
	if err := r.validate(); !errors.Is(err, ErrRouteWithoutAccess) {
		t.Fatalf("route without access: %v", err)
	}
	for _, rt := range e.srv.routes {
		if !rt.access.defined() {
			t.Errorf("%s %s registered without access", rt.method, rt.path)
		}
	}
	if (access{}).allows(store.RoleAdmin) {
		t.Fatal("the zero access allows admin")
	}
}

func TestOperations(t *testing.T) {
	var logs bytes.Buffer
	mem := memstore.New(nil)
	reg := prometheus.NewRegistry()
	ctl := newController(t, mem)
	srv, err := New(Options{Controller: ctl, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Registry: reg, BcryptCost: bcrypt.MinCost, Version: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureBootstrapToken(context.Background(), ctl, adminSecret, time.Now()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, h: srv.Handler(), st: mem, ctl: ctl, mem: mem}

	var hz statusResponse
	e.must(req{method: "GET", path: "/healthz"}, http.StatusOK, &hz)
	if hz.Version != "1.2.3" {
		t.Fatalf("healthz %+v", hz)
	}
	e.must(req{method: "GET", path: "/readyz"}, http.StatusOK, nil)

	r := e.must(req{method: "GET", path: "/api/v1/queues", token: adminSecret, header: map[string]string{"X-Request-ID": "abc-123"}}, http.StatusOK, nil)
	if r.Header.Get("X-Request-ID") != "abc-123" {
		t.Fatalf("sane request id not echoed: %q", r.Header.Get("X-Request-ID"))
	}
	r = e.must(req{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": "bad id\u00e9"}}, http.StatusOK, nil)
	if id := r.Header.Get("X-Request-ID"); len(id) != 32 {
		t.Fatalf("insane request id not replaced: %q", id)
	}
	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "abc-123") {
			line = l
		}
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(line), &entry); err != nil {
		t.Fatalf("access log line %q: %v", line, err)
	}
	for k, v := range map[string]any{"request_id": "abc-123", "method": "GET", "path": "/api/v1/queues", "status": float64(200), "user": "bootstrap"} {
		if entry[k] != v {
			t.Errorf("access log %s = %v, want %v", k, entry[k], v)
		}
	}
	if _, ok := entry["duration"]; !ok {
		t.Error("access log lacks duration")
	}

	e.must(req{method: "GET", path: "/nowhere"}, http.StatusNotFound, nil)
	m := e.must(req{method: "GET", path: "/metrics"}, http.StatusOK, nil)
	for _, want := range []string{
		`hotline_http_requests_total{method="GET",route="/api/v1/queues",status="200"} 1`,
		`hotline_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`hotline_http_request_duration_seconds_bucket{method="GET",route="/healthz"`,
	} {
		if !strings.Contains(string(m.Body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Outage: readiness fails and API calls answer 503, never 500.
	mem.SetDown(true)
	e.must(req{method: "GET", path: "/readyz"}, http.StatusServiceUnavailable, nil)
	r = e.must(req{method: "GET", path: "/api/v1/queues", token: adminSecret}, http.StatusServiceUnavailable, nil)
	if c := r.err(t).Code; c != codeUnavailable {
		t.Fatalf("outage code %q", c)
	}
	e.must(req{method: "GET", path: "/healthz"}, http.StatusOK, nil)
	mem.SetDown(false)
	e.must(req{method: "GET", path: "/readyz"}, http.StatusOK, nil)

	if _, err := New(Options{}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("New without a store: %v", err)
	}
	if _, err := New(Options{Controller: mem, Registry: reg}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("New registering metrics twice: %v", err)
	}
}

func TestMethodNotAllowedAndRecovery(t *testing.T) {
	e := newEnv(t)
	r := e.do(req{method: "PATCH", path: "/api/v1/queues", token: adminSecret})
	if r.Code != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH: %d", r.Code)
	}
	// A panicking handler answers a JSON 500 and the server lives on.
	e.srv.engine.GET("/panic", func(*gin.Context) { panic("boom") })
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, httptest.NewRequest("GET", "/panic", nil))
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), codeInternal) {
		t.Fatalf("panic: %d %s", w.Code, w.Body)
	}
	e.must(req{method: "GET", path: "/healthz"}, http.StatusOK, nil)

}

func TestOptions(t *testing.T) {
	mem := memstore.New(nil)
	ctl := newController(t, mem)
	srv, err := New(Options{Controller: ctl, BcryptCost: bcrypt.MinCost, SIPRealm: "pbx.example", SessionTTL: time.Hour,
		TrustedProxies: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureBootstrapToken(context.Background(), ctl, adminSecret, time.Now()); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, h: srv.Handler(), st: mem, ctl: ctl, mem: mem}
	var a store.Agent
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "A", "extension": "1001", "sip_password": "sip-secret-1"}, http.StatusCreated, &a)
	got, _ := mem.Agents().Get(t.Context(), a.ID)
	if want := sipdigestHA1MD5("1001", "pbx.example", "sip-secret-1"); got.SIPHA1MD5 != want {
		t.Fatalf("HA1 not bound to the configured realm: %q, want %q", got.SIPHA1MD5, want)
	}
	e.admin("POST", "/api/v1/users", map[string]any{"username": "boss", "role": "admin", "password": "password-1"}, http.StatusCreated, nil)
	var lr loginResponse
	before := time.Now()
	e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "boss", "password": "password-1"},
		header: map[string]string{"X-Forwarded-For": "203.0.113.5"}}, http.StatusOK, &lr)
	if lr.ExpiresAt.Before(before.Add(time.Hour-time.Second)) || lr.ExpiresAt.After(time.Now().Add(time.Hour)) {
		t.Fatalf("session expires %v, want in an hour", lr.ExpiresAt)
	}
	// Behind a trusted proxy the forwarded client address is the one audited.
	var audit page[store.AuditEntry]
	e.admin("GET", "/api/v1/audit?resource=auth", nil, http.StatusOK, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Remote != "203.0.113.5" {
		t.Fatalf("audit of a proxied login: %+v", audit.Items)
	}
	if _, err := New(Options{Controller: mem, Registry: prometheus.NewRegistry(), BcryptCost: bcrypt.MinCost, TrustedProxies: []string{"not-an-ip"}}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("bad TrustedProxies: %v", err)
	}
}
