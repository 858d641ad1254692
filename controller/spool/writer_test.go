package spool

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/internal/clock"
)

var errDown = errors.New("database down")

// fakeSink stores what it is given, or fails, as its decide function says.
type fakeSink struct {
	mu       sync.Mutex
	decide   func(batch []Record) (store bool, hang bool, err error) // nil: store, succeed
	batches  [][]Record                                              // every stored batch, in order
	attempts int
	kick     chan struct{}
}

func newSink() *fakeSink { return &fakeSink{kick: make(chan struct{}, 1)} }

func (s *fakeSink) Write(ctx context.Context, batch []Record) error {
	s.mu.Lock()
	s.attempts++
	store, hang, err := true, false, error(nil)
	if s.decide != nil {
		store, hang, err = s.decide(batch)
	}
	if store {
		cp := make([]Record, len(batch))
		for i, r := range batch {
			cp[i] = Record{Seq: r.Seq, Kind: r.Kind, Data: append([]byte(nil), r.Data...)}
		}
		s.batches = append(s.batches, cp)
	}
	s.mu.Unlock()
	wake(s.kick)
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (s *fakeSink) set(decide func([]Record) (bool, bool, error)) {
	s.mu.Lock()
	s.decide = decide
	s.mu.Unlock()
}

func (s *fakeSink) count() (attempts, stored int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batches {
		stored += len(b)
	}
	return s.attempts, stored
}

// log returns the stored records in the order they were written.
func (s *fakeSink) log() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

func failing([]Record) (bool, bool, error) { return false, false, errDown }
func hanging([]Record) (bool, bool, error) { return false, true, nil }

// drive advances the fake clock until cond holds, waiting on the sink's
// attempts between steps; it fails after a generous real deadline.
func drive(t *testing.T, clk *clock.Fake, sink *fakeSink, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		clk.Advance(time.Minute)
		select {
		case <-sink.kick:
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func openWriter(t *testing.T, dir string, sink Sink, clk clock.Clock) *Writer {
	t.Helper()
	w, err := OpenWriter(WriterOptions{Dir: dir, Sink: sink, Clock: clk, Logger: quiet,
		BatchSize: 25, SegmentSize: 2048, MinBackoff: time.Second, MaxBackoff: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		w.Close(ctx)
	})
	return w
}

func data(seq uint64) []byte { return []byte(fmt.Sprintf("cdr-%d", seq)) }

func submit(t *testing.T, w *Writer, n int) {
	t.Helper()
	for range n {
		w.mu.Lock()
		next := w.nextSeq
		w.mu.Unlock()
		seq, err := w.Submit(Record{Kind: "cdr", Data: data(next)})
		if err != nil {
			t.Fatalf("Submit: %v", err)
		}
		if seq != next {
			t.Fatalf("Submit gave seq %d, want %d", seq, next)
		}
	}
}

// checkStream verifies the sink's log: records in batches whose seqs are
// consecutive, never skipping ahead of what was stored (a redelivery may
// start again lower), with the right data, covering exactly 1..n.
func checkStream(t *testing.T, log []Record, n uint64, allowDuplicates bool) {
	t.Helper()
	checkStreamData(t, log, n, allowDuplicates, func(seq uint64) string { return string(data(seq)) })
}

func checkStreamData(t *testing.T, log []Record, n uint64, allowDuplicates bool, want func(uint64) string) {
	t.Helper()
	var high uint64
	seen := map[uint64]bool{}
	for i, r := range log {
		if r.Kind != "cdr" || string(r.Data) != want(r.Seq) {
			t.Fatalf("record %d: seq %d kind %q data %q", i, r.Seq, r.Kind, r.Data)
		}
		if r.Seq > high+1 {
			t.Fatalf("record %d: seq %d written while only %d were stored: out of order", i, r.Seq, high)
		}
		if seen[r.Seq] && !allowDuplicates {
			t.Fatalf("seq %d written twice", r.Seq)
		}
		if i > 0 && r.Seq <= log[i-1].Seq && r.Seq > high {
			t.Fatalf("record %d: seq %d after %d", i, r.Seq, log[i-1].Seq)
		}
		seen[r.Seq] = true
		high = max(high, r.Seq)
	}
	if uint64(len(seen)) != n || high != n {
		t.Fatalf("sink holds %d distinct records up to %d, want 1..%d", len(seen), high, n)
	}
}

func TestWriterSinkDownThenBack(t *testing.T) {
	clk := clock.NewFake(time.Time{})
	sink := newSink()
	sink.set(failing)
	w := openWriter(t, t.TempDir(), sink, clk)
	submit(t, w, 500)
	drive(t, clk, sink, func() bool { a, _ := sink.count(); return a >= 4 })
	if _, stored := sink.count(); stored != 0 || w.Backlog() != 500 {
		t.Fatalf("stored %d, backlog %d while the sink was down", stored, w.Backlog())
	}
	submit(t, w, 100) // still accepted while the sink is down
	sink.set(nil)
	drive(t, clk, sink, func() bool { return w.Backlog() == 0 })
	checkStream(t, sink.log(), 600, false)
	if err := w.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestWriterCrashLosesNothingDurable(t *testing.T) {
	for _, torn := range []bool{false, true} {
		t.Run(fmt.Sprintf("torn=%v", torn), func(t *testing.T) {
			dir := t.TempDir()
			clk := clock.NewFake(time.Time{})
			sink := newSink()
			var mu sync.Mutex
			budget := 60 // records the sink takes before it hangs
			sink.set(func(b []Record) (bool, bool, error) {
				mu.Lock()
				defer mu.Unlock()
				if budget <= 0 {
					return false, true, nil
				}
				budget -= len(b)
				return true, false, nil
			})
			w := openWriter(t, dir, sink, clk)
			submit(t, w, 300)
			if err := w.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
			drive(t, clk, sink, func() bool { _, s := sink.count(); return s >= 60 })
			w.abandon() // a crash: no Close
			if torn {
				segs := segFiles(t, dir)
				appendBytes(t, segs[len(segs)-1], []byte{42, 0, 0, 0, 9, 9, 9})
			}

			sink2 := newSink()
			w = openWriter(t, dir, sink2, clk)
			_, stored := sink.count()
			if r := w.Recovery(); torn != (r.TruncatedBytes == 7) || r.Records < uint64(300-stored) || r.Records == 0 {
				t.Fatalf("recovery %+v", r)
			}
			submit(t, w, 50) // new records follow the replayed ones
			drive(t, clk, sink2, func() bool { return w.Backlog() == 0 })
			checkStream(t, append(sink.log(), sink2.log()...), 350, true)
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSubmitNeverBlocksOnHangingSink(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(time.Time{})
	sink := newSink()
	sink.set(hanging)
	w := openWriter(t, dir, sink, clk)
	done := make(chan struct{})
	go func() {
		defer close(done)
		submit(t, w, 3000)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Submit blocked while the sink hangs")
	}
	if err := w.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Close gives up when its context ends, leaving the records on disk.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close with a hanging sink: %v", err)
	}
	if _, err := w.Submit(Record{Kind: "cdr"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit after Close: %v", err)
	}
	sink2 := newSink()
	w = openWriter(t, dir, sink2, clk)
	if r := w.Recovery(); r.Records != 3000 {
		t.Fatalf("recovered %d records, want 3000", r.Records)
	}
	drive(t, clk, sink2, func() bool { return w.Backlog() == 0 })
	checkStream(t, sink2.log(), 3000, false)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestWriterRandomFailures runs rounds of concurrent submissions against a
// sink that fails at random, stores and then fails (a crash between write
// and ack), or hangs until its write timeout, with crashes and reopens in
// between: every record that Sync confirmed arrives, in order.
func TestWriterRandomFailures(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 99))
			sinkRng := rand.New(rand.NewPCG(seed, 7))
			var rmu, wmu sync.Mutex
			want := map[uint64]string{}
			decide := func([]Record) (bool, bool, error) {
				rmu.Lock()
				defer rmu.Unlock()
				switch x := sinkRng.IntN(10); {
				case x < 2:
					return false, false, errDown
				case x < 3:
					return true, false, errDown // stored, not acknowledged
				case x < 4:
					return false, true, nil
				}
				return true, false, nil
			}
			dir := t.TempDir()
			clk := clock.NewFake(time.Time{})
			sink := newSink()
			sink.set(decide)
			w := openWriter(t, dir, sink, clk)
			total := 0
			for round := range 12 {
				n := 1 + rng.IntN(60)
				var wg sync.WaitGroup
				for g := range 3 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range n {
							d := fmt.Sprintf("g%d-r%d-%d", g, round, i)
							seq, err := w.Submit(Record{Kind: "cdr", Data: []byte(d)})
							if err != nil {
								t.Error(err)
								return
							}
							wmu.Lock()
							want[seq] = d
							wmu.Unlock()
						}
					}()
				}
				wg.Wait()
				total += 3 * n
				if err := w.Sync(context.Background()); err != nil {
					t.Fatal(err)
				}
				for range rng.IntN(5) {
					clk.Advance(time.Minute)
					select {
					case <-sink.kick:
					case <-time.After(time.Millisecond):
					}
				}
				if round%4 == 3 {
					w.abandon()
					w = openWriter(t, dir, sink, clk)
				}
			}
			sink.set(nil)
			drive(t, clk, sink, func() bool { return w.Backlog() == 0 })
			checkStreamData(t, sink.log(), uint64(total), true, func(seq uint64) string { return want[seq] })
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRecordEncoding(t *testing.T) {
	for _, r := range []Record{{Kind: "cdr", Data: []byte(`{"a":1}`)}, {}, {Kind: "queue_event"}} {
		got, err := DecodeRecord(7, EncodeRecord(r))
		if err != nil || got.Seq != 7 || got.Kind != r.Kind || string(got.Data) != string(r.Data) {
			t.Fatalf("round trip of %+v: %+v %v", r, got, err)
		}
	}
	for _, p := range [][]byte{nil, {0x80}, {5, 'a'}} {
		if _, err := DecodeRecord(1, p); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("DecodeRecord(%v): %v", p, err)
		}
	}
}

func TestSubmitOverloadedWhenTheDiskStalls(t *testing.T) {
	clk := clock.NewFake(time.Time{})
	w, err := OpenWriter(WriterOptions{Dir: t.TempDir(), Sink: newSink(), Clock: clk, Logger: quiet, MaxPending: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	w.sp.mu.Lock() // the disk stalls: appends cannot proceed
	for i := range 3 {
		if _, err := w.Submit(Record{Kind: "cdr", Data: data(uint64(i + 1))}); err != nil {
			w.sp.mu.Unlock()
			t.Fatalf("Submit %d: %v", i, err)
		}
	}
	_, err = w.Submit(Record{Kind: "cdr"})
	w.sp.mu.Unlock()
	if !errors.Is(err, ErrOverloaded) {
		t.Fatalf("Submit beyond MaxPending: %v", err)
	}
	if err := w.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWriterMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	clk := clock.NewFake(time.Time{})
	sink := newSink()
	w, err := OpenWriter(WriterOptions{Dir: t.TempDir(), Sink: sink, Clock: clk, Logger: quiet, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	submit(t, w, 3)
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()] += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for name, want := range map[string]float64{
		"hotline_spool_records_submitted_total": 3,
		"hotline_spool_records_appended_total":  3,
		"hotline_spool_records_written_total":   3,
		"hotline_spool_records_unacked":         0,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}
