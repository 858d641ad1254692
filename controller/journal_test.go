package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"hotline/controller/spool"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/controller/store/sqlite"
)

// flakyStore fails every journal Put while down, counting the failures.
type flakyStore struct {
	store.Store
	down  atomic.Bool
	fails atomic.Int64
}

var errDown = fmt.Errorf("%w: test outage", store.ErrUnavailable)

func (f *flakyStore) fail() error {
	if f.down.Load() {
		f.fails.Add(1)
		return errDown
	}
	return nil
}

type flakyCDRs struct {
	store.CDRRepo
	f *flakyStore
}

func (r flakyCDRs) Put(ctx context.Context, v ...store.CDR) error {
	if err := r.f.fail(); err != nil {
		return err
	}
	return r.CDRRepo.Put(ctx, v...)
}

type flakyEvents struct {
	store.QueueEventRepo
	f *flakyStore
}

func (r flakyEvents) Put(ctx context.Context, v ...store.QueueEvent) error {
	if err := r.f.fail(); err != nil {
		return err
	}
	return r.QueueEventRepo.Put(ctx, v...)
}

type flakyRecs struct {
	store.RecordingRepo
	f *flakyStore
}

func (r flakyRecs) Put(ctx context.Context, v ...store.Recording) error {
	if err := r.f.fail(); err != nil {
		return err
	}
	return r.RecordingRepo.Put(ctx, v...)
}

func (f *flakyStore) CDRs() store.CDRRepo               { return flakyCDRs{f.Store.CDRs(), f} }
func (f *flakyStore) QueueEvents() store.QueueEventRepo { return flakyEvents{f.Store.QueueEvents(), f} }
func (f *flakyStore) Recordings() store.RecordingRepo   { return flakyRecs{f.Store.Recordings(), f} }

// fastRetry makes the journal retry a failed write within milliseconds.
var fastRetry = WithJournalSpool(func(o *spool.WriterOptions) {
	o.MinBackoff, o.MaxBackoff, o.BatchSize = time.Millisecond, 20*time.Millisecond, 16
})

func journalCDR(i int) store.CDR {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	return store.CDR{ID: fmt.Sprintf("call-%04d", i), Direction: "inbound", Caller: "+8613800000000", Called: "800",
		Start: start, End: start.Add(time.Minute), Outcome: store.OutcomeAnswered, IVRPath: []store.IVRStep{},
		Transfers: []store.CDRTransfer{}, Legs: []store.CDRLeg{}}
}

func journalEvent(i int) store.QueueEvent {
	return store.QueueEvent{At: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond),
		Kind: "agent_state", AgentID: "a1", State: strconv.Itoa(i)}
}

// traffic hands j, for each call i in [first, first+n), two events and,
// for every tenth call, a CDR: so that the journal's batches hold runs of
// events alone as well as mixed runs.
func traffic(j Journal, first, n int) {
	for i := first; i < first+n; i++ {
		j.QueueEvents(journalEvent(2*i), journalEvent(2*i+1))
		if i%10 == 9 {
			j.CallEnded(journalCDR(i))
		}
	}
}

// checkJournal fails unless st holds the CDRs of calls 0..n-1 and their 2n events
// in order (the events' State is their index).
func checkJournal(t *testing.T, st store.Store, n int) {
	t.Helper()
	ctx := t.Context()
	for i := 9; i < n; i += 10 {
		if _, err := st.CDRs().Get(ctx, journalCDR(i).ID); err != nil {
			t.Fatalf("CDR %d: %v", i, err)
		}
	}
	evs, err := st.QueueEvents().Search(ctx, store.QueueEventFilter{}, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	var got []store.QueueEvent
	for len(evs) > 0 {
		got = append(got, evs...)
		evs, err = st.QueueEvents().Search(ctx, store.QueueEventFilter{AfterSeq: evs[len(evs)-1].Seq}, store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2*n {
		t.Fatalf("%d events stored, want %d", len(got), 2*n)
	}
	for i, e := range got {
		if e.State != strconv.Itoa(i) {
			t.Fatalf("event %d is %q: out of order", i, e.State)
		}
	}
}

func waitFlush(t *testing.T, j *SpoolJournal) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := j.Flush(ctx); err != nil {
		t.Fatalf("journal flush: %v (backlog %d)", err, j.Backlog())
	}
}

// waitFor polls cond (a condition of another goroutine's progress) until
// it holds, with a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestJournalStoreDownThenBack(t *testing.T) {
	st := &flakyStore{Store: memstore.New(nil)}
	j, err := OpenJournal(t.TempDir(), st, nil, nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close(context.Background())
	traffic(j, 0, 10)
	waitFlush(t, j)
	st.down.Store(true)
	traffic(j, 10, 40)
	waitFor(t, "writes failing during the outage", func() bool { return st.fails.Load() >= 3 })
	if j.Backlog() == 0 {
		t.Fatal("nothing waits while the store is down")
	}
	traffic(j, 50, 10) // still accepted during the outage
	st.down.Store(false)
	waitFlush(t, j)
	checkJournal(t, st, 60)

	rec := store.Recording{ID: "r1", CallID: "call-0001", Start: journalCDR(1).Start, Path: "2026/03/01/r1.wav", Pauses: []store.RecordPause{}}
	j.RecordingFinished(rec)
	waitFlush(t, j)
	got, err := st.Recordings().Get(t.Context(), "r1")
	if err != nil || got.Path != rec.Path {
		t.Fatalf("recording %+v, %v: the path must survive the journal", got, err)
	}
}

// TestJournalReplayIsIdempotent: the sink writes a batch twice (as after a
// crash between the write and its acknowledgement): one copy of each.
func TestJournalReplayIsIdempotent(t *testing.T) {
	st := memstore.New(nil)
	sink := &StoreSink{Store: st, Source: "test-journal"}
	var batch []spool.Record
	j := &captureJournal{}
	traffic(j, 0, 5)
	for i, r := range j.recs {
		r.Seq = uint64(i + 1)
		batch = append(batch, r)
	}
	for range 2 {
		if err := sink.Write(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
	}
	checkJournal(t, st, 5)
}

// captureJournal encodes records as SpoolJournal does, into memory.
type captureJournal struct{ recs []spool.Record }

func (c *captureJournal) add(kind string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	c.recs = append(c.recs, spool.Record{Kind: kind, Data: b})
}
func (c *captureJournal) CallEnded(cdr store.CDR) { c.add(JournalKindCDR, cdr) }
func (c *captureJournal) QueueEvents(evs ...store.QueueEvent) {
	for _, e := range evs {
		c.add(JournalKindQueueEvent, e)
	}
}
func (c *captureJournal) RecordingFinished(r store.Recording) { c.add(JournalKindRecording, r) }

const (
	crashChildEnv = "HOTLINE_TEST_JOURNAL_CRASH_CHILD"
	crashDBEnv    = "HOTLINE_TEST_JOURNAL_CRASH_DB"
)

// TestJournalCrashLosesNothingSynced runs a child process that hands CDRs
// and events to a journal, waits for Sync, and is killed with SIGKILL; the
// journal reopened on the same directory writes every one of them, once.
// With the store down in the child nothing reached it before the kill;
// with a SQLite file shared by child and parent, part of it may have (and
// a batch may have been written but not acknowledged): the replay must
// leave exactly one copy of each.
func TestJournalCrashLosesNothingSynced(t *testing.T) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir, os.Getenv(crashDBEnv))
		return
	}
	for _, tc := range []struct {
		name   string
		sqlite bool
	}{{"store down", false}, {"sqlite written in part", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db := ""
			if tc.sqlite {
				db = filepath.Join(t.TempDir(), "hotline.db")
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestJournalCrashLosesNothingSynced$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, crashDBEnv+"="+db)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("child did not die of SIGKILL: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, "synced")); err != nil {
				t.Fatalf("child never synced: %s", out)
			}
			var st store.Store = memstore.New(nil)
			if tc.sqlite {
				s, err := sqlite.Open(t.Context(), db, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				st = s
			}
			j, err := OpenJournal(dir, st, nil, nil, fastRetry)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close(context.Background())
			waitFlush(t, j)
			checkJournal(t, st, 300)
		})
	}
}

func crashChild(dir, db string) {
	var st store.Store
	if db == "" {
		m := memstore.New(nil)
		m.SetDown(true)
		st = m
	} else {
		s, err := sqlite.Open(context.Background(), db, nil)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		st = s
	}
	j, err := OpenJournal(dir, st, nil, nil, fastRetry)
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	traffic(j, 0, 300)
	if err := j.Sync(context.Background()); err != nil {
		fmt.Println(err)
		os.Exit(4)
	}
	if err := os.WriteFile(filepath.Join(dir, "synced"), nil, 0o600); err != nil {
		os.Exit(5)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// TestJournalEventsSeq: the store numbers the events in journal order,
// whatever Seq the call path set; a second journal (another node, or a
// fresh spool directory) on the same store does not collide with the first.
func TestJournalEventsSeq(t *testing.T) {
	st := memstore.New(nil)
	dir := t.TempDir()
	j, err := OpenJournal(dir, st, nil, nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	j.QueueEvents(store.QueueEvent{Seq: 77, Kind: "x"}, store.QueueEvent{Kind: "y"})
	waitFlush(t, j)
	if err := j.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	j2, err := OpenJournal(t.TempDir(), st, nil, nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close(context.Background())
	j2.QueueEvents(store.QueueEvent{Kind: "z"})
	waitFlush(t, j2)
	// Reopening the first directory keeps its id.
	j3, err := OpenJournal(dir, st, nil, nil, fastRetry)
	if err != nil {
		t.Fatal(err)
	}
	j3.QueueEvents(store.QueueEvent{Kind: "w"})
	waitFlush(t, j3)
	_ = j3.Close(context.Background())
	evs, err := st.QueueEvents().Search(t.Context(), store.QueueEventFilter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprintf("%d:%s", e.Seq, e.Kind))
	}
	if strings.Join(got, " ") != "1:x 2:y 3:z 4:w" || evs[0].Source != evs[3].Source || evs[0].Source == evs[2].Source {
		t.Fatalf("events %v (sources %q %q %q)", got, evs[0].Source, evs[2].Source, evs[3].Source)
	}
}
