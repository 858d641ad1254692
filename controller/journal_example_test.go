package controller_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"hotline/controller"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
)

// The journal as the daemon uses it: opened on a directory of the data
// dir over the store, handed records by the call path (never blocking it),
// and closed on shutdown.
func ExampleOpenJournal() {
	dir, _ := os.MkdirTemp("", "journal")
	defer os.RemoveAll(dir)
	st := memstore.New(nil)
	j, err := controller.OpenJournal(dir, st, nil, nil)
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	j.QueueEvents(store.QueueEvent{At: start, Kind: "enqueued", CallID: "c1", Queue: "sales"})
	j.CallEnded(store.CDR{ID: "c1", Caller: "+8613800000000", Called: "800", Start: start,
		End: start.Add(time.Minute), Outcome: store.OutcomeAnswered})
	if err := j.Close(context.Background()); err != nil { // writes what it can, keeps the rest on disk
		panic(err)
	}
	cdr, err := st.CDRs().Get(context.Background(), "c1")
	fmt.Println(cdr.Outcome, err)
	// Output: answered <nil>
}
