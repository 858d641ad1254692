package asterisk

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestARIConnectionsBounded: a burst of requests far above Asterisk's
// default HTTP sessionlimit (100) opens at most maxARIConns connections,
// and every request succeeds (the excess waits for a connection instead of
// being closed by Asterisk, which the client would see as EOF).
func TestARIConnectionsBounded(t *testing.T) {
	var open, peak atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // a busy Asterisk: requests overlap
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			n := open.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	c := &ariClient{base: srv.URL, timeout: 30 * time.Second, http: newHTTP()}
	const burst = 3 * maxARIConns
	var wg sync.WaitGroup
	errs := make(chan error, burst)
	for range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.do(context.Background(), http.MethodPost, "/channels/x/answer", nil, nil, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("request failed: %v", err)
		}
	}
	if p := peak.Load(); p > maxARIConns {
		t.Fatalf("%d connections open at once, want at most %d", p, maxARIConns)
	}
}

// TestReaderAfterCloseDoesNotBlock: an events connection redialled while
// Close runs (Close has cancelled the backend but the reader had not yet
// registered the new socket) is closed by the reader itself, instead of
// being read for ever with Close waiting on the reader.
func TestReaderAfterCloseDoesNotBlock(t *testing.T) {
	f := newFakeARI(t)
	b, err := New(Config{URL: f.srv.URL + "/ari", User: "hotline", Password: "pw", CommandTimeout: 2 * time.Second,
		DialTimeout: 2 * time.Second, PingInterval: time.Hour}, "fake", testLogger())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := b.dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b.cancel() // what Close does first
	done := make(chan error, 1)
	go func() { done <- b.readLoop(conn) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("reader returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		b.closeConn(conn)
		t.Fatal("the reader kept reading a socket redialled after Close")
	}
}
