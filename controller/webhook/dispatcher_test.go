package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/controller/cti"
	"hotline/internal/clock"
)

const secret = "s3cret"

// request is what a test server saw.
type request struct {
	header http.Header
	body   []byte
}

// crm is a loopback test server answering with the statuses of replies in
// turn (200 once they run out); a status of 0 hangs until the request ends.
type crm struct {
	*httptest.Server
	mu      sync.Mutex
	replies []int
	got     []request
	seen    chan request
}

func newCRM(t *testing.T, replies ...int) *crm {
	t.Helper()
	c := &crm{replies: replies, seen: make(chan request, 100)}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := request{header: r.Header.Clone(), body: body}
		c.mu.Lock()
		c.got = append(c.got, req)
		status := http.StatusOK
		if len(c.replies) > 0 {
			status, c.replies = c.replies[0], c.replies[1:]
		}
		c.mu.Unlock()
		c.seen <- req
		if status == 0 {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *crm) requests() []request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]request(nil), c.got...)
}

type harness struct {
	d        *Dispatcher
	clk      *clock.Fake
	attempts chan Attempt
}

func newDispatcher(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{clk: clock.NewFake(time.Time{}), attempts: make(chan Attempt, 1000)}
	if opts.Clock == nil {
		opts.Clock = h.clk
	}
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.Rand = func() float64 { return 0.5 }
	opts.OnAttempt = func(a Attempt) { h.attempts <- a }
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.d = d
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		d.Close(ctx)
	})
	return h
}

// next returns the next attempt, failing after a generous deadline.
func (h *harness) next(t *testing.T) Attempt {
	t.Helper()
	select {
	case a := <-h.attempts:
		return a
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery attempt")
		return Attempt{}
	}
}

func event(seq uint64, typ string) cti.Event {
	return cti.Event{Seq: seq, Type: typ, Time: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), CallID: "c1",
		Payload: json.RawMessage(`{"caller":"+8613800000000"}`)}
}

func TestSignatureVerifies(t *testing.T) {
	c := newCRM(t)
	h := newDispatcher(t, Options{Endpoints: []Endpoint{{ID: "crm", URL: c.URL + "/hook", Secret: secret}}})
	ev := event(7, "call.offered")
	h.d.Publish(ev)
	if a := h.next(t); !a.OK || !a.Final {
		t.Fatalf("attempt %+v", a)
	}
	r := c.requests()[0]
	want, _ := json.Marshal(ev)
	if string(r.body) != string(want) {
		t.Fatalf("body %s, want %s", r.body, want)
	}
	// Recompute the documented scheme independently of Sign.
	ts := r.header.Get(HeaderTimestamp)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(r.body)))
	if got := r.header.Get(HeaderSignature); got != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("signature %q", got)
	}
	if err := Verify(secret, r.header, r.body, h.clk.Now(), 5*time.Minute); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	for name, tc := range map[string]struct {
		secret string
		body   string
		now    time.Time
		want   error
	}{
		"wrong secret":   {"other", string(r.body), h.clk.Now(), ErrBadSignature},
		"altered body":   {secret, string(r.body) + " ", h.clk.Now(), ErrBadSignature},
		"replayed later": {secret, string(r.body), h.clk.Now().Add(time.Hour), ErrStaleTimestamp},
	} {
		if err := Verify(tc.secret, r.header, []byte(tc.body), tc.now, 5*time.Minute); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if got := r.header.Get(HeaderEvent); got != "call.offered" {
		t.Errorf("event header %q", got)
	}
	if got := r.header.Get(HeaderDelivery); got != "crm/7" {
		t.Errorf("delivery header %q", got)
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("content type %q", got)
	}
}

func TestRetryPolicy(t *testing.T) {
	cases := []struct {
		name     string
		replies  []int
		attempts int
		ok       bool
	}{
		{"500 then success", []int{500, 503, 200}, 3, true},
		{"408 and 429 retried", []int{408, 429, 200}, 3, true},
		{"400 not retried", []int{400}, 1, false},
		{"404 not retried", []int{404}, 1, false},
		{"302 not followed nor retried", []int{302}, 1, false},
		{"gives up after MaxAttempts", []int{500, 500, 500, 500, 200}, 4, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCRM(t, tc.replies...)
			h := newDispatcher(t, Options{MaxAttempts: 4, MinBackoff: time.Second, MaxBackoff: time.Minute,
				Endpoints: []Endpoint{{ID: "crm", URL: c.URL, Secret: secret}}})
			h.d.Publish(event(1, "call.ended"))
			var last Attempt
			for n := 1; ; n++ {
				last = h.next(t)
				if last.N != n {
					t.Fatalf("attempt numbered %d, want %d", last.N, n)
				}
				if last.Final {
					break
				}
				// Exponential backoff with jitter fixed at 0.5: 0.75 s, 1.5 s, 3 s.
				if want := time.Duration(1<<(n-1)) * 750 * time.Millisecond; last.Retry != want {
					t.Fatalf("retry %d after %v, want %v", n, last.Retry, want)
				}
				h.clk.Advance(last.Retry)
			}
			if last.N != tc.attempts || last.OK != tc.ok {
				t.Fatalf("ended after %d attempts ok=%v (status %d), want %d ok=%v", last.N, last.OK, last.Status, tc.attempts, tc.ok)
			}
			reqs := c.requests()
			if len(reqs) != tc.attempts {
				t.Fatalf("server saw %d requests", len(reqs))
			}
			for _, r := range reqs {
				if r.header.Get(HeaderDelivery) != "crm/1" {
					t.Fatalf("delivery id changed across retries: %q", r.header.Get(HeaderDelivery))
				}
			}
			st := h.d.Stats("crm")
			if tc.ok != (st.Delivered == 1) || tc.ok == (st.Failed == 1) {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	h := newDispatcher(t, Options{Endpoints: []Endpoint{{ID: "crm", URL: srv.URL, Secret: secret}}})
	h.d.Publish(event(1, "call.ended"))
	if a := h.next(t); a.Retry != 30*time.Second {
		t.Fatalf("retry after %v, want the endpoint's 30s", a.Retry)
	}
	h.clk.Advance(30 * time.Second)
	if a := h.next(t); !a.OK {
		t.Fatalf("second attempt %+v", a)
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	c := newCRM(t, 0, 200) // the first attempt hangs
	h := newDispatcher(t, Options{Timeout: 5 * time.Second, Endpoints: []Endpoint{{ID: "crm", URL: c.URL, Secret: secret}}})
	h.d.Publish(event(1, "call.ended"))
	<-c.seen
	h.clk.Advance(5 * time.Second) // the per-attempt timeout
	a := h.next(t)
	if a.Err == nil || a.Final {
		t.Fatalf("timed-out attempt %+v", a)
	}
	h.clk.Advance(a.Retry)
	if a := h.next(t); !a.OK {
		t.Fatalf("retry %+v", a)
	}
}

func TestHangingEndpointNeverBlocksPublish(t *testing.T) {
	hung := newCRM(t, 0) // hangs on its first request until the attempt is cancelled
	healthy := newCRM(t)
	h := newDispatcher(t, Options{QueueSize: 3, Endpoints: []Endpoint{
		{ID: "hung", URL: hung.URL, Secret: secret},
		{ID: "healthy", URL: healthy.URL, Secret: secret, Types: []string{"agent.*"}},
	}})
	h.d.Publish(event(1, "call.offered"))
	<-hung.seen // the worker is now stuck in its first attempt
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint64(2); i <= 1001; i++ {
			h.d.Publish(event(i, "call.offered"))
		}
		h.d.Publish(event(1002, "agent.state"))
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Publish blocked behind a hanging endpoint")
	}
	if st := h.d.Stats("hung"); st.Dropped != 1001-3 || st.Queued != 3 {
		t.Fatalf("hung endpoint stats %+v, want 998 dropped and 3 queued", st)
	}
	// The other endpoint is unaffected and got only what its filter passes.
	a := h.next(t)
	if a.Endpoint != "healthy" || !a.OK || a.Seq != 1002 {
		t.Fatalf("healthy endpoint attempt %+v", a)
	}
	if n := len(healthy.requests()); n != 1 {
		t.Fatalf("healthy endpoint got %d requests", n)
	}
}

func TestNoRedirectToAnotherHost(t *testing.T) {
	other := newCRM(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/here", http.StatusPermanentRedirect)
	})
	var here atomic.Int32
	mux.HandleFunc("/here", func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); r.Method == http.MethodPost && len(b) > 0 {
			here.Add(1)
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h := newDispatcher(t, Options{Endpoints: []Endpoint{
		{ID: "away", URL: srv.URL + "/away", Secret: secret},
		{ID: "moved", URL: srv.URL + "/moved", Secret: secret},
	}})
	h.d.Publish(event(1, "call.ended"))
	got := map[string]Attempt{}
	for range 2 {
		a := h.next(t)
		got[a.Endpoint] = a
	}
	if a := got["away"]; a.OK || !a.Final || a.Status != http.StatusTemporaryRedirect {
		t.Fatalf("redirect to another host: %+v", a)
	}
	if n := len(other.requests()); n != 0 {
		t.Fatalf("the other host received %d requests", n)
	}
	if a := got["moved"]; !a.OK || here.Load() != 1 {
		t.Fatalf("same-host 308: %+v, POSTs with body at target %d", a, here.Load())
	}
}

func TestInvalidEndpoints(t *testing.T) {
	for name, eps := range map[string][]Endpoint{
		"no id":        {{URL: "http://127.0.0.1:1/", Secret: "x"}},
		"duplicate id": {{ID: "a", URL: "http://127.0.0.1:1/", Secret: "x"}, {ID: "a", URL: "http://127.0.0.1:2/", Secret: "x"}},
		"no secret":    {{ID: "a", URL: "http://127.0.0.1:1/"}},
		"ftp":          {{ID: "a", URL: "ftp://127.0.0.1/", Secret: "x"}},
		"no host":      {{ID: "a", URL: "http:///x", Secret: "x"}},
	} {
		if _, err := New(Options{Endpoints: eps}); !errors.Is(err, ErrInvalidEndpoint) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCloseDeliversQueuedThenStops(t *testing.T) {
	c := newCRM(t)
	h := newDispatcher(t, Options{Endpoints: []Endpoint{{ID: "crm", URL: c.URL, Secret: secret}}})
	for i := uint64(1); i <= 5; i++ {
		h.d.Publish(event(i, "call.ended"))
	}
	if err := h.d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := h.d.Stats("crm"); st.Delivered != 5 {
		t.Fatalf("stats after Close %+v", st)
	}
	var seqs []string
	for _, r := range c.requests() {
		seqs = append(seqs, r.header.Get(HeaderDelivery))
	}
	if want := []string{"crm/1", "crm/2", "crm/3", "crm/4", "crm/5"}; !slices.Equal(seqs, want) {
		t.Fatalf("delivered in order %v", seqs)
	}
	h.d.Publish(event(6, "call.ended")) // ignored, no panic
	if err := h.d.Close(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

// FuzzVerify: Verify parses two headers a remote party controls; it must
// not panic and must accept only what Sign produced.
func FuzzVerify(f *testing.F) {
	f.Add("1767603600", "sha256=00", []byte(`{}`))
	f.Add("", "", []byte(nil))
	f.Add("-99999999999999999999", "sha256=", []byte("x"))
	f.Add("1767603600", Sign(secret, "1767603600", []byte(`{"a":1}`)), []byte(`{"a":1}`))
	now := time.Unix(1767603600, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		err := Verify(secret, h, body, now, 5*time.Minute)
		if err == nil && h.Get(HeaderSignature) != Sign(secret, h.Get(HeaderTimestamp), body) {
			t.Fatalf("accepted a signature Sign did not make: %q", sig)
		}
	})
}

func TestFollowHub(t *testing.T) {
	c := newCRM(t)
	h := newDispatcher(t, Options{Endpoints: []Endpoint{{ID: "crm", URL: c.URL, Secret: secret, Types: []string{"call.*"}}}})
	hub, err := cti.New(cti.Options{Clock: h.clk, FirstSeq: 1})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := hub.Subscribe(nil, cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.d.Follow(context.Background(), sub) }()
	hub.Publish(cti.Event{Type: "call.offered", CallID: "c1"})
	hub.Publish(cti.Event{Type: "agent.state", AgentID: "a1"})
	hub.Publish(cti.Event{Type: "call.answered", CallID: "c1"})
	for _, want := range []uint64{1, 3} {
		if a := h.next(t); !a.OK || a.Seq != want {
			t.Fatalf("attempt %+v, want seq %d delivered", a, want)
		}
	}
	hub.Close()
	if err := <-done; !errors.Is(err, cti.ErrClosed) {
		t.Fatalf("Follow ended with %v", err)
	}
	var types []string
	for _, r := range c.requests() {
		types = append(types, r.header.Get(HeaderEvent))
	}
	if !slices.Equal(types, []string{"call.offered", "call.answered"}) {
		t.Fatalf("CRM received %v", types)
	}
}

func TestDispatcherMetrics(t *testing.T) {
	c := newCRM(t, 500)
	reg := prometheus.NewRegistry()
	h := newDispatcher(t, Options{Registerer: reg, Endpoints: []Endpoint{{ID: "crm", URL: c.URL, Secret: secret}}})
	h.d.Publish(event(1, "call.ended"))
	h.clk.Advance(h.next(t).Retry)
	h.next(t)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			got[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"hotline_webhook_attempts_total,endpoint=crm,outcome=5xx":        1,
		"hotline_webhook_attempts_total,endpoint=crm,outcome=2xx":        1,
		"hotline_webhook_deliveries_total,endpoint=crm,result=delivered": 1,
		"hotline_webhook_queued":                                         0,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
}
