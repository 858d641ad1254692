package spool_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"sync"

	"hotline/controller/spool"
)

// memSink stands for the store: it upserts by Seq, so a batch written
// twice after a crash leaves one copy.
type memSink struct {
	mu   sync.Mutex
	rows map[uint64]string
}

func (s *memSink) Write(ctx context.Context, batch []spool.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range batch {
		s.rows[r.Seq] = r.Kind + " " + string(r.Data) // INSERT ... ON CONFLICT (seq) DO UPDATE
	}
	return nil
}

func ExampleWriter() {
	dir, err := os.MkdirTemp("", "spool")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sink := &memSink{rows: map[uint64]string{}}
	w, err := spool.OpenWriter(spool.WriterOptions{Dir: dir, Sink: sink})
	if err != nil {
		log.Fatal(err)
	}
	seq, _ := w.Submit(spool.Record{Kind: "cdr", Data: []byte(`{"call_id":"c1","outcome":"answered"}`)})
	// Sync: the CDR now survives a crash; Flush: it is in the store.
	if err := w.Flush(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(seq, sink.rows[seq])
	if err := w.Close(context.Background()); err != nil {
		log.Fatal(err)
	}
	// Output: 1 cdr {"call_id":"c1","outcome":"answered"}
}
