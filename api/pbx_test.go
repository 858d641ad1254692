package api

import (
	"context"
	"net/http"
	"testing"

	"hotline/controller"
	"hotline/controller/store"
)

// PickUp makes fakeLive a LiveControl with the PBX's pickup.
func (f *fakeLive) PickUp(_ context.Context, by controller.Actor, _, _ string) error {
	return f.ask(by)
}

// Park makes fakeLive a LiveControl with the PBX's park.
func (f *fakeLive) Park(_ context.Context, by controller.Actor, _, slot string) (string, error) {
	if slot == "" {
		slot = "701"
	}
	return slot, f.ask(by)
}

func TestRingGroupsCRUD(t *testing.T) {
	e := newEnv(t)
	agentID, _ := e.seed()
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "Bo", "extension": "1002"}, http.StatusCreated, nil)
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	var g store.RingGroup
	e.admin("POST", "/api/v1/ring-groups", map[string]any{"name": "support", "number": "600",
		"strategy": "sequential", "members": []string{"1001", "1002"}, "ring_timeout": 15}, http.StatusCreated, &g)
	if g.ID == "" || g.Strategy != store.RingSequential || len(g.Members) != 2 || g.Version != 1 {
		t.Fatalf("created %+v", g)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "x", "number": "6a", "members": []string{"1001"}}, "number"},
		{map[string]any{"name": "x", "number": "601", "strategy": "random", "members": []string{"1001"}}, "strategy"},
		{map[string]any{"name": "x", "number": "601", "members": []string{}}, "members"},
		{map[string]any{"name": "x", "number": "601", "members": []string{"1009"}}, "members[0]"},
		{map[string]any{"name": "x", "number": "601", "members": []string{"1001", "1001"}}, "members[1]"},
		{map[string]any{"name": "x", "number": "601", "members": []string{"1001"}, "ring_timeout": 999}, "ring_timeout"},
		{map[string]any{"name": "x", "number": "601", "members": []string{"1001"},
			"no_answer": map[string]any{"kind": "fax"}}, "no_answer.kind"},
		{map[string]any{"name": "x", "number": "601", "members": []string{"1001"}, "colour": "red"}, "colour"},
	} {
		wantField(t, e.do(req{method: "POST", path: "/api/v1/ring-groups", token: adminSecret, body: tc.body}),
			http.StatusBadRequest, tc.field)
	}
	// The number is unique, and no extension's.
	wantField(t, e.do(req{method: "POST", path: "/api/v1/ring-groups", token: adminSecret,
		body: map[string]any{"name": "y", "number": "600", "members": []string{"1001"}}}), http.StatusConflict, "number")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/ring-groups", token: adminSecret,
		body: map[string]any{"name": "y", "number": "1002", "members": []string{"1001"}}}), http.StatusConflict, "number")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/ring-groups", token: agentTok,
		body: map[string]any{"name": "y", "number": "601", "members": []string{"1001"}}}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/ring-groups", token: agentTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/ring-groups/0123456789abcdef01234567", token: adminSecret}),
		http.StatusNotFound, "")
	// A number routed to the group; an unknown group is refused.
	e.admin("POST", "/api/v1/numbers", map[string]any{"number": "4008001000",
		"route": map[string]any{"kind": "ring-group", "value": g.ID}}, http.StatusCreated, nil)
	wantField(t, e.do(req{method: "POST", path: "/api/v1/numbers", token: adminSecret, body: map[string]any{
		"number": "4008001001", "route": map[string]any{"kind": "ring-group", "value": "0123456789abcdef01234567"}}}),
		http.StatusBadRequest, "route.value")
	g.Strategy = store.RingSimultaneous
	e.must(req{method: "PUT", path: "/api/v1/ring-groups/" + g.ID, token: adminSecret, body: g}, http.StatusOK, &g)
	if g.Version != 2 || g.Strategy != store.RingSimultaneous {
		t.Fatalf("updated %+v", g)
	}
	e.must(req{method: "DELETE", path: "/api/v1/ring-groups/" + g.ID + "?version=2", token: adminSecret}, http.StatusNoContent, nil)
}

func TestPBXSettingsRoutes(t *testing.T) {
	e := newEnv(t)
	agentID, _ := e.seed()
	var other store.Agent
	e.admin("POST", "/api/v1/agents", map[string]any{"name": "Bo", "extension": "1002", "mobile_number": "+8613900000001"},
		http.StatusCreated, &other)
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	_, supTok := e.userToken("sam", store.RoleSupervisor, "")
	var v pbxSettingsView
	e.must(req{method: "PUT", path: "/api/v1/agents/" + agentID + "/pbx", token: agentTok, body: map[string]any{
		"dnd": true, "forward_busy": "1002", "no_answer_timeout": 15, "follow_me": "sequential"}}, http.StatusOK, &v)
	if !v.DND || v.ForwardBusy != "1002" || v.FollowMe != store.FollowMeSequential {
		t.Fatalf("settings %+v", v)
	}
	var a store.Agent
	e.admin("GET", "/api/v1/agents/"+agentID, nil, http.StatusOK, &a)
	if a.PBX == nil || !a.PBX.DND || a.Version != 2 {
		t.Fatalf("agent %+v", a)
	}
	e.must(req{method: "GET", path: "/api/v1/agents/" + agentID + "/pbx", token: agentTok}, http.StatusOK, &v)
	wantField(t, e.do(req{method: "GET", path: "/api/v1/agents/" + other.ID + "/pbx", token: agentTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "PUT", path: "/api/v1/agents/" + other.ID + "/pbx", token: agentTok,
		body: map[string]any{"dnd": true}}), http.StatusForbidden, "")
	e.must(req{method: "PUT", path: "/api/v1/agents/" + other.ID + "/pbx", token: supTok,
		body: map[string]any{"follow_me": "simultaneous", "announce_work_number": true, "work_number": "8001"}}, http.StatusOK, &v)
	if v.MobileNumber != "+8613900000001" || !v.AnnounceWorkNumber {
		t.Fatalf("settings %+v", v)
	}
	wantField(t, e.do(req{method: "GET", path: "/api/v1/agents/0123456789abcdef01234567/pbx", token: adminSecret}),
		http.StatusNotFound, "")
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"forward_always": "abc"}, "forward_always"},
		{map[string]any{"forward_busy": "1001"}, "forward_busy"},
		{map[string]any{"no_answer_timeout": -1}, "no_answer_timeout"},
		{map[string]any{"follow_me": "sometimes"}, "follow_me"},
		{map[string]any{"work_number": "A1"}, "work_number"},
		{map[string]any{"dnd": "yes"}, "dnd"},
	} {
		wantField(t, e.do(req{method: "PUT", path: "/api/v1/agents/" + agentID + "/pbx", token: adminSecret, body: tc.body}),
			http.StatusBadRequest, tc.field)
	}
	// The agent record's own PUT validates them too.
	a.PBX = &store.PBXSettings{FollowMe: "never"}
	wantField(t, e.do(req{method: "PUT", path: "/api/v1/agents/" + agentID, token: adminSecret, body: a}),
		http.StatusBadRequest, "pbx.follow_me")
}

func TestPickupRoute(t *testing.T) {
	live := &fakeLive{}
	e := newEnvOpt(t, func(o *Options) { o.Live = live })
	agentID, _ := e.seed()
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	_, supTok := e.userToken("sam", store.RoleSupervisor, "")
	_, repTok := e.userToken("rita", store.RoleReporter, "")
	e.must(req{method: "POST", path: "/api/v1/calls/c1/pickup", token: agentTok}, http.StatusNoContent, nil)
	if live.by[0].AgentID != agentID {
		t.Fatalf("actor %+v", live.by)
	}
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls/c1/pickup", token: supTok}), http.StatusBadRequest, "agent_id")
	e.must(req{method: "POST", path: "/api/v1/calls/c1/pickup", token: supTok, body: map[string]any{"agent_id": agentID}},
		http.StatusNoContent, nil)
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls/c1/pickup", token: repTok}), http.StatusForbidden, "")
	for _, tc := range []struct {
		err  error
		code int
	}{
		{controller.ErrNothingToPickUp, http.StatusNotFound},
		{controller.ErrNoSuchCall, http.StatusNotFound},
		{controller.ErrForbidden, http.StatusForbidden},
	} {
		live.err = tc.err
		if r := e.do(req{method: "POST", path: "/api/v1/calls/c1/pickup", token: agentTok}); r.Code != tc.code {
			t.Errorf("%v: %d, want %d: %s", tc.err, r.Code, tc.code, r.Body)
		}
	}
}

func TestParkRoute(t *testing.T) {
	live := &fakeLive{}
	e := newEnvOpt(t, func(o *Options) { o.Live = live })
	agentID, _ := e.seed()
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	_, repTok := e.userToken("rita", store.RoleReporter, "")
	var r parkResult
	e.must(req{method: "POST", path: "/api/v1/calls/c1/park", token: agentTok}, http.StatusOK, &r)
	if r.Slot != "701" {
		t.Fatalf("parked on %q", r.Slot)
	}
	e.must(req{method: "POST", path: "/api/v1/calls/c1/park", token: agentTok, body: map[string]any{"slot": "705"}}, http.StatusOK, &r)
	if r.Slot != "705" {
		t.Fatalf("parked on %q", r.Slot)
	}
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls/c1/park", token: repTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/calls/c1/park", token: agentTok, body: map[string]any{"slot": 5}}),
		http.StatusBadRequest, "slot")
	for _, tc := range []struct {
		err   error
		code  int
		field string
	}{
		{controller.ErrInvalidSlot, http.StatusBadRequest, "slot"},
		{controller.ErrSlotTaken, http.StatusConflict, "slot"},
		{controller.ErrNotTalking, http.StatusConflict, ""},
		{controller.ErrNoSuchCall, http.StatusNotFound, ""},
		{controller.ErrForbidden, http.StatusForbidden, ""},
	} {
		live.err = tc.err
		wantField(t, e.do(req{method: "POST", path: "/api/v1/calls/c1/park", token: agentTok}), tc.code, tc.field)
	}
}
