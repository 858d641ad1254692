package spool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func rec(i uint64) []byte { return []byte(fmt.Sprintf("record-%d", i)) }

func mustOpen(t *testing.T, dir string, opts Options) *Spool {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func appendN(t *testing.T, s *Spool, from, n uint64) {
	t.Helper()
	for i := from; i < from+n; i++ {
		pos, err := s.Append(context.Background(), rec(i))
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		if pos != i {
			t.Fatalf("Append got position %d, want %d", pos, i)
		}
	}
}

// replayed returns the positions Replay yields, checking each payload.
func replayed(t *testing.T, s *Spool) []uint64 {
	t.Helper()
	var got []uint64
	if err := s.Replay(func(e Entry) error {
		if string(e.Data) != string(rec(e.Pos)) {
			return fmt.Errorf("position %d holds %q", e.Pos, e.Data)
		}
		got = append(got, e.Pos)
		return nil
	}); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return got
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func segFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAppendReplayAckRotate(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{SegmentSize: 256, Logger: quiet})
	appendN(t, s, 1, 100)
	if n := len(segFiles(t, dir)); n < 5 {
		t.Fatalf("%d segments for 100 records of 256-byte segments, want rotation", n)
	}
	if got := replayed(t, s); !equal(got, seq(1, 100)) {
		t.Fatalf("replay %v", got)
	}
	before := len(segFiles(t, dir))
	if err := s.Ack(65); err != nil { // mid-segment
		t.Fatal(err)
	}
	if after := len(segFiles(t, dir)); after >= before {
		t.Fatalf("ack kept all %d segments (now %d)", before, after)
	}
	if got := replayed(t, s); !equal(got, seq(66, 100)) {
		t.Fatalf("replay after ack %v", got)
	}
	if err := s.Ack(101); !errors.Is(err, ErrAckRange) {
		t.Fatalf("ack beyond the end: %v", err)
	}
	if err := s.Ack(10); err != nil {
		t.Fatalf("ack below the mark: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpen(t, dir, Options{SegmentSize: 256, Logger: quiet})
	if r := s.Recovery(); r.Records != 35 || r.TruncatedBytes != 0 {
		t.Fatalf("recovery %+v, want 35 records and nothing truncated", r)
	}
	if got := replayed(t, s); !equal(got, seq(66, 100)) {
		t.Fatalf("replay after reopen %v", got)
	}
	appendN(t, s, 101, 5)
	if err := s.Ack(105); err != nil {
		t.Fatal(err)
	}
	if got := replayed(t, s); len(got) != 0 {
		t.Fatalf("replay after acking all: %v", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Everything acknowledged and its segments gone: positions go on.
	s = mustOpen(t, dir, Options{SegmentSize: 256, Logger: quiet})
	if s.Next() != 106 {
		t.Fatalf("next position after reopen %d, want 106", s.Next())
	}
	if n := len(segFiles(t, dir)); n != 1 {
		t.Fatalf("%d segments left after everything was acknowledged, want the active one", n)
	}
}

func TestOpenTruncatesTornTail(t *testing.T) {
	frameLen := int64(frameHeaderSize + len(rec(10)))
	cases := []struct {
		name    string
		damage  func(t *testing.T, path string)
		records []uint64
		cut     int64
	}{
		{"half a header", func(t *testing.T, p string) { appendBytes(t, p, []byte{7, 0, 0, 0, 1, 2}) }, seq(1, 10), 6},
		{"header without payload", func(t *testing.T, p string) {
			appendBytes(t, p, appendFrame(nil, 11, rec(11))[:frameHeaderSize+3])
		}, seq(1, 10), frameHeaderSize + 3},
		{"zeros after the last frame", func(t *testing.T, p string) { appendBytes(t, p, make([]byte, 4096)) }, seq(1, 10), 4096},
		{"last payload flipped", func(t *testing.T, p string) { flipByte(t, p, -1) }, seq(1, 9), frameLen},
		{"last frame cut short", func(t *testing.T, p string) { truncateBy(t, p, 2) }, seq(1, 9), frameLen - 2},
		{"frame from another position", func(t *testing.T, p string) { appendBytes(t, p, appendFrame(nil, 99, rec(99))) },
			seq(1, 10), int64(frameHeaderSize + len(rec(99)))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, Options{Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, s, 1, 10)
			s.closeFiles() // a crash: no orderly close
			segs := segFiles(t, dir)
			tc.damage(t, segs[len(segs)-1])

			s = mustOpen(t, dir, Options{Logger: quiet})
			r := s.Recovery()
			if r.TruncatedBytes != tc.cut || r.TruncatedSegments != 1 {
				t.Fatalf("recovery %+v, want %d bytes cut in 1 segment", r, tc.cut)
			}
			if got := replayed(t, s); !equal(got, tc.records) {
				t.Fatalf("replay %v, want %v", got, tc.records)
			}
			next := tc.records[len(tc.records)-1] + 1
			appendN(t, s, next, 3)
			if got := replayed(t, s); !equal(got, seq(1, next+2)) {
				t.Fatalf("replay after appending %v", got)
			}
			s.closeFiles()
			s = mustOpen(t, dir, Options{Logger: quiet})
			if r := s.Recovery(); r.TruncatedBytes != 0 {
				t.Fatalf("second recovery cut %d bytes: the first left damage behind", r.TruncatedBytes)
			}
			if got := replayed(t, s); !equal(got, seq(1, next+2)) {
				t.Fatalf("replay after reopening %v", got)
			}
		})
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func flipByte(t *testing.T, path string, at int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if at < 0 {
		at += len(b)
	}
	b[at] ^= 0x40
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func truncateBy(t *testing.T, path string, n int64) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()-n); err != nil {
		t.Fatal(err)
	}
}

func TestBadAckFileReplaysEverything(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{Logger: quiet})
	appendN(t, s, 1, 5)
	if err := s.Ack(3); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, ackName), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, Options{Logger: quiet})
	if !s.Recovery().BadAckFile {
		t.Fatal("a garbage ack file was not reported")
	}
	if got := replayed(t, s); !equal(got, seq(1, 5)) {
		t.Fatalf("replay %v, want every record (duplicates, not loss)", got)
	}
}

func TestSecondOpenIsLocked(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, dir, Options{Logger: quiet})
	if _, err := Open(dir, Options{Logger: quiet}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
}

func TestConcurrentAppendsGroupCommit(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	s := mustOpen(t, dir, Options{SegmentSize: 4096, Registerer: reg})
	const workers, each = 16, 50
	var mu sync.Mutex
	seen := map[uint64]string{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				data := fmt.Sprintf("w%d-%d", w, i)
				pos, err := s.Append(context.Background(), []byte(data))
				if err != nil {
					t.Error(err)
					return
				}
				if pos > s.Durable() {
					t.Errorf("Append returned %d before it was durable", pos)
				}
				mu.Lock()
				seen[pos] = data
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var got []uint64
	if err := s.Replay(func(e Entry) error {
		if seen[e.Pos] != string(e.Data) {
			return fmt.Errorf("position %d holds %q, Append returned it for %q", e.Pos, e.Data, seen[e.Pos])
		}
		got = append(got, e.Pos)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !equal(got, seq(1, workers*each)) {
		t.Fatalf("positions not contiguous: %d records", len(got))
	}
	fsyncs := counterValue(t, s.m.fsyncs)
	t.Logf("%d appends, %.0f fsyncs", workers*each, fsyncs)
	if fsyncs > workers*each {
		t.Fatalf("%.0f fsyncs for %d appends", fsyncs, workers*each)
	}
}

func TestReaderFollowsAppendsAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{SegmentSize: 200})
	r := s.NewReader(0)
	defer r.Close()
	var got []uint64
	for i := uint64(1); i <= 40; i += 4 {
		appendN(t, s, i, 4)
		es, err := r.Next(3)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			got = append(got, e.Pos)
		}
		if i == 21 {
			// Acknowledging behind the reader deletes segments it
			// has finished; it must carry on.
			if err := s.Ack(got[len(got)-1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	for {
		es, err := r.Next(100)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			got = append(got, e.Pos)
		}
	}
	if !equal(got, seq(1, 40)) {
		t.Fatalf("reader returned %v", got)
	}
}

func TestAppendRejectsOversizeAndClosed(t *testing.T) {
	s := mustOpen(t, t.TempDir(), Options{})
	if _, err := s.Append(context.Background(), make([]byte, MaxRecordSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, rec(1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	s.Close()
	if _, err := s.Append(context.Background(), rec(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if !strings.Contains(ErrClosed.Error(), "spool") {
		t.Fatal("sentinel text")
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

var quiet = slog.New(slog.DiscardHandler)

// TestCorruptMiddleSegment: damage inside a sealed segment cuts that
// segment at the damage; the records of the following segments survive and
// positions go on (with a hole where the cut records were).
func TestCorruptMiddleSegment(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{SegmentSize: 256, Logger: quiet})
	appendN(t, s, 1, 30) // segments of 10 records: 1-10, 11-20, 21-30
	s.closeFiles()
	segs := segFiles(t, dir)
	if len(segs) != 3 {
		t.Fatalf("%d segments", len(segs))
	}
	frame := int64(frameHeaderSize + len(rec(11)))
	b, err := os.ReadFile(segs[1])
	if err != nil {
		t.Fatal(err)
	}
	b[5*frame+frameHeaderSize] ^= 1 // record 16's payload
	if err := os.WriteFile(segs[1], b, 0o600); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, Options{SegmentSize: 256, Logger: quiet})
	if r := s.Recovery(); r.TruncatedSegments != 1 || r.TruncatedBytes != 5*frame || r.Records != 25 {
		t.Fatalf("recovery %+v", r)
	}
	want := append(seq(1, 15), seq(21, 30)...)
	if got := replayed(t, s); !equal(got, want) {
		t.Fatalf("replay %v", got)
	}
	appendN(t, s, 31, 1)
}

// TestCrashBetweenAckAndRemove: the ack mark was stored but the acknowledged
// segments were not removed; Open removes them and replays only the rest.
func TestCrashBetweenAckAndRemove(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, Options{SegmentSize: 256, Logger: quiet})
	appendN(t, s, 1, 30)
	s.closeFiles()
	if err := writeAck(dir, 25); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, Options{SegmentSize: 256, Logger: quiet})
	if n := len(segFiles(t, dir)); n != 1 {
		t.Fatalf("%d segments left, want the one with unacknowledged records", n)
	}
	if got := replayed(t, s); !equal(got, seq(26, 30)) {
		t.Fatalf("replay %v", got)
	}
}
