package api

import (
	"fmt"
	"net/http"
	"testing"

	"hotline/controller/store"
)

type ids struct{ agent, queue, schedule string }

// resourceCase describes one resource for the generic CRUD tests.
type resourceCase struct {
	name string
	// create returns a valid body; n makes unique keys distinct.
	create func(ids ids, n int) map[string]any
	// change is a field and value to set on PUT.
	changeField string
	changeValue any
	keyField    string // named on 409
}

func resourceCases() []resourceCase {
	return []resourceCase{
		{name: "users", create: func(_ ids, n int) map[string]any {
			return map[string]any{"username": fmt.Sprintf("sup%d", n), "role": "supervisor", "password": "password-1"}
		}, changeField: "display_name", changeValue: "Sue", keyField: "username"},
		{name: "agents", create: func(_ ids, n int) map[string]any {
			return map[string]any{"name": "Bob", "extension": fmt.Sprintf("20%02d", n), "sip_password": "sip-secret-2",
				"skills": []map[string]any{{"skill": "english", "level": 3}}}
		}, changeField: "team", changeValue: "blue", keyField: "extension"},
		{name: "skills", create: func(_ ids, n int) map[string]any {
			return map[string]any{"name": fmt.Sprintf("skill-%d", n), "description": "d"}
		}, changeField: "description", changeValue: "new", keyField: "name"},
		{name: "queues", create: func(i ids, n int) map[string]any {
			return map[string]any{"name": fmt.Sprintf("sales-%d", n), "strategy": "ring-all",
				"members":         []map[string]any{{"agent_id": i.agent, "penalty": 1}},
				"required_skills": []map[string]any{{"skill": "english", "level": 2}},
				"overflow":        map[string]any{"kind": "queue", "value": i.queue},
				"recording":       map[string]any{"mode": "sample", "sample_percent": 10}}
		}, changeField: "ring_timeout", changeValue: 30, keyField: "name"},
		{name: "numbers", create: func(i ids, n int) map[string]any {
			return map[string]any{"number": fmt.Sprintf("+86100%d", n), "route": map[string]any{"kind": "queue", "value": i.queue},
				"schedule_id": i.schedule, "after_hours": map[string]any{"kind": "voicemail", "value": "1001"}}
		}, changeField: "name", changeValue: "main line", keyField: "number"},
		{name: "trunks", create: func(_ ids, n int) map[string]any {
			return map[string]any{"name": fmt.Sprintf("carrier-%d", n), "host": "sip.example.net", "username": "u", "password": "p",
				"register": true, "inbound_addresses": []string{"203.0.113.0/24", "198.51.100.7"}}
		}, changeField: "priority", changeValue: 1, keyField: "name"},
		{name: "schedules", create: func(_ ids, n int) map[string]any {
			return map[string]any{"name": fmt.Sprintf("office-%d", n), "time_zone": "Asia/Shanghai",
				"weekly":         []map[string]any{{"weekday": 1, "start": "09:00", "end": "18:00"}},
				"holidays":       []map[string]any{{"date": "2026-10-01", "name": "National Day"}},
				"extra_workdays": []string{"2026-09-27"}}
		}, changeField: "time_zone", changeValue: "Europe/Paris", keyField: "name"},
		{name: "lists", create: func(i ids, n int) map[string]any {
			return map[string]any{"list": "whitelist", "pattern": fmt.Sprintf("+8613%d", n), "match": "prefix",
				"target": map[string]any{"kind": "queue", "value": i.queue}}
		}, changeField: "note", changeValue: "vip", keyField: "pattern"},
	}
}

func TestCRUD(t *testing.T) {
	for _, rc := range resourceCases() {
		t.Run(rc.name, func(t *testing.T) {
			e := newEnv(t)
			agent, queue := e.seed()
			var sched store.Schedule
			e.admin("POST", "/api/v1/schedules", map[string]any{"name": "seed", "time_zone": "UTC"}, http.StatusCreated, &sched)
			i := ids{agent: agent, queue: queue, schedule: sched.ID}
			base := "/api/v1/" + rc.name

			var created map[string]any
			r := e.admin("POST", base, rc.create(i, 1), http.StatusCreated, &created)
			id, _ := created["id"].(string)
			if id == "" || r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != base+"/"+id {
				t.Fatalf("create: id %q ETag %q Location %q", id, r.Header.Get("ETag"), r.Header.Get("Location"))
			}
			for _, secret := range []string{"password", "sip_password", "sip_ha1_md5", "SIPHA1MD5", "password_hash"} {
				if _, ok := created[secret]; ok {
					t.Errorf("answer contains write-only %q", secret)
				}
			}

			var got map[string]any
			r = e.admin("GET", base+"/"+id, nil, http.StatusOK, &got)
			if r.Header.Get("ETag") != `"1"` || got["id"] != id {
				t.Fatalf("get: %v ETag %q", got, r.Header.Get("ETag"))
			}

			var list struct {
				Items []map[string]any `json:"items"`
				Next  string           `json:"next"`
			}
			e.admin("GET", base, nil, http.StatusOK, &list)
			found := false
			for _, it := range list.Items {
				found = found || it["id"] == id
			}
			if !found {
				t.Fatalf("list lacks %s: %v", id, list.Items)
			}

			// A GET answer plus a change is a valid PUT body.
			got[rc.changeField] = rc.changeValue
			delete(got, "version")
			e.must(req{method: "PUT", path: base + "/" + id, token: adminSecret, body: got}, http.StatusPreconditionRequired, nil)
			r = e.must(req{method: "PUT", path: base + "/" + id, token: adminSecret, body: got, header: map[string]string{"If-Match": `"1"`}}, http.StatusOK, nil)
			if r.Header.Get("ETag") != `"2"` {
				t.Fatalf("PUT ETag %q, want \"2\"", r.Header.Get("ETag"))
			}
			var after map[string]any
			e.admin("GET", base+"/"+id, nil, http.StatusOK, &after)
			if fmt.Sprint(after[rc.changeField]) != fmt.Sprint(rc.changeValue) {
				t.Fatalf("after PUT %s = %v, want %v", rc.changeField, after[rc.changeField], rc.changeValue)
			}
			// The same stale write again: the other admin's change wins.
			r = e.must(req{method: "PUT", path: base + "/" + id, token: adminSecret, body: got, header: map[string]string{"If-Match": `"1"`}}, http.StatusPreconditionFailed, nil)
			if c := r.err(t).Code; c != codeVersionMismatch {
				t.Fatalf("stale PUT code %q", c)
			}
			// version in the body works like If-Match.
			got["version"] = 2
			e.must(req{method: "PUT", path: base + "/" + id, token: adminSecret, body: got}, http.StatusOK, nil)

			// Unique key taken.
			dup := rc.create(i, 1)
			r = e.must(req{method: "POST", path: base, token: adminSecret, body: dup}, http.StatusConflict, nil)
			if ae := r.err(t); ae.Code != codeConflict || ae.Field != rc.keyField {
				t.Fatalf("duplicate: %+v, want conflict on %s", ae, rc.keyField)
			}

			e.must(req{method: "GET", path: base + "/nosuchid", token: adminSecret}, http.StatusNotFound, nil)
			e.must(req{method: "PUT", path: base + "/nosuchid", token: adminSecret, body: got}, http.StatusNotFound, nil)
			e.must(req{method: "DELETE", path: base + "/" + id, token: adminSecret}, http.StatusPreconditionRequired, nil)
			e.must(req{method: "DELETE", path: base + "/" + id + "?version=1", token: adminSecret}, http.StatusPreconditionFailed, nil)
			e.must(req{method: "DELETE", path: base + "/" + id, token: adminSecret, header: map[string]string{"If-Match": `"3"`}}, http.StatusNoContent, nil)
			e.must(req{method: "GET", path: base + "/" + id, token: adminSecret}, http.StatusNotFound, nil)
			e.must(req{method: "DELETE", path: base + "/" + id + "?version=3", token: adminSecret}, http.StatusNotFound, nil)
		})
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	for n := range 5 {
		e.admin("POST", "/api/v1/skills", map[string]any{"name": fmt.Sprintf("s%d", n)}, http.StatusCreated, nil)
	}
	var names []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		var p page[store.Skill]
		e.admin("GET", "/api/v1/skills?limit=2&after="+after, nil, http.StatusOK, &p)
		if len(p.Items) > 2 {
			t.Fatalf("page of %d items with limit 2", len(p.Items))
		}
		for _, s := range p.Items {
			names = append(names, s.Name)
		}
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	if fmt.Sprint(names) != "[s0 s1 s2 s3 s4]" {
		t.Fatalf("paged names %v", names)
	}
	for _, bad := range []string{"0", "-1", "x", "501"} {
		r := e.must(req{method: "GET", path: "/api/v1/skills?limit=" + bad, token: adminSecret}, http.StatusBadRequest, nil)
		if f := r.err(t).Field; f != "limit" {
			t.Errorf("limit=%s: field %q", bad, f)
		}
	}
}
