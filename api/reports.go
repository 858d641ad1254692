package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"hotline/controller/reports"
	"hotline/controller/store"
)

// ReportSource is what the report routes read (R8.2, R8.3, R8.5): reports
// over a range under docs/METRICS.md. *reports.Aggregator implements it;
// a source reading a store may too. Every method must return when ctx is
// done; an invalid query is reports.ErrInvalidQuery (a 400), a store that
// does not answer store.ErrUnavailable (a 503).
type ReportSource interface {
	QueueReport(ctx context.Context, q reports.Query) (reports.Report, error)
	AgentReport(ctx context.Context, q reports.Query) (reports.Report, error)
	NumberReport(ctx context.Context, q reports.Query) (reports.Report, error)
	TrunkReport(ctx context.Context, q reports.Query) (reports.Report, error)
	// AbandonedCalls lists the abandoned queue segments entered in the range.
	AbandonedCalls(ctx context.Context, q reports.Query) ([]reports.AbandonedCall, error)
	// AgentRanking ranks agents over the whole range by one figure.
	AgentRanking(ctx context.Context, q reports.Query, by reports.RankBy) ([]reports.RankedAgent, error)
	// WeekOnWeek compares kind ("queues", "agents", "numbers", "trunks")
	// over the range with the same range a week earlier.
	WeekOnWeek(ctx context.Context, kind string, q reports.Query) (reports.Comparison, error)
}

// readReports may read reports.
var readReports = rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleReporter)

// abandonedList and rankingList are the JSON answers of the list reports.
type abandonedList struct {
	Items []reports.AbandonedCall `json:"items"`
}

type rankingList struct {
	By    reports.RankBy        `json:"by"`
	Items []reports.RankedAgent `json:"items"`
}

func strSchema(extra map[string]any) map[string]any {
	m := map[string]any{"type": "string"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

var (
	reportRangeParams = []param{
		{name: "from", in: "query", desc: "start of the range (inclusive): RFC 3339, or a date YYYY-MM-DD meaning local midnight in tz; required",
			schema: strSchema(nil)},
		{name: "to", in: "query", desc: "end of the range (exclusive), as from; required; at most 400 days after from",
			schema: strSchema(nil)},
		{name: "tz", in: "query", desc: "IANA time zone of the intervals, e.g. America/New_York (default UTC)", schema: strSchema(nil)},
		{name: "keys", in: "query", desc: "comma-separated ids (queues, agents, numbers or trunks) to keep; default all; encode + as %2B", schema: strSchema(nil)},
		{name: "format", in: "query", desc: "json (default), csv (text/csv, one line per row, durations in seconds) or xlsx (the same table as a spreadsheet, numbers as numbers)",
			schema: strSchema(map[string]any{"enum": []string{"json", "csv", "xlsx"}})},
	}
	intervalParam = param{name: "interval", in: "query", desc: "row length: local wall-clock 15m, 30m, 60m, day, week (from Monday), month, or total (default)",
		schema: strSchema(map[string]any{"enum": names(reports.Intervals)})}
	rankByParam = param{name: "by", in: "query", desc: "ranking figure: handled (default, descending), aht (ascending), occupancy, survey (descending)",
		schema: strSchema(map[string]any{"enum": names(reports.RankBys)})}
	kindParam = param{name: "kind", in: "query", desc: "queues (default), agents, numbers or trunks",
		schema: strSchema(map[string]any{"enum": []string{"queues", "agents", "numbers", "trunks"}})}
)

// reportRoutes are the historical report routes; every figure is defined
// in docs/METRICS.md.
func (s *Server) reportRoutes() []route {
	withInterval := append(slices.Clone(reportRangeParams), intervalParam)
	report := func(path, what string, get func(ReportSource) func(context.Context, reports.Query) (reports.Report, error)) route {
		return route{method: http.MethodGet, path: path, summary: what + " report over a range in a time zone (docs/METRICS.md)", tag: "reports",
			access: readReports, query: withInterval, resp: reflect.TypeFor[reports.Report](), status: http.StatusOK,
			handler: s.handleReport(get)}
	}
	return []route{
		report("/api/v1/reports/queues", "Per-queue", func(r ReportSource) func(context.Context, reports.Query) (reports.Report, error) {
			return r.QueueReport
		}),
		report("/api/v1/reports/agents", "Per-agent", func(r ReportSource) func(context.Context, reports.Query) (reports.Report, error) {
			return r.AgentReport
		}),
		report("/api/v1/reports/numbers", "Per-number (DID)", func(r ReportSource) func(context.Context, reports.Query) (reports.Report, error) {
			return r.NumberReport
		}),
		report("/api/v1/reports/trunks", "Per-trunk", func(r ReportSource) func(context.Context, reports.Query) (reports.Report, error) {
			return r.TrunkReport
		}),
		{method: http.MethodGet, path: "/api/v1/reports/abandoned", summary: "Abandoned-call detail: every abandoned queue segment entered in the range", tag: "reports",
			access: readReports, query: reportRangeParams, resp: reflect.TypeFor[abandonedList](), status: http.StatusOK, handler: s.handleAbandoned},
		{method: http.MethodGet, path: "/api/v1/reports/agent-ranking", summary: "Agents ranked over the range by one figure", tag: "reports",
			access: readReports, query: append(slices.Clone(reportRangeParams), rankByParam), resp: reflect.TypeFor[rankingList](),
			status: http.StatusOK, handler: s.handleRanking},
		{method: http.MethodGet, path: "/api/v1/reports/week-on-week", summary: "A report compared interval by interval with the same range a week earlier (JSON only)", tag: "reports",
			access: readReports, query: append(slices.Clone(withInterval), kindParam), resp: reflect.TypeFor[reports.Comparison](),
			status: http.StatusOK, handler: s.handleWeekOnWeek},
	}
}

// errReportsUnavailable answers report routes when no source is wired.
func errReportsUnavailable() *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Message: "reports are not available on this instance"}
}

// maxKeys bounds ?keys=.
const maxKeys = 500

// parseReportTime reads an RFC 3339 time or a date (local midnight in loc).
func parseReportTime(field, v string, loc *time.Location) (time.Time, error) {
	if v == "" {
		return time.Time{}, invalidValue(field, "is required")
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil && len(v) == len(time.DateOnly) {
		return t, nil
	}
	return time.Time{}, invalidValue(field, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z or a date such as 2026-01-02")
}

// reportQuery reads and validates the common query parameters; interval
// is read only when withInterval. It returns the query and the table
// format asked for: "" (JSON), "csv" or "xlsx".
func reportQuery(get func(string) string, withInterval bool) (reports.Query, string, error) {
	var q reports.Query
	format := get("format")
	switch format {
	case "json":
		format = ""
	case "", "csv", "xlsx":
	default:
		return q, "", invalidValue("format", "must be json, csv or xlsx")
	}
	q.Location = time.UTC
	if tz := get("tz"); tz != "" {
		// LoadLocation also opens files: refuse anything but a zone name.
		if len(tz) > 64 || strings.Contains(tz, "..") || strings.HasPrefix(tz, "/") || strings.ContainsAny(tz, "\\\x00") {
			return q, "", invalidValue("tz", "must be an IANA time zone such as Europe/Paris")
		}
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return q, "", invalidValue("tz", "must be an IANA time zone such as Europe/Paris")
		}
		q.Location = loc
	}
	var err error
	if q.From, err = parseReportTime("from", get("from"), q.Location); err != nil {
		return q, "", err
	}
	if q.To, err = parseReportTime("to", get("to"), q.Location); err != nil {
		return q, "", err
	}
	switch d := q.To.Sub(q.From); {
	case d < 15*time.Minute:
		return q, "", invalidValue("to", "must be at least 15 minutes after from")
	case d > reports.MaxRange:
		return q, "", invalidValue("to", "must be at most 400 days after from")
	}
	if withInterval {
		q.Interval = reports.Interval(get("interval"))
		if q.Interval == "" {
			q.Interval = reports.IntervalTotal
		}
		if !slices.Contains(reports.Intervals, q.Interval) {
			return q, "", invalidValue("interval", "must be one of 15m, 30m, 60m, day, week, month, total")
		}
	}
	if k := get("keys"); k != "" {
		q.Keys = strings.Split(k, ",")
		if len(q.Keys) > maxKeys {
			return q, "", invalidValue("keys", "at most %d keys", maxKeys)
		}
		for _, key := range q.Keys {
			if key == "" || len(key) > 64 {
				return q, "", invalidValue("keys", "must be comma-separated ids")
			}
		}
	}
	return q, format, nil
}

// reportErr maps a source's error: an invalid query is a 400.
func reportErr(err error) error {
	if errors.Is(err, reports.ErrInvalidQuery) {
		return invalidValue("query", "%s", strings.TrimPrefix(err.Error(), reports.ErrInvalidQuery.Error()+": "))
	}
	return err
}

// begin reads the query of a report route, or answers an error.
func (s *Server) begin(c *gin.Context, withInterval bool) (reports.Query, string, bool) {
	if s.reports == nil {
		s.abortWith(c, errReportsUnavailable())
		return reports.Query{}, "", false
	}
	q, format, err := reportQuery(c.Query, withInterval)
	if err != nil {
		s.abortWith(c, err)
		return q, "", false
	}
	return q, format, true
}

// xlsxType is the media type of an Office Open XML workbook.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// writeTable answers a report as CSV, or as a workbook made from the same
// CSV (format "xlsx").
func (s *Server) writeTable(c *gin.Context, format, name string, write func(*bytes.Buffer) error) {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		s.abortWith(c, err)
		return
	}
	if format == "xlsx" {
		var book bytes.Buffer
		if err := csvToXLSX(&book, name, buf.Bytes()); err != nil {
			s.abortWith(c, err)
			return
		}
		c.Header("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		c.Data(http.StatusOK, xlsxType, book.Bytes())
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func (s *Server) handleReport(get func(ReportSource) func(context.Context, reports.Query) (reports.Report, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		q, format, ok := s.begin(c, true)
		if !ok {
			return
		}
		r, err := get(s.reports)(c.Request.Context(), q)
		if err != nil {
			s.abortWith(c, reportErr(err))
			return
		}
		if r.Rows == nil {
			r.Rows = []reports.Row{}
		}
		if format != "" {
			s.writeTable(c, format, r.Kind, func(b *bytes.Buffer) error { return reports.WriteCSV(b, r) })
			return
		}
		c.JSON(http.StatusOK, r)
	}
}

func (s *Server) handleAbandoned(c *gin.Context) {
	q, format, ok := s.begin(c, false)
	if !ok {
		return
	}
	items, err := s.reports.AbandonedCalls(c.Request.Context(), q)
	if err != nil {
		s.abortWith(c, reportErr(err))
		return
	}
	if format != "" {
		s.writeTable(c, format, "abandoned", func(b *bytes.Buffer) error { return reports.WriteAbandonedCSV(b, items) })
		return
	}
	c.JSON(http.StatusOK, abandonedList{Items: nonNil(items)})
}

func (s *Server) handleRanking(c *gin.Context) {
	q, format, ok := s.begin(c, false)
	if !ok {
		return
	}
	by := reports.RankBy(c.Query("by"))
	if by == "" {
		by = reports.RankHandled
	}
	if !slices.Contains(reports.RankBys, by) {
		s.abortWith(c, invalidValue("by", "must be one of handled, aht, occupancy, survey"))
		return
	}
	items, err := s.reports.AgentRanking(c.Request.Context(), q, by)
	if err != nil {
		s.abortWith(c, reportErr(err))
		return
	}
	if format != "" {
		s.writeTable(c, format, "agent-ranking", func(b *bytes.Buffer) error { return reports.WriteRankingCSV(b, items) })
		return
	}
	c.JSON(http.StatusOK, rankingList{By: by, Items: nonNil(items)})
}

func (s *Server) handleWeekOnWeek(c *gin.Context) {
	q, format, ok := s.begin(c, true)
	if !ok {
		return
	}
	if format != "" {
		s.abortWith(c, invalidValue("format", "week-on-week is JSON only"))
		return
	}
	kind := c.Query("kind")
	if kind == "" {
		kind = "queues"
	}
	if !slices.Contains([]string{"queues", "agents", "numbers", "trunks"}, kind) {
		s.abortWith(c, invalidValue("kind", "must be queues, agents, numbers or trunks"))
		return
	}
	cmp, err := s.reports.WeekOnWeek(c.Request.Context(), kind, q)
	if err != nil {
		s.abortWith(c, reportErr(err))
		return
	}
	c.JSON(http.StatusOK, cmp)
}
