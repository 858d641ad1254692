package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"hotline/controller"
	"hotline/controller/store"
)

// fakeLive's supervisor actions (controller.SupervisorControl).
func (f *fakeLive) Supervise(_ context.Context, by controller.Actor, id string, r controller.SuperviseRequest) (controller.SupervisionView, error) {
	return controller.SupervisionView{CallID: id, UserID: by.UserID, Mode: r.Mode, Device: r.Device, State: "ringing"}, f.ask(by)
}
func (f *fakeLive) SetSuperviseMode(_ context.Context, by controller.Actor, id, mode string) (controller.SupervisionView, error) {
	return controller.SupervisionView{CallID: id, UserID: by.UserID, Mode: mode, State: "active"}, f.ask(by)
}
func (f *fakeLive) StopSupervise(_ context.Context, by controller.Actor, _ string) error {
	return f.ask(by)
}
func (f *fakeLive) ForceHangup(_ context.Context, by controller.Actor, _ string) error {
	return f.ask(by)
}
func (f *fakeLive) StartRecording(_ context.Context, by controller.Actor, _ string) error {
	return f.ask(by)
}

// teamToken creates a user of role in team and returns it with a token.
func (e *env) teamToken(username string, role store.Role, team string) (store.User, string) {
	e.t.Helper()
	var u store.User
	e.admin("POST", "/api/v1/users", map[string]any{"username": username, "role": role, "team": team,
		"password": "password-1"}, http.StatusCreated, &u)
	var tok tokenCreated
	e.admin("POST", "/api/v1/tokens", map[string]any{"name": "t-" + username, "user_id": u.ID}, http.StatusCreated, &tok)
	return u, tok.Secret
}

// The supervisor routes: the LiveControl gets who asks (with its team),
// bad input is 400 naming the field, agents and the other roles get 403,
// the call path's errors map to statuses, every action (refused ones
// included) has an audit entry with who, the call, when and from where,
// and the routes are in the OpenAPI document with their roles.
func TestSuperviseRoutes(t *testing.T) {
	live := &fakeLive{}
	e := newEnvOpt(t, func(o *Options) { o.Live = live })
	agentID, _ := e.seed()
	sup, supTok := e.teamToken("sam", store.RoleSupervisor, "blue")
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	_, repTok := e.userToken("rita", store.RoleReporter, "")
	const call = "call-0123"
	base := "/api/v1/calls/" + call

	var v controller.SupervisionView
	e.must(req{method: "POST", path: base + "/supervise", token: supTok,
		body: map[string]any{"mode": "listen", "device": "sip:sam@10.1.2.3:5060"}}, http.StatusCreated, &v)
	if v.CallID != call || v.Mode != "listen" || v.Device != "sip:sam@10.1.2.3:5060" || v.UserID != sup.ID {
		t.Errorf("view %+v", v)
	}
	if by := live.by[len(live.by)-1]; by.Role != store.RoleSupervisor || by.Team != "blue" || by.UserID != sup.ID {
		t.Errorf("actor %+v", by)
	}
	e.must(req{method: "PUT", path: base + "/supervise", token: supTok, body: map[string]any{"mode": "whisper"}}, http.StatusOK, &v)
	if v.Mode != "whisper" {
		t.Errorf("view %+v", v)
	}
	e.must(req{method: "DELETE", path: base + "/supervise", token: supTok}, http.StatusNoContent, nil)
	e.must(req{method: "POST", path: base + "/recording/start", token: supTok}, http.StatusNoContent, nil)
	e.must(req{method: "POST", path: base + "/force-hangup", token: supTok}, http.StatusNoContent, nil)
	e.must(req{method: "PUT", path: "/api/v1/agents/" + agentID + "/state", token: supTok,
		body: map[string]any{"state": "logged-out"}}, http.StatusOK, nil)

	// Bad input: 400 naming the field, before the call path is asked.
	asked := len(live.by)
	for _, tc := range []struct {
		method string
		body   any
		field  string
	}{
		{"POST", map[string]any{"device": "user/1005"}, "mode"},
		{"POST", map[string]any{"mode": "spy", "device": "user/1005"}, "mode"},
		{"POST", map[string]any{"mode": "listen"}, "device"},
		{"POST", map[string]any{"mode": "listen", "device": "user/1"}, "device"},
		{"POST", map[string]any{"mode": "listen", "device": "sip:a@b,c"}, "device"},
		{"POST", map[string]any{"mode": "listen", "device": "user/1005", "volume": 3}, "volume"},
		{"PUT", map[string]any{"mode": "shout"}, "mode"},
		{"PUT", map[string]any{}, "mode"},
	} {
		wantField(t, e.do(req{method: tc.method, path: base + "/supervise", token: supTok, body: tc.body}), http.StatusBadRequest, tc.field)
	}
	if len(live.by) != asked {
		t.Errorf("the call path was asked for bad input")
	}

	// Agents (even on their own calls) and other roles: 403.
	routes := []req{
		{method: "POST", path: base + "/supervise", body: map[string]any{"mode": "listen", "device": "user/1005"}},
		{method: "PUT", path: base + "/supervise", body: map[string]any{"mode": "barge"}},
		{method: "DELETE", path: base + "/supervise"},
		{method: "POST", path: base + "/force-hangup"},
		{method: "POST", path: base + "/recording/start"},
	}
	for _, tok := range []string{agentTok, repTok} {
		for _, r := range routes {
			r.token = tok
			if got := e.do(r); got.Code != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", r.method, r.path, got.Code)
			}
		}
	}

	// The call path's refusals.
	for _, tc := range []struct {
		err   error
		code  int
		field string
		r     req
	}{
		{fmt.Errorf("%w: call %q is not one of team %q", controller.ErrForbidden, call, "blue"), http.StatusForbidden, "", routes[0]},
		{controller.ErrNoSuchCall, http.StatusNotFound, "", routes[3]},
		{controller.ErrNotConnected, http.StatusConflict, "", routes[0]},
		{controller.ErrAlreadySupervising, http.StatusConflict, "", routes[0]},
		{controller.ErrNotSupervising, http.StatusNotFound, "", routes[1]},
		{controller.ErrNotSupervising, http.StatusNotFound, "", routes[2]},
		{fmt.Errorf("%w: user/1005: not registered", controller.ErrDeviceUnreachable), http.StatusConflict, "device", routes[0]},
		{controller.ErrNotConnected, http.StatusConflict, "", routes[4]},
		{controller.ErrClosed, http.StatusServiceUnavailable, "", routes[3]},
	} {
		live.err = tc.err
		r := tc.r
		r.token = supTok
		got := e.do(r)
		if got.Code != tc.code || got.err(t).Field != tc.field {
			t.Errorf("%v on %s %s: %d %s, want %d field %q", tc.err, r.method, r.path, got.Code, got.Body, tc.code, tc.field)
		}
	}
	live.err = nil
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls/bad%20id/force-hangup", token: supTok}), http.StatusNotFound, "")

	// Every supervisor action is audited: who, which call, when, from where.
	var audit page[store.AuditEntry]
	e.admin("GET", "/api/v1/audit?resource=calls&limit=500", nil, http.StatusOK, &audit)
	for _, want := range []struct {
		action, detail string
		result         int
	}{
		{"supervise", "mode=listen device=sip:sam@10.1.2.3:5060", http.StatusCreated},
		{"supervise-mode", "mode=whisper", http.StatusOK},
		{"supervise-stop", "", http.StatusNoContent},
		{"recording-start", "", http.StatusNoContent},
		{"force-hangup", "", http.StatusNoContent},
		{"supervise", "forbidden", http.StatusForbidden},
	} {
		if !slices.ContainsFunc(audit.Items, func(a store.AuditEntry) bool {
			return a.Action == want.action && a.Result == want.result && a.Detail == want.detail && a.UserID == sup.ID &&
				a.Username == "sam" && a.ResourceID == call && a.Remote == "127.0.0.1" && !a.At.IsZero()
		}) {
			t.Errorf("no audit entry %+v in %+v", want, audit.Items)
		}
	}
	// The agent's refused attempts are there too.
	if !slices.ContainsFunc(audit.Items, func(a store.AuditEntry) bool {
		return a.Action == "force-hangup" && a.Username == "ann" && a.Result == http.StatusForbidden
	}) {
		t.Error("the agent's refused force hangup is not audited")
	}
	e.admin("GET", "/api/v1/audit?resource=agent-state", nil, http.StatusOK, &audit)
	if !slices.ContainsFunc(audit.Items, func(a store.AuditEntry) bool {
		return a.Action == "set" && a.ResourceID == agentID && a.UserID == sup.ID && a.Detail == "state=logged-out"
	}) {
		t.Errorf("the forced logout is not audited: %+v", audit.Items)
	}

	// In the OpenAPI document, with the roles allowed.
	var doc struct {
		Paths map[string]map[string]struct {
			Roles []string `json:"x-roles"`
		} `json:"paths"`
	}
	e.must(req{method: "GET", path: "/api/v1/openapi.json"}, http.StatusOK, &doc)
	for path, methods := range map[string][]string{
		"/api/v1/calls/{id}/supervise":       {"post", "put", "delete"},
		"/api/v1/calls/{id}/force-hangup":    {"post"},
		"/api/v1/calls/{id}/recording/start": {"post"},
	} {
		for _, m := range methods {
			op, ok := doc.Paths[path][m]
			if !ok || !slices.Equal(op.Roles, []string{"admin", "supervisor"}) {
				t.Errorf("OpenAPI %s %s: %v %+v", m, path, ok, op)
			}
		}
	}
}
