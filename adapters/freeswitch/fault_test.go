package freeswitch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/mediacore"
)

// sinkLog collects a backend's events.
type sinkLog struct {
	mu     sync.Mutex
	events []mediacore.Event
	notify chan struct{}
}

func newSinkLog() *sinkLog { return &sinkLog{notify: make(chan struct{}, 1)} }

func (s *sinkLog) sink(ev mediacore.Event) {
	s.mu.Lock()
	s.events = append(s.events, ev)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *sinkLog) snapshot() []mediacore.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mediacore.Event(nil), s.events...)
}

func (s *sinkLog) wait(t *testing.T, what string, pred func([]mediacore.Event) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if pred(s.snapshot()) {
			return
		}
		select {
		case <-s.notify:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; events: %+v", what, s.snapshot())
		}
	}
}

func count(evs []mediacore.Event, pred func(mediacore.Event) bool) int {
	n := 0
	for _, ev := range evs {
		if pred(ev) {
			n++
		}
	}
	return n
}

func isType(typ mediacore.EventType, ch mediacore.ChannelID) func(mediacore.Event) bool {
	return func(ev mediacore.Event) bool { return ev.Type == typ && ev.Channel == ch }
}

// startFake starts a backend against a fake ESL server.
func startFake(t *testing.T, mutate func(*Config)) (*fakeESL, *Backend, *sinkLog) {
	t.Helper()
	f := newFakeESL(t, "fake-pw")
	cfg := Config{Address: f.addr(), Password: "fake-pw", CommandTimeout: 500 * time.Millisecond,
		WatchdogInterval: 200 * time.Millisecond, RedialMax: 200 * time.Millisecond, Logger: testLogger()}
	if mutate != nil {
		mutate(&cfg)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	log := newSinkLog()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Start(ctx, log.sink); err != nil {
		t.Fatal(err)
	}
	<-f.accepted
	t.Cleanup(func() { _ = b.Close() })
	return f, b, log
}

// inboundCall makes the fake switch report a parked inbound channel.
func inboundCall(f *fakeESL, uuid string) {
	f.event(map[string]string{"Event-Name": "CHANNEL_CREATE", "Unique-ID": uuid, "Call-Direction": "inbound"}, "")
	f.event(map[string]string{"Event-Name": "CHANNEL_PARK", "Unique-ID": uuid, "Call-Direction": "inbound",
		"Caller-Caller-ID-Number": "2000", "Caller-Destination-Number": "100", "variable_sip_h_X-Account": "A 42"}, "")
}

func TestFakeEventsInOrderNoDuplicates(t *testing.T) {
	f, _, log := startFake(t, nil)
	inboundCall(f, "c1")
	digits := "0123456789*#ABCD"
	for i := range 200 {
		f.event(map[string]string{"Event-Name": "DTMF", "Unique-ID": "c1", "DTMF-Digit": string(digits[i%16]), "DTMF-Duration": "800"}, "")
	}
	// A repeated Event-Sequence (a copy) and an unknown event type are
	// dropped.
	f.event(map[string]string{"Event-Name": "DTMF", "Unique-ID": "c1", "DTMF-Digit": "9", "Event-Sequence": "5"}, "")
	f.event(map[string]string{"Event-Name": "SOMETHING_NEW", "Unique-ID": "c1"}, "")
	f.event(map[string]string{"Event-Name": "CHANNEL_HANGUP_COMPLETE", "Unique-ID": "c1", "Hangup-Cause": "USER_BUSY",
		"variable_hangup_cause_q850": "17", "variable_sip_term_status": "486"}, "")
	log.wait(t, "hangup", func(evs []mediacore.Event) bool { return count(evs, isType(mediacore.EventHangup, "c1")) == 1 })
	var got []byte
	var created mediacore.Event
	for _, ev := range log.snapshot() {
		switch ev.Type {
		case mediacore.EventDTMF:
			got = append(got, ev.Digit)
			if ev.Duration != 100*time.Millisecond {
				t.Errorf("duration %v", ev.Duration)
			}
		case mediacore.EventChannelCreated:
			created = ev
		case mediacore.EventHangup:
			if ev.Cause != mediacore.CauseBusy || ev.SIPCode != 486 || ev.Q850 != 17 {
				t.Errorf("hangup %+v", ev)
			}
		}
	}
	want := strings.Repeat(digits, 13)[:200]
	if string(got) != want {
		t.Errorf("digits out of order or duplicated:\n got %q\nwant %q", got, want)
	}
	if created.Caller != "2000" || created.Called != "100" || created.Headers["X-Account"] != "A 42" || created.Direction != mediacore.Inbound {
		t.Errorf("created %+v", created)
	}
}

func TestFakeDisconnectRedialReconcile(t *testing.T) {
	f, b, log := startFake(t, nil)
	inboundCall(f, "c1")
	inboundCall(f, "c2")
	log.wait(t, "two channels", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool { return ev.Type == mediacore.EventChannelCreated }) == 2
	})
	// c1 survives the outage, c2 ends while Hotline cannot see it, c3 is
	// new on the switch.
	f.set(func(f *fakeESL) { f.channels = []string{"c1", "c3"} })
	f.set(func(f *fakeESL) { f.hangOn = "show channels" })
	f.drop()
	log.wait(t, "BackendDown", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendDown }) == 1
	})
	// During the outage commands fail at once.
	start := time.Now()
	err := b.Answer(context.Background(), "c1")
	if !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Errorf("answer during outage: %v", err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("a command during the outage took %v", d)
	}
	f.set(func(f *fakeESL) { f.hangOn = "" })
	log.wait(t, "BackendUp after redial", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendUp }) == 2
	})
	evs := log.snapshot()
	if n := count(evs, isType(mediacore.EventHangup, "c2")); n != 1 {
		t.Errorf("c2 hangups: %d", n)
	}
	if n := count(evs, isType(mediacore.EventHangup, "c1")); n != 0 {
		t.Errorf("c1 (alive) got a hangup")
	}
	if n := count(evs, isType(mediacore.EventChannelCreated, "c3")); n != 1 {
		t.Errorf("c3 adopted %d times", n)
	}
	// The surviving call's events keep flowing, once each.
	f.event(map[string]string{"Event-Name": "DTMF", "Unique-ID": "c1", "DTMF-Digit": "7"}, "")
	f.event(map[string]string{"Event-Name": "DTMF", "Unique-ID": "c1", "DTMF-Digit": "8"}, "")
	log.wait(t, "digits after redial", func(evs []mediacore.Event) bool { return count(evs, isType(mediacore.EventDTMF, "c1")) >= 2 })
	if n := count(log.snapshot(), isType(mediacore.EventChannelCreated, "c1")); n != 1 {
		t.Errorf("c1 created %d times", n)
	}
	// And commands work again.
	if err := b.SendDTMF(context.Background(), "c1", "1"); err != nil {
		t.Errorf("command after redial: %v", err)
	}
}

func TestFakeMalformedFrameRedials(t *testing.T) {
	for name, garbage := range map[string]string{
		"no colon":      "this is not a header\n\n",
		"bad length":    "Content-Type: api/response\nContent-Length: -4\n\n",
		"huge length":   "Content-Type: api/response\nContent-Length: 999999999999\n\n",
		"no type":       "Content-Length: 2\n\nhi",
		"event garbage": "Content-Type: text/event-plain\nContent-Length: 9\n\nno-colon\n",
		"stray reply":   reply("+OK nobody asked"),
	} {
		t.Run(name, func(t *testing.T) {
			f, b, log := startFake(t, nil)
			f.raw(garbage)
			log.wait(t, "down then up", func(evs []mediacore.Event) bool {
				return count(evs, func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendUp }) == 2
			})
			if _, err := b.Channels(context.Background()); err != nil {
				t.Errorf("after redial: %v", err)
			}
		})
	}
}

func TestFakeHungCommand(t *testing.T) {
	f, b, log := startFake(t, nil)
	inboundCall(f, "c1")
	log.wait(t, "created", func(evs []mediacore.Event) bool { return count(evs, isType(mediacore.EventChannelCreated, "c1")) == 1 })
	f.set(func(f *fakeESL) { f.hangOn = "uuid_ring_ready"; f.channels = []string{"c1"} })
	start := time.Now()
	err := b.Ring(context.Background(), "c1")
	if !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Errorf("hung command: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hung command returned after %v", d)
	}
	f.set(func(f *fakeESL) { f.hangOn = "" })
	// The connection is treated as dead and redialled: the late reply can
	// never answer another command.
	log.wait(t, "redial", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendUp }) == 2
	})
	if err := b.Ring(context.Background(), "c1"); err != nil {
		t.Errorf("ring after redial: %v", err)
	}
}

func TestFakeWatchdogSilentSwitch(t *testing.T) {
	// A switch that accepts commands but never answers: the watchdog's
	// probe times out and the backend redials without any caller command.
	f, _, log := startFake(t, nil)
	f.set(func(f *fakeESL) { f.hangOn = "status" })
	log.wait(t, "BackendDown", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendDown }) >= 1
	})
	f.set(func(f *fakeESL) { f.hangOn = "" })
	log.wait(t, "BackendUp", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendUp }) >= 2
	})
}

func TestFakeOriginate(t *testing.T) {
	f, b, log := startFake(t, nil)
	f.onBgapi = func(cmd, job string) {
		switch {
		case strings.Contains(cmd, "user/9999@"):
			f.event(map[string]string{"Event-Name": "BACKGROUND_JOB", "Job-UUID": job}, "-ERR USER_NOT_REGISTERED\n")
		default:
			uuid := strings.TrimPrefix(job, "job-")
			f.event(map[string]string{"Event-Name": "CHANNEL_CREATE", "Unique-ID": uuid, "Call-Direction": "outbound"}, "")
			f.event(map[string]string{"Event-Name": "CHANNEL_PROGRESS", "Unique-ID": uuid}, "")
			f.event(map[string]string{"Event-Name": "CHANNEL_ANSWER", "Unique-ID": uuid}, "")
			f.event(map[string]string{"Event-Name": "BACKGROUND_JOB", "Job-UUID": job}, "+OK "+uuid+"\n")
		}
	}
	ctx := context.Background()
	id, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "ch-1", Endpoint: "user/1001", CallerIDNumber: "4000",
		CallerIDName: "Help Desk", Timeout: 5 * time.Second, Variables: map[string]string{"Hotline-Call": "c-1"}})
	if err != nil || id != "ch-1" {
		t.Fatalf("originate: %v %v", id, err)
	}
	log.wait(t, "answered", func(evs []mediacore.Event) bool { return count(evs, isType(mediacore.EventAnswered, "ch-1")) == 1 })
	var line string
	for _, c := range f.commands() {
		if strings.HasPrefix(c, "bgapi originate") {
			line = c
		}
	}
	want := "bgapi originate {origination_uuid=ch-1,hotline_owned=true,ignore_early_media=false,origination_caller_id_number=4000," +
		"origination_caller_id_name='Help Desk',originate_timeout=5,sip_h_X-Hotline-Call=c-1}user/1001@127.0.0.1 &park()\nJob-UUID: job-ch-1"
	if line != want {
		t.Errorf("originate sent\n%q\nwant\n%q", line, want)
	}
	if _, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "ch-2", Endpoint: "user/9999"}); !errors.Is(err, mediacore.ErrNotFound) {
		t.Errorf("unregistered user: %v", err)
	}
	if _, err := b.Originate(ctx, mediacore.OriginateRequest{ChannelID: "ch-3", Endpoint: "tel/10086"}); !errors.Is(err, mediacore.ErrNotFound) {
		t.Errorf("tel without gateway: %v", err)
	}
}

func TestConfigRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"default password", Config{Address: "127.0.0.1:8021", Password: "ClueCon"}, false},
		{"no password", Config{Address: "127.0.0.1:8021"}, false},
		{"remote", Config{Address: "10.0.0.5:8021", Password: "x1"}, false},
		{"remote wildcard", Config{Address: "0.0.0.0:8021", Password: "x1"}, false},
		{"remote opted in", Config{Address: "10.0.0.5:8021", Password: "x1", AllowRemote: true}, true},
		{"loopback", Config{Address: "127.0.0.1:8021", Password: "x1"}, true},
		{"ipv6 loopback", Config{Address: "[::1]:8021", Password: "x1"}, true},
		{"no port", Config{Address: "127.0.0.1", Password: "x1"}, false},
		{"password with newline", Config{Address: "127.0.0.1:8021", Password: "a\napi x"}, false},
		{"bad profile", Config{Address: "127.0.0.1:8021", Password: "x1", Profile: "a b"}, false},
		{"bad media dir", Config{Address: "127.0.0.1:8021", Password: "x1", MediaDir: "/a b"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if tc.ok != (err == nil) {
				t.Errorf("New: %v", err)
			}
			if err != nil && !errors.Is(err, ErrInsecureConfig) {
				t.Errorf("error %v is not ErrInsecureConfig", err)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	_, err := mediacore.Open("freeswitch", mediacore.FactoryOptions{Decode: func(v any) error {
		c := v.(*Config)
		c.Address, c.Password = "127.0.0.1:8021", "ClueCon"
		return nil
	}})
	if !errors.Is(err, ErrInsecureConfig) {
		t.Errorf("registry with ClueCon: %v", err)
	}
	b, err := mediacore.Open("freeswitch", mediacore.FactoryOptions{Decode: func(v any) error {
		c := v.(*Config)
		c.Address, c.Password = "127.0.0.1:8021", "pw"
		return nil
	}})
	if err != nil || b.Name() != "freeswitch" {
		t.Errorf("open: %v %v", b, err)
	}
}

func TestFakeAuthRefused(t *testing.T) {
	f := newFakeESL(t, "right")
	b, err := New(Config{Address: f.addr(), Password: "wrong", CommandTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Start(ctx, func(mediacore.Event) {}); !errors.Is(err, mediacore.ErrBackendUnavailable) || !errors.Is(err, errAuth) {
		t.Errorf("start with a wrong password: %v", err)
	}
	_ = b.Close()
}

func ExampleConfig() {
	_, err := New(Config{Address: "127.0.0.1:8021", Password: "ClueCon"})
	fmt.Println(errors.Is(err, ErrInsecureConfig))
	// Output: true
}

func TestFakeRegistrationEvents(t *testing.T) {
	f, _, log := startFake(t, nil)
	f.event(map[string]string{"Event-Name": "CUSTOM", "Event-Subclass": "sofia::register", "from-user": "1001",
		"contact": "\"1001\" <sip:1001@127.0.0.1:5062>"}, "")
	f.event(map[string]string{"Event-Name": "CUSTOM", "Event-Subclass": "sofia::unregister", "from-user": "1001",
		"contact": "sip:1001@127.0.0.1:5062"}, "")
	f.event(map[string]string{"Event-Name": "CUSTOM", "Event-Subclass": "sofia::register", "from-user": "bad user"}, "")
	log.wait(t, "unregistered", func(evs []mediacore.Event) bool {
		return count(evs, func(ev mediacore.Event) bool { return ev.Type == mediacore.EventEndpointUnregistered }) == 1
	})
	evs := log.snapshot()
	if n := count(evs, func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventEndpointRegistered && ev.Endpoint == "user/1001" && strings.Contains(ev.Contact, "5062")
	}); n != 1 {
		t.Errorf("registered events: %+v", evs)
	}
}
