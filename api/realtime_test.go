package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"hotline/controller"
	"hotline/controller/reports"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	hclock "hotline/internal/clock"
)

var _ RealtimeSource = (*controller.Realtime)(nil)

// realtimeEnv is a server whose /api/v1/stats/realtime is the real
// controller.Realtime over its controller, today's figures from an
// aggregator fed a hand-built log, and /metrics on the same registry.
type realtimeEnv struct {
	*env
	rt  *controller.Realtime
	agg *reports.Aggregator
}

func newRealtimeEnv(t *testing.T) *realtimeEnv {
	t.Helper()
	clock := hclock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	mem := memstore.New(clock.Now)
	ctl := newController(t, mem, func(o *controller.Options) { o.Clock = clock })
	agg, err := reports.NewAggregator(reports.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	rt, err := controller.NewRealtime(controller.RealtimeOptions{Controller: ctl, Reports: agg, Clock: clock,
		Location: time.UTC, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	srv, err := New(Options{Controller: ctl, Now: clock.Now, BcryptCost: bcrypt.MinCost, Registry: reg, Realtime: rt})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := EnsureBootstrapToken(context.Background(), ctl, adminSecret, clock.Now()); err != nil {
		t.Fatalf("EnsureBootstrapToken: %v", err)
	}
	return &realtimeEnv{env: &env{t: t, srv: srv, h: srv.Handler(), st: mem, ctl: ctl, mem: mem, clock: clock}, rt: rt, agg: agg}
}

// Admins, supervisors and reporters read the figures; agents and QA
// get 403, nobody 401.
func TestRealtimeRouteRoles(t *testing.T) {
	e := newRealtimeEnv(t)
	agentID, _ := e.seed()
	for _, tc := range []struct {
		role store.Role
		want int
	}{{store.RoleSupervisor, 200}, {store.RoleReporter, 200}, {store.RoleQA, 403}, {store.RoleAgent, 403}} {
		link := ""
		if tc.role == store.RoleAgent {
			link = agentID
		}
		_, tok := e.userToken("u-"+string(tc.role), tc.role, link)
		e.must(req{method: "GET", path: "/api/v1/stats/realtime", token: tok}, tc.want, nil)
	}
	e.admin("GET", "/api/v1/stats/realtime", nil, http.StatusOK, nil)
	e.must(req{method: "GET", path: "/api/v1/stats/realtime"}, http.StatusUnauthorized, nil)
}

func TestRealtimeRouteValidation(t *testing.T) {
	e := newRealtimeEnv(t)
	for _, tc := range []struct{ query, field string }{
		{"window=soon", "window"},
		{"window=0", "window"},
		{"window=-5m", "window"},
		{"window=5h", "window"},
		{"window=99999999999999999999", "window"},
		{"tz=Mars/Olympus", "tz"},
		{"tz=../../etc/passwd", "tz"},
		{"tz=Local", "tz"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/api/v1/stats/realtime?" + tc.query, token: adminSecret})
			if r.Code != http.StatusBadRequest || r.err(t).Field != tc.field {
				t.Errorf("status %d body %s, want 400 naming %s", r.Code, r.Body, tc.field)
			}
		})
	}
	var st controller.RealtimeStats
	e.admin("GET", "/api/v1/stats/realtime?window=90&tz=Asia/Shanghai", nil, http.StatusOK, &st)
	if st.WindowSeconds != 90 || st.TimeZone != "Asia/Shanghai" {
		t.Errorf("window %v tz %s", st.WindowSeconds, st.TimeZone)
	}
}

// Today's figures come from the aggregator for the asked zone's day; the
// JSON carries the documented shape.
func TestRealtimeRouteFigures(t *testing.T) {
	e := newRealtimeEnv(t)
	agentID, queueID := e.seed()
	at := func(h, m, s int) time.Time { return time.Date(2026, 3, 2, h, m, s, 0, time.UTC) }
	for i, ev := range []store.QueueEvent{
		{At: at(0, 30, 0), Kind: "queued", CallID: "c0", Queue: queueID}, // 2026-03-02 08:30 in Shanghai, 03-01 19:30 in New York
		{At: at(0, 30, 40), Kind: "abandoned", CallID: "c0", Queue: queueID},
		{At: at(8, 0, 0), Kind: "queued", CallID: "c1", Queue: queueID},
		{At: at(8, 0, 10), Kind: "offer-accepted", CallID: "c1", Queue: queueID, AgentID: agentID},
	} {
		ev.Seq = int64(i + 1)
		e.agg.AddEvent(ev)
	}
	var st map[string]any
	e.admin("GET", "/api/v1/stats/realtime?tz=America/New_York", nil, http.StatusOK, &st)
	q := st["queues"].([]any)[0].(map[string]any)
	today := q["today"].(map[string]any)
	if q["queue_id"] != queueID || q["name"] != "support" || today["offered"] != 1.0 || today["answered"] != 1.0 ||
		today["abandoned"] != 0.0 || today["service_level"] != 1.0 || q["waiting"] != 0.0 {
		t.Errorf("New York's today: %v", q)
	}
	agents := q["agents"].(map[string]any)
	if len(agents) != 6 || agents["logged-out"] != 1.0 {
		t.Errorf("agents by state = %v", agents)
	}
	ag := st["agents"].([]any)[0].(map[string]any)
	if ag["agent_id"] != agentID || ag["calls_today"] != 1.0 || ag["state"] != "logged-out" {
		t.Errorf("agent = %v", ag)
	}
	e.admin("GET", "/api/v1/stats/realtime?tz=Asia/Shanghai", nil, http.StatusOK, &st)
	today = st["queues"].([]any)[0].(map[string]any)["today"].(map[string]any)
	if today["offered"] != 2.0 || today["abandoned"] != 1.0 || today["service_level"] != 0.5 {
		t.Errorf("Shanghai's today: %v", today)
	}
}

// After a push the per-queue gauges are on /metrics.
func TestRealtimeGaugesOnMetrics(t *testing.T) {
	e := newRealtimeEnv(t)
	_, queueID := e.seed()
	e.agg.AddEvent(store.QueueEvent{Seq: 1, At: e.clock.Now(), Kind: "queued", CallID: "c1", Queue: queueID})
	e.rt.Start()
	e.clock.Advance(time.Second)
	r := e.do(req{method: "GET", path: "/metrics"})
	if r.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", r.Code)
	}
	body := string(r.Body)
	for _, line := range []string{
		`hotline_queue_offered_today{queue="` + queueID + `"} 1`,
		`hotline_queue_waiting_calls{queue="` + queueID + `"} 0`,
		`hotline_queue_agents{queue="` + queueID + `",state="logged-out"} 1`,
		`hotline_queue_service_level_today{queue="` + queueID + `"} 0`,
	} {
		if !slices.Contains(strings.Split(body, "\n"), line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

// The route is in the OpenAPI document with its roles and parameters.
func TestRealtimeInOpenAPI(t *testing.T) {
	e := newRealtimeEnv(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Roles      []string `json:"x-roles"`
			Parameters []struct {
				Name string `json:"name"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	r := e.do(req{method: "GET", path: "/api/v1/openapi.json"})
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	op, ok := doc.Paths["/api/v1/stats/realtime"]["get"]
	if !ok {
		t.Fatal("GET /api/v1/stats/realtime is not in the OpenAPI document")
	}
	if strings.Join(op.Roles, ",") != "admin,supervisor,reporter" {
		t.Errorf("x-roles = %v", op.Roles)
	}
	var names []string
	for _, p := range op.Parameters {
		names = append(names, p.Name)
	}
	if !slices.Contains(names, "window") || !slices.Contains(names, "tz") {
		t.Errorf("parameters = %v", names)
	}
}
