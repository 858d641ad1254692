package native

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"gopkg.in/yaml.v3"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/mediatest/sippeer"
	"hotline/mediacore/native/registrar"
)

// waitUntil polls cond until it holds or d passed.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// TestSetTrunksSIPpRegistrar has a real SIPp play the carrier's registrar:
// SetTrunks with a Register trunk makes the core REGISTER within seconds,
// and SetTrunks(nil) unregisters it (Expires: 0).
func TestSetTrunksSIPpRegistrar(t *testing.T) {
	sipp := testenv.RequireTool(t, "sipp")
	b := newTestBackend(t, nil)
	startAutoAnswer(t, b)
	dir := t.TempDir()
	scenario, _ := filepath.Abs("testdata/sipp/uas_register.xml")
	port := testenv.FreeUDPPort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, "-sf", scenario, "-m", "2",
		"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-nostdin", "-timeout", "30s", "-timeout_error",
		"-trace_logs", "-trace_err")
	cmd.Dir = dir
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	trunk := mediacore.TrunkConfig{Name: "carrier", Address: "127.0.0.1:" + strconv.Itoa(port),
		Username: "acct-7", Register: true, RegisterExpiry: 120 * time.Second}
	if err := b.SetTrunks(ctx, []mediacore.TrunkConfig{trunk}); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(15*time.Second, func() bool { return b.trunkRegistered("carrier") }) {
		t.Fatalf("no registration accepted by SIPp\n%s", out.String())
	}
	if err := b.SetTrunks(ctx, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("sipp: %v\n%s", err, lastLines([]byte(out.String()), 30))
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("SIPp did not get the un-REGISTER\n%s", lastLines([]byte(out.String()), 30))
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*_logs.log"))
	var lines []string
	for _, l := range logs {
		data, _ := os.ReadFile(l)
		for _, line := range strings.Split(string(data), "\n") {
			if i := strings.Index(line, "register user="); i >= 0 {
				rest, _, _ := strings.Cut(line[i:], " from=")
				lines = append(lines, rest)
			}
		}
	}
	want := []string{"register user=acct-7 expires=120", "register user=acct-7 expires=0"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("SIPp saw %q, want %q", lines, want)
	}
}

// carrierRegistrar is a registrar (the registrar package) playing the
// carrier, reporting its binding changes.
func carrierRegistrar(t *testing.T) (addr string, events chan registrar.Event, reg *registrar.Registrar) {
	t.Helper()
	creds := registrar.NewStaticCredentials("carrier", map[string]string{"u1": "pw", "u2": "pw"})
	reg, err := registrar.New(creds, registrar.WithRealm("carrier"))
	if err != nil {
		t.Fatal(err)
	}
	events = make(chan registrar.Event, 16)
	reg.OnChange(func(ev registrar.Event) { events <- ev })
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	srv, _ := sipgo.NewServer(ua)
	srv.OnRegister(reg.HandleRegister)
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() { _ = srv.ServeUDP(conn) }()
	return conn.LocalAddr().String(), events, reg
}

func nextRegEvent(t *testing.T, events chan registrar.Event) registrar.Event {
	t.Helper()
	select {
	case ev := <-events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no registration change at the carrier")
	}
	return registrar.Event{}
}

// TestSetTrunksLifecycle: a changed username re-registers (old binding
// removed first), a disabled trunk unregisters and is not dialled nor
// admits calls, invalid input changes nothing.
func TestSetTrunksLifecycle(t *testing.T) {
	addr, events, _ := carrierRegistrar(t)
	b := newTestBackend(t, func(c *Config) { c.AllowUnknownSources = false })
	a := startAutoAnswer(t, b)
	ctx := context.Background()
	tc := mediacore.TrunkConfig{Name: "carrier", Address: addr, Username: "u1", Password: "pw",
		Register: true, RegisterExpiry: time.Minute, InboundFrom: []string{"127.0.0.1"}}
	if err := b.SetTrunks(ctx, []mediacore.TrunkConfig{tc}); err != nil {
		t.Fatal(err)
	}
	if ev := nextRegEvent(t, events); ev.Kind != registrar.Registered || ev.User != "u1" {
		t.Fatalf("first change %+v", ev)
	}
	// Priority only: no new binding.
	tc.Priority = 5
	if err := b.SetTrunks(ctx, []mediacore.TrunkConfig{tc}); err != nil {
		t.Fatal(err)
	}
	tc.Username = "u2"
	if err := b.SetTrunks(ctx, []mediacore.TrunkConfig{tc}); err != nil {
		t.Fatal(err)
	}
	if ev := nextRegEvent(t, events); ev.Kind != registrar.Unregistered || ev.User != "u1" {
		t.Fatalf("after the username change, first %+v, want u1 unregistered", ev)
	}
	if ev := nextRegEvent(t, events); ev.Kind != registrar.Registered || ev.User != "u2" {
		t.Fatalf("after the username change, then %+v, want u2 registered", ev)
	}

	// Inbound admission follows InboundFrom.
	p, err := sippeer.New(sippeer.Config{User: "8613800000000"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	call, err := p.Dial(dctx, "sip:95555@"+b.Addr().String())
	if err != nil {
		t.Fatalf("call from the trunk's source: %v", err)
	}
	_ = call.Hangup(dctx)
	var trunk string
	for _, ev := range a.snapshot() {
		if ev.Type == mediacore.EventChannelCreated {
			trunk = ev.Trunk
		}
	}
	if trunk != "carrier" {
		t.Errorf("ChannelCreated.Trunk %q", trunk)
	}

	tc.Disabled = true
	if err := b.SetTrunks(ctx, []mediacore.TrunkConfig{tc}); err != nil {
		t.Fatal(err)
	}
	if ev := nextRegEvent(t, events); ev.Kind != registrar.Unregistered || ev.User != "u2" {
		t.Fatalf("disabling: %+v", ev)
	}
	if _, err := p.Dial(dctx, "sip:95555@"+b.Addr().String()); err == nil {
		t.Error("a disabled trunk still admits calls")
	} else if se, ok := err.(*sippeer.StatusError); !ok || se.Code != 403 {
		t.Errorf("disabled trunk: %v, want 403", err)
	}
	if _, err := a.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "tel/123@carrier"}); !errors.Is(err, mediacore.ErrNotFound) {
		t.Errorf("originate through a disabled trunk: %v, want ErrNotFound", err)
	}

	for name, bad := range map[string]mediacore.TrunkConfig{
		"no name":      {Address: addr},
		"bad address":  {Name: "x", Address: "nohost"},
		"bad source":   {Name: "x", Address: addr, InboundFrom: []string{"10.0.0.0/33"}},
		"bad protocol": {Name: "x", Address: addr, Transport: "sctp"},
	} {
		if err := b.SetTrunks(ctx, []mediacore.TrunkConfig{bad}); !errors.Is(err, mediacore.ErrInvalidArgument) {
			t.Errorf("%s: %v, want ErrInvalidArgument", name, err)
		}
	}
	if got := b.TrunkConfigs(); len(got) != 1 || !got[0].Disabled {
		t.Errorf("invalid input changed the trunks: %+v", got)
	}
}

func TestParseSource(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/8": "10.0.0.0/8", "10.1.2.3/8": "10.0.0.0/8", "192.0.2.7": "192.0.2.7/32",
		"::ffff:192.0.2.7": "192.0.2.7/32", "2001:db8::1": "2001:db8::1/128", "bad": "", "1.2.3.4/40": "",
	} {
		p, err := parseSource(in)
		if (err != nil) != (want == "") || (err == nil && p.String() != want) {
			t.Errorf("parseSource(%q) = %v, %v; want %q", in, p, err, want)
		}
	}
	if _, err := netip.ParsePrefix("10.0.0.0/8"); err != nil {
		t.Fatal(err)
	}
}

// TestFactory builds the backend through the registry: its yaml section,
// the credentials and the stored trunks come from FactoryOptions.
func TestFactory(t *testing.T) {
	src := "listen: 127.0.0.1:0\nmedia_dir: " + t.TempDir() + "\nsetup_timeout: 7s\ntrunks:\n  - name: static\n    address: 127.0.0.1:5070\n    inbound_from: [10.0.0.0/8]\n"
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(src), &node); err != nil {
		t.Fatal(err)
	}
	creds := registrar.NewStaticCredentials(registrar.DefaultRealm, map[string]string{"1001": "pw"})
	be, err := mediacore.Open(Name, mediacore.FactoryOptions{
		Decode: func(v any) error { return node.Decode(v) },
		Node:   "n1",
		Services: mediacore.Services{Credentials: creds, Trunks: []mediacore.TrunkConfig{
			{Name: "stored", Address: "127.0.0.1:5080", InboundFrom: []string{"192.0.2.7"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b := be.(*Backend)
	if b.cfg.SetupTimeout != 7*time.Second || b.reg == nil {
		t.Errorf("config not decoded or no registrar: %+v", b.cfg)
	}
	got := b.TrunkConfigs()
	if len(got) != 2 || got[0].Name != "static" || got[0].InboundFrom[0] != "10.0.0.0/8" || got[1].Name != "stored" || got[1].InboundFrom[0] != "192.0.2.7/32" {
		t.Errorf("trunks %+v", got)
	}
	if _, ok := be.(mediacore.TrunkConfigurer); !ok {
		t.Error("native does not implement TrunkConfigurer")
	}
	_, err = mediacore.Open(Name, mediacore.FactoryOptions{Decode: func(v any) error { return yaml.Unmarshal([]byte("listen: [x"), v) }})
	if !errors.Is(err, ErrConfig) {
		t.Errorf("bad yaml: %v, want ErrConfig", err)
	}
}

// TestSetTrunksKeepsCalls: removing the trunk a call went out through
// leaves the call up; new calls through it are refused.
func TestSetTrunksKeepsCalls(t *testing.T) {
	carrier, err := sippeer.New(sippeer.Config{User: "carrier"})
	if err != nil {
		t.Fatal(err)
	}
	defer carrier.Close()
	b := newTestBackend(t, nil)
	a := startAutoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.SetTrunks(ctx, []mediacore.TrunkConfig{{Name: "c", Address: carrier.Addr()}}); err != nil {
		t.Fatal(err)
	}
	id, err := a.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "tel/10010@c", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var call *sippeer.Call
	select {
	case call = <-carrier.Incoming():
	case <-ctx.Done():
		t.Fatal("carrier got no call")
	}
	a.waitFor(t, 10*time.Second, func(evs []mediacore.Event) bool { return countEvents(evs, id, mediacore.EventAnswered) == 1 })
	if err := b.SetTrunks(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "tel/10010@c"}); !errors.Is(err, mediacore.ErrNotFound) {
		t.Errorf("originate through a removed trunk: %v, want ErrNotFound", err)
	}
	chans, err := b.Channels(ctx)
	if err != nil || len(chans) != 1 || chans[0].ID != id || chans[0].State != mediacore.ChannelUp {
		t.Fatalf("after SetTrunks the call is %+v, %v; want it up", chans, err)
	}
	if err := a.core.Hangup(ctx, id, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	select {
	case <-call.Done():
	case <-ctx.Done():
		t.Fatal("the carrier did not get the BYE of a call through a removed trunk")
	}
}
