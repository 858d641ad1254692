package controller

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hotline/controller/spool"
	"hotline/controller/store/postgres"
	"hotline/internal/testenv"
)

// cutProxy is a loopback TCP proxy in front of PostgreSQL that a test can
// cut: cutting closes every proxied connection and refuses new ones (they
// are accepted and closed at once) until it is restored. This is how a
// database outage looks to the pool: broken connections, then refused
// reconnects.
type cutProxy struct {
	ln      net.Listener
	target  string
	cut     atomic.Bool
	refused atomic.Int64
	// mu guards conns.
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.closeAll()
		p.wg.Wait()
	})
	return p
}

func (p *cutProxy) addr() *net.TCPAddr { return p.ln.Addr().(*net.TCPAddr) }

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.cut.Load() {
			p.refused.Add(1)
			_ = c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

func (p *cutProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// setCut cuts (true) or restores (false) the proxy.
func (p *cutProxy) setCut(cut bool) {
	p.cut.Store(cut)
	if cut {
		p.closeAll()
	}
}

// outage cuts the database off and restores it.
type outage struct {
	// begin cuts the database off; hit reports whether the journal's pool
	// has met the outage since (so the test knows writes really failed);
	// end restores it.
	begin, end func(t *testing.T)
	hit        func() bool
}

// runJournalOutage sends traffic through a journal over PostgreSQL, cuts
// the database in the middle of it, sends more, restores it, and checks
// that every CDR and event is there, in order.
func runJournalOutage(t *testing.T, host string, port uint16, o outage) {
	cfg := pgSchema(t)
	// Migrate through a direct pool, then write through host:port.
	direct, err := postgres.OpenConfig(t.Context(), cfg.Copy(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	viaCfg := cfg.Copy()
	viaCfg.ConnConfig.Host, viaCfg.ConnConfig.Port = host, port
	viaCfg.ConnConfig.ConnectTimeout = 2 * time.Second
	via, err := postgres.OpenConfig(t.Context(), viaCfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer via.Close()
	j, err := OpenJournal(t.TempDir(), via, nil, nil, WithJournalSpool(func(o *spool.WriterOptions) {
		o.MinBackoff, o.MaxBackoff, o.WriteTimeout, o.BatchSize = 10*time.Millisecond, 500*time.Millisecond, 3*time.Second, 16
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close(context.Background())
	traffic(j, 0, 50)
	waitFlush(t, j)
	o.begin(t)
	traffic(j, 50, 100)
	waitFor(t, "the journal meeting the outage", o.hit)
	traffic(j, 150, 50)
	if j.Backlog() == 0 {
		t.Fatal("nothing is waiting while the database is cut off")
	}
	o.end(t)
	waitFlush(t, j)
	checkJournal(t, direct, 200)
}

// TestJournalPostgresOutageProxy: the database is cut off (a proxy that
// drops and refuses connections) in the middle of traffic; after it
// returns every CDR and event is stored, in order. Runs wherever
// HOTLINE_TEST_DATABASE_URL is set.
func TestJournalPostgresOutageProxy(t *testing.T) {
	cfg, err := pgxpool.ParseConfig(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newCutProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
	runJournalOutage(t, "127.0.0.1", uint16(p.addr().Port), outage{
		begin: func(*testing.T) { p.setCut(true) },
		hit:   func() bool { return p.refused.Load() >= 3 }, // several reconnects refused
		end:   func(*testing.T) { p.setCut(false) },
	})
}

// TestJournalPostgresServerStopped stops the real PostgreSQL server in the
// middle of traffic (pg_ctlcluster VERSION main stop, then start). It stops
// the shared test server, so it runs only when asked, as root:
//
//	sudo HOTLINE_TEST_PG_OUTAGE=1 \
//	  HOTLINE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -count=1 -run TestJournalPostgresServerStopped ./controller/
func TestJournalPostgresServerStopped(t *testing.T) {
	if os.Getenv("HOTLINE_TEST_PG_OUTAGE") != "1" || os.Geteuid() != 0 {
		t.Skip("stops the shared PostgreSQL server: set HOTLINE_TEST_PG_OUTAGE=1 and run as root")
	}
	out, err := exec.Command("pg_lsclusters", "--no-header").Output()
	if err != nil {
		testenv.Unavailable(t, "pg_lsclusters: "+err.Error())
	}
	var version string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "main" && f[2] == "5432" {
			version = f[0]
		}
	}
	if version == "" {
		testenv.Unavailable(t, "no cluster main on port 5432")
	}
	ctl := func(t *testing.T, action string) {
		if out, err := exec.Command("pg_ctlcluster", version, "main", action).CombinedOutput(); err != nil {
			t.Fatalf("pg_ctlcluster %s: %v\n%s", action, err, out)
		}
	}
	stopped := atomic.Bool{}
	t.Cleanup(func() {
		if stopped.Load() {
			_ = exec.Command("pg_ctlcluster", version, "main", "start").Run()
		}
	})
	cfg, err := pgxpool.ParseConfig(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	runJournalOutage(t, cfg.ConnConfig.Host, cfg.ConnConfig.Port, outage{
		begin: func(t *testing.T) { ctl(t, "stop"); stopped.Store(true) },
		// pg_ctlcluster stop returns once the server is down: every write
		// after it fails until start.
		hit: func() bool { return true },
		end: func(t *testing.T) { ctl(t, "start"); stopped.Store(false) },
	})
}
