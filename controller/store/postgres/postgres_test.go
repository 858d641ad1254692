package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hotline/controller/store"
	"hotline/controller/store/storetest"
	"hotline/internal/testenv"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// freshSchema creates an empty schema hotline_test_<random> on the test
// server, drops it when the test ends, and returns a pool configuration
// whose search_path points at it.
func freshSchema(t testing.TB) *pgxpool.Config {
	t.Helper()
	return testenv.PostgresSchema(t, "hotline_test")
}

func openConfig(t testing.TB, cfg *pgxpool.Config) *Store {
	t.Helper()
	s, err := OpenConfig(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openConfig(t, freshSchema(t)) })
}

func migrationCount(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.db.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	return n
}

// TestConcurrentMigrate starts several pools on one fresh schema at once, as
// several controller nodes would: the advisory lock lets exactly one apply
// the migrations and the others find them done.
func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	cfg := freshSchema(t)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = OpenConfig(t.Context(), cfg.Copy(), testLogger(t))
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
	if got := migrationCount(t, stores[0]); got != len(stores[0].ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", got, len(stores[0].ms))
	}
	if err := stores[1].Migrate(t.Context()); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	if got := migrationCount(t, stores[0]); got != len(stores[0].ms) {
		t.Fatalf("schema_migrations has %d rows after a second migrate, want %d", got, len(stores[0].ms))
	}
}

// TestReopen checks that a new pool on the same schema sees the data.
func TestReopen(t *testing.T) {
	t.Parallel()
	cfg := freshSchema(t)
	s, err := OpenConfig(t.Context(), cfg.Copy(), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{Username: "admin", Role: store.RoleAdmin}
	if err := s.Users().Create(t.Context(), &u); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openConfig(t, cfg.Copy())
	got, err := s.Users().GetByUsername(t.Context(), "admin")
	if err != nil || got.ID != u.ID {
		t.Fatalf("user after reopen = %+v, %v; want id %s", got, err, u.ID)
	}
}

// closedPort returns a loopback port with nothing listening on it.
func closedPort(t *testing.T) int {
	return testenv.FreeTCPPort(t)
}

// TestOpenUnreachable needs no server: a refused connection must surface as
// ErrUnavailable, promptly.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	url := fmt.Sprintf("postgres://hotline@127.0.0.1:%d/hotline?sslmode=disable&connect_timeout=2", closedPort(t))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, url, testLogger(t))
	if err == nil {
		_ = s.Close()
		t.Fatal("open of a closed port succeeded")
	}
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("open of a closed port: got %v, want ErrUnavailable", err)
	}
}

func TestOpenBadURL(t *testing.T) {
	t.Parallel()
	if _, err := Open(t.Context(), "postgres://[::1", testLogger(t)); err == nil {
		t.Fatal("open of a malformed URL succeeded")
	}
}

// proxy is a TCP relay between the store and the server that the test can
// cut, standing in for a network or server outage.
type proxy struct {
	target string
	ln     net.Listener
	mu     sync.Mutex // guards conns
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, addr, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &proxy{target: target, ln: ln}
	p.wg.Go(p.serve)
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		p.wg.Go(func() { _, _ = io.Copy(u, c); _ = u.Close() })
		p.wg.Go(func() { _, _ = io.Copy(c, u); _ = c.Close() })
	}
}

// stop closes the listener and every relayed connection.
func (p *proxy) stop() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}

// TestPingOutage cuts the connection to a working store: Ping must report
// ErrUnavailable, and report health again once the server is back.
func TestPingOutage(t *testing.T) {
	t.Parallel()
	cfg := freshSchema(t)
	target := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
	p := startProxy(t, "127.0.0.1:0", target)
	addr := p.ln.Addr().(*net.TCPAddr)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = "127.0.0.1", uint16(addr.Port)
	cfg.ConnConfig.Fallbacks = nil
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	s := openConfig(t, cfg)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("ping through proxy: %v", err)
	}

	p.stop()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("ping during outage: got %v, want ErrUnavailable", err)
	}
	if _, err := s.Users().Count(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("query during outage: got %v, want ErrUnavailable", err)
	}

	startProxy(t, addr.String(), target)
	var err error
	for range 5 { // the pool may hand out one more dead connection first
		if err = s.Ping(t.Context()); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("ping after the server came back: %v", err)
	}
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		return openConfig(b, freshSchema(b))
	})
}

// TestInvalidValue: PostgreSQL refuses a NUL byte in text (SQLSTATE 22P05)
// and invalid UTF-8 (22021); both are the caller's fault and come back as
// store.ErrInvalidValue, which the API answers 400, not 500.
func TestInvalidValue(t *testing.T) {
	s := openConfig(t, freshSchema(t))
	for name, value := range map[string]string{"NUL": "a\x00b", "invalid UTF-8": "a\xffb"} {
		t.Run(name, func(t *testing.T) {
			err := s.Skills().Create(t.Context(), &store.Skill{Name: value})
			if !errors.Is(err, store.ErrInvalidValue) {
				t.Fatalf("create with %q: %v, want ErrInvalidValue", value, err)
			}
		})
	}
}
