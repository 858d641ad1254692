package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/controller"
	"hotline/controller/cti"
	"hotline/controller/reports"
	"hotline/controller/store"
)

// startWindow rebuilds the real-time sliding window from the event log
// of the last reports.MaxWindow; the reporting journal feeds it from
// then on.
func startWindow(ctx context.Context, st store.Store, now time.Time) (*reports.Window, error) {
	win, err := reports.NewWindow(reports.DefaultConfig())
	if err != nil {
		return nil, err
	}
	var last int64
	for {
		evs, err := st.QueueEvents().Search(ctx, store.QueueEventFilter{Since: now.Add(-reports.MaxWindow), AfterSeq: last}, store.MaxLimit)
		if err != nil {
			return nil, fmt.Errorf("real-time statistics: read the event log: %w", err)
		}
		if len(evs) == 0 {
			return win, nil
		}
		for _, ev := range evs {
			win.AddEvent(ev)
		}
		last = evs[len(evs)-1].Seq
	}
}

// startRealtime starts the real-time statistics (GET
// /api/v1/stats/realtime, stats.realtime on the CTI stream each second,
// the hotline_queue_* gauges) over the ACD owner, the report aggregator
// and the sliding window; "today" starts at the node's local midnight.
func startRealtime(ctl *controller.Controller, agg *reports.Aggregator, win *reports.Window, hub *cti.Hub,
	logger *slog.Logger, reg prometheus.Registerer) (*controller.Realtime, error) {
	rt, err := controller.NewRealtime(controller.RealtimeOptions{Controller: ctl, Reports: agg, Window: win, Hub: hub,
		Registerer: reg, Logger: logger.With("component", "realtime")})
	if err != nil {
		return nil, err
	}
	rt.Start()
	return rt, nil
}

// notRealtime keeps the once-a-second wallboard push out of webhook
// deliveries: a CRM endpoint without a type filter is not flooded.
func notRealtime(ev *cti.Event) bool { return ev.Type != controller.RealtimeEventType }
