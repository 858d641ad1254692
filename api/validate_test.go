package api

import (
	"net/http"
	"strings"
	"testing"

	"hotline/controller/store"
	"hotline/internal/sipdigest"
)

func TestInvalidBodies(t *testing.T) {
	e := newEnv(t)
	agent, queue := e.seed()
	tests := []struct {
		name, path string
		body       any
		status     int
		code       string
		field      string
	}{
		{"malformed json", "/api/v1/queues", `{"name":`, 400, codeInvalidJSON, ""},
		{"not an object", "/api/v1/queues", `[1,2]`, 400, codeInvalidJSON, ""},
		{"trailing data", "/api/v1/queues", `{"name":"a"} {}`, 400, codeInvalidJSON, ""},
		{"empty body", "/api/v1/queues", ``, 400, codeInvalidJSON, ""},
		{"unknown field", "/api/v1/queues", `{"name":"a","colour":"red"}`, 400, codeUnknownField, "colour"},
		{"unknown nested field", "/api/v1/queues", `{"name":"a","members":[{"agent_id":"x","tier":1}]}`, 400, codeUnknownField, "members[0].tier"},
		{"case mismatch is unknown", "/api/v1/queues", `{"Name":"a"}`, 400, codeUnknownField, "Name"},
		{"wrong type", "/api/v1/queues", `{"name":"a","ring_timeout":"20"}`, 400, codeInvalidValue, "ring_timeout"},
		{"fraction", "/api/v1/queues", `{"name":"a","wrap_up":1.5}`, 400, codeInvalidValue, "wrap_up"},
		{"huge int", "/api/v1/queues", `{"name":"a","wrap_up":1e400}`, 400, codeInvalidValue, "wrap_up"},
		{"duplicate key", "/api/v1/queues", `{"name":1,"name":"a"}`, 400, codeInvalidJSON, "name"},
		{"duplicate nested key", "/api/v1/queues", `{"name":"a","recording":{"mode":"all","mode":"none"}}`, 400, codeInvalidJSON, "recording.mode"},
		{"too deep", "/api/v1/queues", `{"name":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, 400, codeInvalidJSON, "name" + strings.Repeat("[0]", 32)},
		{"name missing", "/api/v1/queues", map[string]any{}, 400, codeInvalidValue, "name"},
		{"name too long", "/api/v1/queues", map[string]any{"name": strings.Repeat("x", 65)}, 400, codeInvalidValue, "name"},
		{"name control char", "/api/v1/queues", map[string]any{"name": "a\nb"}, 400, codeInvalidValue, "name"},
		{"bad strategy", "/api/v1/queues", map[string]any{"name": "q", "strategy": "loudest"}, 400, codeInvalidValue, "strategy"},
		{"ring timeout low", "/api/v1/queues", map[string]any{"name": "q", "ring_timeout": 4}, 400, codeInvalidValue, "ring_timeout"},
		{"wrap up high", "/api/v1/queues", map[string]any{"name": "q", "wrap_up": 3601}, 400, codeInvalidValue, "wrap_up"},
		{"max wait high", "/api/v1/queues", map[string]any{"name": "q", "max_wait": 86401}, 400, codeInvalidValue, "max_wait"},
		{"missing member agent", "/api/v1/queues", map[string]any{"name": "q", "members": []any{
			map[string]any{"agent_id": agent}, map[string]any{"agent_id": "nosuchagent"}}}, 400, codeInvalidValue, "members[1].agent_id"},
		{"duplicate member", "/api/v1/queues", map[string]any{"name": "q", "members": []any{
			map[string]any{"agent_id": agent}, map[string]any{"agent_id": agent}}}, 400, codeInvalidValue, "members[1].agent_id"},
		{"unknown required skill", "/api/v1/queues", map[string]any{"name": "q", "required_skills": []any{
			map[string]any{"skill": "klingon", "level": 1}}}, 400, codeInvalidValue, "required_skills[0].skill"},
		{"overflow missing queue", "/api/v1/queues", map[string]any{"name": "q", "overflow": map[string]any{"kind": "queue", "value": "nosuch"}}, 400, codeInvalidValue, "overflow.value"},
		{"overflow bad kind", "/api/v1/queues", map[string]any{"name": "q", "overflow": map[string]any{"kind": "moon"}}, 400, codeInvalidValue, "overflow.kind"},
		{"overflow bad external", "/api/v1/queues", map[string]any{"name": "q", "overflow": map[string]any{"kind": "external", "value": "12a"}}, 400, codeInvalidValue, "overflow.value"},
		{"sample without percent", "/api/v1/queues", map[string]any{"name": "q", "recording": map[string]any{"mode": "sample"}}, 400, codeInvalidValue, "recording.sample_percent"},
		{"agent skill level", "/api/v1/agents", map[string]any{"name": "A", "extension": "1101", "skills": []any{
			map[string]any{"skill": "english", "level": 5}, map[string]any{"skill": "english", "level": 11}}}, 400, codeInvalidValue, "skills[1].skill"},
		{"agent skill level range", "/api/v1/agents", map[string]any{"name": "A", "extension": "1101", "skills": []any{
			map[string]any{"skill": "english", "level": 0}}}, 400, codeInvalidValue, "skills[0].level"},
		{"agent extension letters", "/api/v1/agents", map[string]any{"name": "A", "extension": "10a1"}, 400, codeInvalidValue, "extension"},
		{"agent extension long", "/api/v1/agents", map[string]any{"name": "A", "extension": "123456789"}, 400, codeInvalidValue, "extension"},
		{"agent short sip password", "/api/v1/agents", map[string]any{"name": "A", "extension": "1101", "sip_password": "x"}, 400, codeInvalidValue, "sip_password"},
		{"agent mobile", "/api/v1/agents", map[string]any{"name": "A", "extension": "1101", "mobile_number": "+86 138"}, 400, codeInvalidValue, "mobile_number"},
		{"agent HA1 not settable", "/api/v1/agents", `{"name":"A","extension":"1101","SIPHA1MD5":"x"}`, 400, codeUnknownField, "SIPHA1MD5"},
		{"user bad role", "/api/v1/users", map[string]any{"username": "u", "role": "god"}, 400, codeInvalidValue, "role"},
		{"user agent without agent id", "/api/v1/users", map[string]any{"username": "u", "role": "agent"}, 400, codeInvalidValue, "agent_id"},
		{"user missing agent", "/api/v1/users", map[string]any{"username": "u", "role": "agent", "agent_id": "nosuch"}, 400, codeInvalidValue, "agent_id"},
		{"user short password", "/api/v1/users", map[string]any{"username": "u", "role": "admin", "password": "short"}, 400, codeInvalidValue, "password"},
		{"user password hash not settable", "/api/v1/users", `{"username":"u","role":"admin","password_hash":"x"}`, 400, codeUnknownField, "password_hash"},
		{"username spaces", "/api/v1/users", map[string]any{"username": "a b", "role": "admin"}, 400, codeInvalidValue, "username"},
		{"number letters", "/api/v1/numbers", map[string]any{"number": "80O", "route": map[string]any{"kind": "hangup"}}, 400, codeInvalidValue, "number"},
		{"number missing route", "/api/v1/numbers", map[string]any{"number": "800"}, 400, codeInvalidValue, "route.kind"},
		{"number missing queue", "/api/v1/numbers", map[string]any{"number": "800", "route": map[string]any{"kind": "queue", "value": "nosuch"}}, 400, codeInvalidValue, "route.value"},
		{"number missing schedule", "/api/v1/numbers", map[string]any{"number": "800", "route": map[string]any{"kind": "queue", "value": queue}, "schedule_id": "nosuch"}, 400, codeInvalidValue, "schedule_id"},
		{"number after hours without schedule", "/api/v1/numbers", map[string]any{"number": "800", "route": map[string]any{"kind": "hangup"}, "after_hours": map[string]any{"kind": "hangup"}}, 400, codeInvalidValue, "after_hours"},
		{"voicemail box name", "/api/v1/numbers", map[string]any{"number": "800", "route": map[string]any{"kind": "voicemail", "value": "sales box"}}, 400, codeInvalidValue, "route.value"},
		{"number extension target", "/api/v1/numbers", map[string]any{"number": "800", "route": map[string]any{"kind": "extension", "value": "1"}}, 400, codeInvalidValue, "route.value"},
		{"trunk host with space", "/api/v1/trunks", map[string]any{"name": "t", "host": "sip example.net"}, 400, codeInvalidValue, "host"},
		{"trunk host crlf", "/api/v1/trunks", map[string]any{"name": "t", "host": "a.net\r\nVia: x"}, 400, codeInvalidValue, "host"},
		{"trunk port", "/api/v1/trunks", map[string]any{"name": "t", "host": "10.0.0.1", "port": 70000}, 400, codeInvalidValue, "port"},
		{"trunk transport", "/api/v1/trunks", map[string]any{"name": "t", "host": "10.0.0.1", "transport": "sctp"}, 400, codeInvalidValue, "transport"},
		{"trunk register without credentials", "/api/v1/trunks", map[string]any{"name": "t", "host": "10.0.0.1", "register": true}, 400, codeInvalidValue, "register"},
		{"trunk inbound address", "/api/v1/trunks", map[string]any{"name": "t", "host": "10.0.0.1", "inbound_addresses": []string{"10.0.0.0/33"}}, 400, codeInvalidValue, "inbound_addresses[0]"},
		{"schedule zone", "/api/v1/schedules", map[string]any{"name": "s", "time_zone": "Mars/Olympus"}, 400, codeInvalidValue, "time_zone"},
		{"schedule zone traversal", "/api/v1/schedules", map[string]any{"name": "s", "time_zone": "../../etc/passwd"}, 400, codeInvalidValue, "time_zone"},
		{"schedule end before start", "/api/v1/schedules", map[string]any{"name": "s", "weekly": []any{map[string]any{"weekday": 1, "start": "18:00", "end": "09:00"}}}, 400, codeInvalidValue, "weekly[0].end"},
		{"schedule bad clock", "/api/v1/schedules", map[string]any{"name": "s", "weekly": []any{map[string]any{"weekday": 1, "start": "9:00", "end": "18:00"}}}, 400, codeInvalidValue, "weekly[0].start"},
		{"schedule weekday", "/api/v1/schedules", map[string]any{"name": "s", "weekly": []any{map[string]any{"weekday": 7, "start": "09:00", "end": "18:00"}}}, 400, codeInvalidValue, "weekly[0].weekday"},
		{"schedule holiday date", "/api/v1/schedules", map[string]any{"name": "s", "holidays": []any{map[string]any{"date": "2026-02-30"}}}, 400, codeInvalidValue, "holidays[0].date"},
		{"schedule extra workday", "/api/v1/schedules", map[string]any{"name": "s", "extra_workdays": []string{"tomorrow"}}, 400, codeInvalidValue, "extra_workdays[0]"},
		{"list kind", "/api/v1/lists", map[string]any{"list": "greylist", "pattern": "1"}, 400, codeInvalidValue, "list"},
		{"list pattern", "/api/v1/lists", map[string]any{"list": "dnc", "pattern": "1*"}, 400, codeInvalidValue, "pattern"},
		{"list target on blacklist", "/api/v1/lists", map[string]any{"list": "blacklist", "pattern": "1", "target": map[string]any{"kind": "hangup"}}, 400, codeInvalidValue, "target"},
		{"list expires not a time", "/api/v1/lists", map[string]any{"list": "dnc", "pattern": "1", "expires_at": "soon"}, 400, codeInvalidValue, "expires_at"},
		{"body too large", "/api/v1/skills", `{"name":"` + strings.Repeat("x", maxBody) + `"}`, 413, codeTooLarge, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.must(req{method: "POST", path: tc.path, token: adminSecret, body: tc.body}, tc.status, nil)
			ae := r.err(t)
			if ae.Code != tc.code || ae.Field != tc.field || ae.Message == "" {
				t.Fatalf("error %+v, want code %q field %q", ae, tc.code, tc.field)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	e := newEnv(t)
	var q store.Queue
	e.admin("POST", "/api/v1/queues", map[string]any{"name": "q", "wrap_up": 0}, http.StatusCreated, &q)
	if q.Strategy != store.StrategyLongestIdle || q.RingTimeout != 20 || q.WrapUp != 0 || q.Recording.Mode != store.RecordNone {
		t.Fatalf("defaults not applied (or explicit 0 overridden): %+v", q)
	}
	var tr store.Trunk
	e.admin("POST", "/api/v1/trunks", map[string]any{"name": "t", "host": "::1"}, http.StatusCreated, &tr)
	if tr.Port != 5060 || tr.Transport != store.TransportUDP || !tr.Enabled {
		t.Fatalf("trunk defaults: %+v", tr)
	}
}

func TestSecretsWriteOnly(t *testing.T) {
	e := newEnv(t)
	e.admin("POST", "/api/v1/skills", map[string]any{"name": "english"}, http.StatusCreated, nil)
	var a store.Agent
	r := e.admin("POST", "/api/v1/agents", map[string]any{"name": "A", "extension": "1001", "sip_password": "sip-secret-1"}, http.StatusCreated, &a)
	if strings.Contains(string(r.Body), "sip-secret-1") {
		t.Fatal("answer echoes the SIP password")
	}
	stored, err := e.st.Agents().Get(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := sipdigest.HA1(sipdigest.MD5, "1001", "hotline", "sip-secret-1"); stored.SIPHA1MD5 != want {
		t.Fatalf("HA1 MD5 %q, want %q", stored.SIPHA1MD5, want)
	}
	if want := sipdigest.HA1(sipdigest.SHA256, "1001", "hotline", "sip-secret-1"); stored.SIPHA1SHA256 != want {
		t.Fatalf("HA1 SHA-256 %q, want %q", stored.SIPHA1SHA256, want)
	}
	// PUT without sip_password keeps the digests ...
	e.admin("PUT", "/api/v1/agents/"+a.ID, map[string]any{"name": "B", "extension": "1001", "version": 1}, http.StatusOK, nil)
	kept, _ := e.st.Agents().Get(t.Context(), a.ID)
	if kept.SIPHA1MD5 != stored.SIPHA1MD5 || kept.SIPHA1SHA256 != stored.SIPHA1SHA256 {
		t.Fatal("PUT without sip_password lost the digests")
	}
	// ... unless the extension (the digest username) changes.
	r = e.must(req{method: "PUT", path: "/api/v1/agents/" + a.ID, token: adminSecret, body: map[string]any{"name": "B", "extension": "1002", "version": 2}}, http.StatusBadRequest, nil)
	if f := r.err(t).Field; f != "sip_password" {
		t.Fatalf("extension change without password: field %q", f)
	}

	var tr store.Trunk
	r = e.admin("POST", "/api/v1/trunks", map[string]any{"name": "t", "host": "a.example", "username": "u", "password": "carrier-pw", "register": true}, http.StatusCreated, &tr)
	if strings.Contains(string(r.Body), "carrier-pw") {
		t.Fatal("answer echoes the trunk password")
	}
	e.admin("PUT", "/api/v1/trunks/"+tr.ID, map[string]any{"name": "t", "host": "b.example", "username": "u", "register": true, "version": 1}, http.StatusOK, nil)
	if got, _ := e.st.Trunks().Get(t.Context(), tr.ID); got.Password != "carrier-pw" {
		t.Fatalf("trunk password after PUT without it: %q", got.Password)
	}
}
