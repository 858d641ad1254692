package api

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/controller/store/postgres"
	"hotline/controller/store/sqlite"
	hclock "hotline/internal/clock"
	"hotline/internal/testenv"
)

// TestEndToEnd is the script of issue 2's done-criteria, run against the
// in-memory fake and against the real stores (embedded SQLite, and
// PostgreSQL from HOTLINE_TEST_DATABASE_URL): with the
// bootstrap token, create a skill, an agent and a queue, read them back, get
// 400 with field for an invalid one, and see an agent's token refused (403)
// on POST /api/v1/queues while it reads its own agent record.
func TestEndToEnd(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T, clock *hclock.Fake) store.Store
	}{
		{"memstore", func(t *testing.T, clock *hclock.Fake) store.Store { return memstore.New(clock.Now) }},
		{"postgres", func(t *testing.T, _ *hclock.Fake) store.Store {
			st, err := postgres.OpenConfig(context.Background(), freshSchema(t), nil)
			if err != nil {
				t.Fatalf("postgres.OpenConfig: %v", err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		}},
		{"sqlite", func(t *testing.T, _ *hclock.Fake) store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hotline.db"), nil)
			if err != nil {
				t.Fatalf("sqlite.Open: %v", err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			// Tokens expire by the store's comparison with this clock, so
			// it runs near real time for the SQLite store.
			clock := hclock.NewFake(time.Now().UTC())
			e := newEnvWith(t, b.open(t, clock), clock)
			endToEnd(t, e)
		})
	}
}

// freshSchema creates an empty schema on the test PostgreSQL server (skip
// locally, fail in CI when there is none), drops it after the test, and
// returns a pool configuration whose search_path points at it.
func freshSchema(t testing.TB) *pgxpool.Config {
	t.Helper()
	return testenv.PostgresSchema(t, "hotline_api_test")
}

func endToEnd(t *testing.T, e *env) {
	e.admin("POST", "/api/v1/skills", map[string]any{"name": "english"}, http.StatusCreated, nil)
	var a store.Agent
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "Ann", "extension": "1001", "sip_password": "sip-secret-1",
		"skills": []map[string]any{{"skill": "english", "level": 7}}}, http.StatusCreated, &a)
	var q store.Queue
	e.admin("POST", "/api/v1/queues", map[string]any{"name": "support", "members": []map[string]any{{"agent_id": a.ID, "penalty": 2}},
		"required_skills": []map[string]any{{"skill": "english", "level": 3}}}, http.StatusCreated, &q)

	var gotQ store.Queue
	r := e.admin("GET", "/api/v1/queues/"+q.ID, nil, http.StatusOK, &gotQ)
	if gotQ.Name != "support" || len(gotQ.Members) != 1 || gotQ.Members[0].AgentID != a.ID || gotQ.Members[0].Penalty != 2 ||
		gotQ.RingTimeout != 20 || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("queue read back %+v ETag %q", gotQ, r.Header.Get("ETag"))
	}
	var agents page[store.Agent]
	e.admin("GET", "/api/v1/agents", nil, http.StatusOK, &agents)
	if len(agents.Items) != 1 || agents.Items[0].Skills[0].Level != 7 {
		t.Fatalf("agents list %+v", agents)
	}
	stored, err := e.st.Agents().Get(t.Context(), a.ID)
	if err != nil || stored.SIPHA1MD5 == "" || stored.SIPHA1SHA256 == "" {
		t.Fatalf("stored HA1s %+v %v", stored, err)
	}

	r = e.must(req{method: "POST", path: "/api/v1/queues", token: adminSecret, body: map[string]any{"name": "bad", "ring_timeout": 1}}, http.StatusBadRequest, nil)
	if ae := r.err(t); ae.Field != "ring_timeout" || ae.Code != codeInvalidValue {
		t.Fatalf("invalid queue: %+v", ae)
	}
	r = e.must(req{method: "POST", path: "/api/v1/queues", token: adminSecret, body: map[string]any{"name": "support"}}, http.StatusConflict, nil)
	if ae := r.err(t); ae.Field != "name" {
		t.Fatalf("duplicate queue: %+v", ae)
	}

	// Two admins: the second write on the same version loses.
	gotQ.WrapUp = 30
	e.must(req{method: "PUT", path: "/api/v1/queues/" + q.ID, token: adminSecret, body: gotQ}, http.StatusOK, nil)
	gotQ.WrapUp = 40
	e.must(req{method: "PUT", path: "/api/v1/queues/" + q.ID, token: adminSecret, body: gotQ}, http.StatusPreconditionFailed, nil)

	_, agentTok := e.userToken("ann", store.RoleAgent, a.ID)
	r = e.must(req{method: "POST", path: "/api/v1/queues", token: agentTok, body: map[string]any{"name": "mine"}}, http.StatusForbidden, nil)
	if c := r.err(t).Code; c != codeForbidden {
		t.Fatalf("agent POST queue code %q", c)
	}
	e.must(req{method: "GET", path: "/api/v1/agents/" + a.ID, token: agentTok}, http.StatusOK, nil)
	var b store.Agent
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "Bob", "extension": "1002"}, http.StatusCreated, &b)
	e.must(req{method: "GET", path: "/api/v1/agents/" + b.ID, token: agentTok}, http.StatusForbidden, nil)

	var lr loginResponse
	e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "ann", "password": "password-1"}}, http.StatusOK, &lr)
	e.must(req{method: "GET", path: "/api/v1/me", token: lr.Token}, http.StatusOK, nil)
	e.must(req{method: "POST", path: "/api/v1/auth/logout", token: lr.Token}, http.StatusNoContent, nil)
	e.must(req{method: "GET", path: "/api/v1/me", token: lr.Token}, http.StatusUnauthorized, nil)

	var audit page[store.AuditEntry]
	e.admin("GET", "/api/v1/audit?resource=queues", nil, http.StatusOK, &audit)
	if len(audit.Items) != 6 { // create, 400, 409, update, 412, agent's 403
		t.Fatalf("queue audit entries: %d", len(audit.Items))
	}
	// Bytes a database refuses (PostgreSQL text cannot hold NUL) must be
	// client errors, never 500s.
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/api/v1/agents/%00", nil, http.StatusNotFound},
		{"PUT", "/api/v1/agents/%00", map[string]any{"name": "x"}, http.StatusNotFound},
		{"DELETE", "/api/v1/agents/%00?version=1", nil, http.StatusNotFound},
		{"DELETE", "/api/v1/tokens/%00", nil, http.StatusNotFound},
		{"GET", "/api/v1/agents?after=%00", nil, http.StatusBadRequest},
		{"GET", "/api/v1/audit?user_id=%00", nil, http.StatusBadRequest},
		{"GET", "/api/v1/audit?resource=%00", nil, http.StatusBadRequest},
		{"POST", "/api/v1/auth/login", map[string]any{"username": "a\u0000", "password": "x"}, http.StatusUnauthorized},
	} {
		token := adminSecret
		if c.path == "/api/v1/auth/login" {
			token = ""
		}
		r := e.do(req{method: c.method, path: c.path, token: token, body: c.body})
		if r.Code != c.want {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.Code, c.want, r.Body)
		}
	}
	e.admin("DELETE", "/api/v1/queues/"+q.ID+"?version=2", nil, http.StatusNoContent, nil)
	e.admin("GET", "/api/v1/queues/"+q.ID, nil, http.StatusNotFound, nil)
}
