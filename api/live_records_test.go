package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"hotline/controller"
	"hotline/controller/cti"
	"hotline/controller/store"
	"hotline/controller/webhook"
)

// fakeLive is a LiveControl that records what it was asked and answers
// with err when set.
type fakeLive struct {
	hub *cti.Hub
	mu  sync.Mutex
	by  []controller.Actor
	err error
}

func (f *fakeLive) ask(by controller.Actor) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.by = append(f.by, by)
	return f.err
}

func (f *fakeLive) SetAgentState(_ context.Context, by controller.Actor, id string, r controller.AgentStateRequest) (controller.AgentStateView, error) {
	return controller.AgentStateView{AgentID: id, State: r.State, Reason: r.Reason, Device: r.Device}, f.ask(by)
}
func (f *fakeLive) AgentState(_ context.Context, by controller.Actor, id string) (controller.AgentStateView, error) {
	return controller.AgentStateView{AgentID: id, State: "ready"}, f.ask(by)
}
func (f *fakeLive) AgentStates(_ context.Context, by controller.Actor) ([]controller.AgentStateView, error) {
	return nil, f.ask(by)
}
func (f *fakeLive) Calls(_ context.Context, by controller.Actor) ([]controller.LiveCall, error) {
	return []controller.LiveCall{{ID: "c1", State: "talking"}}, f.ask(by)
}
func (f *fakeLive) PauseRecording(_ context.Context, by controller.Actor, _ string) error {
	return f.ask(by)
}
func (f *fakeLive) ResumeRecording(_ context.Context, by controller.Actor, _ string) error {
	return f.ask(by)
}
func (f *fakeLive) Events() *cti.Hub { return f.hub }

func TestLiveRoutes(t *testing.T) {
	live := &fakeLive{}
	e := newEnvOpt(t, func(o *Options) { o.Live = live })
	agentID, _ := e.seed()
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	sup, supTok := e.userToken("sam", store.RoleSupervisor, "")
	_ = sup

	var v controller.AgentStateView
	e.must(req{method: "PUT", path: "/api/v1/agents/" + agentID + "/state", token: agentTok,
		body: map[string]any{"state": "not-ready", "reason": "lunch", "device": "sip:agent7@10.1.2.3:5060"}}, http.StatusOK, &v)
	if v.State != "not-ready" || v.Reason != "lunch" || live.by[0].AgentID != agentID || live.by[0].Role != store.RoleAgent {
		t.Fatalf("view %+v actor %+v", v, live.by)
	}
	other := "0123456789abcdef01234567"
	wantField(t, e.do(req{method: "PUT", path: "/api/v1/agents/" + other + "/state", token: agentTok, body: map[string]any{"state": "ready"}}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/agents/" + other + "/state", token: agentTok}), http.StatusForbidden, "")
	e.must(req{method: "PUT", path: "/api/v1/agents/" + other + "/state", token: supTok, body: map[string]any{"state": "ready"}}, http.StatusOK, nil)
	e.must(req{method: "GET", path: "/api/v1/agents/" + agentID + "/state", token: agentTok}, http.StatusOK, nil)
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"state": "dancing"}, "state"},
		{map[string]any{"state": "ready", "reason": "x"}, "reason"},
		{map[string]any{"state": "ready", "device": "user/1"}, "device"},
		{map[string]any{"state": "ready", "device": "sip:a@b,c"}, "device"},
		{map[string]any{"state": "ready", "device": "pstn/1"}, "device"},
		{map[string]any{"state": "ready", "color": "red"}, "color"},
	} {
		wantField(t, e.do(req{method: "PUT", path: "/api/v1/agents/" + agentID + "/state", token: adminSecret, body: tc.body}), http.StatusBadRequest, tc.field)
	}
	e.must(req{method: "GET", path: "/api/v1/agent-states", token: supTok}, http.StatusOK, nil)
	wantField(t, e.do(req{method: "GET", path: "/api/v1/agent-states", token: agentTok}), http.StatusForbidden, "")
	var calls liveCallList
	e.must(req{method: "GET", path: "/api/v1/calls", token: supTok}, http.StatusOK, &calls)
	if len(calls.Items) != 1 {
		t.Fatalf("calls %+v", calls)
	}
	e.must(req{method: "POST", path: "/api/v1/calls/c1/recording/pause", token: agentTok}, http.StatusNoContent, nil)
	_, repTok := e.userToken("rita", store.RoleReporter, "")
	_, qaTok := e.userToken("quinn", store.RoleQA, "")
	for _, r := range []req{
		{method: "POST", path: "/api/v1/calls/c1/recording/pause", token: repTok},
		{method: "POST", path: "/api/v1/calls/c1/recording/resume", token: qaTok},
		{method: "GET", path: "/api/v1/calls", token: qaTok},
		{method: "GET", path: "/api/v1/events", token: repTok},
		{method: "GET", path: "/api/v1/events?token=" + qaTok},
		{method: "PUT", path: "/api/v1/agents/" + agentID + "/state", token: repTok, body: map[string]any{"state": "ready"}},
	} {
		if got := e.do(r); got.Code != http.StatusForbidden {
			t.Errorf("%s %s as reporter/qa: %d, want 403", r.method, r.path, got.Code)
		}
	}
	e.must(req{method: "POST", path: "/api/v1/calls/c1/recording/resume", token: supTok}, http.StatusNoContent, nil)

	// The call path's errors.
	for _, tc := range []struct {
		err  error
		code int
		req  req
	}{
		{fmt.Errorf("%w: logged-out -> busy", controller.ErrIllegalTransition), http.StatusConflict,
			req{method: "PUT", path: "/api/v1/agents/" + agentID + "/state", token: adminSecret, body: map[string]any{"state": "ready"}}},
		{fmt.Errorf("%w: sip:agent@", controller.ErrInvalidDevice), http.StatusBadRequest, // field device
			req{method: "PUT", path: "/api/v1/agents/" + agentID + "/state", token: adminSecret, body: map[string]any{"state": "ready"}}},
		{fmt.Errorf("%w: \"away\"", controller.ErrInvalidState), http.StatusBadRequest, // field state
			req{method: "PUT", path: "/api/v1/agents/" + agentID + "/state", token: adminSecret, body: map[string]any{"state": "ready"}}},
		{controller.ErrForbidden, http.StatusForbidden, req{method: "GET", path: "/api/v1/agents/" + other + "/state", token: supTok}},
		{controller.ErrNoSuchCall, http.StatusNotFound, req{method: "POST", path: "/api/v1/calls/zz/recording/pause", token: adminSecret}},
		{controller.ErrNotRecording, http.StatusConflict, req{method: "POST", path: "/api/v1/calls/c1/recording/resume", token: adminSecret}},
		{store.ErrNotFound, http.StatusNotFound, req{method: "GET", path: "/api/v1/agents/" + other + "/state", token: adminSecret}},
		{controller.ErrClosed, http.StatusServiceUnavailable, req{method: "GET", path: "/api/v1/calls", token: adminSecret}},
	} {
		live.err = tc.err
		r := e.do(tc.req)
		if r.Code != tc.code {
			t.Errorf("%v: status %d, want %d: %s", tc.err, r.Code, tc.code, r.Body)
		}
		if tc.code == http.StatusBadRequest {
			want := "state"
			if errors.Is(tc.err, controller.ErrInvalidDevice) {
				want = "device"
			}
			if f := r.err(t).Field; f != want {
				t.Errorf("%v: field %q, want %q", tc.err, f, want)
			}
		}
		if tc.code == http.StatusConflict && errorsIsIllegal(tc.err) && !strings.Contains(r.err(t).Message, "logged-out -> busy") {
			t.Errorf("409 without the reason: %s", r.Body)
		}
	}

	// Without a LiveControl: 503.
	e2 := newEnv(t)
	wantField(t, e2.do(req{method: "GET", path: "/api/v1/calls", token: adminSecret}), http.StatusServiceUnavailable, "")
	wantField(t, e2.do(req{method: "GET", path: "/api/v1/events", token: adminSecret}), http.StatusServiceUnavailable, "")
}

func errorsIsIllegal(err error) bool { return strings.Contains(err.Error(), "illegal") }

func TestRecordings(t *testing.T) {
	dir := t.TempDir()
	rs, err := controller.OpenDirRecordingStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	e := newEnvOpt(t, func(o *Options) { o.RecordingStore = rs })
	agentID, _ := e.seed()
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	_, qaTok := e.userToken("quinn", store.RoleQA, "")
	_, repTok := e.userToken("rita", store.RoleReporter, "")
	audio := bytes.Repeat([]byte("0123456789"), 100)
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var recs []store.Recording
	for i, agent := range []string{agentID, "someone-else"} {
		id := fmt.Sprintf("rec-%d", i)
		path, n, err := rs.Save(t.Context(), id, bytes.NewReader(audio))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.Recording{ID: id, CallID: "call-" + id, Start: start.Add(time.Duration(i) * time.Minute),
			End: start.Add(time.Hour), Duration: float64(30 * (i + 1)), Caller: "+8613800000000", Called: "800",
			AgentID: agent, Queue: "q1", Stereo: true, Path: path, Bytes: n, Pauses: []store.RecordPause{}})
	}
	if err := e.st.Recordings().Put(t.Context(), recs...); err != nil {
		t.Fatal(err)
	}
	var p page[store.Recording]
	e.must(req{method: "GET", path: "/api/v1/recordings", token: qaTok}, http.StatusOK, &p)
	if len(p.Items) != 2 {
		t.Fatalf("qa sees %d", len(p.Items))
	}
	e.must(req{method: "GET", path: "/api/v1/recordings?min_duration=40", token: qaTok}, http.StatusOK, &p)
	if len(p.Items) != 1 || p.Items[0].ID != "rec-1" {
		t.Fatalf("min_duration: %+v", p.Items)
	}
	e.must(req{method: "GET", path: "/api/v1/recordings", token: agentTok}, http.StatusOK, &p)
	if len(p.Items) != 1 || p.Items[0].ID != "rec-0" {
		t.Fatalf("an agent sees %+v", p.Items)
	}
	wantField(t, e.do(req{method: "GET", path: "/api/v1/recordings?agent_id=someone-else", token: agentTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/recordings", token: repTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/recordings?max_duration=-1", token: qaTok}), http.StatusBadRequest, "max_duration")

	// The whole file, then a range (206), then a foreign one refused.
	r := e.must(req{method: "GET", path: "/api/v1/recordings/rec-0/audio", token: agentTok}, http.StatusOK, nil)
	if !bytes.Equal(r.Body, audio) || r.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("audio %d bytes, type %q", len(r.Body), r.Header.Get("Content-Type"))
	}
	r = e.must(req{method: "GET", path: "/api/v1/recordings/rec-1/audio?download=1", token: qaTok, header: map[string]string{"Range": "bytes=10-19"}}, http.StatusPartialContent, nil)
	if string(r.Body) != "0123456789" || r.Header.Get("Content-Range") != "bytes 10-19/1000" {
		t.Fatalf("range: %q %q", r.Body, r.Header.Get("Content-Range"))
	}
	wantField(t, e.do(req{method: "GET", path: "/api/v1/recordings/rec-1/audio", token: agentTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/recordings/rec-1", token: agentTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/recordings/nope/audio", token: qaTok}), http.StatusNotFound, "")

	// Every listen or download is audited, refusals too.
	au, err := e.st.Audit().List(t.Context(), store.AuditFilter{Resource: "recordings"}, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range au.Items {
		got = append(got, fmt.Sprintf("%s %s %d %s", a.Username, a.ResourceID, a.Result, a.Detail))
	}
	want := []string{"quinn nope 404 not_found", "ann rec-1 403 forbidden", "quinn rec-1 206 download", "ann rec-0 200 listen"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audit:\n got %q\nwant %q", got, want)
	}
}

func TestWebhooksListing(t *testing.T) {
	eps := []webhook.Endpoint{{ID: "crm", URL: "http://127.0.0.1:9/hook", Secret: "s3cret", Types: []string{"call.*"}}}
	d, err := webhook.New(webhook.Options{Endpoints: eps})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	e := newEnvOpt(t, func(o *Options) { o.Webhooks, o.Dispatcher = eps, d })
	_, supTok := e.userToken("sam", store.RoleSupervisor, "")
	r := e.must(req{method: "GET", path: "/api/v1/webhooks", token: adminSecret}, http.StatusOK, nil)
	if strings.Contains(string(r.Body), "s3cret") || !strings.Contains(string(r.Body), `"url":"http://127.0.0.1:9/hook"`) ||
		!strings.Contains(string(r.Body), `"delivered":0`) {
		t.Fatalf("webhooks %s", r.Body)
	}
	wantField(t, e.do(req{method: "GET", path: "/api/v1/webhooks", token: supTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/queue-events", token: supTok}), http.StatusOK, "")
	agentID, _ := e.seed()
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	wantField(t, e.do(req{method: "GET", path: "/api/v1/queue-events", token: agentTok}), http.StatusForbidden, "")
	wantField(t, e.do(req{method: "GET", path: "/api/v1/cdrs/x", token: agentTok}), http.StatusForbidden, "")
}

// --- the CTI WebSocket, over a real loopback server and the gobwas client.

type wsClient struct {
	t    *testing.T
	conn io.ReadWriteCloser
}

func dialEvents(t *testing.T, srv *httptest.Server, query string, header http.Header) (*wsClient, error) {
	t.Helper()
	d := ws.Dialer{Timeout: 10 * time.Second}
	if header != nil {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/events" + query
	conn, br, _, err := d.Dial(t.Context(), url)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	if br != nil { // frames that arrived with the handshake's answer
		return &wsClient{t: t, conn: struct {
			io.Reader
			io.Writer
			io.Closer
		}{br, conn, conn}}, nil
	}
	return &wsClient{t: t, conn: conn}, nil
}

// next reads one event (answering pings) within a generous deadline.
func (c *wsClient) next() cti.Event {
	c.t.Helper()
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		b, err := wsutil.ReadServerText(c.conn.(io.ReadWriter))
		ch <- res{b, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			c.t.Fatalf("read event: %v", r.err)
		}
		var ev cti.Event
		if err := jsonUnmarshal(r.b, &ev); err != nil {
			c.t.Fatalf("event %s: %v", r.b, err)
		}
		return ev
	case <-time.After(10 * time.Second):
		c.t.Fatal("no event")
	}
	return cti.Event{}
}

func TestEventsWebSocket(t *testing.T) {
	hub, err := cti.New(cti.Options{FirstSeq: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	e := newEnvOpt(t, func(o *Options) { o.Live = &fakeLive{hub: hub}; o.WSPingInterval = 50 * time.Millisecond })
	agentID, _ := e.seed()
	_, agentTok := e.userToken("ann", store.RoleAgent, agentID)
	srv := httptest.NewServer(e.h)
	defer srv.Close()

	if _, err := dialEvents(t, srv, "?token=wrong", nil); err == nil {
		t.Fatal("a bad token was accepted")
	}
	if _, err := dialEvents(t, srv, "", nil); err == nil {
		t.Fatal("no token was accepted")
	}
	agent, err := dialEvents(t, srv, "", http.Header{"Authorization": {"Bearer " + agentTok}})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := dialEvents(t, srv, "?token="+adminSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The handler subscribes before it completes the handshake: both
	// subscriptions exist once Dial has returned.
	publish := func(agent string, n int) uint64 {
		return hub.Publish(cti.Event{Type: "agent.state", AgentID: agent, Payload: []byte(fmt.Sprintf(`{"n":%d}`, n))})
	}
	publish("other-agent", 1)
	s2 := publish(agentID, 2)
	if ev := agent.next(); ev.Seq != s2 || ev.AgentID != agentID {
		t.Fatalf("agent got %+v: it must see only its own events", ev)
	}
	if ev := admin.next(); ev.AgentID != "other-agent" {
		t.Fatalf("admin got %+v first", ev)
	}
	if ev := admin.next(); ev.Seq != s2 {
		t.Fatalf("admin got %+v second", ev)
	}
	// The agent goes away; three events of its own are published (and one
	// of another agent); reconnecting with since replays exactly those.
	agent.conn.Close()
	var missed []uint64
	for i := range 3 {
		missed = append(missed, publish(agentID, 10+i))
		publish("other-agent", 20+i)
	}
	again, err := dialEvents(t, srv, fmt.Sprintf("?since=%d", s2), http.Header{"Authorization": {"Bearer " + agentTok}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range missed {
		if ev := again.next(); ev.Seq != want || ev.AgentID != agentID {
			t.Fatalf("replay got %+v, want seq %d", ev, want)
		}
	}
	live := publish(agentID, 99)
	if ev := again.next(); ev.Seq != live {
		t.Fatalf("after the replay got %+v, want the live %d", ev, live)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestEventsSlowClient: a client that does not read while many large
// events are published never blocks the publisher; when it reads again it
// gets a gap event for what fell out of the retention window, then the
// newest events.
func TestEventsSlowClient(t *testing.T) {
	hub, err := cti.New(cti.Options{FirstSeq: 1, Retention: 8, Buffer: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	e := newEnvOpt(t, func(o *Options) { o.Live = &fakeLive{hub: hub} })
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	c, err := dialEvents(t, srv, "?token="+adminSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Far more than the socket buffers hold: the server's writer stalls on
	// the socket while Publish goes on.
	payload := []byte(`{"pad":"` + strings.Repeat("x", 64<<10) + `"}`)
	const n = 400
	var last uint64
	for range n {
		last = hub.Publish(cti.Event{Type: "call.update", Payload: payload})
	}
	gap := false
	for {
		ev := c.next()
		if ev.Type == "gap" {
			gap = true
		}
		if ev.Seq == last {
			break
		}
	}
	if !gap {
		t.Fatal("a reader that fell out of the retention window got no gap event")
	}
}

// TestWebhookWiring checks the wiring cmd uses: a Dispatcher following a
// hub subscription (nil filter, live) delivers a published event, signed.
func TestWebhookWiring(t *testing.T) {
	got := make(chan *http.Request, 1)
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify("s3cret", r.Header, body, time.Now(), 5*time.Minute); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		select {
		case got <- r:
		default:
		}
	}))
	defer crm.Close()
	hub, err := cti.New(cti.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	d, err := webhook.New(webhook.Options{Endpoints: []webhook.Endpoint{{ID: "crm", URL: crm.URL, Secret: "s3cret", Types: []string{"call.*"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	sub, err := hub.Subscribe(nil, cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go d.Follow(ctx, sub)
	hub.Publish(cti.Event{Type: "agent.state", AgentID: "a1"}) // filtered out by type
	hub.Publish(cti.Event{Type: "call.offered", CallID: "c1"})
	select {
	case r := <-got:
		if r.Header.Get("X-Hotline-Event") != "call.offered" {
			t.Fatalf("delivered %q", r.Header.Get("X-Hotline-Event"))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
}

// TestEventsKeepalive: the server pings; a client that answers stays
// connected past the timeout (twice the ping interval), a silent one is
// dropped.
func TestEventsKeepalive(t *testing.T) {
	hub, err := cti.New(cti.Options{FirstSeq: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	e := newEnvOpt(t, func(o *Options) { o.Live = &fakeLive{hub: hub}; o.WSPingInterval = 20 * time.Millisecond })
	srv := httptest.NewServer(e.h)
	defer srv.Close()

	silent, err := dialEvents(t, srv, "?token="+adminSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	silentDone := make(chan error, 1)
	go func() {
		for { // read frames raw, never answering a ping
			h, err := ws.ReadHeader(silent.conn)
			if err == nil {
				_, err = io.CopyN(io.Discard, silent.conn, h.Length)
			}
			if err != nil {
				silentDone <- err
				return
			}
		}
	}()

	alive, err := dialEvents(t, srv, "?token="+adminSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	rw := alive.conn.(io.ReadWriter)
	pings := 0
	ctl := wsutil.ControlFrameHandler(rw, ws.StateClientSide)
	rd := &wsutil.Reader{Source: rw, State: ws.StateClientSide, OnIntermediate: ctl}
	published := false
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-deadline:
			t.Fatal("timed out")
		default:
		}
		h, err := rd.NextFrame()
		if err != nil {
			t.Fatalf("the answering client was dropped after %d pings: %v", pings, err)
		}
		if h.OpCode == ws.OpPing {
			pings++
		}
		if h.OpCode.IsControl() {
			if err := ctl(h, rd); err != nil {
				t.Fatal(err)
			}
		} else {
			b, _ := io.ReadAll(rd)
			if strings.Contains(string(b), "still-here") {
				break
			}
		}
		// Ten pings span five timeouts: publish, and expect it.
		if pings == 10 && !published {
			published = true
			hub.Publish(cti.Event{Type: "still-here"})
		}
	}
	select {
	case <-silentDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the silent client was never dropped")
	}
}
