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

// fakeLive's conference methods: they record who asked and what.
func (f *fakeLive) ConferenceMembers(_ context.Context, by controller.Actor, _ string) ([]controller.ConferenceMember, error) {
	return []controller.ConferenceMember{{ID: "ch-1", State: "joined"}}, f.ask(by)
}
func (f *fakeLive) MuteConferenceMember(_ context.Context, by controller.Actor, _, member string, mute bool) (controller.ConferenceMember, error) {
	return controller.ConferenceMember{ID: member, Muted: mute}, f.ask(by)
}
func (f *fakeLive) KickConferenceMember(_ context.Context, by controller.Actor, _, _ string) error {
	return f.ask(by)
}
func (f *fakeLive) DialConference(_ context.Context, by controller.Actor, _ string, r controller.ConferenceDialRequest) (controller.ConferenceMember, error) {
	return controller.ConferenceMember{ID: "o1", Endpoint: r.Endpoint, State: "ringing", Muted: r.Muted}, f.ask(by)
}

// Rooms are configuration: validated field by field (400 naming the
// field), written by admins only, read by supervisors; agents get 403 on
// every conference route; a number routes to a room that exists.
func TestConferenceRooms(t *testing.T) {
	live := &fakeLive{}
	e := newEnvOpt(t, func(o *Options) { o.Live = live })
	agentID, queueID := e.seed()
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	_, supTok := e.userToken("sam", store.RoleSupervisor, "")

	var room store.Conference
	e.must(req{method: "POST", path: "/api/v1/conferences", token: adminSecret,
		body: map[string]any{"name": "Daily", "number": "8800", "pin": "1234", "moderator_pin": "9999", "record": true}},
		http.StatusCreated, &room)
	if room.ID == "" || room.MaxParties != 10 || !room.Record || room.PIN != "1234" {
		t.Fatalf("room %+v", room)
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"number": "8801"}, "name"},
		{map[string]any{"name": "x", "number": "88a"}, "number"},
		{map[string]any{"name": "x", "number": "8801", "pin": "12"}, "pin"},
		{map[string]any{"name": "x", "number": "8801", "pin": "12ab"}, "pin"},
		{map[string]any{"name": "x", "number": "8801", "moderator_pin": "1234567890123"}, "moderator_pin"},
		{map[string]any{"name": "x", "number": "8801", "pin": "1234", "moderator_pin": "1234"}, "moderator_pin"},
		{map[string]any{"name": "x", "number": "8801", "max_parties": 51}, "max_parties"},
		{map[string]any{"name": "x", "number": "8801", "max_parties": 1}, "max_parties"},
		{map[string]any{"name": "x", "number": "8801", "colour": "red"}, "colour"},
	} {
		wantField(t, e.do(req{method: "POST", path: "/api/v1/conferences", token: adminSecret, body: tc.body}),
			http.StatusBadRequest, tc.field)
	}
	// The number is unique among rooms.
	wantField(t, e.do(req{method: "POST", path: "/api/v1/conferences", token: adminSecret,
		body: map[string]any{"name": "Other", "number": "8800"}}), http.StatusConflict, "number")
	// At the edge: 50 parties.
	e.must(req{method: "POST", path: "/api/v1/conferences", token: adminSecret,
		body: map[string]any{"name": "Big", "number": "8801", "max_parties": 50}}, http.StatusCreated, nil)

	// A number routes into the room; an unknown room is refused.
	e.must(req{method: "POST", path: "/api/v1/numbers", token: adminSecret,
		body: map[string]any{"number": "4008800", "route": map[string]any{"kind": "conference", "value": room.ID}}},
		http.StatusCreated, nil)
	wantField(t, e.do(req{method: "POST", path: "/api/v1/numbers", token: adminSecret,
		body: map[string]any{"number": "4008801", "route": map[string]any{"kind": "conference", "value": "0123456789abcdef01234567"}}}),
		http.StatusBadRequest, "route.value")

	base := "/api/v1/conferences/" + room.ID
	wantField(t, e.do(req{method: "PUT", path: "/api/v1/queues/" + queueID, token: adminSecret, header: map[string]string{"If-Match": `"1"`},
		body: map[string]any{"name": "support", "overflow": map[string]any{"kind": "conference", "value": room.ID}}}),
		http.StatusBadRequest, "overflow.kind")
	// The number refers to the room: it cannot be deleted.
	wantField(t, e.do(req{method: "DELETE", path: base + "?version=1", token: adminSecret}), http.StatusConflict, "")
	e.must(req{method: "GET", path: base, token: supTok}, http.StatusOK, nil)
	wantField(t, e.do(req{method: "PUT", path: base, token: supTok, header: map[string]string{"If-Match": `"1"`},
		body: map[string]any{"name": "Daily", "number": "8800"}}), http.StatusForbidden, "")
	for _, r := range []req{
		{method: "GET", path: "/api/v1/conferences"},
		{method: "GET", path: base},
		{method: "POST", path: "/api/v1/conferences", body: map[string]any{"name": "Mine", "number": "8802"}},
		{method: "DELETE", path: base + "?version=1"},
		{method: "GET", path: base + "/members"},
		{method: "POST", path: base + "/members", body: map[string]any{"endpoint": "user/1002"}},
		{method: "POST", path: base + "/members/ch-1/mute"},
		{method: "POST", path: base + "/members/ch-1/unmute"},
		{method: "DELETE", path: base + "/members/ch-1"},
	} {
		r.token = agentTok
		if got := e.do(r); got.Code != http.StatusForbidden {
			t.Errorf("%s %s as an agent: %d, want 403", r.method, r.path, got.Code)
		}
	}
	if len(live.by) != 0 {
		t.Fatalf("an agent's request reached the live control: %+v", live.by)
	}

	// Live control as a supervisor.
	var members conferenceMemberList
	e.must(req{method: "GET", path: base + "/members", token: supTok}, http.StatusOK, &members)
	if len(members.Items) != 1 || live.by[0].Role != store.RoleSupervisor {
		t.Fatalf("members %+v by %+v", members, live.by)
	}
	var m controller.ConferenceMember
	e.must(req{method: "POST", path: base + "/members", token: supTok,
		body: map[string]any{"endpoint": "tel/+8613900000000", "muted": true}}, http.StatusCreated, &m)
	if m.Endpoint != "tel/+8613900000000" || !m.Muted {
		t.Fatalf("dialled %+v", m)
	}
	e.must(req{method: "POST", path: base + "/members/ch-1/mute", token: supTok}, http.StatusOK, &m)
	if !m.Muted || m.ID != "ch-1" {
		t.Fatalf("muted %+v", m)
	}
	e.must(req{method: "DELETE", path: base + "/members/ch-1", token: supTok}, http.StatusNoContent, nil)
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, "endpoint"},
		{map[string]any{"endpoint": "pstn/1"}, "endpoint"},
		{map[string]any{"endpoint": "user/1"}, "endpoint"},
		{map[string]any{"endpoint": "sip:a@b,c"}, "endpoint"},
		{map[string]any{"endpoint": "user/1002", "caller_id": "abc"}, "caller_id"},
		{map[string]any{"endpoint": "user/1002", "volume": 3}, "volume"},
	} {
		wantField(t, e.do(req{method: "POST", path: base + "/members", token: supTok, body: tc.body}),
			http.StatusBadRequest, tc.field)
	}
	wantField(t, e.do(req{method: "POST", path: base + "/members/a%20b/mute", token: supTok}), http.StatusNotFound, "")

	// The call path's errors.
	for _, tc := range []struct {
		err  error
		code int
		r    req
	}{
		{fmt.Errorf("%w: %q", controller.ErrNoSuchConference, "x"), http.StatusNotFound, req{method: "GET", path: base + "/members"}},
		{fmt.Errorf("%w: %q", controller.ErrNoSuchMember, "x"), http.StatusNotFound, req{method: "POST", path: base + "/members/x/mute"}},
		{fmt.Errorf("%w: 10 members", controller.ErrConferenceFull), http.StatusConflict,
			req{method: "POST", path: base + "/members", body: map[string]any{"endpoint": "user/1002"}}},
		{controller.ErrForbidden, http.StatusForbidden, req{method: "DELETE", path: base + "/members/x"}},
	} {
		live.err = tc.err
		tc.r.token = adminSecret
		if got := e.do(tc.r); got.Code != tc.code {
			t.Errorf("%v: status %d, want %d: %s", tc.err, got.Code, tc.code, got.Body)
		}
	}
	live.err = nil

	// The routes are in the OpenAPI document with their roles.
	comps := openAPIComponents(t, e)
	if _, ok := comps["ConferenceInput"]; !ok {
		t.Error("no ConferenceInput schema")
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Roles []string `json:"x-roles"`
		} `json:"paths"`
	}
	e.must(req{method: "GET", path: "/api/v1/openapi.json"}, http.StatusOK, &doc)
	for path, methods := range map[string][]string{
		"/api/v1/conferences":                              {"get", "post"},
		"/api/v1/conferences/{id}":                         {"get", "put", "delete"},
		"/api/v1/conferences/{id}/members":                 {"get", "post"},
		"/api/v1/conferences/{id}/members/{member}":        {"delete"},
		"/api/v1/conferences/{id}/members/{member}/mute":   {"post"},
		"/api/v1/conferences/{id}/members/{member}/unmute": {"post"},
	} {
		for _, m := range methods {
			op, ok := doc.Paths[path][m]
			if !ok || len(op.Roles) == 0 || slices.Contains(op.Roles, "agent") {
				t.Errorf("OpenAPI %s %s: %+v (present %v)", m, path, op, ok)
			}
		}
	}
}
