package ivrhttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/controller/ivr"
)

// newServer starts a loopback lookup service; /slow answers only when the
// request is abandoned, and reports on arrived when one came in.
func newServer(t *testing.T) (*httptest.Server, chan struct{}) {
	t.Helper()
	arrived := make(chan struct{}, 10)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /acct/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/json" {
			http.Error(w, "accept", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.PathValue("id") {
		case "42":
			io.WriteString(w, `{"balance":"88.50","owner":{"name":"`+r.URL.Query().Get("who")+`"}}`)
		case "down":
			http.Error(w, `{"error":"maintenance"}`, http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "content type", http.StatusBadRequest)
			return
		}
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat("x", 11))
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, arrived
}

func TestLookup(t *testing.T) {
	srv, _ := newServer(t)
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	status, body, err := c.Lookup(ctx, "GET", srv.URL+"/acct/42?who=li", nil, 10*time.Second)
	if err != nil || status != 200 || string(body) != `{"balance":"88.50","owner":{"name":"li"}}` {
		t.Errorf("GET: %d %q %v", status, body, err)
	}
	status, _, err = c.Lookup(ctx, "GET", srv.URL+"/acct/down", nil, 10*time.Second)
	if err != nil || status != 503 {
		t.Errorf("error status: %d %v", status, err)
	}
	status, body, err = c.Lookup(ctx, "POST", srv.URL+"/echo", []byte(`{"a":1}`), 10*time.Second)
	if err != nil || status != 200 || string(body) != `{"a":1}` {
		t.Errorf("POST: %d %q %v", status, body, err)
	}
	if _, _, err := c.Lookup(ctx, "GET", srv.URL+"/loop", nil, 10*time.Second); err == nil || errors.Is(err, ivr.ErrLookupTimeout) {
		t.Errorf("redirect loop: %v", err)
	}
	if _, _, err := c.Lookup(ctx, "GET", "http://127.0.0.1:1/", nil, 10*time.Second); err == nil {
		t.Error("closed port: no error")
	}
}

func TestLookupBodyLimit(t *testing.T) {
	srv, _ := newServer(t)
	for _, tc := range []struct {
		max  int64
		fail bool
	}{{10, true}, {11, false}} {
		c, err := New(WithMaxBody(tc.max))
		if err != nil {
			t.Fatal(err)
		}
		_, body, err := c.Lookup(context.Background(), "GET", srv.URL+"/big", nil, 10*time.Second)
		if tc.fail != errors.Is(err, ErrBodyTooLarge) || !tc.fail && len(body) != 11 {
			t.Errorf("max %d: %d bytes, %v", tc.max, len(body), err)
		}
	}
	if _, err := New(WithMaxBody(0)); err == nil {
		t.Error("WithMaxBody(0) accepted")
	}
}

func TestLookupTimeout(t *testing.T) {
	srv, _ := newServer(t)
	c, _ := New()
	_, _, err := c.Lookup(context.Background(), "GET", srv.URL+"/slow", nil, 50*time.Millisecond)
	if !errors.Is(err, ivr.ErrLookupTimeout) {
		t.Fatalf("err = %v, want ErrLookupTimeout", err)
	}
}

func TestLookupCallerContextEnds(t *testing.T) {
	srv, arrived := newServer(t)
	c, _ := New()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, _, err := c.Lookup(ctx, "GET", srv.URL+"/slow", nil, time.Hour)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ivr.ErrLookupTimeout) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// session is a caller that never presses a key and records TTS texts.
type session struct {
	mu    sync.Mutex
	texts []string
}

func (s *session) Play(_ context.Context, ms []ivr.Media) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range ms {
		s.texts = append(s.texts, m.Text)
	}
	return nil
}

func (s *session) PlayAndCollect(context.Context, []ivr.Media, ivr.CollectSpec) (string, error) {
	return "", ivr.ErrHangup
}

// TestFlowThroughServer runs an http node end to end: the real client
// against a loopback server, for success, an error status and a timeout.
func TestFlowThroughServer(t *testing.T) {
	srv, _ := newServer(t)
	c, _ := New()
	cases := []struct {
		name, path, outcome, said string
		timeoutMS                 int
	}{
		{"success", "/acct/${acct}?who=${name}", "ok", "余额88.50元，张 三", 5000},
		{"error status", "/acct/down", "status 503", "查询失败", 5000},
		{"not found", "/acct/7", "status 404", "查询失败", 5000},
		{"timeout", "/slow", "timeout", "查询失败", 50},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &ivr.Flow{Language: ivr.LangZH, Start: "h", Nodes: map[string]ivr.Node{
				"h": &ivr.HTTP{Method: "GET", URL: srv.URL + tc.path, TimeoutMS: tc.timeoutMS,
					Result: map[string]string{"bal": "balance", "owner": "owner.name"}, Next: "say", OnFailure: "sorry"},
				"say":   &ivr.Play{Prompt: []ivr.Prompt{ivr.Say("余额${bal}元，${owner}")}, Next: "q"},
				"sorry": &ivr.Play{Prompt: []ivr.Prompt{ivr.Say("查询失败")}, Next: "q"},
				"q":     &ivr.Queue{Queue: "support"},
			}}
			s := &session{}
			res, err := ivr.Run(context.Background(), f, s, ivr.Env{HTTP: c, Vars: map[string]string{"acct": "42", "name": "张 三"}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Path[0].Outcome != tc.outcome || len(s.texts) != 1 || s.texts[0] != tc.said {
				t.Errorf("outcome %q said %q, want %q %q", res.Path[0].Outcome, s.texts, tc.outcome, tc.said)
			}
		})
	}
}
