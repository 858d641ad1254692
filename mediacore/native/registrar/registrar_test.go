package registrar

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"hotline/internal/clock"
	"hotline/internal/sipdigest"
)

const (
	testUser = "1001"
	testPass = "s3cret-1001"
)

// recorder collects events.
type recorder struct {
	mu     sync.Mutex // guards events
	events []Event
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := kinds(r.events)
	r.events = nil
	return out
}

func newTestRegistrar(t *testing.T, opts ...Option) (*Registrar, *clock.Fake, *recorder) {
	t.Helper()
	clk := clock.NewFake(t0)
	creds := NewStaticCredentials(DefaultRealm, map[string]string{testUser: testPass, "1002": "pw-1002"})
	r, err := New(creds, append([]Option{WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	rec := &recorder{}
	r.OnChange(rec.add)
	return r, clk, rec
}

// phone builds REGISTER requests as a SIP phone would, parsed from wire text
// so that headers are exactly what sipgo hands the handler.
type phone struct {
	t       testing.TB
	user    string
	toUser  string
	source  string
	callID  string
	cseq    int
	contact string
	nc      int
}

func newPhone(t testing.TB, user, source string) *phone {
	return &phone{t: t, user: user, toUser: user, source: source, callID: "cid-" + user + "-" + source,
		contact: "<sip:" + user + "@" + source + ">"}
}

func (p *phone) request(extra ...string) *sip.Request {
	p.t.Helper()
	p.cseq++
	var b strings.Builder
	fmt.Fprintf(&b, "REGISTER sip:127.0.0.1 SIP/2.0\r\n")
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%d\r\n", p.source, p.user, p.cseq)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@127.0.0.1>;tag=f%d\r\n", p.toUser, p.cseq)
	fmt.Fprintf(&b, "To: <sip:%s@127.0.0.1>\r\n", p.toUser)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", p.callID)
	fmt.Fprintf(&b, "CSeq: %d REGISTER\r\n", p.cseq)
	fmt.Fprintf(&b, "User-Agent: testphone\r\n")
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	msg, err := sip.ParseMessage([]byte(b.String()))
	if err != nil {
		p.t.Fatalf("parse: %v\n%s", err, b.String())
	}
	req := msg.(*sip.Request)
	req.SetSource(p.source)
	req.SetTransport("UDP")
	return req
}

// authorization answers the challenge for alg in res with password, using
// icholy/digest (the client library sipgo uses) as an independent
// implementation.
func (p *phone) authorization(res *sip.Response, alg, password string) string {
	p.t.Helper()
	for _, h := range res.GetHeaders("WWW-Authenticate") {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			p.t.Fatalf("challenge %q: %v", h.Value(), err)
		}
		if !strings.EqualFold(chal.Algorithm, alg) {
			continue
		}
		p.nc++
		cred, err := digest.Digest(chal, digest.Options{
			Method: "REGISTER", URI: "sip:127.0.0.1", Username: p.user, Password: password, Count: p.nc,
		})
		if err != nil {
			p.t.Fatalf("digest: %v", err)
		}
		return "Authorization: " + cred.String()
	}
	p.t.Fatalf("no %s challenge in %s", alg, res.String())
	return ""
}

// register performs the two-step exchange and returns the final response.
func (p *phone) register(r *Registrar, alg, password string, extra ...string) *sip.Response {
	p.t.Helper()
	res := r.serve(p.request(extra...))
	if res.StatusCode != sip.StatusUnauthorized {
		return res
	}
	res = r.serve(p.request(append(extra, p.authorization(res, alg, password))...))
	return res
}

func contactValues(res *sip.Response) []string {
	var out []string
	for _, h := range res.GetHeaders("Contact") {
		out = append(out, h.Value())
	}
	return out
}

func TestProcessRegister(t *testing.T) {
	tests := []struct {
		name       string
		alg        string
		password   string
		contact    string // default: the phone's own
		extra      []string
		wantStatus int
		wantEvents []string
	}{
		{name: "MD5 right password", alg: "MD5", password: testPass, extra: []string{"Expires: 600"},
			wantStatus: 200, wantEvents: []string{"registered:sip:1001@127.0.0.1:5070:"}},
		{name: "SHA-256 right password", alg: "SHA-256", password: testPass, extra: []string{"Expires: 600"},
			wantStatus: 200, wantEvents: []string{"registered:sip:1001@127.0.0.1:5070:"}},
		{name: "wrong password", alg: "MD5", password: "guess", wantStatus: 401},
		{name: "too brief", alg: "SHA-256", password: testPass, extra: []string{"Expires: 30"}, wantStatus: 423},
		{name: "bad Expires", alg: "SHA-256", password: testPass, extra: []string{"Expires: -5"}, wantStatus: 400},
		{name: "wildcard with non-zero Expires", alg: "MD5", password: testPass, contact: "*", extra: []string{"Expires: 60"}, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, rec := newTestRegistrar(t)
			p := newPhone(t, testUser, "127.0.0.1:5070")
			if tt.contact != "" {
				p.contact = tt.contact
			}
			extra := append([]string{"Contact: " + p.contact}, tt.extra...)
			res := p.register(r, tt.alg, tt.password, extra...)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d %s, want %d\n%s", res.StatusCode, res.Reason, tt.wantStatus, res)
			}
			if got := rec.take(); !equalStrings(got, tt.wantEvents) {
				t.Errorf("events %v, want %v", got, tt.wantEvents)
			}
			switch tt.wantStatus {
			case 200:
				if got := contactValues(res); len(got) != 1 || got[0] != "<sip:1001@127.0.0.1:5070>;expires=600" {
					t.Errorf("200 contacts %v", got)
				}
			case 401:
				if len(res.GetHeaders("WWW-Authenticate")) != 2 {
					t.Errorf("401 without two challenges:\n%s", res)
				}
			case 423:
				if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
					t.Errorf("423 Min-Expires = %v", h)
				}
			}
			if tt.wantStatus != 200 && len(r.Lookup(testUser)) != 0 {
				t.Errorf("binding created by a %d", tt.wantStatus)
			}
		})
	}
}

// challengeShape strips what legitimately differs between two 401s (the
// nonce, the To tag, the Via branch) so the rest can be compared.
func challengeShape(res *sip.Response) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s\n", res.StatusCode, res.Reason)
	for _, h := range res.Headers() {
		v := h.Value()
		switch strings.ToLower(h.Name()) {
		case "www-authenticate":
			c, err := digest.ParseChallenge(v)
			if err == nil {
				c.Nonce = "N"
				v = c.String()
			}
		case "via", "to", "from", "call-id", "cseq":
			v = "-"
		}
		fmt.Fprintf(&b, "%s: %s\n", h.Name(), v)
	}
	return b.String()
}

func TestUnknownUserSameChallenge(t *testing.T) {
	r, _, _ := newTestRegistrar(t)
	known := newPhone(t, testUser, "127.0.0.1:5071")
	unknown := newPhone(t, "9999", "127.0.0.1:5072")

	first := r.serve(known.request("Contact: " + known.contact))
	wrong := r.serve(known.request("Contact: "+known.contact, known.authorization(first, "SHA-256", "guess")))
	firstU := r.serve(unknown.request("Contact: " + unknown.contact))
	wrongU := r.serve(unknown.request("Contact: "+unknown.contact, unknown.authorization(firstU, "SHA-256", "guess")))

	if a, b := challengeShape(first), challengeShape(firstU); a != b {
		t.Errorf("first challenge differs:\nknown:\n%s\nunknown:\n%s", a, b)
	}
	if a, b := challengeShape(wrong), challengeShape(wrongU); a != b {
		t.Errorf("answer to a wrong password differs:\nknown:\n%s\nunknown:\n%s", a, b)
	}
	if wrong.StatusCode != 401 {
		t.Errorf("wrong password: %d", wrong.StatusCode)
	}
	// SHA-256 is offered first (RFC 8760 §2.4).
	if h := first.GetHeader("WWW-Authenticate"); h == nil || !strings.Contains(h.Value(), "algorithm=SHA-256") {
		t.Errorf("first challenge is not SHA-256: %v", h)
	}
}

func TestProcessIdentityMismatch(t *testing.T) {
	r, _, rec := newTestRegistrar(t)
	// 1002 authenticates with its own password but tries to bind 1001.
	p := newPhone(t, "1002", "127.0.0.1:5073")
	p.toUser = testUser
	res := p.register(r, "MD5", "pw-1002", "Contact: <sip:1002@127.0.0.1:5073>")
	if res.StatusCode != sip.StatusForbidden {
		t.Fatalf("status %d, want 403", res.StatusCode)
	}
	if got := r.Lookup(testUser); len(got) != 0 {
		t.Errorf("1001 bound by 1002: %+v", got)
	}
	if ev := rec.take(); len(ev) != 0 {
		t.Errorf("events %v", ev)
	}
}

func TestProcessLifecycle(t *testing.T) {
	r, clk, rec := newTestRegistrar(t)
	p := newPhone(t, testUser, "127.0.0.1:5074")
	res := p.register(r, "SHA-256", testPass, "Contact: "+p.contact, "Expires: 120")
	if res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	got := r.Lookup(testUser)
	if len(got) != 1 || got[0].URI != "sip:1001@127.0.0.1:5074" || got[0].Source != "127.0.0.1:5074" ||
		got[0].Transport != "UDP" || got[0].UserAgent != "testphone" || !got[0].Expires.Equal(t0.Add(120*time.Second)) {
		t.Fatalf("lookup = %+v", got)
	}

	// A second phone for the same user; the 200 lists both.
	p2 := newPhone(t, testUser, "127.0.0.1:5075")
	clk.Advance(10 * time.Second)
	res = p2.register(r, "MD5", testPass, "Contact: "+p2.contact+";expires=300")
	if got := contactValues(res); res.StatusCode != 200 || !equalStrings(got, []string{
		"<sip:1001@127.0.0.1:5074>;expires=110", "<sip:1001@127.0.0.1:5075>;expires=300",
	}) {
		t.Fatalf("second phone: %d %v", res.StatusCode, got)
	}
	rec.take()

	snap := r.Snapshot()
	if len(snap) != 1 || len(snap[testUser]) != 2 {
		t.Fatalf("snapshot %+v", snap)
	}
	snap[testUser][0].URI = "changed"
	if r.Lookup(testUser)[0].URI == "changed" {
		t.Fatal("snapshot shares memory with the store")
	}

	// Expiry: the first lapses at 120 s, Sweep reports it.
	clk.Advance(111 * time.Second)
	r.Sweep(clk.Now())
	if ev := rec.take(); !equalStrings(ev, []string{"unregistered:sip:1001@127.0.0.1:5074:expired"}) {
		t.Fatalf("sweep events %v", ev)
	}
	if got := r.Lookup(testUser); len(got) != 1 || got[0].URI != "sip:1001@127.0.0.1:5075" {
		t.Fatalf("lookup after expiry = %+v", got)
	}
	if snap := r.Snapshot(); len(snap[testUser]) != 1 {
		t.Fatalf("snapshot after expiry %+v", snap)
	}

	// Unregister with Contact: * and Expires: 0.
	res = p2.register(r, "MD5", testPass, "Contact: *", "Expires: 0")
	if res.StatusCode != 200 || len(contactValues(res)) != 0 {
		t.Fatalf("unregister: %d %v", res.StatusCode, contactValues(res))
	}
	if ev := rec.take(); !equalStrings(ev, []string{"unregistered:sip:1001@127.0.0.1:5075:removed"}) {
		t.Fatalf("unregister events %v", ev)
	}
	if got := r.Lookup(testUser); len(got) != 0 {
		t.Fatalf("lookup after unregister = %+v", got)
	}
}

func TestProcessStaleNonce(t *testing.T) {
	r, clk, _ := newTestRegistrar(t)
	p := newPhone(t, testUser, "127.0.0.1:5076")
	first := r.serve(p.request("Contact: " + p.contact))
	clk.Advance(sipdigest.DefaultNonceTTL + time.Second)
	res := r.serve(p.request("Contact: "+p.contact, p.authorization(first, "MD5", testPass)))
	if res.StatusCode != 401 || !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("expired nonce, right password: want 401 stale=true, got\n%s", res)
	}
	// Wrong password on an expired nonce: no stale flag.
	res = r.serve(p.request("Contact: "+p.contact, p.authorization(first, "MD5", "guess")))
	if res.StatusCode != 401 || strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale") {
		t.Fatalf("expired nonce, wrong password: want 401 without stale, got\n%s", res)
	}
	// The stale challenge's nonce works.
	res = r.serve(p.request("Contact: "+p.contact, p.authorization(res, "MD5", testPass)))
	if res.StatusCode != 200 {
		t.Fatalf("retry with fresh nonce: %d", res.StatusCode)
	}
}

func TestProcessReplay(t *testing.T) {
	r, _, _ := newTestRegistrar(t)
	p := newPhone(t, testUser, "127.0.0.1:5077")
	first := r.serve(p.request("Contact: " + p.contact))
	auth := p.authorization(first, "SHA-256", testPass)
	if res := r.serve(p.request("Contact: "+p.contact, auth)); res.StatusCode != 200 {
		t.Fatalf("first use: %d", res.StatusCode)
	}
	// An attacker replays the captured Authorization with a new CSeq.
	if res := r.serve(p.request("Contact: <sip:1001@203.0.113.9>", auth)); res.StatusCode != 401 {
		t.Fatalf("replay: %d, want 401", res.StatusCode)
	}
	if got := r.Lookup(testUser); len(got) != 1 || got[0].URI != "sip:1001@127.0.0.1:5077" {
		t.Errorf("replay changed bindings: %+v", got)
	}
}

func TestProcessOutOfOrder(t *testing.T) {
	r, _, _ := newTestRegistrar(t)
	p := newPhone(t, testUser, "127.0.0.1:5078")
	p.cseq = 10
	if res := p.register(r, "MD5", testPass, "Contact: "+p.contact); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	p.cseq -= 5
	if res := p.register(r, "MD5", testPass, "Contact: "+p.contact, "Expires: 0"); res.StatusCode != 500 {
		t.Fatalf("older CSeq: %d, want 500", res.StatusCode)
	}
	if len(r.Lookup(testUser)) != 1 {
		t.Error("out-of-order REGISTER removed the binding")
	}
}

func TestUnknownAuthSchemeIsChallenged(t *testing.T) {
	r, _, _ := newTestRegistrar(t)
	p := newPhone(t, testUser, "127.0.0.1:5080")
	res := r.serve(p.request("Contact: "+p.contact, "Authorization: NoOneKnowsThisScheme opaque-data=here"))
	if res.StatusCode != 401 || len(res.GetHeaders("WWW-Authenticate")) == 0 {
		t.Fatalf("status %d, want a 401 challenge", res.StatusCode)
	}
}

func TestProcessMalformed(t *testing.T) {
	tests := []struct {
		name  string
		extra []string
		want  int
	}{
		{"malformed Authorization", []string{`Authorization: Digest username="1001", username="1001"`}, 400},
		{"non-SIP contact", []string{"Contact: <tel:+15551234>"}, 400},
		// RFC 4475 §3.4.5 (regaut01): credentials in a scheme the
		// registrar does not know are ignored, so the phone is
		// challenged and then authenticates with Digest.
		{"Basic auth is ignored", []string{"Authorization: Basic Zm9vOmJhcg=="}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _, _ := newTestRegistrar(t)
			p := newPhone(t, testUser, "127.0.0.1:5079")
			res := p.register(r, "MD5", testPass, tt.extra...)
			if res.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.want)
			}
		})
	}
}

// wideBudget keeps the long-window budgets out of tests of the burst
// guard.
var wideBudget = Budget{Failures: 1000, Window: time.Minute, Block: time.Minute, MaxBlock: time.Minute, ForgetAfter: time.Minute}

func TestProcessBlocking(t *testing.T) {
	r, clk, _ := newTestRegistrar(t, WithUserBudget(wideBudget))
	attacker := newPhone(t, testUser, "127.0.0.1:5080")
	for i := 1; i <= 16; i++ {
		if res := attacker.register(r, "MD5", fmt.Sprintf("guess-%d", i)); res.StatusCode != 401 {
			t.Fatalf("failure %d: %d, want 401", i, res.StatusCode)
		}
		clk.Advance(100 * time.Millisecond)
	}
	if res := attacker.register(r, "MD5", "guess-17"); res.StatusCode != 403 {
		t.Fatalf("17th failure within 2 s: %d, want 403", res.StatusCode)
	}
	// Blocked: even the right password and even an unauthenticated REGISTER
	// get 403, with no challenge.
	res := r.serve(attacker.request("Contact: " + attacker.contact))
	if res.StatusCode != 403 || res.GetHeader("WWW-Authenticate") != nil {
		t.Fatalf("blocked source: %d", res.StatusCode)
	}
	// Another source is not affected.
	other := newPhone(t, testUser, "127.0.0.2:5080")
	if res := other.register(r, "SHA-256", testPass, "Contact: "+other.contact); res.StatusCode != 200 {
		t.Fatalf("other source: %d", res.StatusCode)
	}
	clk.Advance(DefaultBlockFor)
	if res := attacker.register(r, "SHA-256", testPass, "Contact: "+attacker.contact); res.StatusCode != 200 {
		t.Fatalf("after the block: %d", res.StatusCode)
	}
}

func TestProcessCredentialStoreError(t *testing.T) {
	clk := clock.NewFake(t0)
	r, err := New(failingCreds{}, WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	p := newPhone(t, testUser, "127.0.0.1:5081")
	for i := 0; i < 20; i++ {
		if res := p.register(r, "MD5", testPass); res.StatusCode != 500 {
			t.Fatalf("attempt %d: %d, want 500", i, res.StatusCode)
		}
	}
	// Store failures are not the client's fault: no block.
	if r.guard.blocked("127.0.0.1", clk.Now()) {
		t.Error("store failures blocked the source")
	}
}

type failingCreds struct{}

var errStoreDown = errors.New("store down")

func (failingCreds) HA1(ctx context.Context, user string, alg sipdigest.Algorithm) (string, bool, error) {
	return "", false, errStoreDown
}

func TestUnbind(t *testing.T) {
	r, _, rec := newTestRegistrar(t)
	p := newPhone(t, testUser, "127.0.0.1:5082")
	if res := p.register(r, "MD5", testPass, "Contact: "+p.contact); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	rec.take()
	r.Unbind(testUser)
	if ev := rec.take(); !equalStrings(ev, []string{"unregistered:sip:1001@127.0.0.1:5082:admin"}) {
		t.Fatalf("events %v", ev)
	}
	if len(r.Lookup(testUser)) != 0 {
		t.Error("binding survived Unbind")
	}
}

func TestNewOptions(t *testing.T) {
	creds := StaticCredentials{}
	tests := []struct {
		name string
		opts []Option
	}{
		{"CRLF realm", []Option{WithRealm("a\r\nb")}},
		{"min above default", []Option{WithExpiry(120*time.Second, 3600*time.Second, 60*time.Second)}},
		{"fractional min", []Option{WithExpiry(1500*time.Millisecond, 3600*time.Second, 3600*time.Second)}},
		{"zero failures", []Option{WithBlocking(0, time.Second, time.Second)}},
		{"zero sources", []Option{WithMaxSources(0)}},
		{"zero contacts", []Option{WithMaxContacts(0)}},
		{"nil logger", []Option{WithLogger(nil)}},
		{"bad digest option", []Option{WithDigestOptions(sipdigest.WithNonceTTL(-1))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(creds, tt.opts...); err == nil {
				t.Error("New succeeded")
			}
		})
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

func TestDropUnsafeEcho(t *testing.T) {
	r, _, _ := newTestRegistrar(t)
	// sipgo keeps a bare LF inside a header value (found by FuzzServe).
	raw := "REGISTER sip:127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n" +
		"From: <sip:1001@127.0.0.1>;tag=a\r\n" +
		"To: <sip:1001@127.0.0.1>\r\n" +
		"Call-ID: c1\nX-Injected: yes\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Content-Length: 0\r\n\r\n"
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		// A sipgo that refuses bare LF itself satisfies the property too.
		t.Logf("sipgo refuses the message: %v", err)
		return
	}
	req := msg.(*sip.Request)
	req.SetSource("127.0.0.1:5060")
	if res := r.serve(req); res != nil {
		t.Fatalf("answered a request whose echoed headers contain LF:\n%q", res.String())
	}
}

// After a restart (a new nonce secret) every phone of an office behind one
// NAT answers with a nonce the registrar no longer knows. Those are not
// password guesses and must not block the office.
func TestProcessRestartDoesNotBlock(t *testing.T) {
	before, _, _ := newTestRegistrar(t)
	after, _, _ := newTestRegistrar(t)
	for i := 0; i < 3*DefaultMaxFailures; i++ {
		p := newPhone(t, testUser, fmt.Sprintf("127.0.0.1:%d", 6000+i))
		old := before.serve(p.request("Contact: " + p.contact))
		res := after.serve(p.request("Contact: "+p.contact, p.authorization(old, "SHA-256", testPass)))
		if res.StatusCode != 401 {
			t.Fatalf("phone %d with a pre-restart nonce: %d, want 401", i, res.StatusCode)
		}
		// The fresh challenge works.
		res = after.serve(p.request("Contact: "+p.contact, p.authorization(res, "SHA-256", testPass)))
		if res.StatusCode != 200 {
			t.Fatalf("phone %d after re-challenge: %d, want 200", i, res.StatusCode)
		}
	}
}
