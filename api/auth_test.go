package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hotline/controller/store"
)

func TestRBAC(t *testing.T) {
	e := newEnv(t)
	agentID, queueID := e.seed()
	var other store.Agent
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "Other", "extension": "1002"}, http.StatusCreated, &other)
	tokens := map[store.Role]string{store.RoleAdmin: adminSecret}
	for _, role := range []store.Role{store.RoleSupervisor, store.RoleAgent, store.RoleQA, store.RoleReporter} {
		_, tok := e.userToken("u-"+string(role), role, agentID)
		tokens[role] = tok
	}
	queueBody := map[string]any{"name": "new-queue"}
	const (
		A, S, G, Q, R = store.RoleAdmin, store.RoleSupervisor, store.RoleAgent, store.RoleQA, store.RoleReporter
	)
	tests := []struct {
		method, path string
		body         any
		allowed      []store.Role
	}{
		{"POST", "/api/v1/queues", queueBody, []store.Role{A}},
		{"GET", "/api/v1/queues", nil, []store.Role{A, S, Q, R}},
		{"GET", "/api/v1/queues/" + queueID, nil, []store.Role{A, S, Q, R}},
		{"GET", "/api/v1/agents", nil, []store.Role{A, S, Q, R}},
		{"GET", "/api/v1/agents/" + agentID, nil, []store.Role{A, S, G, Q, R}},
		{"GET", "/api/v1/agents/" + other.ID, nil, []store.Role{A, S, Q, R}},
		{"GET", "/api/v1/skills", nil, []store.Role{A, S, Q, R}},
		{"GET", "/api/v1/numbers", nil, []store.Role{A, S}},
		{"GET", "/api/v1/schedules", nil, []store.Role{A, S}},
		{"GET", "/api/v1/lists", nil, []store.Role{A, S}},
		{"GET", "/api/v1/trunks", nil, []store.Role{A}},
		{"GET", "/api/v1/users", nil, []store.Role{A}},
		{"GET", "/api/v1/audit", nil, []store.Role{A}},
		{"GET", "/api/v1/me", nil, []store.Role{A, S, G, Q, R}},
		{"GET", "/api/v1/tokens", nil, []store.Role{A, S, G, Q, R}},
		{"POST", "/api/v1/skills", map[string]any{"name": "x"}, []store.Role{A}},
		{"DELETE", "/api/v1/agents/" + other.ID + "?version=1", nil, []store.Role{A}},
	}
	for _, tc := range tests {
		for _, role := range store.Roles {
			t.Run(tc.method+" "+tc.path+" as "+string(role), func(t *testing.T) {
				allowed := false
				for _, r := range tc.allowed {
					allowed = allowed || r == role
				}
				if !allowed {
					r := e.must(req{method: tc.method, path: tc.path, token: tokens[role], body: tc.body}, http.StatusForbidden, nil)
					if c := r.err(t).Code; c != codeForbidden {
						t.Fatalf("code %q", c)
					}
					return
				}
				r := e.do(req{method: tc.method, path: tc.path, token: tokens[role], body: tc.body})
				if r.Code == http.StatusForbidden || r.Code == http.StatusUnauthorized || r.Code >= 500 {
					t.Fatalf("allowed role got %d: %s", r.Code, r.Body)
				}
			})
		}
	}
	t.Run("no token", func(t *testing.T) {
		r := e.must(req{method: "GET", path: "/api/v1/queues"}, http.StatusUnauthorized, nil)
		if c := r.err(t).Code; c != codeUnauthorized {
			t.Fatalf("code %q", c)
		}
		if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
			t.Fatalf("401 without a Bearer challenge: %q", h)
		}
		e.must(req{method: "GET", path: "/api/v1/queues", token: "hl_unknown"}, http.StatusUnauthorized, nil)
		e.must(req{method: "GET", path: "/api/v1/queues", header: map[string]string{"Authorization": "Basic YTpi"}}, http.StatusUnauthorized, nil)
	})
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	agentID, _ := e.seed()
	u, _ := e.userToken("ann", store.RoleAgent, agentID)

	var lr loginResponse
	e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "ann", "password": "password-1"}}, http.StatusOK, &lr)
	if login := e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "ann", "password": "password-1"}}); login.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login answer cacheable: %q", login.Header.Get("Cache-Control"))
	}
	if !strings.HasPrefix(lr.Token, "hl_") || len(lr.Token) != 3+43 || lr.User.ID != u.ID {
		t.Fatalf("login answer %+v", lr)
	}
	if want := e.clock.Now().Add(defaultSessionTTL); !lr.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at %v, want %v", lr.ExpiresAt, want)
	}
	var me store.User
	e.must(req{method: "GET", path: "/api/v1/me", token: lr.Token}, http.StatusOK, &me)
	if me.Username != "ann" {
		t.Fatalf("me = %+v", me)
	}
	// Only the hash is stored.
	if _, err := e.st.Tokens().GetByHash(t.Context(), hashSecret(lr.Token), e.clock.Now()); err != nil {
		t.Fatalf("session token not stored by hash: %v", err)
	}

	wrong := e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "ann", "password": "nope-nope"}}, http.StatusUnauthorized, nil)
	unknown := e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "nobody", "password": "nope-nope"}}, http.StatusUnauthorized, nil)
	if string(wrong.Body) != string(unknown.Body) {
		t.Fatalf("unknown user and wrong password answer differently: %s vs %s", unknown.Body, wrong.Body)
	}
	// The bootstrap user has no password and cannot log in.
	e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "bootstrap", "password": ""}}, http.StatusUnauthorized, nil)

	e.must(req{method: "POST", path: "/api/v1/auth/logout", token: lr.Token}, http.StatusNoContent, nil)
	e.must(req{method: "GET", path: "/api/v1/me", token: lr.Token}, http.StatusUnauthorized, nil)

	t.Run("session expires and is swept", func(t *testing.T) {
		var lr loginResponse
		e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "ann", "password": "password-1"}}, http.StatusOK, &lr)
		e.clock.Advance(defaultSessionTTL + time.Second)
		e.must(req{method: "GET", path: "/api/v1/me", token: lr.Token}, http.StatusUnauthorized, nil)
		before, _ := e.st.Tokens().ListByUser(t.Context(), u.ID)
		e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "ann", "password": "password-1"}}, http.StatusOK, nil)
		after, _ := e.st.Tokens().ListByUser(t.Context(), u.ID)
		expired := 0
		for _, tk := range before {
			if tk.ExpiresAt != nil && !e.clock.Now().Before(*tk.ExpiresAt) {
				expired++
			}
		}
		if expired == 0 || len(after) != len(before)-expired+1 { // expired sessions swept, one new
			t.Fatalf("tokens before login %d (%d expired), after %d", len(before), expired, len(after))
		}
	})
	t.Run("forwarded address not trusted", func(t *testing.T) {
		for range loginMaxFailures {
			e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "ann", "password": "wrong-wrong"},
				header: map[string]string{"X-Forwarded-For": "198.51.100.9"}})
		}
		// A new forged address does not escape the lockout of 127.0.0.1.
		r := e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "ann", "password": "password-1"},
			header: map[string]string{"X-Forwarded-For": "198.51.100.10"}})
		if r.Code != http.StatusTooManyRequests {
			t.Fatalf("forged X-Forwarded-For escaped the lockout: %d", r.Code)
		}
		e.srv.lockout.reset("ann\x00127.0.0.1")
	})
	t.Run("disabled user", func(t *testing.T) {
		var lr loginResponse
		e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "ann", "password": "password-1"}}, http.StatusOK, &lr)
		cur, _ := e.st.Users().Get(t.Context(), u.ID)
		cur.Disabled = true
		if err := e.st.Users().Update(t.Context(), &cur); err != nil {
			t.Fatal(err)
		}
		e.must(req{method: "GET", path: "/api/v1/me", token: lr.Token}, http.StatusUnauthorized, nil)
		e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "ann", "password": "password-1"}}, http.StatusUnauthorized, nil)
	})
}

func TestLoginLockout(t *testing.T) {
	e := newEnv(t)
	e.admin("POST", "/api/v1/users", map[string]any{"username": "boss", "role": "admin", "password": "password-1"}, http.StatusCreated, nil)
	login := func(pw string) resp {
		return e.do(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "boss", "password": pw}})
	}
	for i := range loginMaxFailures {
		if r := login("wrong-password"); r.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i, r.Code)
		}
	}
	r := login("password-1")
	if r.Code != http.StatusTooManyRequests || r.err(t).Code != codeTooManyAttempts {
		t.Fatalf("locked out login: %d %s", r.Code, r.Body)
	}
	e.clock.Advance(loginFailureWindow + time.Second)
	if r := login("password-1"); r.Code != http.StatusOK {
		t.Fatalf("after the window: %d %s", r.Code, r.Body)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	agentID, _ := e.seed()
	ann, annTok := e.userToken("ann", store.RoleAgent, agentID)
	_, supTok := e.userToken("sue", store.RoleSupervisor, "")

	var own tokenCreated
	e.must(req{method: "POST", path: "/api/v1/tokens", token: annTok, body: map[string]any{"name": "desk"}}, http.StatusCreated, &own)
	if own.UserID != ann.ID || !strings.HasPrefix(own.Secret, "hl_") {
		t.Fatalf("own token %+v", own)
	}
	// A non-admin cannot mint tokens for others nor see or delete theirs.
	e.must(req{method: "POST", path: "/api/v1/tokens", token: supTok, body: map[string]any{"name": "x", "user_id": ann.ID}}, http.StatusForbidden, nil)
	e.must(req{method: "DELETE", path: "/api/v1/tokens/" + own.ID, token: supTok}, http.StatusNotFound, nil)
	var pg page[store.Token]
	e.must(req{method: "GET", path: "/api/v1/tokens", token: annTok}, http.StatusOK, &pg)
	if len(pg.Items) != 2 {
		t.Fatalf("ann sees %d tokens, want her 2", len(pg.Items))
	}
	for _, tk := range pg.Items {
		if tk.UserID != ann.ID {
			t.Fatalf("ann sees someone else's token %+v", tk)
		}
	}
	if strings.Contains(string(e.do(req{method: "GET", path: "/api/v1/tokens", token: adminSecret}).Body), own.Secret) {
		t.Fatal("token list shows a secret")
	}
	e.must(req{method: "POST", path: "/api/v1/tokens", token: annTok, body: map[string]any{"name": "old", "expires_at": "2020-01-01T00:00:00Z"}}, http.StatusBadRequest, nil)
	e.must(req{method: "DELETE", path: "/api/v1/tokens/" + own.ID, token: annTok}, http.StatusNoContent, nil)
	e.must(req{method: "GET", path: "/api/v1/me", token: own.Secret}, http.StatusUnauthorized, nil)

	// Deleting a user revokes its tokens.
	e.admin("DELETE", "/api/v1/users/"+ann.ID+"?version=1", nil, http.StatusNoContent, nil)
	if toks, _ := e.st.Tokens().ListByUser(t.Context(), ann.ID); len(toks) != 0 {
		t.Fatalf("deleted user keeps %d tokens", len(toks))
	}
	e.must(req{method: "GET", path: "/api/v1/me", token: annTok}, http.StatusUnauthorized, nil)
}

func TestBootstrapToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for range 2 {
		if err := EnsureBootstrapToken(ctx, e.st, adminSecret, e.clock.Now()); err != nil {
			t.Fatalf("again: %v", err)
		}
	}
	if n, _ := e.st.Users().Count(ctx); n != 1 {
		t.Fatalf("%d users after three bootstraps", n)
	}
	u, err := e.st.Users().GetByUsername(ctx, "bootstrap")
	if err != nil || u.Role != store.RoleAdmin || u.PasswordHash != "" {
		t.Fatalf("bootstrap user %+v %v", u, err)
	}
	if toks, _ := e.st.Tokens().ListByUser(ctx, u.ID); len(toks) != 1 || toks[0].Hash != hashSecret(adminSecret) {
		t.Fatalf("bootstrap tokens %+v", toks)
	}
	// The done-criterion of issue 2: a script with the token creates a queue.
	e.admin("POST", "/api/v1/queues", map[string]any{"name": "q"}, http.StatusCreated, nil)
	// A second secret adds a second token for the same user.
	if err := EnsureBootstrapToken(ctx, e.st, "another-secret", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.must(req{method: "GET", path: "/api/v1/me", token: "another-secret"}, http.StatusOK, nil)
	for _, bad := range []string{"", "has space", "new\nline"} {
		if err := EnsureBootstrapToken(ctx, e.st, bad, e.clock.Now()); !errors.Is(err, ErrInvalidBootstrap) {
			t.Errorf("secret %q: %v", bad, err)
		}
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("password-1")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != 10 {
		t.Fatalf("hash %q: cost %d %v", h, cost, err)
	}
	if _, err := HashPassword(strings.Repeat("x", 73)); err == nil {
		t.Fatal("a 73-byte password was hashed (bcrypt would truncate it)")
	}
}

// TestLoginWithSeededHash logs in with a hash made outside the API, as the
// demo seed does (HashPassword's cost is too slow under -race, so MinCost).
func TestLoginWithSeededHash(t *testing.T) {
	e := newEnv(t)
	h, err := bcrypt.GenerateFromPassword([]byte("password-1"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{Username: "seeded", Role: store.RoleAdmin, PasswordHash: string(h)}
	if err := e.st.Users().Create(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	e.must(req{method: "POST", path: "/api/v1/auth/login", body: map[string]any{"username": "seeded", "password": "password-1"}}, http.StatusOK, nil)
}
