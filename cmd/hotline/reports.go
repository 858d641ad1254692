package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"hotline/controller"
	"hotline/controller/reports"
	"hotline/controller/store"
)

// reportHistory is how far back the report aggregator is rebuilt from the
// store at start (a month report plus a week-on-week comparison).
const reportHistory = 40 * 24 * time.Hour

// startReports rebuilds the report aggregator from the store's CDRs and
// queue event log of the last reportHistory, in the log's order.
func startReports(ctx context.Context, st store.Store, now time.Time) (*reports.Aggregator, int64, error) {
	since := now.Add(-reportHistory)
	var cdrs []store.CDR
	opt := store.ListOptions{Limit: store.MaxLimit}
	for {
		pg, err := st.CDRs().Search(ctx, store.CDRFilter{Since: since}, opt)
		if err != nil {
			return nil, 0, fmt.Errorf("reports: read CDRs: %w", err)
		}
		cdrs = append(cdrs, pg.Items...)
		if pg.Next == "" {
			break
		}
		opt.After = pg.Next
	}
	var events []store.QueueEvent
	var last int64
	for {
		evs, err := st.QueueEvents().Search(ctx, store.QueueEventFilter{Since: since, AfterSeq: last}, store.MaxLimit)
		if err != nil {
			return nil, 0, fmt.Errorf("reports: read the event log: %w", err)
		}
		events = append(events, evs...)
		if len(evs) == 0 {
			break
		}
		last = evs[len(evs)-1].Seq
	}
	agg, err := reports.Build(reports.DefaultConfig(), cdrs, events)
	if err != nil {
		return nil, 0, err
	}
	return agg, last, nil
}

// reportingJournal hands every record to the journal (durable, to the
// store) and to the report aggregator (in memory), so reports follow the
// calls as they end. The aggregator needs the event log in order with
// increasing sequence numbers: events get this process's own numbers,
// continuing after the last one the aggregator was rebuilt from (the
// store numbers them again when the journal writes them). mu keeps the
// numbering and the aggregator's order the same.
type reportingJournal struct {
	controller.Journal
	agg *reports.Aggregator
	win *reports.Window // the real-time sliding window (nil: none)

	mu  sync.Mutex
	seq int64
}

func (j *reportingJournal) CallEnded(cdr store.CDR) {
	j.Journal.CallEnded(cdr)
	j.agg.AddCDR(cdr)
}

func (j *reportingJournal) QueueEvents(evs ...store.QueueEvent) {
	j.Journal.QueueEvents(evs...)
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, ev := range evs {
		j.seq++
		ev.Seq = j.seq
		j.agg.AddEvent(ev)
		if j.win != nil {
			j.win.AddEvent(ev)
		}
	}
}
