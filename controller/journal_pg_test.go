package controller

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
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
	runJournalOutageOn(t, pgSchema(t), host, port, o)
}

// runJournalOutageOn is runJournalOutage on the database cfg names.
func runJournalOutageOn(t *testing.T, cfg *pgxpool.Config, host string, port uint16, o outage) {
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

// TestJournalPostgresServerStopped stops a real PostgreSQL server for 30 s
// in the middle of traffic (pg_ctl stop -m fast, then start): the test's
// own cluster, made with initdb on a free loopback port, so the shared
// test server and the suites using it are not disturbed. After the server
// returns every CDR and event is stored, in order.
func TestJournalPostgresServerStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s outage")
	}
	t.Parallel()
	pg := startPrivatePostgres(t)
	cfg, err := pgxpool.ParseConfig(pg.url)
	if err != nil {
		t.Fatal(err)
	}
	runJournalOutageOn(t, cfg, "127.0.0.1", pg.port, outage{
		begin: func(t *testing.T) { pg.ctl(t, "stop", "-m", "fast") },
		// pg_ctl stop -w returns once the server is down: every write
		// after it fails until start. The outage lasts 30 s of traffic.
		hit: func() bool { return true },
		end: func(t *testing.T) {
			time.Sleep(30 * time.Second) // the outage's length is the scenario, not a wait for an event
			pg.ctl(t, "start", "-l", pg.dir+"/log")
		},
	})
}

// privatePostgres is a PostgreSQL cluster of one test.
type privatePostgres struct {
	bin, dir, url string
	port          uint16
	asUser        []string // runuser prefix when the test runs as root
}

// startPrivatePostgres makes and starts a cluster in a temporary directory
// (as the postgres user when the test runs as root: PostgreSQL refuses to
// run as root), trust auth on 127.0.0.1 and a free port; it is stopped and
// removed at cleanup.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	var bin string
	if p, err := exec.LookPath("initdb"); err == nil {
		bin = filepath.Dir(p)
	} else if ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(ms) > 0 {
		slices.Sort(ms)
		bin = filepath.Dir(ms[len(ms)-1])
	} else {
		testenv.Unavailable(t, "initdb not found (Debian: postgresql)")
	}
	dir, err := os.MkdirTemp("", "hotline-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg := &privatePostgres{bin: bin, dir: dir, port: uint16(testenv.FreeTCPPort(t))}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			testenv.Unavailable(t, "running as root and no postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		pg.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if out, err := pg.cmd("initdb", "-D", dir+"/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	pg.dir = dir + "/data"
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = off\n", pg.port, dir)
	f, err := os.OpenFile(pg.dir+"/postgresql.conf", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.cmd("pg_ctl", "-D", pg.dir, "stop", "-m", "immediate").Run() })
	pg.ctl(t, "start", "-l", pg.dir+"/log")
	pg.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", pg.port)
	return pg
}

func (pg *privatePostgres) cmd(tool string, args ...string) *exec.Cmd {
	argv := append(append(slices.Clone(pg.asUser), filepath.Join(pg.bin, tool)), args...)
	return exec.Command(argv[0], argv[1:]...)
}

// ctl runs pg_ctl action on the cluster and waits for it (-w).
func (pg *privatePostgres) ctl(t *testing.T, action string, args ...string) {
	t.Helper()
	if out, err := pg.cmd("pg_ctl", append([]string{"-D", pg.dir, "-w", "-t", "60", action}, args...)...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(pg.dir + "/log")
		t.Fatalf("pg_ctl %s: %v\n%s\n%s", action, err, out, log)
	}
}
