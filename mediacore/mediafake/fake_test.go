package mediafake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"hotline/internal/clock"
	"hotline/mediacore"
	"hotline/mediacore/audio"
)

// events collects what a Fake emits, straight from its sink.
type events struct {
	mu  sync.Mutex
	evs []mediacore.Event
}

func (e *events) sink(ev mediacore.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.evs = append(e.evs, ev)
}

func (e *events) types(ch mediacore.ChannelID) []mediacore.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []mediacore.EventType
	for _, ev := range e.evs {
		if ev.Channel == ch {
			out = append(out, ev.Type)
		}
	}
	return out
}

func (e *events) last(typ mediacore.EventType) (mediacore.Event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.evs) - 1; i >= 0; i-- {
		if e.evs[i].Type == typ {
			return e.evs[i], true
		}
	}
	return mediacore.Event{}, false
}

func start(t *testing.T, opts Options) (*Fake, *clock.Fake, *events) {
	t.Helper()
	clk := clock.NewFake(time.Time{})
	opts.Clock = clk
	f := New(opts)
	ev := &events{}
	if err := f.Backend().Start(context.Background(), ev.sink); err != nil {
		t.Fatal(err)
	}
	return f, clk, ev
}

func TestOriginateAnswerPlans(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		answer Answer
		after  time.Duration
		want   []mediacore.EventType
		cause  mediacore.Cause
	}{
		{"answers after delay", AnswerAfter(3 * time.Second), 3 * time.Second,
			[]mediacore.EventType{mediacore.EventChannelCreated, mediacore.EventRinging, mediacore.EventAnswered}, 0},
		{"busy", Busy(time.Second), time.Second,
			[]mediacore.EventType{mediacore.EventChannelCreated, mediacore.EventRinging, mediacore.EventHangup}, mediacore.CauseBusy},
		{"rings out", NoAnswer(), 20 * time.Second,
			[]mediacore.EventType{mediacore.EventChannelCreated, mediacore.EventRinging, mediacore.EventHangup}, mediacore.CauseNoAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, clk, ev := start(t, Options{})
			f.SetAnswer("user/1001", tt.answer)
			id, err := f.Backend().Originate(ctx, mediacore.OriginateRequest{ChannelID: "o1", Endpoint: "user/1001", Timeout: 20 * time.Second})
			if err != nil || id != "o1" {
				t.Fatalf("originate = %q, %v", id, err)
			}
			if got := ev.types(id); len(got) != 2 {
				t.Fatalf("before time passes: %v", got)
			}
			clk.Advance(tt.after - time.Millisecond)
			if got := ev.types(id); len(got) != 2 {
				t.Fatalf("too early: %v", got)
			}
			clk.Advance(time.Millisecond)
			if got := ev.types(id); !slices.Equal(got, tt.want) {
				t.Fatalf("events %v, want %v", got, tt.want)
			}
			if tt.cause != 0 {
				if h, _ := ev.last(mediacore.EventHangup); h.Cause != tt.cause {
					t.Fatalf("cause %v, want %v", h.Cause, tt.cause)
				}
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		f, _, _ := start(t, Options{DefaultAnswer: Unreachable()})
		if _, err := f.Backend().Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/9"}); !errors.Is(err, mediacore.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestPlayAndRecordOnTheClock(t *testing.T) {
	ctx := context.Background()
	f, clk, ev := start(t, Options{FileDurations: map[string]time.Duration{"hello.wav": 2 * time.Second}})
	b := f.Backend()
	ch := f.Inbound("100", "200")
	if _, err := b.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.File("hello.wav")}}); !errors.Is(err, mediacore.ErrChannelState) {
		t.Fatalf("play before answer: %v", err)
	}
	if err := b.Answer(ctx, ch); err != nil {
		t.Fatal(err)
	}
	pb, err := b.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{
		mediacore.File("hello.wav"), mediacore.Silence(500 * time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := b.Record(ctx, mediacore.ChannelTarget(ch), mediacore.RecordRequest{Source: mediacore.RecordRead})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(2499 * time.Millisecond)
	if _, ok := ev.last(mediacore.EventPlaybackFinished); ok {
		t.Fatal("playback finished early")
	}
	clk.Advance(time.Millisecond)
	if e, ok := ev.last(mediacore.EventPlaybackFinished); !ok || e.Playback != pb {
		t.Fatalf("playback finished: %+v %v", e, ok)
	}
	if err := f.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	want := []mediacore.EventType{mediacore.EventChannelCreated, mediacore.EventAnswered, mediacore.EventPlaybackFinished,
		mediacore.EventHangup, mediacore.EventRecordingFinished}
	if got := ev.types(ch); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	fin, _ := ev.last(mediacore.EventRecordingFinished)
	if fin.Recording != rec || fin.Duration != 2500*time.Millisecond {
		t.Fatalf("recording finished %+v", fin)
	}
	rc, err := b.OpenRecording(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	samples := readMono(t, rc)
	if len(samples) != 20000 {
		t.Fatalf("%d samples, want 20000 (2.5 s)", len(samples))
	}
	if !audio.HasTone(samples[:8000], audio.SampleRate, DefaultReadTone) || audio.HasTone(samples[:8000], audio.SampleRate, DefaultWriteTone) {
		t.Fatal("a read-only recording should hold only the read tone")
	}
}

func readMono(t *testing.T, r io.Reader) []int16 {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	src, err := audio.NewWAVSource(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	s, err := audio.ReadAll(src, 10*audio.SampleRate*60)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCapsClaimed(t *testing.T) {
	for _, k := range []Caps{{}, AllCaps(), {StereoRecorder: true, DTMFDetector: true}, {MediaUploader: true}} {
		b := New(Options{Caps: k}).Backend()
		var got Caps
		_, got.Snooper = b.(mediacore.Snooper)
		_, got.Whisperer = b.(mediacore.Whisperer)
		_, got.TTSPlayer = b.(mediacore.TTSPlayer)
		_, got.MediaUploader = b.(mediacore.MediaUploader)
		_, got.StereoRecorder = b.(mediacore.StereoRecorder)
		_, got.ReinviteHolder = b.(mediacore.ReinviteHolder)
		_, got.DTMFDetector = b.(mediacore.DTMFDetector)
		_, got.TrunkConfigurer = b.(mediacore.TrunkConfigurer)
		if got != k {
			t.Fatalf("claims %+v, want %+v", got, k)
		}
	}
}

func TestBridgesHoldReferAndDown(t *testing.T) {
	ctx := context.Background()
	f, _, ev := start(t, Options{})
	b := f.Backend()
	a := f.Inbound("1", "2")
	c := f.Inbound("3", "4")
	for _, ch := range []mediacore.ChannelID{a, c} {
		if err := b.Answer(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.CreateBridge(ctx, "br"); err != nil {
		t.Fatal(err)
	}
	if err := b.AddToBridge(ctx, "br", a, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
		t.Fatal(err)
	}
	if err := b.AddToBridge(ctx, "br", c, mediacore.Member{Role: mediacore.RoleWhisper, WhisperTo: a}); !errors.Is(err, mediacore.ErrNotSupported) {
		t.Fatalf("whisper without the capability: %v", err)
	}
	if err := b.Hold(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Unhold(ctx, a); err != nil {
		t.Fatal(err)
	}
	x, err := f.Refer(a, "user/1002", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.AnswerTransfer(ctx, a, x, true); err != nil {
		t.Fatal(err)
	}
	if acc, ok := f.TransferAnswer(x); !acc || !ok {
		t.Fatal("transfer answer not recorded")
	}
	if err := b.DestroyBridge(ctx, "br"); err != nil {
		t.Fatal(err)
	}
	want := []mediacore.EventType{mediacore.EventChannelCreated, mediacore.EventAnswered, mediacore.EventBridgeJoined,
		mediacore.EventHold, mediacore.EventUnhold, mediacore.EventTransferRequested, mediacore.EventBridgeLeft}
	if got := ev.types(a); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	f.Down("link lost")
	if err := b.Answer(ctx, c); !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Fatalf("command while down: %v", err)
	}
	f.Up()
	list, err := b.Channels(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("channels %v, %v", list, err)
	}
}
