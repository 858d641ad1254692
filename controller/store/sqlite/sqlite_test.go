package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"hotline/controller/store"
	"hotline/controller/store/storetest"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openFile(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, testLogger(t))
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return openFile(t, filepath.Join(t.TempDir(), "hotline.db"))
	})
}

// TestMemory covers what differs for MemoryPath (one shared connection):
// reads see writes, racing writers still get ErrVersionMismatch, and each
// Open is its own database.
func TestMemory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := openFile(t, MemoryPath)
	q := store.Queue{Name: "q", Strategy: store.StrategyRingAll, Members: []store.QueueMember{{AgentID: "a"}}}
	if err := s.Queues().Create(ctx, &q); err != nil {
		t.Fatal(err)
	}
	got, err := s.Queues().GetByName(ctx, "q")
	if err != nil || got.ID != q.ID || len(got.Members) != 1 {
		t.Fatalf("get = %+v, %v; want %+v", got, err, q)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		cp := q
		cp.Priority = i + 1
		wg.Go(func() { errs[i] = s.Queues().Update(ctx, &cp) })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, store.ErrVersionMismatch):
			t.Fatalf("update: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d racing updates won, want 1", wins)
	}
	other := openFile(t, MemoryPath)
	if n, err := other.Queues().List(ctx, store.ListOptions{}); err != nil || len(n.Items) != 0 {
		t.Fatalf("a second memory store sees %d queues (%v), want 0", len(n.Items), err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func migrationCount(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.write.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	return n
}

// TestReopen checks that data survives Close and a new Open of the file, and
// that migrating an up-to-date file changes nothing.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hotline.db")
	s, err := Open(ctx, path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	q := store.Queue{Name: "support", Strategy: store.StrategyLongestIdle,
		Members: []store.QueueMember{{AgentID: "a1", Penalty: 1}}, Overflow: &store.Target{Kind: store.TargetVoicemail}}
	if err := s.Queues().Create(ctx, &q); err != nil {
		t.Fatal(err)
	}
	u := store.User{Username: "admin", Role: store.RoleAdmin, PasswordHash: "x"}
	if err := s.Users().Create(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	s = openFile(t, path)
	got, err := s.Queues().GetByName(ctx, "support")
	if err != nil {
		t.Fatalf("queue after reopen: %v", err)
	}
	if got.ID != q.ID || got.Version != 1 || len(got.Members) != 1 || got.Overflow == nil || !got.CreatedAt.Equal(q.CreatedAt) {
		t.Fatalf("queue after reopen = %+v, want %+v", got, q)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode = %v, want 0600", fi.Mode())
	}
	if n, err := s.Users().Count(ctx); err != nil || n != 1 {
		t.Fatalf("users after reopen = %d, %v; want 1", n, err)
	}
	want := len(s.ms)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	if n := migrationCount(t, s); n != want {
		t.Fatalf("schema_migrations has %d rows, want %d", n, want)
	}
}

// TestConcurrentOpen opens one fresh file from several pools at once, as
// several processes would: every Open succeeds and the migrations run once.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hotline.db")
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(t.Context(), path, testLogger(t))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	for i, s := range stores {
		sk := store.Skill{Name: fmt.Sprintf("skill-%d", i)}
		if err := s.Skills().Create(t.Context(), &sk); err != nil {
			t.Fatalf("create through store %d: %v", i, err)
		}
	}
	p, err := stores[0].Skills().List(t.Context(), store.ListOptions{})
	if err != nil || len(p.Items) != n {
		t.Fatalf("skills = %d, %v; want %d", len(p.Items), err, n)
	}
	if got := migrationCount(t, stores[0]); got != len(stores[0].ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", got, len(stores[0].ms))
	}
}

// helperEnv makes the test binary act as a second process writing to a
// shared file (see TestTwoProcesses).
const helperEnv = "HOTLINE_SQLITE_HELPER_DB"

// TestTwoProcesses runs two real processes that open the same fresh file and
// write at the same time: both migrate safely and no write is lost.
func TestTwoProcesses(t *testing.T) {
	if path := os.Getenv(helperEnv); path != "" {
		helperProcess(t, path)
		return
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	const procs, perProc = 2, 40
	cmds := make([]*exec.Cmd, procs)
	for i := range cmds {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestTwoProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+path, fmt.Sprintf("HOTLINE_SQLITE_HELPER_ID=%d", i))
		cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
		if err := cmd.Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v", i, err)
		}
	}
	s := openFile(t, path)
	var all []store.Skill
	opt := store.ListOptions{}
	for {
		p, err := s.Skills().List(t.Context(), opt)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			break
		}
		opt.After = p.Next
	}
	if len(all) != procs*perProc {
		t.Fatalf("found %d skills, want %d", len(all), procs*perProc)
	}
	if got := migrationCount(t, s); got != len(s.ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", got, len(s.ms))
	}
}

func helperProcess(t *testing.T, path string) {
	s := openFile(t, path)
	id := os.Getenv("HOTLINE_SQLITE_HELPER_ID")
	for i := range 40 {
		sk := store.Skill{Name: fmt.Sprintf("p%s-%d", id, i)}
		if err := s.Skills().Create(t.Context(), &sk); err != nil {
			t.Fatalf("helper %s create %d: %v", id, i, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		want error // nil: any error
	}{
		{"empty path", "", nil},
		{"question mark", filepath.Join(dir, "a?b.db"), nil},
		{"missing directory", filepath.Join(dir, "no", "such", "dir", "x.db"), store.ErrUnavailable},
		{"a directory", dir, store.ErrUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), tc.path, testLogger(t))
			if err == nil {
				_ = s.Close()
				t.Fatalf("open %q succeeded", tc.path)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("open %q: got %v, want %v", tc.path, err, tc.want)
			}
		})
	}
}

// TestNotADatabase opens a file that is not SQLite: an unusable store is
// reported as unavailable, not as a bug in the caller.
func TestNotADatabase(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(path, []byte("this is not an sqlite database, not even close; padding padding padding padding padding"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), path, testLogger(t))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("open junk: got %v, want ErrUnavailable", err)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		s, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"), slog.New(slog.DiscardHandler))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestWriteTxIsImmediate checks that a transaction on the write pool (the
// one Migrate uses) holds SQLite's write lock from BEGIN: another
// connection that does not wait for locks fails to write at once. With a
// deferred BEGIN the lock would only be taken at the first write, and two
// migrators could both read the old schema version.
func TestWriteTxIsImmediate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hotline.db")
	s := openFile(t, path)
	tx, err := s.write.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()

	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.ExecContext(t.Context(), "INSERT INTO skills (id, version, created_at, updated_at, name, description) VALUES ('x', 1, '', '', 'n', '')")
	if err == nil {
		t.Fatal("another connection wrote while a write-pool transaction was open")
	}
	if !errors.Is(classify(err), store.ErrUnavailable) {
		t.Fatalf("write during a held lock: got %v, want SQLITE_BUSY", err)
	}
}
