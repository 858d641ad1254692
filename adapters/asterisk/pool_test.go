package asterisk

import (
	"context"
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
