package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hotline/controller"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	hclock "hotline/internal/clock"
)

const adminSecret = "test-bootstrap-secret"

// env is one server under test.
type env struct {
	t     testing.TB
	srv   *Server
	h     http.Handler
	st    store.Store
	ctl   *controller.Controller
	mem   *memstore.Store // nil when st is another store
	clock *hclock.Fake
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clock := hclock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	mem := memstore.New(clock.Now)
	e := newEnvWith(t, mem, clock)
	e.mem = mem
	return e
}

func newEnvWith(t testing.TB, st store.Store, clock *hclock.Fake) *env {
	t.Helper()
	ctl := newController(t, st)
	srv, err := New(Options{Controller: ctl, Now: clock.Now, BcryptCost: bcrypt.MinCost, Version: "test"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := EnsureBootstrapToken(context.Background(), ctl, adminSecret, clock.Now()); err != nil {
		t.Fatalf("EnsureBootstrapToken: %v", err)
	}
	return &env{t: t, srv: srv, h: srv.Handler(), st: st, ctl: ctl, clock: clock}
}

// newController starts the controller the API writes through, over st.
func newController(t testing.TB, st store.Store, opts ...func(*controller.Options)) *controller.Controller {
	t.Helper()
	o := controller.Options{Store: st}
	for _, f := range opts {
		f(&o)
	}
	ctl, err := controller.New(context.Background(), o)
	if err != nil {
		t.Fatalf("controller.New: %v", err)
	}
	t.Cleanup(func() { _ = ctl.Close() })
	return ctl
}

// req is one HTTP request to the server under test.
type req struct {
	method, path, token string
	body                any // string: raw; otherwise JSON-encoded
	header              map[string]string
}

// resp is a recorded answer.
type resp struct {
	Code   int
	Header http.Header
	Body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// errBody returns the error of an error answer.
func (r resp) err(t testing.TB) apiError {
	t.Helper()
	var b struct {
		Error apiError `json:"error"`
	}
	r.json(t, &b)
	return b.Error
}

func (e *env) do(r req) resp {
	e.t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encode body: %v", err)
		}
		body = bytes.NewReader(data)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	hr.RemoteAddr = "127.0.0.1:40000"
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, hr)
	return resp{Code: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

// must does r and fails unless the status is want; it decodes into out.
func (e *env) must(r req, want int, out any) resp {
	e.t.Helper()
	got := e.do(r)
	if got.Code != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", r.method, r.path, got.Code, want, got.Body)
	}
	if out != nil {
		got.json(e.t, out)
	}
	return got
}

// admin does r as the bootstrap admin.
func (e *env) admin(method, path string, body any, want int, out any) resp {
	e.t.Helper()
	return e.must(req{method: method, path: path, token: adminSecret, body: body}, want, out)
}

// userToken creates a user of role (linked to agentID for agents) with
// password "password-1" and returns an API token of it.
func (e *env) userToken(username string, role store.Role, agentID string) (store.User, string) {
	e.t.Helper()
	var u store.User
	e.admin("POST", "/api/v1/users", map[string]any{
		"username": username, "role": role, "agent_id": agentID, "password": "password-1",
	}, http.StatusCreated, &u)
	var tok tokenCreated
	e.admin("POST", "/api/v1/tokens", map[string]any{"name": "t-" + username, "user_id": u.ID}, http.StatusCreated, &tok)
	return u, tok.Secret
}

// supervisorToken creates a supervisor of team and returns its token.
func (e *env) supervisorToken(username, team string) string {
	e.t.Helper()
	var u store.User
	e.admin("POST", "/api/v1/users", map[string]any{"username": username, "role": store.RoleSupervisor, "team": team,
		"password": "password-1"}, http.StatusCreated, &u)
	var tok tokenCreated
	e.admin("POST", "/api/v1/tokens", map[string]any{"name": "t-" + username, "user_id": u.ID}, http.StatusCreated, &tok)
	return tok.Secret
}

// seed creates the skill "english", one agent and one queue and returns
// the agent's and the queue's ids.
func (e *env) seed() (agentID, queueID string) {
	e.t.Helper()
	e.admin("POST", "/api/v1/skills", map[string]any{"name": "english"}, http.StatusCreated, nil)
	var a store.Agent
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "Ann", "extension": "1001", "sip_password": "sip-secret-1",
		"skills": []map[string]any{{"skill": "english", "level": 5}}}, http.StatusCreated, &a)
	var q store.Queue
	e.admin("POST", "/api/v1/queues", map[string]any{"name": "support", "members": []map[string]any{{"agent_id": a.ID, "penalty": 0}}},
		http.StatusCreated, &q)
	return a.ID, q.ID
}
