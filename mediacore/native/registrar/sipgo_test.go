package registrar

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"hotline/internal/sipdigest"
)

// startServer serves r on a sipgo UDP server bound to a free loopback port
// and returns that port.
func startServer(t *testing.T, r *Registrar) int {
	t.Helper()
	return startServerOn(t, r, "udp")
}

// startServerOn serves r over network ("udp" or "tcp") on a free loopback
// port. Binding :0 ourselves avoids the race of picking a port and then
// listening on it.
func startServerOn(t *testing.T, r *Registrar, network string) int {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("hotline-test"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	srv.OnRegister(r.HandleRegister)
	var (
		port  int
		serve func() error
		stop  func() error
	)
	switch network {
	case "udp":
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port, serve, stop = conn.LocalAddr().(*net.UDPAddr).Port, func() error { return srv.ServeUDP(conn) }, conn.Close
	case "tcp":
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port, serve, stop = l.Addr().(*net.TCPAddr).Port, func() error { return srv.ServeTCP(l) }, l.Close
	default:
		t.Fatalf("network %q", network)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = serve()
	}()
	t.Cleanup(func() {
		_ = ua.Close()
		_ = stop()
		<-done
	})
	return port
}

// sipClient is a sipgo client registering one user.
type sipClient struct {
	t         *testing.T
	client    *sipgo.Client
	port      int
	transport string // "" for UDP
	user      string
	callID    string
	cseq      uint32
}

func newSIPClient(t *testing.T, serverPort int, user string) *sipClient {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("sipgo-phone"), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	return &sipClient{t: t, client: c, port: serverPort, user: user, callID: fmt.Sprintf("sipgo-%s-%d", user, time.Now().UnixNano()), cseq: 1}
}

func (c *sipClient) newRequest(expires int, wildcard bool) *sip.Request {
	recipient := sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: c.port, UriParams: sip.NewParams()}
	if c.transport != "" {
		recipient.UriParams.Add("transport", c.transport)
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	aor := sip.Uri{Scheme: "sip", User: c.user, Host: "127.0.0.1"}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	cid := sip.CallIDHeader(c.callID)
	req.AppendHeader(&cid)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: c.cseq, MethodName: sip.REGISTER})
	if wildcard {
		req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Wildcard: true}})
	} else {
		req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: c.user, Host: "127.0.0.1", Port: 5999}})
	}
	req.AppendHeader(sip.NewHeader("Expires", fmt.Sprint(expires)))
	req.AppendHeader(sip.NewHeader("User-Agent", "sipgo-phone"))
	return req
}

// register sends a REGISTER, answers a 401 for alg ("" keeps the server's
// first choice) with password, and returns the final response.
func (c *sipClient) register(alg, password string, expires int, wildcard bool) *sip.Response {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := c.newRequest(expires, wildcard)
	res, err := c.client.Do(ctx, req)
	if err != nil {
		c.t.Fatalf("REGISTER: %v", err)
	}
	if res.StatusCode != sip.StatusUnauthorized {
		return res
	}
	if alg != "" {
		// sipgo answers the first WWW-Authenticate; keep only alg's.
		var keep sip.Header
		for _, h := range res.GetHeaders("WWW-Authenticate") {
			if strings.Contains(h.Value(), "algorithm="+alg+",") {
				keep = h
			}
		}
		if keep == nil {
			c.t.Fatalf("no %s challenge:\n%s", alg, res)
		}
		res.RemoveHeader("WWW-Authenticate")
		res.AppendHeader(keep)
	}
	res, err = c.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: c.user, Password: password})
	if err != nil {
		c.t.Fatalf("REGISTER with digest: %v", err)
	}
	c.cseq = req.CSeq().SeqNo + 1
	return res
}

func TestSipgoLoopback(t *testing.T) {
	r, clk, rec := newTestRegistrar(t)
	port := startServer(t, r)

	t.Run("MD5 right password", func(t *testing.T) {
		c := newSIPClient(t, port, testUser)
		res := c.register("MD5", testPass, 600, false)
		if res.StatusCode != 200 {
			t.Fatalf("status %d\n%s", res.StatusCode, res)
		}
		if got := contactValues(res); len(got) != 1 || got[0] != "<sip:1001@127.0.0.1:5999>;expires=600" {
			t.Errorf("contacts %v", got)
		}
		if got := r.Lookup(testUser); len(got) != 1 || got[0].UserAgent != "sipgo-phone" || !strings.HasPrefix(got[0].Source, "127.0.0.1:") {
			t.Errorf("lookup %+v", got)
		}
		// Unregister with expires=0 on the same Call-ID.
		res = c.register("MD5", testPass, 0, false)
		if res.StatusCode != 200 || len(contactValues(res)) != 0 {
			t.Fatalf("unregister: %d %v", res.StatusCode, contactValues(res))
		}
		if len(r.Lookup(testUser)) != 0 {
			t.Error("still bound after unregister")
		}
		if ev := rec.take(); !equalStrings(ev, []string{
			"registered:sip:1001@127.0.0.1:5999:", "unregistered:sip:1001@127.0.0.1:5999:removed",
		}) {
			t.Errorf("events %v", ev)
		}
	})

	t.Run("SHA-256 right password, server's first choice", func(t *testing.T) {
		c := newSIPClient(t, port, "1002")
		res := c.register("", "pw-1002", 300, false)
		if res.StatusCode != 200 {
			t.Fatalf("status %d\n%s", res.StatusCode, res)
		}
		if len(r.Lookup("1002")) != 1 {
			t.Fatal("not bound")
		}
		// Expiry through the clock and Sweep.
		clk.Advance(301 * time.Second)
		r.Sweep(clk.Now())
		if len(r.Lookup("1002")) != 0 {
			t.Error("bound after expiry")
		}
		if ev := rec.take(); !equalStrings(ev, []string{
			"registered:sip:1002@127.0.0.1:5999:", "unregistered:sip:1002@127.0.0.1:5999:expired",
		}) {
			t.Errorf("events %v", ev)
		}
	})

	t.Run("wrong password and unknown user get the same 401", func(t *testing.T) {
		wrong := newSIPClient(t, port, testUser).register("SHA-256", "guess", 600, false)
		unknown := newSIPClient(t, port, "4242").register("SHA-256", "guess", 600, false)
		if wrong.StatusCode != 401 || unknown.StatusCode != 401 {
			t.Fatalf("statuses %d and %d, want 401", wrong.StatusCode, unknown.StatusCode)
		}
		if a, b := challengeShape(wrong), challengeShape(unknown); a != b {
			t.Errorf("401s differ:\n%s\n%s", a, b)
		}
	})

	t.Run("min expiry 423", func(t *testing.T) {
		res := newSIPClient(t, port, testUser).register("MD5", testPass, 10, false)
		if res.StatusCode != 423 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
			t.Errorf("Min-Expires %v", h)
		}
	})

	t.Run("wildcard unregister", func(t *testing.T) {
		c := newSIPClient(t, port, testUser)
		if res := c.register("MD5", testPass, 600, false); res.StatusCode != 200 {
			t.Fatalf("register: %d", res.StatusCode)
		}
		if res := c.register("MD5", testPass, 0, true); res.StatusCode != 200 {
			t.Fatalf("Contact: *: %d", res.StatusCode)
		}
		if len(r.Lookup(testUser)) != 0 {
			t.Error("still bound")
		}
		rec.take()
	})
}

func TestSipgoBlocking(t *testing.T) {
	// The fake clock stands still, so all failures fall in one window.
	r, _, _ := newTestRegistrar(t, WithUserBudget(wideBudget))
	port := startServer(t, r)
	for i := 1; i <= 16; i++ {
		if res := newSIPClient(t, port, testUser).register("MD5", "guess", 600, false); res.StatusCode != 401 {
			t.Fatalf("failure %d: %d", i, res.StatusCode)
		}
	}
	if res := newSIPClient(t, port, testUser).register("MD5", "guess", 600, false); res.StatusCode != 403 {
		t.Fatalf("17th failure: %d, want 403", res.StatusCode)
	}
	if res := newSIPClient(t, port, testUser).register("MD5", testPass, 600, false); res.StatusCode != 403 {
		t.Fatalf("right password from a blocked source: %d, want 403", res.StatusCode)
	}
	if len(r.Lookup(testUser)) != 0 {
		t.Error("blocked source registered")
	}
}

// algRecorder is a Credentials that remembers which algorithms were asked for.
type algRecorder struct {
	StaticCredentials
	mu   sync.Mutex // guards algs
	algs []sipdigest.Algorithm
}

func (a *algRecorder) HA1(ctx context.Context, user string, alg sipdigest.Algorithm) (string, bool, error) {
	a.mu.Lock()
	a.algs = append(a.algs, alg)
	a.mu.Unlock()
	return a.StaticCredentials.HA1(ctx, user, alg)
}

// A client that takes the first challenge (RFC 8760 §2.4) uses SHA-256;
// one that only knows MD5 still registers with the second.
func TestSipgoAlgorithmChoice(t *testing.T) {
	creds := &algRecorder{StaticCredentials: NewStaticCredentials(DefaultRealm, map[string]string{testUser: testPass})}
	r, err := New(creds)
	if err != nil {
		t.Fatal(err)
	}
	port := startServer(t, r)
	if res := newSIPClient(t, port, testUser).register("", testPass, 600, false); res.StatusCode != 200 {
		t.Fatalf("first choice: %d", res.StatusCode)
	}
	if res := newSIPClient(t, port, testUser).register("MD5", testPass, 600, false); res.StatusCode != 200 {
		t.Fatalf("MD5: %d", res.StatusCode)
	}
	creds.mu.Lock()
	defer creds.mu.Unlock()
	if len(creds.algs) != 2 || creds.algs[0] != sipdigest.SHA256 || creds.algs[1] != sipdigest.MD5 {
		t.Errorf("algorithms used %v, want [SHA-256 MD5]", creds.algs)
	}
}

func TestSipgoTCP(t *testing.T) {
	r, _, _ := newTestRegistrar(t)
	port := startServerOn(t, r, "tcp")
	c := newSIPClient(t, port, testUser)
	c.transport = "tcp"
	if res := c.register("", testPass, 600, false); res.StatusCode != 200 {
		t.Fatalf("status %d\n%s", res.StatusCode, res)
	}
	got := r.Lookup(testUser)
	if len(got) != 1 || got[0].Transport != "TCP" || !strings.HasPrefix(got[0].Source, "127.0.0.1:") {
		t.Fatalf("lookup %+v", got)
	}
}
