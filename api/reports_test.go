package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/crypto/bcrypt"

	"hotline/controller/reports"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	hclock "hotline/internal/clock"
)

// The aggregator is a report source as it is.
var _ ReportSource = (*reports.Aggregator)(nil)

// fakeReports answers canned reports and records the queries it got.
type fakeReports struct {
	mu    sync.Mutex
	calls []string
	last  reports.Query
	by    reports.RankBy
	err   error
}

func (f *fakeReports) note(what string, q reports.Query) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, what)
	f.last = q
}

func one(v float64) *float64 { return &v }

func (f *fakeReports) report(kind string, q reports.Query) (reports.Report, error) {
	f.note(kind, q)
	if f.err != nil {
		return reports.Report{}, f.err
	}
	fig := reports.Figures{Offered: 10, Answered: 8, Abandoned: 2, ServiceLevel: one(0.7), ASA: one(12.5)}
	if kind == "agents" {
		fig.Agent = &reports.AgentTime{Login: 3600, NotReadyBy: map[string]float64{"lunch": 600}, NotReady: 600}
	}
	return reports.Report{Kind: kind, From: q.From, To: q.To, TimeZone: q.Location.String(), Interval: q.Interval,
		Rows: []reports.Row{{Key: "k1", Start: q.From, End: q.To, Figures: fig}}}, nil
}

func (f *fakeReports) QueueReport(_ context.Context, q reports.Query) (reports.Report, error) {
	return f.report("queues", q)
}
func (f *fakeReports) AgentReport(_ context.Context, q reports.Query) (reports.Report, error) {
	return f.report("agents", q)
}
func (f *fakeReports) NumberReport(_ context.Context, q reports.Query) (reports.Report, error) {
	return f.report("numbers", q)
}
func (f *fakeReports) TrunkReport(_ context.Context, q reports.Query) (reports.Report, error) {
	return f.report("trunks", q)
}
func (f *fakeReports) AbandonedCalls(_ context.Context, q reports.Query) ([]reports.AbandonedCall, error) {
	f.note("abandoned", q)
	return []reports.AbandonedCall{{CallID: "c1", Queue: "q1", EnteredAt: q.From, AbandonedAt: q.From.Add(30 * time.Second), WaitSeconds: 30}}, f.err
}
func (f *fakeReports) AgentRanking(_ context.Context, q reports.Query, by reports.RankBy) ([]reports.RankedAgent, error) {
	f.note("ranking", q)
	f.mu.Lock()
	f.by = by
	f.mu.Unlock()
	return []reports.RankedAgent{{Rank: 1, AgentID: "a1", Value: one(5)}}, f.err
}
func (f *fakeReports) WeekOnWeek(_ context.Context, kind string, q reports.Query) (reports.Comparison, error) {
	f.note("wow-"+kind, q)
	return reports.Comparison{Kind: kind, From: q.From, To: q.To, Rows: []reports.ComparedRow{}}, f.err
}

func newReportEnv(t *testing.T, src ReportSource) *env {
	t.Helper()
	clock := hclock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	mem := memstore.New(clock.Now)
	ctl := newController(t, mem)
	srv, err := New(Options{Controller: ctl, Now: clock.Now, BcryptCost: bcrypt.MinCost, Reports: src})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := EnsureBootstrapToken(context.Background(), ctl, adminSecret, clock.Now()); err != nil {
		t.Fatalf("EnsureBootstrapToken: %v", err)
	}
	return &env{t: t, srv: srv, h: srv.Handler(), st: mem, ctl: ctl, mem: mem, clock: clock}
}

const okRange = "from=2026-03-01&to=2026-03-02"

func TestReportRoutesRoles(t *testing.T) {
	e := newReportEnv(t, &fakeReports{})
	tokens := map[store.Role]string{store.RoleAdmin: adminSecret}
	agentID, _ := e.seed()
	for _, r := range []store.Role{store.RoleSupervisor, store.RoleReporter, store.RoleQA, store.RoleAgent} {
		link := ""
		if r == store.RoleAgent {
			link = agentID
		}
		_, tokens[r] = e.userToken("u-"+string(r), r, link)
	}
	paths := []string{"queues", "agents", "numbers", "trunks", "abandoned", "agent-ranking", "week-on-week"}
	for role, tok := range tokens {
		want := http.StatusOK
		if role == store.RoleQA || role == store.RoleAgent {
			want = http.StatusForbidden
		}
		for _, p := range paths {
			e.must(req{method: "GET", path: "/api/v1/reports/" + p + "?" + okRange, token: tok}, want, nil)
		}
	}
	e.must(req{method: "GET", path: "/api/v1/reports/queues?" + okRange}, http.StatusUnauthorized, nil)
}

func TestReportQueryValidation(t *testing.T) {
	src := &fakeReports{}
	e := newReportEnv(t, src)
	tests := []struct{ query, field string }{
		{"to=2026-03-02", "from"},
		{"from=2026-03-01", "to"},
		{"from=yesterday&to=2026-03-02", "from"},
		{"from=2026-03-01&to=2026-13-02", "to"},
		{"from=2026-03-02&to=2026-03-01", "to"},
		{"from=2026-03-01T10:00:00Z&to=2026-03-01T10:05:00Z", "to"},
		{"from=2025-01-01&to=2026-03-01", "to"},
		{okRange + "&tz=Mars/Olympus", "tz"},
		{okRange + "&tz=../../etc/passwd", "tz"},
		{okRange + "&interval=5m", "interval"},
		{okRange + "&format=pdf", "format"},
		{okRange + "&keys=a,,b", "keys"},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			r := e.do(req{method: "GET", path: "/api/v1/reports/queues?" + tc.query, token: adminSecret})
			if r.Code != http.StatusBadRequest || r.err(t).Field != tc.field {
				t.Errorf("status %d body %s, want 400 naming %s", r.Code, r.Body, tc.field)
			}
		})
	}
	r := e.do(req{method: "GET", path: "/api/v1/reports/agent-ranking?" + okRange + "&by=speed", token: adminSecret})
	if r.Code != http.StatusBadRequest || r.err(t).Field != "by" {
		t.Errorf("ranking by=speed: %d %s", r.Code, r.Body)
	}
	r = e.do(req{method: "GET", path: "/api/v1/reports/week-on-week?" + okRange + "&kind=calls", token: adminSecret})
	if r.Code != http.StatusBadRequest || r.err(t).Field != "kind" {
		t.Errorf("week-on-week kind=calls: %d %s", r.Code, r.Body)
	}
	if len(src.calls) != 0 {
		t.Errorf("the source was asked %v for invalid queries", src.calls)
	}
	// A source's own refusal is a 400 too.
	src.err = fmt.Errorf("%w: interval", reports.ErrInvalidQuery)
	if r := e.do(req{method: "GET", path: "/api/v1/reports/trunks?" + okRange, token: adminSecret}); r.Code != http.StatusBadRequest {
		t.Errorf("source ErrInvalidQuery: %d %s", r.Code, r.Body)
	}
	src.err = store.ErrUnavailable
	if r := e.do(req{method: "GET", path: "/api/v1/reports/trunks?" + okRange, token: adminSecret}); r.Code != http.StatusServiceUnavailable {
		t.Errorf("source unavailable: %d %s", r.Code, r.Body)
	}
}

func TestReportQueryPassedOn(t *testing.T) {
	src := &fakeReports{}
	e := newReportEnv(t, src)
	var rep reports.Report
	e.admin("GET", "/api/v1/reports/agents?from=2026-03-08&to=2026-03-09&tz=America/New_York&interval=60m&keys=a1,a2", nil, http.StatusOK, &rep)
	ny, _ := time.LoadLocation("America/New_York")
	q := src.last
	if !q.From.Equal(time.Date(2026, 3, 8, 0, 0, 0, 0, ny)) || !q.To.Equal(time.Date(2026, 3, 9, 0, 0, 0, 0, ny)) ||
		q.Location.String() != "America/New_York" || q.Interval != reports.Interval60m || strings.Join(q.Keys, ",") != "a1,a2" {
		t.Errorf("query %+v", q)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Agent == nil || rep.Rows[0].Agent.NotReadyBy["lunch"] != 600 {
		t.Errorf("report %+v", rep)
	}
	e.admin("GET", "/api/v1/reports/queues?from=2026-03-01T00:00:00Z&to=2026-03-01T12:00:00Z", nil, http.StatusOK, nil)
	if src.last.Interval != reports.IntervalTotal || src.last.Location != time.UTC {
		t.Errorf("defaults %+v", src.last)
	}
	var rk rankingList
	e.admin("GET", "/api/v1/reports/agent-ranking?"+okRange+"&by=aht", nil, http.StatusOK, &rk)
	if src.by != reports.RankAHT || rk.By != reports.RankAHT || len(rk.Items) != 1 {
		t.Errorf("ranking %+v by %s", rk, src.by)
	}
	var cmp reports.Comparison
	e.admin("GET", "/api/v1/reports/week-on-week?"+okRange+"&kind=agents", nil, http.StatusOK, &cmp)
	if cmp.Kind != "agents" {
		t.Errorf("week on week %+v", cmp)
	}
	if r := e.do(req{method: "GET", path: "/api/v1/reports/week-on-week?" + okRange + "&format=csv", token: adminSecret}); r.Code != http.StatusBadRequest {
		t.Errorf("week on week csv: %d", r.Code)
	}
}

func TestReportCSV(t *testing.T) {
	e := newReportEnv(t, &fakeReports{})
	for _, p := range []string{"queues", "agents", "numbers", "trunks", "abandoned", "agent-ranking"} {
		r := e.admin("GET", "/api/v1/reports/"+p+"?"+okRange+"&format=csv", nil, http.StatusOK, nil)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("%s: content type %q", p, ct)
		}
		recs, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Errorf("%s: csv %q %v", p, r.Body, err)
			continue
		}
		if p == "queues" && (recs[0][3] != "offered" || recs[1][3] != "10") {
			t.Errorf("queues csv %v", recs)
		}
		if p == "agents" && !strings.Contains(strings.Join(recs[0], ","), "not_ready:lunch") {
			t.Errorf("agents csv header %v", recs[0])
		}
	}
}

// The workbook holds the CSV's table, numbers as numbers, one sheet named
// for the report.
func TestReportXLSX(t *testing.T) {
	e := newReportEnv(t, &fakeReports{})
	for _, p := range []string{"queues", "abandoned"} {
		r := e.admin("GET", "/api/v1/reports/"+p+"?"+okRange+"&format=xlsx", nil, http.StatusOK, nil)
		if ct := r.Header.Get("Content-Type"); ct != xlsxType {
			t.Errorf("%s: content type %q", p, ct)
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.HasSuffix(cd, `.xlsx"`) {
			t.Errorf("%s: disposition %q", p, cd)
		}
		c := e.admin("GET", "/api/v1/reports/"+p+"?"+okRange+"&format=csv", nil, http.StatusOK, nil)
		want, err := csv.NewReader(strings.NewReader(string(c.Body))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("%s: not a workbook: %v", p, err)
		}
		sheets := f.GetSheetList()
		if len(sheets) != 1 {
			t.Fatalf("%s: sheets %v", p, sheets)
		}
		got, err := f.GetRows(sheets[0])
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: workbook rows %q, CSV rows %q (%v)", p, got, want, err)
		}
		if p == "queues" {
			if typ, _ := f.GetCellType(sheets[0], "D2"); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
				t.Errorf("offered cell type %v, want a number", typ)
			}
			if v, _ := f.GetCellValue(sheets[0], "D2"); v != "10" {
				t.Errorf("offered %q", v)
			}
		}
		_ = f.Close()
	}
	if r := e.do(req{method: "GET", path: "/api/v1/reports/queues?" + okRange + "&format=pdf", token: adminSecret}); r.Code != http.StatusBadRequest || r.err(t).Field != "format" {
		t.Errorf("format=pdf: %d %s", r.Code, r.Body)
	}
}

func TestReportsUnavailableWithoutSource(t *testing.T) {
	e := newEnv(t)
	r := e.do(req{method: "GET", path: "/api/v1/reports/queues?" + okRange, token: adminSecret})
	if r.Code != http.StatusServiceUnavailable || r.err(t).Code != codeUnavailable {
		t.Errorf("no source: %d %s", r.Code, r.Body)
	}
}

func TestReportsInOpenAPI(t *testing.T) {
	e := newReportEnv(t, &fakeReports{})
	var doc struct {
		Paths map[string]map[string]struct {
			Roles      []string `json:"x-roles"`
			Parameters []struct {
				Name string `json:"name"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	r := e.admin("GET", "/api/v1/openapi.json", nil, http.StatusOK, nil)
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"queues", "agents", "numbers", "trunks", "abandoned", "agent-ranking", "week-on-week"} {
		op, ok := doc.Paths["/api/v1/reports/"+p]["get"]
		if !ok {
			t.Errorf("%s not documented", p)
			continue
		}
		if strings.Join(op.Roles, ",") != "admin,supervisor,reporter" {
			t.Errorf("%s roles %v", p, op.Roles)
		}
		var params []string
		for _, x := range op.Parameters {
			params = append(params, x.Name)
		}
		if !strings.Contains(strings.Join(params, ","), "from,to,tz,keys,format") {
			t.Errorf("%s params %v", p, params)
		}
	}
}

// FuzzReportQuery: any query string is either refused with a field or
// accepted as a usable range.
func FuzzReportQuery(f *testing.F) {
	for _, s := range []string{okRange, okRange + "&tz=Asia/Shanghai&interval=15m", "from=2026-03-01T00:00:00+05:45&to=2026-03-01T01:00:00Z",
		"from=&to=", okRange + "&keys=a,b,c&format=csv", "tz=../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		vals := map[string]string{}
		for _, kv := range strings.Split(raw, "&") {
			k, v, _ := strings.Cut(kv, "=")
			vals[k] = v
		}
		q, _, err := reportQuery(func(k string) string { return vals[k] }, true)
		if err != nil {
			ae, ok := err.(*apiError)
			if !ok || ae.Field == "" || ae.Status != http.StatusBadRequest {
				t.Fatalf("error %v is not a 400 naming a field", err)
			}
			return
		}
		if q.Location == nil || q.To.Sub(q.From) < 15*time.Minute || q.To.Sub(q.From) > reports.MaxRange || q.Interval == "" {
			t.Fatalf("accepted unusable query %+v", q)
		}
	})
}
