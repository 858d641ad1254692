package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"hotline/controller/cti"
)

// BenchmarkEventsWebSocketFanout1000 is issue 9's "CTI fan-out to 1,000
// WebSocket subscribers": 1,000 real WebSocket clients on loopback, each
// connected to GET /api/v1/events through the whole HTTP stack (auth,
// upgrade, the per-socket writer), and one event published at a time
// into the hub; the next is published once every client has read the
// previous one. Each delivery's latency is the client's read time minus
// the event's publish stamp (cti.Event.Time, same process clock), so it
// includes the hub, the JSON encoding, the socket write, the kernel's
// loopback and the client's frame read. controller/cti's
// BenchmarkFanout1000 is the same without the sockets.
func BenchmarkEventsWebSocketFanout1000(b *testing.B) {
	const subscribers = 1000
	hub, err := cti.New(cti.Options{FirstSeq: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer hub.Close()
	e := newEnvOpt(b, func(o *Options) { o.Live = &fakeLive{hub: hub} })
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/events?token=" + adminSecret

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	conns := make([]net.Conn, subscribers)
	for i := range conns {
		conn, br, _, err := ws.Dialer{Timeout: 10 * time.Second}.Dial(ctx, url)
		if err != nil {
			b.Fatalf("client %d: %v", i, err)
		}
		if br != nil {
			ws.PutReader(br) // nothing is published yet, so nothing is buffered
		}
		conns[i] = conn
	}
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()

	// Every client reads on its own goroutine and reports each event's
	// latency; the publisher waits for all of them before the next event,
	// so the figure is one event's fan-out, not a backlog.
	type delivery struct {
		lat time.Duration
		err error
	}
	got := make(chan delivery, subscribers)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				data, err := wsutil.ReadServerText(c)
				if err != nil {
					if ctx.Err() == nil {
						select {
						case got <- delivery{err: err}:
						case <-ctx.Done():
						}
					}
					return
				}
				now := time.Now()
				var ev cti.Event
				if err := json.Unmarshal(data, &ev); err != nil {
					got <- delivery{err: err}
					return
				}
				select {
				case got <- delivery{lat: now.Sub(ev.Time)}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	// A subscription exists once its upgrade answered; publish a first
	// event until every client has it, so the measured events all reach
	// 1,000 sockets.
	hub.Publish(cti.Event{Type: "call.offered", CallID: "warm-up"})
	for range subscribers {
		if d := <-got; d.err != nil {
			b.Fatal(d.err)
		}
	}

	lat := make([]time.Duration, 0, b.N*subscribers)
	b.ResetTimer()
	for range b.N {
		hub.Publish(cti.Event{Type: "call.offered", CallID: "c1", Queue: "q1"})
		for range subscribers {
			d := <-got
			if d.err != nil {
				b.Fatal(d.err)
			}
			lat = append(lat, d.lat)
		}
	}
	b.StopTimer()
	cancel()
	for _, c := range conns {
		_ = c.Close()
	}
	wg.Wait()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}
