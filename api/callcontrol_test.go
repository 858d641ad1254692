package api

import (
	"context"
	"maps"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hotline/acd"
	"hotline/controller"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	hclock "hotline/internal/clock"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
	"hotline/mediacore/native"
)

func (f *fakeLive) ControlCall(_ context.Context, by controller.Actor, id string, r controller.CallControlRequest) (controller.LiveCall, error) {
	return controller.LiveCall{ID: id, State: "talking"}, f.ask(by)
}

func (f *fakeLive) ClickToDial(_ context.Context, by controller.Actor, r controller.ClickToDialRequest) (controller.LiveCall, error) {
	return controller.LiveCall{ID: "c2", AgentID: r.AgentID, Called: r.Number}, f.ask(by)
}

// callEnv is the API over the real call path on the native core
// (loopback SIP and RTP, real time).
type callEnv struct {
	*env
	cc *controller.CallCenter
	b  *native.Backend
}

func newCallEnv(t *testing.T, opts ...func(*controller.CallCenterOptions)) *callEnv {
	t.Helper()
	ctx := t.Context()
	clock := hclock.NewFake(time.Now())
	mem := memstore.New(nil)
	b, err := native.New(native.Config{Listen: "127.0.0.1:0", MediaDir: t.TempDir(), AllowUnknownSources: true,
		Credentials: controller.AgentCredentials{Agents: mem.Agents()}, SetupTimeout: 20 * time.Second})
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
	ctl := newController(t, mem, func(o *controller.Options) {
		o.Media = core
		o.OnACDEvents = func(evs []acd.Event) {
			if c := ccp.Load(); c != nil {
				c.HandleACD(evs)
			}
		}
	})
	cco := controller.CallCenterOptions{Controller: ctl, Media: core}
	for _, o := range opts {
		o(&cco)
	}
	cc, err := controller.NewCallCenter(cco)
	if err != nil {
		t.Fatal(err)
	}
	ccp.Store(cc)
	t.Cleanup(func() {
		cc.Close()
		_ = core.Close()
	})
	srv, err := New(Options{Controller: ctl, Live: cc, Now: clock.Now, BcryptCost: bcrypt.MinCost, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureBootstrapToken(ctx, ctl, adminSecret, clock.Now()); err != nil {
		t.Fatal(err)
	}
	return &callEnv{env: &env{t: t, srv: srv, h: srv.Handler(), st: mem, ctl: ctl, mem: mem, clock: clock}, cc: cc, b: b}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// supportQueue creates agents Ann (1001) and Bob (1002), both in team, a
// queue "support" with the given fields and Ann as its only member,
// number 801 routed to it, and an agent token for each.
func (e *callEnv) supportQueue(team string, queue map[string]any) (a, b store.Agent, q store.Queue, tokA, tokB string) {
	e.t.Helper()
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "Ann", "extension": "1001", "team": team}, http.StatusCreated, &a)
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "Bob", "extension": "1002", "team": team}, http.StatusCreated, &b)
	body := map[string]any{"name": "support", "members": []map[string]any{{"agent_id": a.ID, "penalty": 0}}}
	maps.Copy(body, queue)
	e.admin("POST", "/api/v1/queues", body, http.StatusCreated, &q)
	e.admin("POST", "/api/v1/numbers", map[string]any{"number": "801", "route": map[string]any{"kind": "queue", "value": q.ID}},
		http.StatusCreated, nil)
	_, tokA = e.userToken("ann", store.RoleAgent, a.ID)
	_, tokB = e.userToken("bob", store.RoleAgent, b.ID)
	return a, b, q, tokA, tokB
}

// callReadyAgent gives agent a (token tok) a phone (sippeer user 1001 with
// cfg's other settings) as its device, makes it ready there and dials 801
// from a caller's phone; both phones close with the test.
func (e *callEnv) callReadyAgent(ctx context.Context, a store.Agent, tok string, cfg sippeer.Config) (phone *sippeer.Phone, caller *sippeer.Call) {
	e.t.Helper()
	cfg.User = "1001"
	phone, err := sippeer.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(phone.Close)
	callerPh, err := sippeer.New(sippeer.Config{User: "13800000001"})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(callerPh.Close)
	e.must(req{method: "PUT", path: "/api/v1/agents/" + a.ID + "/state", token: tok,
		body: map[string]any{"state": "ready", "device": "sip:1001@" + phone.Addr()}}, http.StatusOK, nil)
	caller, err = callerPh.Dial(ctx, "sip:801@"+e.b.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	return phone, caller
}

// The call-control routes over a real call: agent A's token holds,
// retrieves and hangs up its own call and sets its disposition after the
// end; agent B's token gets 403 on every action on it; bad input is 400
// naming the field, an unknown call 404, an action out of place 409.
func TestCallControlRoutes(t *testing.T) {
	e := newCallEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	a, b, q, tokA, tokB := e.supportQueue("blue", map[string]any{"wrap_up": 120})
	tokSup, tokRed := e.supervisorToken("sam", "blue"), e.supervisorToken("rex", "red")
	phoneA, caller := e.callReadyAgent(ctx, a, tokA, sippeer.Config{})
	caller.SetTone(900)
	var agent *sippeer.Call
	select {
	case agent = <-phoneA.Incoming():
	case <-ctx.Done():
		t.Fatal("agent A's phone never rang")
	}
	agent.SetTone(1400)
	var id string
	waitFor(t, "talking", func() bool {
		var calls liveCallList
		e.must(req{method: "GET", path: "/api/v1/calls", token: tokSup}, http.StatusOK, &calls)
		if len(calls.Items) == 1 && calls.Items[0].State == "talking" {
			id = calls.Items[0].ID
			return true
		}
		return false
	})
	base := "/api/v1/calls/" + id
	// Agent B may do nothing to agent A's call.
	for _, r := range []req{
		{method: "POST", path: base + "/hold"},
		{method: "POST", path: base + "/retrieve"},
		{method: "POST", path: base + "/hangup"},
		{method: "POST", path: base + "/mute"},
		{method: "POST", path: base + "/dtmf", body: map[string]any{"digits": "1"}},
		{method: "POST", path: base + "/transfer", body: map[string]any{"kind": "extension", "value": "1002"}},
		{method: "POST", path: base + "/consult", body: map[string]any{"kind": "external", "value": "+8613900000000"}},
		{method: "POST", path: base + "/consult/complete"},
		{method: "POST", path: base + "/disposition", body: map[string]any{"disposition": "sale"}},
	} {
		r.token = tokB
		if got := e.do(r); got.Code != http.StatusForbidden {
			t.Errorf("%s as agent B: %d, want 403: %s", r.path, got.Code, got.Body)
		}
	}
	// Bad input names the field; an unknown call is 404; out of place 409.
	wantField(t, e.do(req{method: "POST", path: base + "/dtmf", token: tokA, body: map[string]any{"digits": "9x"}}), http.StatusBadRequest, "digits")
	wantField(t, e.do(req{method: "POST", path: base + "/transfer", token: tokA, body: map[string]any{"kind": "moon", "value": "1"}}), http.StatusBadRequest, "kind")
	wantField(t, e.do(req{method: "POST", path: base + "/transfer", token: tokA, body: map[string]any{"kind": "external", "value": "12ab"}}), http.StatusBadRequest, "value")
	wantField(t, e.do(req{method: "POST", path: base + "/consult", token: tokA, body: map[string]any{"kind": "queue", "value": q.ID}}), http.StatusBadRequest, "kind")
	wantField(t, e.do(req{method: "POST", path: base + "/transfer", token: tokA, body: map[string]any{"kind": "queue", "value": "nope"}}), http.StatusBadRequest, "value")
	wantField(t, e.do(req{method: "POST", path: base + "/transfer", token: tokA, body: map[string]any{"kind": "agent", "value": b.ID}}), http.StatusConflict, "value")
	wantField(t, e.do(req{method: "POST", path: base + "/disposition", token: tokA, body: map[string]any{"notes": "x"}}), http.StatusBadRequest, "disposition")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls/call-nope/hold", token: tokA}), http.StatusNotFound, "")
	wantField(t, e.do(req{method: "POST", path: base + "/consult/complete", token: tokA}), http.StatusConflict, "")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls", token: tokA, body: map[string]any{"number": "abc"}}), http.StatusBadRequest, "number")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls", token: tokSup, body: map[string]any{"number": "+8613900000000"}}), http.StatusBadRequest, "agent_id")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls", token: tokB, body: map[string]any{"agent_id": a.ID, "number": "+8613900000000"}}), http.StatusForbidden, "")
	// Calling an agent from a device is a supervisor's (or admin's).
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls", token: tokA, body: map[string]any{"agent_id": a.ID, "device": "user/1009"}}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls", token: tokSup, body: map[string]any{"agent_id": a.ID, "device": "user/1009", "number": "1001"}}), http.StatusBadRequest, "number")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls", token: tokSup, body: map[string]any{"agent_id": a.ID, "device": "bad\ndevice"}}), http.StatusBadRequest, "device")
	// Agent B is logged out: it cannot dial.
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls", token: tokB, body: map[string]any{"number": "+8613900000000"}}), http.StatusConflict, "agent_id")

	// A supervisor acts on the calls of its team (a forced action), not
	// on another team's.
	e.must(req{method: "POST", path: base + "/mute", token: tokRed}, http.StatusForbidden, nil)
	e.must(req{method: "POST", path: base + "/mute", token: tokSup}, http.StatusOK, nil)
	e.must(req{method: "POST", path: base + "/unmute", token: tokSup}, http.StatusOK, nil)
	var v controller.LiveCall
	e.must(req{method: "POST", path: base + "/hold", token: tokA}, http.StatusOK, &v)
	waitFor(t, "the held caller hears music, not the agent", func() bool {
		h := caller.Heard(time.Second)
		return audio.HasTone(h, audio.SampleRate, 523.25) && audio.ToneRatio(h, audio.SampleRate, 1400) < 0.05
	})
	e.must(req{method: "POST", path: base + "/retrieve", token: tokA}, http.StatusOK, &v)
	waitFor(t, "the caller hears the agent again", func() bool {
		return audio.HasTone(caller.Heard(time.Second), audio.SampleRate, 1400)
	})
	e.must(req{method: "POST", path: base + "/hangup", token: tokA}, http.StatusOK, nil)
	select {
	case <-caller.Done():
	case <-ctx.Done():
		t.Fatal("the caller was not hung up")
	}
	// After the end, during wrap-up: the disposition goes on the CDR and
	// ends the wrap-up; agent B still may not.
	waitFor(t, "wrap-up", func() bool {
		v, _ := e.cc.AgentState(ctx, controller.Actor{Role: store.RoleAdmin}, a.ID)
		return v.State == "wrap-up"
	})
	wantField(t, e.do(req{method: "POST", path: base + "/disposition", token: tokB, body: map[string]any{"disposition": "sale"}}), http.StatusForbidden, "")
	e.must(req{method: "POST", path: base + "/disposition", token: tokA,
		body: map[string]any{"disposition": "sale", "notes": "two units", "end_wrap_up": true}}, http.StatusNoContent, nil)
	var st controller.AgentStateView
	e.must(req{method: "GET", path: "/api/v1/agents/" + a.ID + "/state", token: tokA}, http.StatusOK, &st)
	if st.State != "ready" {
		t.Errorf("agent after end_wrap_up: %s", st.State)
	}
}
