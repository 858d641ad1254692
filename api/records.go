package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"hotline/controller/ivr"
	"hotline/controller/store"
)

// The customer directory and IVR flows (configuration, CRUD through the
// controller) and the call path's records: CDRs, the queue and agent event
// log and recordings (read only here; the journal writes them).

// Bounds of contacts.
const (
	maxContactNumbers = 20
	maxContactFields  = 50
	maxNotes          = 2000
)

type contactBody struct{ store.Contact }

// ivrFlowBody is the body of POST/PUT /api/v1/ivr-flows: the flow
// document is kept as sent (after validation).
type ivrFlowBody struct{ store.IVRFlow }

// Documentation shapes: a free-form object where the stored types hold a
// map or raw JSON.
type (
	contactDoc struct {
		store.Meta
		Name    string         `json:"name"`
		Numbers []string       `json:"numbers"`
		Company string         `json:"company,omitempty"`
		Notes   string         `json:"notes,omitempty"`
		Fields  map[string]any `json:"fields,omitempty"`
	}
	ivrFlowDoc struct {
		store.Meta
		Name string         `json:"name"`
		Flow map[string]any `json:"flow"`
	}
)

// splitBody parses data strictly (duplicate keys, depth) and returns the
// object without the keys of extract, re-encoded, and the generic values
// of those keys (absent: not in the map).
func splitBody(data []byte, extract ...string) ([]byte, map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec, "", 0)
	if err != nil {
		return nil, nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, nil, &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "malformed JSON: data after the top-level value"}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, nil, &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "the body must be a JSON object"}
	}
	out := map[string]any{}
	for _, k := range extract {
		if x, ok := obj[k]; ok {
			out[k] = x
			delete(obj, k)
		}
	}
	rest, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, invalidValue("", "cannot be re-encoded")
	}
	return rest, out, nil
}

func decodeContact(data []byte, b *contactBody) error {
	rest, extra, err := splitBody(data, "fields")
	if err != nil {
		return err
	}
	if err := decodeStrict(rest, b); err != nil {
		return err
	}
	b.Fields = nil
	switch f := extra["fields"].(type) {
	case nil:
	case map[string]any:
		b.Fields = make(map[string]string, len(f))
		for k, v := range f {
			s, ok := v.(string)
			if !ok {
				return invalidValue("fields."+k, "must be a string")
			}
			b.Fields[k] = s
		}
	default:
		return invalidValue("fields", "must be an object of strings")
	}
	return nil
}

func (s *Server) buildContact(_ context.Context, b *contactBody, _ *store.Contact) (store.Contact, error) {
	c := b.Contact
	if err := checkName("name", c.Name); err != nil {
		return c, err
	}
	if err := checkText("company", c.Company, maxText); err != nil {
		return c, err
	}
	if err := checkText("notes", c.Notes, maxNotes); err != nil {
		return c, err
	}
	if len(c.Numbers) == 0 {
		return c, invalidValue("numbers", "at least one number is required")
	}
	if len(c.Numbers) > maxContactNumbers {
		return c, invalidValue("numbers", "at most %d numbers", maxContactNumbers)
	}
	for i, n := range c.Numbers {
		if err := checkPhone(idx("numbers", i), n); err != nil {
			return c, err
		}
		if slices.Index(c.Numbers, n) < i {
			return c, invalidValue(idx("numbers", i), "is listed twice")
		}
	}
	if len(c.Fields) > maxContactFields {
		return c, invalidValue("fields", "at most %d fields", maxContactFields)
	}
	keys := make([]string, 0, len(c.Fields))
	for k := range c.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := checkName("fields", k); err != nil {
			return c, invalidValue("fields."+k, "field names must be 1-%d characters without control characters", maxName)
		}
		if err := checkText("fields."+k, c.Fields[k], maxText); err != nil {
			return c, err
		}
	}
	if len(c.Fields) == 0 {
		c.Fields = nil
	}
	return c, nil
}

func decodeIVRFlow(data []byte, b *ivrFlowBody) error {
	rest, extra, err := splitBody(data, "flow")
	if err != nil {
		return err
	}
	if err := decodeStrict(rest, b); err != nil {
		return err
	}
	if _, ok := extra["flow"].(map[string]any); !ok {
		return invalidValue("flow", "is required: the flow document, a JSON object")
	}
	var raw struct {
		Flow json.RawMessage `json:"flow"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return invalidValue("flow", "is not valid JSON")
	}
	b.Flow = raw.Flow
	return nil
}

// buildIVRFlow validates the document with ivr.Parse and ivr.Validate: a
// refusal names the node and its field, e.g. "flow.nodes.menu1.choices".
func (s *Server) buildIVRFlow(_ context.Context, b *ivrFlowBody, _ *store.IVRFlow) (store.IVRFlow, error) {
	f := b.IVRFlow
	if err := checkName("name", f.Name); err != nil {
		return f, err
	}
	flow, err := ivr.Parse(f.Flow)
	if err == nil {
		flow.ID = "" // the store assigns the record's id
		err = ivr.Validate(flow)
	}
	var ve *ivr.ValidationError
	if errors.As(err, &ve) {
		field := "flow"
		if ve.Node != "" {
			field += ".nodes." + ve.Node
		}
		if ve.Field != "" {
			field += "." + ve.Field
		}
		return f, invalidValue(field, "%s", ve.Message)
	}
	if err != nil {
		return f, invalidValue("flow", "%s", err.Error())
	}
	return f, nil
}

// --- searches

// validRecordID: a call or recording id from the call path: 1-128 of
// [A-Za-z0-9._:@-].
func validRecordID(s string) bool {
	return s != "" && len(s) <= 128 && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:@-", r))
	})
}

// query reads the search parameters shared by the record searches.
type query struct {
	c   *gin.Context
	err error
}

func (q *query) time(name string) time.Time {
	v := q.c.Query(name)
	if v == "" || q.err != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		q.err = invalidValue(name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	return t
}

func (q *query) text(name string, check func(field, s string) error) string {
	v := q.c.Query(name)
	if v == "" || q.err != nil {
		return v
	}
	if err := check(name, v); err != nil {
		q.err = err
	}
	return v
}

func (q *query) float(name string) float64 {
	v := q.c.Query(name)
	if v == "" || q.err != nil {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1e9 {
		q.err = invalidValue(name, "must be a non-negative number of seconds")
	}
	return f
}

func checkRef(field, s string) error {
	if !validRecordID(s) {
		return invalidValue(field, "must be an id")
	}
	return nil
}

// searchPage reads ?limit= and ?after= (a search cursor, not an id).
func (q *query) page() store.ListOptions {
	var opt store.ListOptions
	if v := q.c.Query("limit"); v != "" && q.err == nil {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			q.err = invalidValue("limit", "must be an integer from 1 to %d", store.MaxLimit)
		}
		opt.Limit = n
	}
	opt.After = q.c.Query("after")
	if opt.After != "" && q.err == nil {
		if _, _, err := store.ParseTimeCursor(opt.After); err != nil {
			q.err = invalidValue("after", "not a cursor")
		}
	}
	return opt.Normalize()
}

var (
	timeParams = []param{
		{name: "since", in: "query", desc: "RFC 3339 lower bound of the start (inclusive)", schema: map[string]any{"type": "string", "format": "date-time"}},
		{name: "until", in: "query", desc: "RFC 3339 upper bound of the start (exclusive)", schema: map[string]any{"type": "string", "format": "date-time"}},
	}
	strParam = func(name, desc string) param {
		return param{name: name, in: "query", desc: desc, schema: map[string]any{"type": "string"}}
	}
	searchPageParams = []param{
		pageParams[0],
		{name: "after", in: "query", desc: "cursor: the next value of the previous page", schema: map[string]any{"type": "string"}},
	}
)

// agentScope returns the agent id an agent-role principal is limited to
// ("" for other roles), or 403 for an agent user linked to no agent.
func agentScope(c *gin.Context) (string, error) {
	p, _ := principalOf(c)
	if p.User.Role != store.RoleAgent {
		return "", nil
	}
	if p.User.AgentID == "" {
		return "", errForbidden()
	}
	return p.User.AgentID, nil
}

func (s *Server) cdrFilter(c *gin.Context) (store.CDRFilter, store.ListOptions, error) {
	q := &query{c: c}
	f := store.CDRFilter{
		Since: q.time("since"), Until: q.time("until"),
		Caller: q.text("caller", checkPhone), Called: q.text("called", checkPhone),
		Queue: q.text("queue", checkRef), AgentID: q.text("agent_id", checkRef),
		Outcome: store.CallOutcome(q.text("outcome", func(field, s string) error { return oneOf(field, store.CallOutcome(s), outcomes) })),
	}
	opt := q.page()
	if q.err == nil {
		if v := c.Query("format"); v != "" && v != "csv" && v != "json" {
			q.err = invalidValue("format", "must be json or csv")
		}
	}
	return f, opt, q.err
}

var outcomes = []store.CallOutcome{store.OutcomeAnswered, store.OutcomeAbandoned, store.OutcomeOverflowed, store.OutcomeRejected,
	store.OutcomeFailed, store.OutcomeVoicemail, store.OutcomeCallback, store.OutcomeSelfServe}

func (s *Server) handleCDRSearch(c *gin.Context) {
	f, opt, err := s.cdrFilter(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	if c.Query("format") == "csv" {
		s.streamCDRCSV(c, f)
		return
	}
	pg, err := s.st.CDRs().Search(c.Request.Context(), f, opt)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	c.JSON(http.StatusOK, page[store.CDR]{Items: nonNil(pg.Items), Next: pg.Next})
}

// cdrCSVHeader is the header row of ?format=csv.
var cdrCSVHeader = []string{"id", "direction", "caller", "caller_name", "called", "number", "start", "answer", "end",
	"queue", "queue_name", "wait_seconds", "outcome", "agent_id", "agent_name", "extension", "talk_seconds",
	"hold_seconds", "wrap_seconds", "hangup_cause", "hangup_side", "transfers", "disposition", "recording_id", "ivr_path"}

func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func csvFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// csvCell keeps a spreadsheet from taking a cell for a formula (OWASP CSV
// injection): a leading = + - @ or tab gets a quote prefix. Phone numbers
// with a leading + are left alone when the rest is digits.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	if s[0] == '+' && allDigits(s[1:]) {
		return s
	}
	if strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// streamCDRCSV writes every matching CDR, newest first, page by page as it
// reads them: the answer is never held whole in memory. A failure after
// the first row cannot change the status any more: the stream is cut.
func (s *Server) streamCDRCSV(c *gin.Context, f store.CDRFilter) {
	ctx := c.Request.Context()
	opt := store.ListOptions{Limit: store.MaxLimit}
	pg, err := s.st.CDRs().Search(ctx, f, opt)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="cdrs.csv"`)
	c.Status(http.StatusOK)
	w := csv.NewWriter(c.Writer)
	_ = w.Write(cdrCSVHeader)
	for {
		for _, r := range pg.Items {
			path := make([]string, len(r.IVRPath))
			for i, st := range r.IVRPath {
				path[i] = st.Node
			}
			row := []string{r.ID, r.Direction, r.Caller, r.CallerName, r.Called, r.Number, csvTime(&r.Start), csvTime(r.Answer),
				csvTime(&r.End), r.Queue, r.QueueName, csvFloat(r.WaitSeconds), string(r.Outcome), r.AgentID, r.AgentName,
				r.Extension, csvFloat(r.TalkSeconds), csvFloat(r.HoldSeconds), csvFloat(r.WrapSeconds), r.HangupCause,
				string(r.HangupSide), strconv.Itoa(len(r.Transfers)), r.Disposition, r.RecordingID, strings.Join(path, ">")}
			for i := range row {
				row[i] = csvCell(row[i])
			}
			if err := w.Write(row); err != nil {
				return
			}
		}
		w.Flush()
		if w.Error() != nil || pg.Next == "" {
			return
		}
		opt.After = pg.Next
		if pg, err = s.st.CDRs().Search(ctx, f, opt); err != nil {
			s.log.WarnContext(ctx, "CSV export cut short", "request_id", requestID(c), "err", err)
			return
		}
	}
}

func (s *Server) handleCDRGet(c *gin.Context) {
	id := c.Param("id")
	if !validRecordID(id) {
		s.abortWith(c, errNotFound())
		return
	}
	v, err := s.st.CDRs().Get(c.Request.Context(), id)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// queueEventDoc and queueEventsPageDoc document the answer of
// /api/v1/queue-events: data is a free-form object (json.RawMessage would
// be documented as an array of bytes).
type (
	queueEventDoc struct {
		Seq     int64          `json:"seq"`
		At      time.Time      `json:"at"`
		Kind    string         `json:"kind"`
		CallID  string         `json:"call_id,omitempty"`
		Queue   string         `json:"queue,omitempty"`
		AgentID string         `json:"agent_id,omitempty"`
		State   string         `json:"state,omitempty"`
		Reason  string         `json:"reason,omitempty"`
		Data    map[string]any `json:"data,omitempty"`
		Source  string         `json:"source,omitempty"`
		Pos     int64          `json:"pos,omitempty"`
	}
	queueEventsPageDoc struct {
		Items        []queueEventDoc `json:"items"`
		NextAfterSeq int64           `json:"next_after_seq"`
	}
)

// queueEventsPage is the answer of GET /api/v1/queue-events: next_after_seq
// is the after_seq of the next page (0 when this one is the last).
type queueEventsPage struct {
	Items        []store.QueueEvent `json:"items"`
	NextAfterSeq int64              `json:"next_after_seq"`
}

func (s *Server) handleQueueEvents(c *gin.Context) {
	q := &query{c: c}
	f := store.QueueEventFilter{Since: q.time("since"), Until: q.time("until"), Queue: q.text("queue", checkRef),
		AgentID: q.text("agent_id", checkRef), CallID: q.text("call_id", checkRef)}
	limit := store.DefaultLimit
	if v := c.Query("after_seq"); v != "" && q.err == nil {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			q.err = invalidValue("after_seq", "must be a non-negative integer")
		}
		f.AfterSeq = n
	}
	if v := c.Query("limit"); v != "" && q.err == nil {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			q.err = invalidValue("limit", "must be an integer from 1 to %d", store.MaxLimit)
		}
		limit = n
	}
	if q.err != nil {
		s.abortWith(c, q.err)
		return
	}
	evs, err := s.st.QueueEvents().Search(c.Request.Context(), f, limit)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	out := queueEventsPage{Items: nonNil(evs)}
	if len(evs) == limit {
		out.NextAfterSeq = evs[len(evs)-1].Seq
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) handleRecordingSearch(c *gin.Context) {
	q := &query{c: c}
	f := store.RecordingFilter{Since: q.time("since"), Until: q.time("until"), Caller: q.text("caller", checkPhone),
		Called: q.text("called", checkPhone), AgentID: q.text("agent_id", checkRef), Queue: q.text("queue", checkRef),
		MinDuration: q.float("min_duration"), MaxDuration: q.float("max_duration")}
	opt := q.page()
	if q.err != nil {
		s.abortWith(c, q.err)
		return
	}
	own, err := agentScope(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	if own != "" {
		if f.AgentID != "" && f.AgentID != own {
			s.abortWith(c, errForbidden())
			return
		}
		f.AgentID = own // an agent sees only its own calls' recordings
	}
	pg, err := s.st.Recordings().Search(c.Request.Context(), f, opt)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	c.JSON(http.StatusOK, page[store.Recording]{Items: nonNil(pg.Items), Next: pg.Next})
}

// recordingFor loads recording :id and checks that the principal may hear
// it (an agent: only its own calls').
func (s *Server) recordingFor(c *gin.Context) (store.Recording, error) {
	id := c.Param("id")
	if !validRecordID(id) {
		return store.Recording{}, errNotFound()
	}
	rec, err := s.st.Recordings().Get(c.Request.Context(), id)
	if err != nil {
		return rec, err
	}
	own, err := agentScope(c)
	if err != nil {
		return rec, err
	}
	if own != "" && rec.AgentID != own {
		return rec, errForbidden()
	}
	return rec, nil
}

func (s *Server) handleRecordingGet(c *gin.Context) {
	rec, err := s.recordingFor(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	c.JSON(http.StatusOK, rec)
}

// handleRecordingAudio serves the WAV with range requests (RFC 9110 §14,
// http.ServeContent) and writes an audit entry for every listen or
// download, refused ones included (see the route's alwaysAudit).
func (s *Server) handleRecordingAudio(c *gin.Context) {
	// The audit entry's detail says which (an error answer replaces it
	// with the error code).
	if c.Query("download") != "" {
		c.Set(ctxAuditDetail, "download")
	} else {
		c.Set(ctxAuditDetail, "listen")
	}
	rec, err := s.recordingFor(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	if s.recStore == nil {
		s.abortWith(c, errLiveUnavailable("no recording store is configured"))
		return
	}
	f, err := s.recStore.Open(rec.Path)
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "recording audio missing", "request_id", requestID(c), "recording", rec.ID, "err", err)
		s.abortWith(c, &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "the recording's audio is missing"})
		return
	}
	defer f.Close()
	c.Header("Content-Type", "audio/wav")
	c.Header("Accept-Ranges", "bytes")
	if c.Query("download") != "" {
		c.Header("Content-Disposition", `attachment; filename="`+rec.ID+`.wav"`)
	}
	http.ServeContent(c.Writer, c.Request, rec.ID+".wav", rec.End, f)
}

// recordRoutes are the routes of this file.
func (s *Server) recordRoutes() []route {
	contacts := &crud[store.Contact, contactBody]{name: "contacts", key: "numbers",
		repo: func(st Controller) store.Repo[store.Contact] { return st.Contacts() },
		body: func() contactBody { return contactBody{} }, build: (*Server).buildContact, decodeBody: decodeContact}
	flows := &crud[store.IVRFlow, ivrFlowBody]{name: "ivr-flows", key: "name",
		repo: func(st Controller) store.Repo[store.IVRFlow] { return st.IVRFlows() },
		body: func() ivrFlowBody { return ivrFlowBody{} }, build: (*Server).buildIVRFlow, decodeBody: decodeIVRFlow}
	var rs []route
	withDoc := func(in []route, model, body reflect.Type) []route {
		for i := range in {
			if in[i].resp != nil {
				in[i].resp = model
			}
			if in[i].req != nil {
				in[i].req = body
			}
		}
		return in
	}
	readContacts := rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleAgent, store.RoleQA)
	rs = append(rs, withDoc(crudRoutes(s, contacts, "contacts", readContacts, readContacts, readFloorSetup),
		reflect.TypeFor[contactDoc](), reflect.TypeFor[contactDoc]())...)
	rs = append(rs, withDoc(crudRoutes(s, flows, "ivr-flows", readFloorSetup, readFloorSetup, adminOnly),
		reflect.TypeFor[ivrFlowDoc](), reflect.TypeFor[ivrFlowDoc]())...)

	readCDRs := rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleReporter, store.RoleQA)
	readRecs := rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleQA, store.RoleAgent)
	cdrQuery := append(append(slices.Clone(timeParams),
		strParam("caller", "calling number"), strParam("called", "called number (DID)"), strParam("queue", "queue id"),
		strParam("agent_id", "agent id"),
		param{name: "outcome", in: "query", desc: "how the call ended", schema: map[string]any{"type": "string", "enum": names(outcomes)}},
		param{name: "format", in: "query", desc: "json (default) or csv: every match streamed as text/csv with a header row",
			schema: map[string]any{"type": "string", "enum": []string{"json", "csv"}}}),
		searchPageParams...)
	recQuery := append(append(slices.Clone(timeParams),
		strParam("caller", "calling number"), strParam("called", "called number (DID)"), strParam("agent_id", "agent id"),
		strParam("queue", "queue id"),
		param{name: "min_duration", in: "query", desc: "shortest duration, seconds", schema: map[string]any{"type": "number", "minimum": 0}},
		param{name: "max_duration", in: "query", desc: "longest duration, seconds", schema: map[string]any{"type": "number", "minimum": 0}}),
		searchPageParams...)
	evQuery := append(slices.Clone(timeParams), strParam("queue", "queue id"), strParam("agent_id", "agent id"),
		strParam("call_id", "call id"),
		param{name: "after_seq", in: "query", desc: "only events after this seq (paging: the previous page's next_after_seq)", schema: map[string]any{"type": "integer", "minimum": 0}},
		param{name: "limit", in: "query", desc: "page size, 1-500 (default 50)", schema: map[string]any{"type": "integer", "minimum": 1, "maximum": store.MaxLimit}})
	rs = append(rs,
		route{method: http.MethodGet, path: "/api/v1/cdrs", summary: "Search call detail records, newest first (?format=csv streams CSV)",
			tag: "cdrs", access: readCDRs, query: cdrQuery, resp: reflect.TypeFor[store.CDR](), respKind: respPage,
			status: http.StatusOK, handler: s.handleCDRSearch},
		route{method: http.MethodGet, path: "/api/v1/cdrs/:id", summary: "Get one call detail record", tag: "cdrs",
			access: readCDRs, resp: reflect.TypeFor[store.CDR](), status: http.StatusOK, handler: s.handleCDRGet},
		route{method: http.MethodGet, path: "/api/v1/queue-events", summary: "The queue and agent event log, in seq order",
			tag: "cdrs", access: readCDRs, query: evQuery, resp: reflect.TypeFor[queueEventsPageDoc](), status: http.StatusOK,
			handler: s.handleQueueEvents},
		route{method: http.MethodGet, path: "/api/v1/recordings", summary: "Search recordings, newest first (an agent: its own calls')",
			tag: "recordings", access: readRecs, query: recQuery, resp: reflect.TypeFor[store.Recording](), respKind: respPage,
			status: http.StatusOK, handler: s.handleRecordingSearch},
		route{method: http.MethodGet, path: "/api/v1/recordings/:id", summary: "Get one recording's metadata (an agent: its own calls')",
			tag: "recordings", access: readRecs, resp: reflect.TypeFor[store.Recording](), status: http.StatusOK,
			handler: s.handleRecordingGet},
		route{method: http.MethodGet, path: "/api/v1/recordings/:id/audio",
			summary: "The recording's WAV (audio/wav, range requests: 206); every listen or download is audited",
			tag:     "recordings", access: readRecs, resource: "recordings", action: "listen", alwaysAudit: true,
			query:    []param{{name: "download", in: "query", desc: "any value: served as an attachment and audited as a download", schema: map[string]any{"type": "string"}}},
			respKind: respNone, status: http.StatusOK, handler: s.handleRecordingAudio},
	)
	return rs
}
