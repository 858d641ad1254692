package native

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/mediatest/sippeer"
)

// countEvents counts the events of type typ for ch.
func countEvents(evs []mediacore.Event, ch mediacore.ChannelID, typ mediacore.EventType) int {
	n := 0
	for _, ev := range evs {
		if ev.Channel == ch && ev.Type == typ {
			n++
		}
	}
	return n
}

// answeredIn is dialIn that also waits for the channel's Answered event
// (the phone sees the 200 before the core saw the ACK).
func (a *autoAnswer) answeredIn(ctx context.Context, t *testing.T, b *Backend) (*sippeer.Call, mediacore.ChannelID) {
	t.Helper()
	call, ch := a.dialIn(ctx, t, b)
	a.waitFor(t, 10*time.Second, func(evs []mediacore.Event) bool { return countEvents(evs, ch, mediacore.EventAnswered) == 1 })
	if countEvents(a.snapshot(), ch, mediacore.EventAnswered) != 1 {
		t.Fatalf("channel %s not answered", ch)
	}
	return call, ch
}

// TestSecondRecordingRefused is the review's bug: a second Record on a
// channel (or a bridge) overwrote the first one's handle, so its
// RecordingFinished never came and its file was never synced nor closed,
// and the error was the engine's, not ErrChannelState. Now the second is
// refused with ErrChannelState and the first finishes normally.
func TestSecondRecordingRefused(t *testing.T) {
	b := newTestBackend(t, nil)
	a := startAutoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, ch := a.answeredIn(ctx, t, b)
	if err := a.core.CreateBridge(ctx, "rb"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		target mediacore.Target
	}{
		{"channel", mediacore.ChannelTarget(ch)},
		{"bridge", mediacore.BridgeTarget("rb")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, err := a.core.Record(ctx, tc.target, mediacore.RecordRequest{ID: mediacore.RecordingID("first-" + tc.name)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.core.Record(ctx, tc.target, mediacore.RecordRequest{ID: mediacore.RecordingID("second-" + tc.name)})
			if !errors.Is(err, mediacore.ErrChannelState) {
				t.Fatalf("second Record: %v, want ErrChannelState", err)
			}
			if err := a.core.StopRecording(ctx, first); err != nil {
				t.Fatalf("stop the first: %v", err)
			}
			var fin mediacore.Event
			a.waitFor(t, 5*time.Second, func(evs []mediacore.Event) bool {
				for _, ev := range evs {
					if ev.Type == mediacore.EventRecordingFinished && ev.Recording == first {
						fin = ev
						return true
					}
				}
				return false
			})
			if fin.Recording != first {
				t.Fatal("the first recording's RecordingFinished never came")
			}
			data, err := os.ReadFile(fin.Path)
			if err != nil || len(data) < 44 || string(data[:4]) != "RIFF" {
				t.Fatalf("first recording file: %d bytes, %v", len(data), err)
			}
			// The slot is free again.
			again, err := a.core.Record(ctx, tc.target, mediacore.RecordRequest{})
			if err != nil {
				t.Fatalf("record after the first finished: %v", err)
			}
			if err := a.core.StopRecording(ctx, again); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestBackendErrorsAreSentinels calls the backend directly (no Core
// validation in front) the wrong way; every error must wrap the expected
// mediacore sentinel, never only an rtpengine or file system error.
func TestBackendErrorsAreSentinels(t *testing.T) {
	b := newTestBackend(t, nil)
	a := startAutoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, ch := a.answeredIn(ctx, t, b)
	_, ch2 := a.answeredIn(ctx, t, b)
	if err := b.CreateBridge(ctx, "eb"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(b.cfg.RecordingsDir), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.cfg.RecordingsDir, "taken.wav"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"dtmf digit", func() error { return b.SendDTMF(ctx, ch, "x") }, mediacore.ErrInvalidArgument},
		{"role of a non-member", func() error {
			return b.SetMemberRole(ctx, "eb", ch, mediacore.Member{Role: mediacore.RoleListen})
		}, mediacore.ErrChannelState},
		{"remove a non-member", func() error { return b.RemoveFromBridge(ctx, "eb", ch) }, mediacore.ErrChannelState},
		{"whisper to a non-member", func() error {
			return b.AddToBridge(ctx, "eb", ch, mediacore.Member{Role: mediacore.RoleWhisper, WhisperTo: ch2})
		}, mediacore.ErrChannelState},
		{"recording name taken", func() error {
			_, err := b.Record(ctx, mediacore.ChannelTarget(ch), mediacore.RecordRequest{Name: "taken.wav"})
			return err
		}, mediacore.ErrInvalidArgument},
		{"record source", func() error {
			_, err := b.Record(ctx, mediacore.ChannelTarget(ch), mediacore.RecordRequest{Source: 9})
			return err
		}, mediacore.ErrInvalidArgument},
		{"stop unknown playback", func() error { return b.StopPlayback(ctx, "nope") }, mediacore.ErrNoSuchPlayback},
		{"stop unknown recording", func() error { return b.StopRecording(ctx, "nope") }, mediacore.ErrNoSuchRecording},
		{"play a missing file", func() error {
			_, err := b.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.File("missing.wav")}})
			return err
		}, mediacore.ErrInvalidArgument},
		{"hold with missing music", func() error {
			m := mediacore.File("missing.wav")
			return b.Hold(ctx, ch, &m)
		}, mediacore.ErrInvalidArgument},
		{"ring an answered call", func() error { return b.Ring(ctx, ch) }, mediacore.ErrChannelState},
		{"open an unknown recording", func() error { _, err := b.OpenRecording(ctx, "nope"); return err }, mediacore.ErrNoSuchRecording},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// TestHoldMusicFailure is the review's bug: Hold sent the re-INVITE
// (sendonly) and then failed on the music, leaving the far end held with
// no Hold event. Now the music is loaded first: the phone is never
// re-INVITEd, no Hold is emitted, and a later Hold works.
func TestHoldMusicFailure(t *testing.T) {
	b := newTestBackend(t, nil)
	a := startAutoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, ch := a.answeredIn(ctx, t, b)
	bad := mediacore.File("no-such-music.wav")
	if err := a.core.Hold(ctx, ch, &bad); err == nil {
		t.Fatal("hold with missing music succeeded")
	}
	if d := call.Direction(); d == "sendonly" {
		t.Fatal("the phone was put on hold although Hold failed")
	}
	if n := countEvents(a.snapshot(), ch, mediacore.EventHold); n != 0 {
		t.Fatalf("%d Hold events after a failed Hold", n)
	}
	good := mediacore.ToneFor(mediacore.Tone{Freqs: []float64{600}}, time.Hour)
	if err := a.core.Hold(ctx, ch, &good); err != nil {
		t.Fatalf("hold after the failure: %v", err)
	}
	if d := call.Direction(); d != "sendonly" {
		t.Errorf("held phone offered %q", d)
	}
	a.waitFor(t, 5*time.Second, func(evs []mediacore.Event) bool { return countEvents(evs, ch, mediacore.EventHold) == 1 })
	if n := countEvents(a.snapshot(), ch, mediacore.EventHold); n != 1 {
		t.Errorf("%d Hold events, want 1", n)
	}
}

// TestStartErrorIsSentinel: a Start that cannot listen wraps
// ErrBackendUnavailable.
func TestStartErrorIsSentinel(t *testing.T) {
	b1 := newTestBackend(t, nil)
	startAutoAnswer(t, b1)
	b2 := newTestBackend(t, func(c *Config) { c.Listen = b1.Addr().String() })
	err := b2.Start(context.Background(), func(mediacore.Event) {})
	if !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Fatalf("start on a taken port: %v, want ErrBackendUnavailable", err)
	}
}
