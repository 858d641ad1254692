package native

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/mediatest/sippeer"
)

// autoAnswer is a minimal controller: it answers every inbound call and
// records every event.
type autoAnswer struct {
	core   *mediacore.Core
	mu     sync.Mutex // guards events
	events []mediacore.Event
}

func startAutoAnswer(t *testing.T, b *Backend) *autoAnswer {
	t.Helper()
	a := &autoAnswer{}
	core, err := mediacore.New(b, mediacore.Options{Handler: func(ev mediacore.Event) {
		a.mu.Lock()
		a.events = append(a.events, ev)
		a.mu.Unlock()
		if ev.Type == mediacore.EventChannelCreated && ev.Direction == mediacore.Inbound {
			go func() { _ = a.core.Answer(context.Background(), ev.Channel) }()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	a.core = core
	if err := core.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = core.Close() })
	return a
}

// dialIn calls the backend's number 100 from a new test phone, which the
// auto-answerer picks up, and returns the phone's call and the core's
// channel for it. The phone is closed when the test ends.
func (a *autoAnswer) dialIn(ctx context.Context, t *testing.T, b *Backend) (*sippeer.Call, mediacore.ChannelID) {
	t.Helper()
	p, err := sippeer.New(sippeer.Config{User: "caller"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	call, err := p.Dial(ctx, "sip:100@"+b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var ch mediacore.ChannelID
	for _, ev := range a.snapshot() {
		if ev.Type == mediacore.EventChannelCreated {
			ch = ev.Channel
		}
	}
	return call, ch
}

func (a *autoAnswer) snapshot() []mediacore.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]mediacore.Event(nil), a.events...)
}

func (a *autoAnswer) waitFor(t *testing.T, d time.Duration, pred func([]mediacore.Event) bool) []mediacore.Event {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if evs := a.snapshot(); pred(evs) {
			return evs
		}
		time.Sleep(50 * time.Millisecond)
	}
	return a.snapshot()
}

// TestSIPpDTMF has SIPp call the native core and replay RFC 4733 digits from
// a pcap the test generates: the digits arrive as DTMF events, in order,
// once each (end-packet retransmissions deduplicated).
func TestSIPpDTMF(t *testing.T) {
	sipp := testenv.RequireTool(t, "sipp")
	b := newTestBackend(t, nil)
	a := startAutoAnswer(t, b)
	dir := t.TempDir()
	const digits = "158#*0"
	pkts, ts := dtmfStream(digits)
	f, err := os.Create(filepath.Join(dir, "dtmf.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if err := writePCAP(f, pkts, ts); err != nil {
		t.Fatal(err)
	}
	f.Close()
	runSIPpCaller(t, sipp, b, "testdata/sipp/uac_dtmf.xml", dir, "20s")
	evs := a.waitHangup(t)
	var got []byte
	var created mediacore.Event
	for _, ev := range evs {
		switch ev.Type {
		case mediacore.EventDTMF:
			got = append(got, ev.Digit)
		case mediacore.EventChannelCreated:
			created = ev
		}
	}
	if string(got) != digits {
		t.Errorf("DTMF events %q, want %q", got, digits)
	}
	if created.Called != "700" || created.Headers["X-Test"] != "sipp-dtmf" || created.Caller != "sipp" {
		t.Errorf("ChannelCreated %+v", created)
	}
}

// runSIPpCaller runs one call of a SIPp caller scenario (dialling 700)
// against b in dir, and fails the test, with SIPp's error logs, when SIPp
// does not complete it within timeout.
func runSIPpCaller(t *testing.T, sipp string, b *Backend, scenario, dir, timeout string) {
	t.Helper()
	path, _ := filepath.Abs(scenario)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sipp, "-sf", path, "-s", "700", "-m", "1", "-l", "1",
		"-i", "127.0.0.1", "-p", strconv.Itoa(testenv.FreeUDPPort(t)), "-mp", strconv.Itoa(testenv.FreeUDPPort(t)&^1),
		"-nostdin", "-timeout", timeout, "-timeout_error", "-trace_err",
		b.Addr().String())
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "*errors.log"))
		for _, l := range logs {
			data, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", l, data)
		}
		t.Fatalf("sipp %s: %v\n%s", filepath.Base(scenario), err, lastLines(out, 30))
	}
}

// waitHangup waits until the controller has seen a hangup and returns
// every event so far.
func (a *autoAnswer) waitHangup(t *testing.T) []mediacore.Event {
	t.Helper()
	return a.waitFor(t, 5*time.Second, func(evs []mediacore.Event) bool {
		for _, ev := range evs {
			if ev.Type == mediacore.EventHangup {
				return true
			}
		}
		return false
	})
}

func lastLines(b []byte, n int) string {
	lines := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			lines++
			if lines > n {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}

// TestSIPpSilentCallerTimesOut: a SIPp caller that is answered and then
// sends no RTP (a phone that lost its network without a BYE) is hung up
// after the configured MediaTimeout: SIPp receives the BYE, and the
// controller sees the hangup with cause media_timeout. Without it such a
// call would hold its agent forever.
func TestSIPpSilentCallerTimesOut(t *testing.T) {
	sipp := testenv.RequireTool(t, "sipp")
	b := newTestBackend(t, func(c *Config) { c.MediaTimeout = time.Second })
	a := startAutoAnswer(t, b)
	// A BYE that never comes makes SIPp time out and the run fail.
	runSIPpCaller(t, sipp, b, "testdata/sipp/uac_silent.xml", t.TempDir(), "15s")
	evs := a.waitHangup(t)
	for _, ev := range evs {
		if ev.Type == mediacore.EventHangup && ev.Cause != mediacore.CauseMediaTimeout {
			t.Errorf("hangup cause %v, want %v", ev.Cause, mediacore.CauseMediaTimeout)
		}
	}
}
