package reports_test

import (
	"context"
	"fmt"
	"time"

	"hotline/controller/reports"
	"hotline/controller/store"
)

// A queue's figures from its event log: one call answered after 12 s and
// one abandoned after 40 s, in the 09:00 hour of Paris time.
func ExampleBuild() {
	at := func(m, s int) time.Time { return time.Date(2026, 3, 2, 8, m, s, 0, time.UTC) }
	evs := []store.QueueEvent{
		{Seq: 1, At: at(0, 0), Kind: "queued", CallID: "c1", Queue: "support"},
		{Seq: 2, At: at(0, 12), Kind: "offer-accepted", CallID: "c1", Queue: "support", AgentID: "ann"},
		{Seq: 3, At: at(5, 0), Kind: "queued", CallID: "c2", Queue: "support"},
		{Seq: 4, At: at(5, 40), Kind: "abandoned", CallID: "c2", Queue: "support"},
		{Seq: 5, At: at(3, 12), Kind: "call-ended", CallID: "c1", AgentID: "ann"},
	}
	agg, err := reports.Build(reports.DefaultConfig(), nil, evs)
	if err != nil {
		panic(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	rep, err := agg.QueueReport(context.Background(), reports.Query{
		From: time.Date(2026, 3, 2, 0, 0, 0, 0, paris), To: time.Date(2026, 3, 3, 0, 0, 0, 0, paris),
		Location: paris, Interval: reports.Interval60m,
	})
	if err != nil {
		panic(err)
	}
	for _, r := range rep.Rows {
		fmt.Printf("%s %s offered %d answered %d abandoned %d SL %.2f ASA %.0fs AHT %.0fs\n",
			r.Key, r.Start.Format("15:04"), r.Offered, r.Answered, r.Abandoned, *r.ServiceLevel, *r.ASA, *r.AHT)
	}
	// Output: support 09:00 offered 2 answered 1 abandoned 1 SL 0.50 ASA 12s AHT 180s
}
