package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hotline/acd"
	"hotline/controller"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
	"hotline/mediacore/native"
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
func (f *fakeLive) Supervision(_ context.Context, by controller.Actor, id string) (controller.SupervisionView, error) {
	return controller.SupervisionView{CallID: id, UserID: by.UserID, Mode: "barge", State: "active"}, f.ask(by)
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
	e.must(req{method: "GET", path: base + "/supervise", token: supTok}, http.StatusOK, &v)
	if v.Mode != "barge" || v.State != "active" || v.UserID != sup.ID {
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
		{method: "GET", path: base + "/supervise"},
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
		{controller.ErrNotSupervising, http.StatusNotFound, "", routes[5]},
		{fmt.Errorf("%w: whisper", controller.ErrModeNotSupported), http.StatusConflict, "mode", routes[1]},
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
		"/api/v1/calls/{id}/supervise":       {"get", "post", "put", "delete"},
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

// supNativeEnv is the API over a real call path: the native core on loopback,
// the controller and its CallCenter, in real time.
func supNativeEnv(t *testing.T) (*env, *native.Backend) {
	t.Helper()
	ctx := t.Context()
	st := memstore.New(nil)
	b, err := native.New(native.Config{Listen: "127.0.0.1:0", MediaDir: t.TempDir(), AllowUnknownSources: true,
		SetupTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var ccp atomic.Pointer[controller.CallCenter]
	core, err := mediacore.New(b, mediacore.Options{Handler: func(ev mediacore.Event) {
		if c := ccp.Load(); c != nil {
			c.HandleMedia(ev)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ctl := newController(t, st, func(o *controller.Options) {
		o.Media = core
		o.OnACDEvents = func(evs []acd.Event) {
			if c := ccp.Load(); c != nil {
				c.HandleACD(evs)
			}
		}
	})
	cc, err := controller.NewCallCenter(controller.CallCenterOptions{Controller: ctl, Media: core})
	if err != nil {
		t.Fatal(err)
	}
	ccp.Store(cc)
	t.Cleanup(func() {
		cc.Close()
		_ = core.Close()
	})
	srv, err := New(Options{Controller: ctl, Live: cc, BcryptCost: bcrypt.MinCost, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureBootstrapToken(ctx, ctl, adminSecret, time.Now()); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, h: srv.Handler(), st: st, ctl: ctl, mem: st}, b
}

// Over REST on the real call path: a caller talks to agent 1001 of team
// blue; a supervisor of team red is refused (403); the team's supervisor
// listens, barges in (the caller hears its tone), stops, and forces the
// hangup (both phones are hung up); each action is in the audit log.
func TestSuperviseRESTNative(t *testing.T) {
	e, b := supNativeEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	phone := func(user string) *sippeer.Phone {
		p, err := sippeer.New(sippeer.Config{User: user})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	agentPh, callerPh, supPh := phone("1001"), phone("13800000001"), phone("sup")
	var a store.Agent
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "Wang Fang", "extension": "1001", "team": "blue",
		"sip_password": "sip-secret-1"}, http.StatusCreated, &a)
	var q store.Queue
	e.admin("POST", "/api/v1/queues", map[string]any{"name": "sales", "members": []map[string]any{{"agent_id": a.ID}}},
		http.StatusCreated, &q)
	e.admin("POST", "/api/v1/numbers", map[string]any{"number": "800", "route": map[string]any{"kind": "queue", "value": q.ID}},
		http.StatusCreated, nil)
	e.admin("PUT", "/api/v1/agents/"+a.ID+"/state", map[string]any{"state": "ready", "device": "sip:1001@" + agentPh.Addr()},
		http.StatusOK, nil)
	blue, blueTok := e.teamToken("sam", store.RoleSupervisor, "blue")
	_, redTok := e.teamToken("rob", store.RoleSupervisor, "red")

	caller, err := callerPh.Dial(ctx, "sip:800@"+b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	caller.SetTone(600)
	var agent *sippeer.Call
	select {
	case agent = <-agentPh.Incoming():
	case <-ctx.Done():
		t.Fatal("the agent's phone never rang")
	}
	agent.SetTone(1400)
	var callID string
	supWaitFor(t, "talking", func() bool {
		var calls liveCallList
		e.must(req{method: "GET", path: "/api/v1/calls", token: blueTok}, http.StatusOK, &calls)
		if len(calls.Items) == 1 && calls.Items[0].State == "talking" {
			callID = calls.Items[0].ID
			return true
		}
		return false
	})
	base := "/api/v1/calls/" + callID
	dev := "sip:sup@" + supPh.Addr()
	listen := map[string]any{"mode": "listen", "device": dev}
	wantField(t, e.do(req{method: "POST", path: base + "/supervise", token: redTok, body: listen}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "POST", path: base + "/force-hangup", token: redTok}), http.StatusForbidden, "")

	var v controller.SupervisionView
	e.must(req{method: "POST", path: base + "/supervise", token: blueTok, body: listen}, http.StatusCreated, &v)
	if v.State != "ringing" || v.AgentID != a.ID || v.UserID != blue.ID {
		t.Errorf("view %+v", v)
	}
	var sup *sippeer.Call
	select {
	case sup = <-supPh.Incoming():
	case <-ctx.Done():
		t.Fatal("the supervisor's phone never rang")
	}
	sup.SetTone(2200)
	supWaitFor(t, "the supervisor hears the caller and the agent", func() bool {
		s := sup.Heard(600 * time.Millisecond)
		return audio.HasTone(s, audio.SampleRate, 600) && audio.HasTone(s, audio.SampleRate, 1400)
	})
	supWaitFor(t, "active", func() bool {
		r := e.do(req{method: "PUT", path: base + "/supervise", token: blueTok, body: map[string]any{"mode": "barge"}})
		if r.Code != http.StatusOK {
			t.Fatalf("switch to barge: %d %s", r.Code, r.Body)
		}
		r.json(t, &v)
		return v.State == "active"
	})
	supWaitFor(t, "the caller hears the barging supervisor", func() bool {
		return audio.HasTone(caller.Heard(600*time.Millisecond), audio.SampleRate, 2200)
	})
	e.must(req{method: "GET", path: base + "/supervise", token: blueTok}, http.StatusOK, &v)
	if v.Mode != "barge" || v.State != "active" || v.Device != dev {
		t.Errorf("supervision %+v", v)
	}
	wantField(t, e.do(req{method: "GET", path: base + "/supervise", token: redTok}), http.StatusForbidden, "")
	e.must(req{method: "DELETE", path: base + "/supervise", token: blueTok}, http.StatusNoContent, nil)
	select {
	case <-sup.Done():
	case <-ctx.Done():
		t.Fatal("the supervisor's phone was not hung up")
	}
	wantField(t, e.do(req{method: "DELETE", path: base + "/supervise", token: blueTok}), http.StatusNotFound, "")
	e.must(req{method: "POST", path: base + "/force-hangup", token: blueTok}, http.StatusNoContent, nil)
	for _, c := range []*sippeer.Call{caller, agent} {
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Fatal("a phone was not hung up")
		}
	}
	var audit page[store.AuditEntry]
	e.admin("GET", "/api/v1/audit?resource=calls&limit=500", nil, http.StatusOK, &audit)
	for _, want := range []struct {
		action, user string
		result       int
	}{
		{"supervise", "rob", http.StatusForbidden}, {"force-hangup", "rob", http.StatusForbidden},
		{"supervise", "sam", http.StatusCreated}, {"supervise-mode", "sam", http.StatusOK},
		{"supervise-stop", "sam", http.StatusNoContent}, {"force-hangup", "sam", http.StatusNoContent},
	} {
		if !slices.ContainsFunc(audit.Items, func(a store.AuditEntry) bool {
			return a.Action == want.action && a.Username == want.user && a.Result == want.result && a.ResourceID == callID &&
				a.Remote == "127.0.0.1"
		}) {
			t.Errorf("no audit entry %+v", want)
		}
	}
}

func supWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
