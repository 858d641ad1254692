package native

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/mediatest/sippeer"
	"hotline/mediacore/native/registrar"
)

// trials records, from the carriers' side, the order in which trunks
// received calls: one entry per trunk and Call-ID (retransmissions of an
// INVITE are one entry).
type trials struct {
	mu    sync.Mutex // guards order and seen
	order []string
	seen  map[string]bool
}

func (tr *trials) add(name, callID string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.seen == nil {
		tr.seen = map[string]bool{}
	}
	if !tr.seen[name+" "+callID] {
		tr.seen[name+" "+callID] = true
		tr.order = append(tr.order, name)
	}
}

func (tr *trials) get() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.order)
}

// silentUDP is a trunk that never answers. onInvite, when set, is called
// with the Call-ID of each INVITE it receives.
func silentUDP(t *testing.T, onInvite func(callID string)) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if onInvite != nil && bytes.HasPrefix(buf[:n], []byte("INVITE ")) {
				onInvite(callID(buf[:n]))
			}
		}
	}()
	return c.LocalAddr().String()
}

func channelEvents(a *autoAnswer, ch mediacore.ChannelID) []mediacore.Event {
	var out []mediacore.Event
	for _, ev := range a.snapshot() {
		if ev.Channel == ch {
			out = append(out, ev)
		}
	}
	return out
}

// TestTrunkFailover dials tel/ through three trunks in priority order: the
// first never answers (timeout), the second answers 503, the third answers
// the call, which must then carry the number in its Request-URI (R1.2).
// The carriers record the order in which they saw the INVITE: a, then b,
// then c, whatever the order of the configuration.
func TestTrunkFailover(t *testing.T) {
	var tried trials
	busy, err := sippeer.New(sippeer.Config{User: "carrier-b", Answer: func(r *sip.Request) int { tried.add("b", r.CallID().Value()); return 503 }})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	good, err := sippeer.New(sippeer.Config{User: "carrier-c", Answer: func(r *sip.Request) int { tried.add("c", r.CallID().Value()); return 200 }})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	b := newTestBackend(t, func(c *Config) {
		c.Trunks = []Trunk{
			{Name: "c", Address: good.Addr(), Priority: 30},
			{Name: "a", Address: silentUDP(t, func(id string) { tried.add("a", id) }), Priority: 10, Timeout: 300 * time.Millisecond},
			{Name: "b", Address: busy.Addr(), Priority: 20},
		}
	})
	a := startAutoAnswer(t, b)
	ctx := context.Background()
	id, err := a.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "tel/+8610123", CallerIDNumber: "95555", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var call *sippeer.Call
	select {
	case call = <-good.Incoming():
	case <-time.After(10 * time.Second):
		t.Fatalf("third trunk got no call; events %+v", channelEvents(a, id))
	}
	if got, want := tried.get(), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("carriers saw the INVITE in the order %v, want %v (priority order)", got, want)
	}
	if u := call.Request.Recipient.User; u != "+8610123" {
		t.Errorf("Request-URI user %q", u)
	}
	if f := call.Request.From().Address.User; f != "95555" {
		t.Errorf("From user %q", f)
	}
	a.waitFor(t, 5*time.Second, func([]mediacore.Event) bool { return hasEvent(channelEvents(a, id), mediacore.EventAnswered, id) })
	if !hasEvent(channelEvents(a, id), mediacore.EventAnswered, id) {
		t.Fatal("call through the third trunk not answered")
	}

	t.Run("pinned trunk does not fail over", func(t *testing.T) {
		id, err := a.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "tel/+8610124@b", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		a.waitFor(t, 5*time.Second, func([]mediacore.Event) bool { return hasEvent(channelEvents(a, id), mediacore.EventHangup, id) })
		evs := channelEvents(a, id)
		last := evs[len(evs)-1]
		if got, want := tried.get(), []string{"a", "b", "c", "b"}; !slices.Equal(got, want) {
			t.Errorf("carriers saw %v, want %v: the pinned call reached b only", got, want)
		}
		if last.Type != mediacore.EventHangup || last.Cause != mediacore.CauseCongestion || last.SIPCode != 503 {
			t.Errorf("last event %+v, want hangup congestion 503", last)
		}
	})
	t.Run("unknown trunk", func(t *testing.T) {
		_, err := a.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "tel/1@nope"})
		if err == nil {
			t.Fatal("originate through an unknown trunk succeeded")
		}
	})
}

// TestInboundAdmission checks that with AllowUnknownSources off, an INVITE
// is accepted from a trunk's address (and names the trunk) and refused with
// 403 from anywhere else, and that the log says why (the README tells an
// admin to look for that line when a phone's calls get 403).
func TestInboundAdmission(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix string
		want   int
	}{
		{"from trunk", "127.0.0.1/32", 200},
		{"unknown source", "127.0.0.2/32", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs testenv.SyncBuffer
			b := newTestBackend(t, func(c *Config) {
				c.AllowUnknownSources = false
				c.Trunks = []Trunk{{Name: "carrier", Address: "127.0.0.9:5060", InboundFrom: []netip.Prefix{netip.MustParsePrefix(tc.prefix)}}}
				c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			})
			a := startAutoAnswer(t, b)
			p, err := sippeer.New(sippeer.Config{User: "8613800000000"})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = p.Dial(ctx, "sip:95555@"+b.Addr().String())
			code := 200
			if se, ok := err.(*sippeer.StatusError); ok {
				code = se.Code
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.want {
				t.Fatalf("status %d, want %d", code, tc.want)
			}
			if why := "INVITE refused with 403: the source is no trunk and no registered phone of the From user"; tc.want == 403 &&
				(!strings.Contains(logs.String(), why) || !strings.Contains(logs.String(), `"from":"8613800000000"`)) {
				t.Errorf("the 403 was not logged with its reason and From user; log:\n%s", logs.String())
			}
			if tc.want == 200 {
				var trunk string
				for _, ev := range a.snapshot() {
					if ev.Type == mediacore.EventChannelCreated {
						trunk = ev.Trunk
					}
				}
				if trunk != "carrier" {
					t.Errorf("ChannelCreated.Trunk = %q", trunk)
				}
			}
		})
	}
}

// TestTrunkRegistration registers the native core with a carrier that
// demands digest (the registrar package plays the carrier).
func TestTrunkRegistration(t *testing.T) {
	creds := registrar.NewStaticCredentials("carrier", map[string]string{"hotline-trunk": "trunkpw"})
	reg, err := registrar.New(creds, registrar.WithRealm("carrier"))
	if err != nil {
		t.Fatal(err)
	}
	registered := make(chan registrar.Event, 4)
	reg.OnChange(func(ev registrar.Event) { registered <- ev })
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	srv, _ := sipgo.NewServer(ua)
	srv.OnRegister(reg.HandleRegister)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	go func() { _ = srv.ServeUDP(conn) }()

	b := newTestBackend(t, func(c *Config) {
		c.Trunks = []Trunk{{Name: "carrier", Address: conn.LocalAddr().String(), Register: true,
			Username: "hotline-trunk", Password: "trunkpw", RegisterExpiry: 120 * time.Second}}
	})
	startAutoAnswer(t, b)
	select {
	case ev := <-registered:
		if ev.Kind != registrar.Registered || ev.User != "hotline-trunk" {
			t.Fatalf("event %+v", ev)
		}
		if want := strconv.Itoa(int(b.Addr().Port())); ev.Contact.URI == "" || !strings.Contains(ev.Contact.URI, want) {
			t.Errorf("contact %q does not point at the core (port %s)", ev.Contact.URI, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the core did not register with the trunk")
	}
	if got := reg.Lookup("hotline-trunk"); len(got) != 1 {
		t.Fatalf("bindings %+v", got)
	}
}
