package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/controller/reports"
)

// fakeHotline serves the REST routes the simulator uses: agents, queues
// and numbers (list, create, replace with a version) and the queue and
// agent reports from an aggregator.
type fakeHotline struct {
	t    *testing.T
	mu   sync.Mutex // guards recs and writes
	recs map[string][]map[string]any
	// writes counts POST and PUT by collection.
	writes map[string]int
	agg    *reports.Aggregator
	// agentIDs maps the aggregator's agent ids to the ones created here.
	rename map[string]string
}

func (f *fakeHotline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer tok" {
		http.Error(w, `{"error":{}}`, http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v1/"), "/")
	if parts[0] == "reports" {
		f.report(w, r, parts[1])
		return
	}
	coll := parts[0]
	switch {
	case r.Method == http.MethodGet && len(parts) == 1:
		_ = json.NewEncoder(w).Encode(map[string]any{"items": f.recs[coll], "next": ""})
	case r.Method == http.MethodPost && len(parts) == 1:
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		body["id"] = fmt.Sprintf("%s-%d", coll, len(f.recs[coll])+1)
		body["version"] = float64(1)
		f.recs[coll] = append(f.recs[coll], body)
		f.writes[coll]++
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(body)
	case r.Method == http.MethodPut && len(parts) == 2:
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		for i, rec := range f.recs[coll] {
			if rec["id"] == parts[1] {
				if body["version"] != rec["version"] {
					http.Error(w, `{"error":{"code":"version_mismatch"}}`, http.StatusPreconditionFailed)
					return
				}
				body["id"], body["version"] = rec["id"], rec["version"].(float64)+1
				f.recs[coll][i] = body
				f.writes[coll]++
				_ = json.NewEncoder(w).Encode(body)
				return
			}
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeHotline) report(w http.ResponseWriter, r *http.Request, kind string) {
	q := reports.Query{Interval: reports.IntervalTotal}
	q.From, _ = time.Parse(time.RFC3339, r.URL.Query().Get("from"))
	q.To, _ = time.Parse(time.RFC3339, r.URL.Query().Get("to"))
	var rep reports.Report
	var err error
	switch kind {
	case "queues":
		rep, err = f.agg.QueueReport(r.Context(), q)
	case "agents":
		rep, err = f.agg.AgentReport(r.Context(), q)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for i := range rep.Rows {
		if id, ok := f.rename[rep.Rows[i].Key]; ok {
			rep.Rows[i].Key = id
		}
	}
	_ = json.NewEncoder(w).Encode(rep)
}

func newFakeHotline(t *testing.T) (*fakeHotline, *client) {
	f := &fakeHotline{t: t, recs: map[string][]map[string]any{}, writes: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, &client{base: srv.URL, token: "tok", http: srv.Client()}
}

func TestEnsureCreatesThenReuses(t *testing.T) {
	f, c := newFakeHotline(t)
	cfg := LiveConfig{Agents: 3}
	cfg.defaults()
	ctx := context.Background()
	for round := 1; round <= 2; round++ {
		agents, err := ensureAgents(ctx, c, cfg)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		closeAll(agents)
		qid, err := ensureQueue(ctx, c, cfg, agents)
		if err != nil {
			t.Fatal(err)
		}
		if err := ensureNumber(ctx, c, cfg, qid); err != nil {
			t.Fatal(err)
		}
		if len(f.recs["agents"]) != 3 || len(f.recs["queues"]) != 1 || len(f.recs["numbers"]) != 1 {
			t.Fatalf("round %d: records %v", round, f.recs)
		}
		if w := f.writes["agents"]; w != 3*round {
			t.Errorf("round %d: %d agent writes", round, w)
		}
		if agents[0].ext != "7001" || agents[2].ext != "7003" || agents[0].password == "" || agents[0].id != "agents-1" {
			t.Errorf("agents %+v", agents[0])
		}
	}
	q := f.recs["queues"][0]
	if q["name"] != "sim" || len(q["members"].([]any)) != 3 {
		t.Errorf("queue %v", q)
	}
	n := f.recs["numbers"][0]
	if route := n["route"].(map[string]any); route["kind"] != "queue" || route["value"] != q["id"] || n["number"] != "+15550199" {
		t.Errorf("number %v", n)
	}
}

// TestReconcileLiveOverHTTP reads Hotline's figures over HTTP (JSON round
// trip, queue id to name) and reconciles a simulated run.
func TestReconcileLiveOverHTTP(t *testing.T) {
	f, c := newFakeHotline(t)
	run := simulate(t, 44)
	agg, err := reports.Build(reports.DefaultConfig(), nil, run.Events)
	if err != nil {
		t.Fatal(err)
	}
	f.agg, f.rename = agg, map[string]string{"q1": "queue-id-1"}
	cfg := LiveConfig{Settle: time.Millisecond}
	cfg.defaults()
	var agentIDs []string
	for i := range 18 {
		agentIDs = append(agentIDs, fmt.Sprintf("sim-agent-%d", i+1))
	}
	res := LiveResult{Truth: run.Truth, QueueID: "queue-id-1", AgentIDs: agentIDs, From: simStart, To: simStart.Add(2 * time.Hour)}
	diffs, err := reconcileLive(context.Background(), c, cfg, res)
	if err != nil || len(diffs) != 0 {
		t.Fatalf("diffs %v err %v", diffs, err)
	}
	// Hotline missing a call shows.
	res.Truth.Calls = append(res.Truth.Calls, CallTruth{N: 99999, Arrival: simStart.Add(time.Minute), Enqueued: simStart.Add(time.Minute),
		Answered: simStart.Add(time.Minute + time.Second), Agent: "sim-agent-1"})
	diffs, err = reconcileLive(context.Background(), c, cfg, res)
	if err != nil || len(diffs) == 0 {
		t.Fatalf("an extra true call was not reported: %v %v", diffs, err)
	}
}

// A run with more than 500 agents asks for their report in several
// requests: the API refuses more than 500 keys in one (found by the
// 120 calls/s step of issue 11's load runs, 600 agents).
func TestFetchReportSplitsKeys(t *testing.T) {
	var mu sync.Mutex
	var requests []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var keys []string
		if k := r.URL.Query().Get("keys"); k != "" {
			keys = strings.Split(k, ",")
		}
		mu.Lock()
		requests = append(requests, len(keys))
		mu.Unlock()
		if len(keys) > maxReportKeys {
			http.Error(w, `{"error":{"code":"invalid_value","message":"at most 500 keys","field":"keys"}}`, http.StatusBadRequest)
			return
		}
		rep := reports.Report{Kind: "agents"}
		for _, k := range keys {
			rep.Rows = append(rep.Rows, reports.Row{Key: k})
		}
		_ = json.NewEncoder(w).Encode(rep)
	}))
	defer srv.Close()
	c := &client{base: srv.URL, token: "tok", http: srv.Client()}
	from := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		keys     int
		requests []int
	}{
		{"no keys: one request for every row", 0, []int{0}},
		{"one", 1, []int{1}},
		{"exactly the limit", 500, []int{500}},
		{"one more than the limit", 501, []int{500, 1}},
		{"1,201 agents", 1201, []int{500, 500, 201}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requests = nil
			keys := make([]string, tc.keys)
			for i := range keys {
				keys[i] = fmt.Sprintf("agent-%d", i)
			}
			rep, err := fetchReport(context.Background(), c, "agents", from, from.Add(time.Hour), keys)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Rows) != tc.keys || rep.Kind != "agents" {
				t.Errorf("%d rows of kind %q, want %d", len(rep.Rows), rep.Kind, tc.keys)
			}
			for i, r := range rep.Rows {
				if r.Key != keys[i] {
					t.Fatalf("row %d is %s, want %s", i, r.Key, keys[i])
				}
			}
			if fmt.Sprint(requests) != fmt.Sprint(tc.requests) {
				t.Errorf("requests of %v keys, want %v", requests, tc.requests)
			}
		})
	}
}
