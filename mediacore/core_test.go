package mediacore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func newTestCore(t *testing.T, b Backend, h func(Event)) (*Core, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c, err := New(b, Options{Registerer: reg, Handler: h, CommandTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, reg
}

func TestCoreRejectsBeforeBackend(t *testing.T) {
	f := newFake()
	c, reg := newTestCore(t, f, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"originate ampersand", func() error {
			_, err := c.Originate(ctx, OriginateRequest{Endpoint: "user/1001&user/1002"})
			return err
		}, ErrInvalidEndpoint},
		{"originate var expansion", func() error {
			_, err := c.Originate(ctx, OriginateRequest{Endpoint: "sip:${x}@h"})
			return err
		}, ErrInvalidEndpoint},
		{"originate crlf caller id", func() error {
			_, err := c.Originate(ctx, OriginateRequest{Endpoint: "user/1001", CallerIDNumber: "1\r\nX: y"})
			return err
		}, ErrInvalidArgument},
		{"originate quote in name", func() error {
			_, err := c.Originate(ctx, OriginateRequest{Endpoint: "user/1001", CallerIDName: `a"b`})
			return err
		}, ErrInvalidArgument},
		{"originate bad variable", func() error {
			_, err := c.Originate(ctx, OriginateRequest{Endpoint: "user/1001", Variables: map[string]string{"k": "a,b"}})
			return err
		}, ErrInvalidArgument},
		{"answer bad id", func() error { return c.Answer(ctx, "a b") }, ErrInvalidArgument},
		{"dtmf bad digit", func() error { return c.SendDTMF(ctx, "c1", "12x") }, ErrInvalidArgument},
		{"play traversal", func() error {
			_, err := c.Play(ctx, ChannelTarget("c1"), PlayRequest{Media: []Media{File("../etc/passwd")}})
			return err
		}, ErrInvalidArgument},
		{"play absolute", func() error {
			_, err := c.Play(ctx, ChannelTarget("c1"), PlayRequest{Media: []Media{File("/etc/passwd")}})
			return err
		}, ErrInvalidArgument},
		{"play tone above nyquist", func() error {
			_, err := c.Play(ctx, ChannelTarget("c1"), PlayRequest{Media: []Media{ToneFor(Tone{Freqs: []float64{5000}}, time.Second)}})
			return err
		}, ErrInvalidArgument},
		{"play both targets", func() error {
			_, err := c.Play(ctx, Target{Channel: "c1", Bridge: "b1"}, PlayRequest{Media: []Media{Silence(time.Second)}})
			return err
		}, ErrInvalidArgument},
		{"record bad name", func() error {
			_, err := c.Record(ctx, ChannelTarget("c1"), RecordRequest{Name: "x.mp3"})
			return err
		}, ErrInvalidArgument},
		{"whisper to self", func() error {
			return c.AddToBridge(ctx, "b1", "c1", Member{Role: RoleWhisper, WhisperTo: "c1"})
		}, ErrInvalidArgument},
		{"bad role", func() error { return c.AddToBridge(ctx, "b1", "c1", Member{}) }, ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if calls := f.Calls(); len(calls) != 1 || calls[0] != "start" {
		t.Fatalf("backend saw %v, want only start", calls)
	}
	if got := value(t, c.m.commands.WithLabelValues("originate", "invalid")); got != 5 {
		t.Fatalf("invalid originate counter = %v, want 5", got)
	}
	if !gatheredFamilies(t, reg)["hotline_media_commands_total"] {
		t.Fatal("metrics not registered")
	}
}

func TestCoreOriginateDefaultTimeout(t *testing.T) {
	f := newFake()
	c, _ := newTestCore(t, f, nil)
	if _, err := c.Originate(context.Background(), OriginateRequest{Endpoint: "tel/+861012345678"}); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	if got, want := calls[len(calls)-1], "originate tel/+861012345678 30s"; got != want {
		t.Fatalf("backend call %q, want %q", got, want)
	}
}

func TestCoreTimeout(t *testing.T) {
	f := newFake()
	f.block["answer"] = true
	c, _ := newTestCore(t, f, nil)
	err := c.Answer(context.Background(), "c1")
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrTimeout wrapping DeadlineExceeded", err)
	}
	if got := value(t, c.m.commands.WithLabelValues("answer", "timeout")); got != 1 {
		t.Fatalf("timeout counter = %v", got)
	}
}

func TestCoreClosed(t *testing.T) {
	c, _ := newTestCore(t, newFake(), nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Answer(context.Background(), "c1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

// TestCoreEventOrder pushes many events for several channels from several
// goroutines (one per channel, as a backend does) with a consumer that is
// slow on one channel: every event arrives, in order per channel, and the
// slow channel does not hold the others back.
func TestCoreEventOrder(t *testing.T) {
	const perChannel = 2000
	var mu sync.Mutex
	got := map[ChannelID][]uint64{}
	fastDone := make(chan struct{})
	release := make(chan struct{})
	h := func(ev Event) {
		if ev.Channel == "" {
			return
		}
		if ev.Channel == "slow" {
			<-release
		}
		mu.Lock()
		got[ev.Channel] = append(got[ev.Channel], uint64(ev.Duration))
		n := len(got["fast"])
		mu.Unlock()
		if ev.Channel == "fast" && n == perChannel {
			close(fastDone)
		}
	}
	f := newFake()
	c, _ := newTestCore(t, f, h)
	var wg sync.WaitGroup
	for _, ch := range []ChannelID{"slow", "fast", "other"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perChannel {
				f.emit(Event{Type: EventDTMF, Channel: ch, Digit: '1', Duration: time.Duration(i)})
			}
		}()
	}
	wg.Wait()
	select {
	case <-fastDone:
	case <-time.After(10 * time.Second):
		t.Fatal("fast channel was held back by the slow one")
	}
	if q := value(t, c.m.queued); q < 1 {
		t.Fatalf("queued gauge = %v while the slow consumer is blocked", q)
	}
	close(release)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []ChannelID{"slow", "fast", "other"} {
		seq := got[ch]
		if len(seq) != perChannel {
			t.Fatalf("%s: got %d events, want %d", ch, len(seq), perChannel)
		}
		for i, v := range seq {
			if v != uint64(i) {
				t.Fatalf("%s: event %d carries %d: out of order", ch, i, v)
			}
		}
	}
	if q := value(t, c.m.queued); q != 0 {
		t.Fatalf("queued gauge = %v after drain", q)
	}
}

func TestCoreSeqAndLateEvents(t *testing.T) {
	var mu sync.Mutex
	var evs []Event
	f := newFake()
	c, _ := newTestCore(t, f, func(ev Event) {
		mu.Lock()
		evs = append(evs, ev)
		mu.Unlock()
	})
	for _, ty := range []EventType{EventChannelCreated, EventAnswered, EventHangup, EventRecordingFinished} {
		f.emit(Event{Type: ty, Channel: "c1", Cause: CauseBusy})
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, ev := range evs {
		if ev.Channel == "c1" {
			seqs = append(seqs, ev.Seq)
			if ev.Time.IsZero() {
				t.Fatal("event time not stamped")
			}
		}
	}
	if !slices.Equal(seqs, []uint64{1, 2, 3, 4}) {
		t.Fatalf("seqs = %v", seqs)
	}
	if got := value(t, c.m.lateEvents); got != 1 {
		t.Fatalf("late events = %v, want 1", got)
	}
	if got := value(t, c.m.hangups.WithLabelValues("busy")); got != 1 {
		t.Fatalf("busy hangups = %v", got)
	}
}

func TestCoreHandlerPanicDoesNotStopDelivery(t *testing.T) {
	var mu sync.Mutex
	n := 0
	f := newFake()
	c, _ := newTestCore(t, f, func(ev Event) {
		if ev.Digit == 'X' {
			panic("boom")
		}
		mu.Lock()
		n++
		mu.Unlock()
	})
	f.emit(Event{Type: EventDTMF, Channel: "c1", Digit: 'X'})
	f.emit(Event{Type: EventDTMF, Channel: "c1", Digit: '1'})
	_ = c.Close()
	if n != 2 { // BackendUp + the second DTMF
		t.Fatalf("delivered %d, want 2", n)
	}
}

func TestCoreSnoop(t *testing.T) {
	ctx := context.Background()
	t.Run("fallback through bridge roles", func(t *testing.T) {
		f := newFake()
		c, _ := newTestCore(t, whisperFake{f}, nil)
		if err := c.Snoop(ctx, "agent", "sup", SnoopListen); !errors.Is(err, ErrChannelState) {
			t.Fatalf("snoop outside a bridge: %v", err)
		}
		if err := c.AddToBridge(ctx, "b1", "agent", Member{Role: RoleSpeak}); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			mode SnoopMode
			want Member
		}{
			{SnoopListen, Member{Role: RoleListen}},
			{SnoopWhisper, Member{Role: RoleWhisper, WhisperTo: "agent"}},
			{SnoopBarge, Member{Role: RoleSpeak}},
		}
		for _, s := range steps {
			if err := c.Snoop(ctx, "agent", "sup", s.mode); err != nil {
				t.Fatal(err)
			}
			if got := f.members["sup"]; got != s.want {
				t.Fatalf("mode %d: member %+v, want %+v", s.mode, got, s.want)
			}
		}
		calls := f.Calls()
		if !strings.HasPrefix(calls[2], "add b1 sup") || !strings.HasPrefix(calls[3], "set_role b1 sup") {
			t.Fatalf("calls %v", calls)
		}
		f.emit(Event{Type: EventHangup, Channel: "agent"})
		_ = c.Close()
		if _, ok := c.BridgeOf("agent"); ok {
			t.Fatal("hung-up channel still tracked in a bridge")
		}
	})
	t.Run("whisper refused without Whisperer", func(t *testing.T) {
		f := newFake()
		c, _ := newTestCore(t, f, nil)
		if err := c.AddToBridge(ctx, "b1", "agent", Member{Role: RoleSpeak}); err != nil {
			t.Fatal(err)
		}
		if err := c.Snoop(ctx, "agent", "sup", SnoopWhisper); !errors.Is(err, ErrNotSupported) {
			t.Fatalf("snoop whisper: %v, want ErrNotSupported", err)
		}
		if err := c.AddToBridge(ctx, "b1", "sup", Member{Role: RoleWhisper, WhisperTo: "agent"}); !errors.Is(err, ErrNotSupported) {
			t.Fatalf("add whisper: %v, want ErrNotSupported", err)
		}
		if err := c.Snoop(ctx, "agent", "sup", SnoopListen); err != nil {
			t.Fatalf("snoop listen: %v", err)
		}
		if got := f.members["sup"]; got != (Member{Role: RoleListen}) {
			t.Fatalf("member %+v", got)
		}
	})
	t.Run("native snooper", func(t *testing.T) {
		f := newFake()
		c, _ := newTestCore(t, snoopFake{f}, nil)
		if err := c.Snoop(ctx, "agent", "sup", SnoopWhisper); err != nil {
			t.Fatal(err)
		}
		if calls := f.Calls(); calls[len(calls)-1] != "snoop agent sup 2" {
			t.Fatalf("calls %v", calls)
		}
	})
}

// registryRuns makes TestRegistry's backend name unique per run, so the
// test passes under -count=N against the process-wide registry.
var registryRuns atomic.Int64

func TestRegistry(t *testing.T) {
	name := fmt.Sprintf("test-%s-%d", t.Name(), registryRuns.Add(1))
	Register(name, func(o FactoryOptions) (Backend, error) { return newFake(), nil })
	b, err := Open(name, FactoryOptions{})
	if err != nil || b.Name() != "fake" {
		t.Fatalf("Open = %v, %v", b, err)
	}
	if !slices.Contains(Backends(), name) {
		t.Fatalf("Backends() = %v", Backends())
	}
	if _, err := Open("nope", FactoryOptions{}); !errors.Is(err, ErrUnknownBackend) {
		t.Fatalf("err = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate Register did not panic")
		}
	}()
	Register(name, func(o FactoryOptions) (Backend, error) { return newFake(), nil })
}

// TestCoreMembershipFollowsEvents: a backend that moves channels on its
// own (a FreeSWITCH conference, an ARI bridge) reports it with
// BridgeJoined/BridgeLeft, and Core's membership follows.
func TestCoreMembershipFollowsEvents(t *testing.T) {
	f := newFake()
	c, _ := newTestCore(t, f, nil)
	f.emit(Event{Type: EventBridgeJoined, Channel: "c9", Bridge: "b9", Member: Member{Role: RoleListen}})
	if b, ok := c.BridgeOf("c9"); !ok || b != "b9" {
		t.Fatalf("after join: %q %v", b, ok)
	}
	f.emit(Event{Type: EventBridgeLeft, Channel: "c9", Bridge: "other"})
	if _, ok := c.BridgeOf("c9"); !ok {
		t.Fatal("left another bridge: membership lost")
	}
	f.emit(Event{Type: EventBridgeLeft, Channel: "c9", Bridge: "b9"})
	if _, ok := c.BridgeOf("c9"); ok {
		t.Fatal("still a member after BridgeLeft")
	}
}

// TestCoreLateEventOfForgottenChannel: an event for a channel Core no
// longer knows that does not show it alive does not count on its node.
func TestCoreLateEventOfForgottenChannel(t *testing.T) {
	f := newFake()
	c, _ := newTestCore(t, f, nil)
	f.emit(Event{Type: EventRecordingFinished, Channel: "gone", Recording: "r1"})
	f.emit(Event{Type: EventDTMF, Channel: "seen", Digit: '1'})
	if st := c.Nodes(); st[0].Channels != 1 {
		t.Fatalf("live channels %d, want 1 (only the one with DTMF)", st[0].Channels)
	}
}

// TestEventsAfterCloseAreDropped: a backend that still sends events while
// or after Core.Close waits (a late SIP handler, an ESL frame in flight)
// must not start a mailbox drainer then (a WaitGroup growing from zero
// while Wait runs is a data race), and the event is not delivered.
func TestEventsAfterCloseAreDropped(t *testing.T) {
	f := newFake()
	var mu sync.Mutex
	var got []Event
	c, err := New(f, Options{Handler: func(ev Event) {
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	late := value(t, c.m.lateEvents)
	f.emit(Event{Type: EventChannelCreated, Channel: "late-1", Direction: Inbound})
	// enqueue decides synchronously: the event is counted as late and
	// dropped, and no drainer goroutine was started for it.
	if n := value(t, c.m.lateEvents); n != late+1 {
		t.Fatalf("late events %v, want %v: the event after Close was queued", n, late+1)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, ev := range got {
		if ev.Channel == "late-1" {
			t.Fatalf("an event sent after Close was delivered: %+v", ev)
		}
	}
}
