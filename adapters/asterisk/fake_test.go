package asterisk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"hotline/mediacore"
)

// fakeARI speaks enough of ARI (rest-api/*.json: REST + the events
// WebSocket) for the fault cases a real Asterisk cannot be made to
// produce on demand: unknown and malformed events, a dropped socket, a
// hung request. It logs every request but pings.
type fakeARI struct {
	srv *httptest.Server

	mu       sync.Mutex // guards the fields below
	reqs     []string
	conns    []*websocket.Conn
	channels []map[string]any
	hang     map[string]bool // "METHOD /path" that never answer
	pingHang bool
	refuseWS bool
	release  chan struct{}
	wsUp     chan struct{}
}

func newFakeARI(t *testing.T) *fakeARI {
	f := &fakeARI{hang: map[string]bool{}, release: make(chan struct{}), wsUp: make(chan struct{}, 16)}
	mux := http.NewServeMux()
	mux.Handle("/ari/events", websocket.Server{Handshake: func(*websocket.Config, *http.Request) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.refuseWS {
			return errors.New("refused")
		}
		return nil
	},
		Handler: func(c *websocket.Conn) {
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			f.wsUp <- struct{}{}
			_, _ = io.Copy(io.Discard, c) // until closed
		}})
	mux.HandleFunc("/ari/", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "hotline" || p != "pw" {
			http.Error(w, `{"message":"auth"}`, http.StatusUnauthorized)
			return
		}
		key := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/ari")
		f.mu.Lock()
		hang := f.hang[key] || (key == "GET /asterisk/ping" && f.pingHang)
		if key != "GET /asterisk/ping" {
			body, _ := io.ReadAll(r.Body)
			f.reqs = append(f.reqs, key+"?"+r.URL.RawQuery+" "+string(body))
		}
		chans := f.channels
		f.mu.Unlock()
		if hang {
			select {
			case <-f.release:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch key {
		case "GET /channels":
			_ = json.NewEncoder(w).Encode(chans)
		case "GET /bridges", "GET /recordings/stored":
			_, _ = w.Write([]byte("[]"))
		default:
			_, _ = w.Write([]byte("{}"))
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(f.release)
		f.dropAll()
		f.srv.Close()
	})
	return f
}

func (f *fakeARI) send(t *testing.T, frame string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.conns) == 0 {
		t.Fatal("no events socket")
	}
	if err := websocket.Message.Send(f.conns[len(f.conns)-1], frame); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeARI) dropAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

func (f *fakeARI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

// events collects what the backend emits.
type events struct {
	mu  sync.Mutex
	evs []mediacore.Event
	ch  chan struct{}
}

func newEvents() *events { return &events{ch: make(chan struct{}, 1)} }

func (e *events) sink(ev mediacore.Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

func (e *events) wait(t *testing.T, what string, pred func(mediacore.Event) bool) mediacore.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		e.mu.Lock()
		evs := append([]mediacore.Event(nil), e.evs...)
		e.mu.Unlock()
		for _, ev := range evs {
			if pred(ev) {
				return ev
			}
		}
		select {
		case <-e.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; got %+v", what, e.evs)
		}
	}
}

func (e *events) count(typ mediacore.EventType) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.evs {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

func startFake(t *testing.T, f *fakeARI, mutate func(*Config)) (*Backend, *events) {
	t.Helper()
	cfg := Config{URL: f.srv.URL + "/ari", User: "hotline", Password: "pw", CommandTimeout: 2 * time.Second,
		DialTimeout: 2 * time.Second, PingInterval: time.Hour, MaxBackoff: 100 * time.Millisecond}
	if mutate != nil {
		mutate(&cfg)
	}
	b, err := New(cfg, "fake", testLogger())
	if err != nil {
		t.Fatal(err)
	}
	evs := newEvents()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Start(ctx, evs.sink); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	<-f.wsUp
	return b, evs
}

func stasisStart(id string) string {
	return `{"type":"StasisStart","application":"hotline","timestamp":"2026-12-07T03:40:00.000+0000","args":[],` +
		`"channel":{"id":"` + id + `","name":"PJSIP/hotline-1","state":"Ring","caller":{"name":"","number":"2000"},` +
		`"dialplan":{"context":"from-hotline","exten":"100","priority":1,"app_name":"Stasis","app_data":"hotline"},` +
		`"creationtime":"2026-12-07T03:40:00.000+0000","language":"en"}}`
}

func created(id string) func(mediacore.Event) bool {
	return func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventChannelCreated && ev.Channel == mediacore.ChannelID(id)
	}
}

// An unknown event type, a type the library does not model, a malformed
// frame and a frame of the wrong shape neither crash nor wedge the
// reader: the next StasisStart is reported.
func TestFakeUnknownAndMalformedEvents(t *testing.T) {
	f := newFakeARI(t)
	_, evs := startFake(t, f, nil)
	for _, frame := range []string{
		`{"type":"ChannelToneDetected","channel":{"id":"x"}}`,
		`{"type":"SomethingAsterisk99Adds","data":[1,2,3]}`,
		`{"type":"ChannelTransfer","referred_by":{"source_channel":{"id":"nobody"}}}`,
		`{"type":"StasisStart","channel":"not an object"}`,
		`{"type":"ChannelDtmfReceived","channel":{"id":"unknown"},"digit":"5"}`,
		`{not json`,
		``,
		`{"type":""}`,
		`null`,
	} {
		f.send(t, frame)
	}
	f.send(t, stasisStart("c1"))
	ev := evs.wait(t, "ChannelCreated c1", created("c1"))
	if ev.Caller != "2000" || ev.Called != "100" || ev.Direction != mediacore.Inbound {
		t.Errorf("created %+v", ev)
	}
	// The same frame twice (two overlapping subscriptions) is one event.
	f.send(t, `{"type":"ChannelDtmfReceived","timestamp":"2026-12-07T03:40:01.000+0000","channel":{"id":"c1"},"digit":"7","duration_ms":100}`)
	f.send(t, `{"type":"ChannelDtmfReceived","timestamp":"2026-12-07T03:40:01.000+0000","channel":{"id":"c1"},"digit":"7","duration_ms":100}`)
	f.send(t, `{"type":"ChannelDtmfReceived","timestamp":"2026-12-07T03:40:01.200+0000","channel":{"id":"c1"},"digit":"8","duration_ms":100}`)
	evs.wait(t, "digit 8", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventDTMF && ev.Digit == '8' })
	if n := evs.count(mediacore.EventDTMF); n != 2 {
		t.Errorf("%d DTMF events, want 2 (7 once, 8)", n)
	}
}

// A dropped WebSocket: BackendDown, redial with backoff, reconcile with
// GET /channels (a channel that ended meanwhile is forgotten, one that
// appeared in the app is adopted), BackendUp.
func TestFakeDroppedWebSocket(t *testing.T) {
	f := newFakeARI(t)
	b, evs := startFake(t, f, nil)
	f.send(t, stasisStart("gone"))
	evs.wait(t, "created gone", created("gone"))

	f.mu.Lock()
	f.refuseWS = true // the first redials fail
	f.channels = []map[string]any{{"id": "adopted", "state": "Up", "caller": map[string]string{"number": "3000"},
		"dialplan":     map[string]string{"exten": "300", "app_name": "Stasis", "app_data": "hotline"},
		"creationtime": "2026-12-07T03:40:00.000+0000"}}
	f.mu.Unlock()
	f.dropAll()
	evs.wait(t, "BackendDown", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendDown })
	if _, err := b.Channels(context.Background()); !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Errorf("Channels while down: %v, want ErrBackendUnavailable", err)
	}
	time.Sleep(300 * time.Millisecond) // a few refused redials
	f.mu.Lock()
	f.refuseWS = false
	f.mu.Unlock()
	evs.wait(t, "BackendUp again", func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventBackendUp && evs.count(mediacore.EventBackendUp) == 2
	})
	chans, err := b.Channels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(chans) != 1 || chans[0].ID != "adopted" || chans[0].State != mediacore.ChannelUp || chans[0].Answered.IsZero() {
		t.Errorf("after reconcile: %+v, want only the adopted channel, up", chans)
	}
	if err := b.Answer(context.Background(), "gone"); !errors.Is(err, mediacore.ErrNoSuchChannel) {
		t.Errorf("answer a channel that ended while down: %v", err)
	}
}

// A request that never answers times out with ErrTimeout; the adapter
// keeps working.
func TestFakeHungRequest(t *testing.T) {
	f := newFakeARI(t)
	b, evs := startFake(t, f, func(c *Config) { c.CommandTimeout = 300 * time.Millisecond })
	f.send(t, stasisStart("c1"))
	evs.wait(t, "created", created("c1"))
	f.mu.Lock()
	f.hang["POST /channels/c1/answer"] = true
	f.mu.Unlock()
	start := time.Now()
	err := b.Answer(context.Background(), "c1")
	if !errors.Is(err, mediacore.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung answer: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hung answer returned after %v", d)
	}
	if err := b.Ring(context.Background(), "c1"); err != nil {
		t.Errorf("ring after a timeout: %v", err)
	}
	// The caller's ctx wins over the command timeout.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Answer(ctx, "c1"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled answer: %v", err)
	}
}

// A socket that stays open while ARI stops answering (wedged Asterisk):
// the ping watchdog closes it, BackendDown follows.
func TestFakeWatchdog(t *testing.T) {
	f := newFakeARI(t)
	_, evs := startFake(t, f, func(c *Config) {
		c.PingInterval = 100 * time.Millisecond
		c.CommandTimeout = 200 * time.Millisecond
	})
	f.mu.Lock()
	f.pingHang = true
	f.mu.Unlock()
	ev := evs.wait(t, "BackendDown", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendDown })
	if !strings.Contains(ev.Err, "watchdog") {
		t.Errorf("down because %q", ev.Err)
	}
	f.mu.Lock()
	f.pingHang = false
	f.mu.Unlock()
	evs.wait(t, "BackendUp again", func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventBackendUp && evs.count(mediacore.EventBackendUp) == 2
	})
}

// Start fails (and does not hang) when ARI is unreachable.
func TestFakeStartUnreachable(t *testing.T) {
	f := newFakeARI(t)
	url := f.srv.URL
	f.srv.Close()
	b, err := New(Config{URL: url + "/ari", User: "hotline", Password: "pw", DialTimeout: time.Second}, "x", testLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.Start(context.Background(), func(mediacore.Event) {})
	if !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Fatalf("start: %v", err)
	}
	if strings.Contains(err.Error(), "pw") {
		t.Errorf("error leaks the password: %v", err)
	}
}
