package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"hotline/controller"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	hclock "hotline/internal/clock"
)

// newEnvOpt is newEnv with extra server options.
func newEnvOpt(t testing.TB, set func(*Options)) *env {
	t.Helper()
	clock := hclock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	mem := memstore.New(clock.Now)
	ctl := newController(t, mem)
	o := Options{Controller: ctl, Now: clock.Now, BcryptCost: bcrypt.MinCost, Version: "test"}
	set(&o)
	srv, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := EnsureBootstrapToken(context.Background(), ctl, adminSecret, clock.Now()); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, h: srv.Handler(), st: mem, ctl: ctl, mem: mem, clock: clock}
}

func wantField(t *testing.T, r resp, code int, field string) {
	t.Helper()
	if r.Code != code {
		t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
	}
	if field != "" {
		if got := r.err(t).Field; got != field {
			t.Fatalf("error field %q, want %q: %s", got, field, r.Body)
		}
	}
}

func TestContacts(t *testing.T) {
	e := newEnv(t)
	agentID, _ := e.seed()
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	_, supTok := e.userToken("sam", store.RoleSupervisor, "")
	_, repTok := e.userToken("rita", store.RoleReporter, "")

	var c store.Contact
	body := map[string]any{"name": "Li Lei", "numbers": []string{"+8613800001111"}, "company": "ACME",
		"fields": map[string]string{"tier": "gold"}}
	r := e.must(req{method: "POST", path: "/api/v1/contacts", token: supTok, body: body}, http.StatusCreated, &c)
	if c.Fields["tier"] != "gold" || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("created %+v", c)
	}
	e.must(req{method: "GET", path: "/api/v1/contacts/" + c.ID, token: agentTok}, http.StatusOK, nil)
	e.must(req{method: "GET", path: "/api/v1/contacts", token: agentTok}, http.StatusOK, nil)
	wantField(t, e.do(req{method: "GET", path: "/api/v1/contacts", token: repTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/contacts", token: agentTok, body: body}), http.StatusForbidden, "")

	bad := []struct {
		name  string
		body  any
		field string
	}{
		{"bad number", map[string]any{"name": "x", "numbers": []string{"12a"}}, "numbers[0]"},
		{"no number", map[string]any{"name": "x", "numbers": []string{}}, "numbers"},
		{"twice", map[string]any{"name": "x", "numbers": []string{"+1", "+1"}}, "numbers[1]"},
		{"no name", map[string]any{"numbers": []string{"+2"}}, "name"},
		{"field not a string", map[string]any{"name": "x", "numbers": []string{"+3"}, "fields": map[string]any{"n": 1}}, "fields.n"},
		{"fields not an object", map[string]any{"name": "x", "numbers": []string{"+3"}, "fields": []int{1}}, "fields"},
		{"unknown field", map[string]any{"name": "x", "numbers": []string{"+3"}, "phone": "1"}, "phone"},
		{"number taken", map[string]any{"name": "x", "numbers": []string{"+8613800001111"}}, "numbers"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/api/v1/contacts", token: adminSecret, body: tc.body})
			want := http.StatusBadRequest
			if tc.name == "number taken" {
				want = http.StatusConflict
			}
			wantField(t, r, want, tc.field)
		})
	}
	// Versioned replace: If-Match required, stale refused.
	body["notes"] = "called twice"
	wantField(t, e.do(req{method: "PUT", path: "/api/v1/contacts/" + c.ID, token: adminSecret, body: body}), http.StatusPreconditionRequired, "version")
	e.must(req{method: "PUT", path: "/api/v1/contacts/" + c.ID, token: adminSecret, body: body, header: map[string]string{"If-Match": `"1"`}}, http.StatusOK, nil)
	wantField(t, e.do(req{method: "PUT", path: "/api/v1/contacts/" + c.ID, token: adminSecret, body: body, header: map[string]string{"If-Match": `"1"`}}), http.StatusPreconditionFailed, "")
	// The write went through the controller: in the change feed.
	ch, err := e.st.Changes(t.Context(), 0, store.MaxLimit)
	if err != nil || ch[len(ch)-1].Kind != store.KindContact {
		t.Fatalf("changes %v %v", ch, err)
	}
}

const apiFlow = `{"language":"en","start":"m","nodes":{
  "m":{"type":"menu","prompt":[{"text":"press 1"}],"choices":{"1":"bye"},"timeout_ms":5000,"retries":1,"on_failure":"bye"},
  "bye":{"type":"hangup"}}}`

func TestIVRFlows(t *testing.T) {
	e := newEnv(t)
	_, supTok := e.userToken("sam", store.RoleSupervisor, "")
	agentID, _ := e.seed()
	_, agentTok := e.userToken("al", store.RoleAgent, agentID)
	raw := `{"name":"main","flow":` + apiFlow + `}`
	var f map[string]any
	r := e.must(req{method: "POST", path: "/api/v1/ivr-flows", token: adminSecret, body: raw}, http.StatusCreated, &f)
	id := f["id"].(string)
	if r.Header.Get("ETag") != `"1"` {
		t.Fatalf("etag %q", r.Header.Get("ETag"))
	}
	got := e.must(req{method: "GET", path: "/api/v1/ivr-flows/" + id, token: supTok}, http.StatusOK, nil)
	var back struct {
		Flow json.RawMessage `json:"flow"`
	}
	if err := json.Unmarshal(got.Body, &back); err != nil || !jsonEqual(back.Flow, []byte(apiFlow)) {
		t.Fatalf("flow read back %s", back.Flow)
	}
	wantField(t, e.do(req{method: "POST", path: "/api/v1/ivr-flows", token: supTok, body: raw}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/ivr-flows", token: agentTok}), http.StatusForbidden, "")

	bad := []struct {
		name, flow, field string
	}{
		{"dangling choice", strings.Replace(apiFlow, `"1":"bye"`, `"1":"nowhere"`, 1), "flow.nodes.m.choices.1"},
		{"unknown node type", strings.Replace(apiFlow, `"hangup"`, `"dance"`, 1), "flow.nodes.bye.type"},
		{"unreachable", strings.Replace(apiFlow, `"bye":{"type":"hangup"}`, `"bye":{"type":"hangup"},"lost":{"type":"hangup"}`, 1), "flow.nodes.lost"},
		{"not an object", `[1]`, "flow"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(req{method: "POST", path: "/api/v1/ivr-flows", token: adminSecret, body: `{"name":"x","flow":` + tc.flow + `}`})
			if r.Code != http.StatusBadRequest || !strings.HasPrefix(r.err(t).Field, tc.field) {
				t.Fatalf("status %d field %q, want 400 %q: %s", r.Code, r.err(t).Field, tc.field, r.Body)
			}
		})
	}
	wantField(t, e.do(req{method: "POST", path: "/api/v1/ivr-flows", token: adminSecret, body: `{"name":"x"}`}), http.StatusBadRequest, "flow")
	wantField(t, e.do(req{method: "POST", path: "/api/v1/ivr-flows", token: adminSecret, body: raw}), http.StatusConflict, "name")
	// A new version through PUT, then the FlowSource sees version 2.
	e.must(req{method: "PUT", path: "/api/v1/ivr-flows/" + id, token: adminSecret, header: map[string]string{"If-Match": `"1"`},
		body: strings.Replace(raw, `"en"`, `"zh"`, 1)}, http.StatusOK, nil)
	fl, v, err := controller.NewStoreFlows(e.ctl.IVRFlows()).Flow(t.Context(), id)
	if err != nil || v != 2 || fl.Language != "zh" {
		t.Fatalf("flow source: %+v v%d %v", fl, v, err)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func seedCDRs(t *testing.T, st store.Store, n int) []store.CDR {
	t.Helper()
	var out []store.CDR
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i := range n {
		s := start.Add(time.Duration(i) * time.Minute)
		c := store.CDR{ID: fmt.Sprintf("call-%02d", i), Direction: "inbound", Caller: fmt.Sprintf("+8613%d", i%2), Called: "800",
			Start: s, End: s.Add(time.Minute), Queue: "q1", Outcome: store.OutcomeAnswered, AgentID: fmt.Sprintf("a%d", i%3),
			IVRPath: []store.IVRStep{{Flow: "f", Node: "menu", At: s}}, Transfers: []store.CDRTransfer{}, Legs: []store.CDRLeg{},
			HangupCause: "normal", HangupSide: store.SideCaller, Disposition: "=cmd()"}
		if i%4 == 0 {
			c.Outcome = store.OutcomeAbandoned
		}
		out = append(out, c)
	}
	if err := st.CDRs().Put(t.Context(), out...); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCDRs(t *testing.T) {
	e := newEnv(t)
	seedCDRs(t, e.st, 12)
	agentID, _ := e.seed()
	_, agentTok := e.userToken("al", store.RoleAgent, agentID)
	_, repTok := e.userToken("rita", store.RoleReporter, "")
	var p page[store.CDR]
	e.must(req{method: "GET", path: "/api/v1/cdrs?limit=5", token: repTok}, http.StatusOK, &p)
	if len(p.Items) != 5 || p.Items[0].ID != "call-11" || p.Next == "" {
		t.Fatalf("page 1: %d items, first %v, next %q", len(p.Items), p.Items[0].ID, p.Next)
	}
	var p2 page[store.CDR]
	e.must(req{method: "GET", path: "/api/v1/cdrs?limit=5&after=" + p.Next, token: repTok}, http.StatusOK, &p2)
	if p2.Items[0].ID != "call-06" {
		t.Fatalf("page 2 starts at %s", p2.Items[0].ID)
	}
	filters := map[string]int{
		"caller=%2B86131":   6,
		"outcome=abandoned": 3,
		"agent_id=a1":       4,
		"since=2026-03-01T09:10:00Z&until=2026-03-01T09:11:00Z": 1,
		"called=801&queue=q1": 0,
	}
	for q, n := range filters {
		var p page[store.CDR]
		e.must(req{method: "GET", path: "/api/v1/cdrs?" + q, token: adminSecret}, http.StatusOK, &p)
		if len(p.Items) != n {
			t.Errorf("%s: %d items, want %d", q, len(p.Items), n)
		}
	}
	for q, field := range map[string]string{"outcome=won": "outcome", "since=yesterday": "since", "caller=abc": "caller",
		"limit=0": "limit", "after=zzz": "after", "format=xml": "format", "agent_id=a%20b": "agent_id"} {
		wantField(t, e.do(req{method: "GET", path: "/api/v1/cdrs?" + q, token: adminSecret}), http.StatusBadRequest, field)
	}
	wantField(t, e.do(req{method: "GET", path: "/api/v1/cdrs", token: agentTok}), http.StatusForbidden, "")
	var one store.CDR
	e.must(req{method: "GET", path: "/api/v1/cdrs/call-03", token: adminSecret}, http.StatusOK, &one)
	if one.ID != "call-03" || one.IVRPath[0].Node != "menu" {
		t.Fatalf("cdr %+v", one)
	}
	wantField(t, e.do(req{method: "GET", path: "/api/v1/cdrs/nope", token: adminSecret}), http.StatusNotFound, "")

	// CSV: a header row, then every match (more than one store page is
	// not needed to check the shape; paging is the store's).
	r := e.must(req{method: "GET", path: "/api/v1/cdrs?format=csv&outcome=answered", token: repTok}, http.StatusOK, nil)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %q", ct)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 10 || rows[0][0] != "id" || rows[0][12] != "outcome" || rows[1][0] != "call-11" || rows[1][12] != "answered" {
		t.Fatalf("csv rows %d: %v", len(rows), rows[:2])
	}
	if rows[1][2] != "+86131" || rows[1][22] != "'=cmd()" || rows[1][24] != "menu" {
		t.Fatalf("csv cells %v", rows[1])
	}

	// More than one store page: every match, once, newest first.
	e2 := newEnv(t)
	seedCDRs(t, e2.st, 2*store.MaxLimit+7)
	r = e2.must(req{method: "GET", path: "/api/v1/cdrs?format=csv", token: adminSecret}, http.StatusOK, nil)
	rows, err = csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*store.MaxLimit+8 || rows[len(rows)-1][0] != "call-00" {
		t.Fatalf("csv export of %d CDRs: %d rows, last %v", 2*store.MaxLimit+7, len(rows), rows[len(rows)-1])
	}
}

func TestQueueEvents(t *testing.T) {
	e := newEnv(t)
	var evs []store.QueueEvent
	for i := 1; i <= 7; i++ {
		evs = append(evs, store.QueueEvent{Seq: int64(i), At: time.Date(2026, 3, 1, 9, i, 0, 0, time.UTC), Kind: "offer",
			Queue: fmt.Sprintf("q%d", i%2), AgentID: "a1", CallID: "c1"})
	}
	if err := e.st.QueueEvents().Put(t.Context(), evs...); err != nil {
		t.Fatal(err)
	}
	var p queueEventsPage
	e.must(req{method: "GET", path: "/api/v1/queue-events?limit=3", token: adminSecret}, http.StatusOK, &p)
	if len(p.Items) != 3 || p.NextAfterSeq != 3 {
		t.Fatalf("page %+v", p)
	}
	e.must(req{method: "GET", path: "/api/v1/queue-events?limit=3&after_seq=6", token: adminSecret}, http.StatusOK, &p)
	if len(p.Items) != 1 || p.Items[0].Seq != 7 || p.NextAfterSeq != 0 {
		t.Fatalf("last page %+v", p)
	}
	e.must(req{method: "GET", path: "/api/v1/queue-events?queue=q1", token: adminSecret}, http.StatusOK, &p)
	if len(p.Items) != 4 {
		t.Fatalf("q1: %d", len(p.Items))
	}
	wantField(t, e.do(req{method: "GET", path: "/api/v1/queue-events?after_seq=-1", token: adminSecret}), http.StatusBadRequest, "after_seq")
}
