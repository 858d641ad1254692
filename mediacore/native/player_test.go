package native

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/audio"
)

func TestResample(t *testing.T) {
	const from = 22050
	in := make([]int16, from) // 1 s
	for i := range in {
		in[i] = int16(10000*math.Sin(2*math.Pi*1000*float64(i)/from) + 3000*math.Sin(2*math.Pi*6000*float64(i)/from))
	}
	out := resample(in, from, audio.SampleRate)
	if len(out) != audio.SampleRate {
		t.Fatalf("%d samples, want %d", len(out), audio.SampleRate)
	}
	mid := out[1000:7000]
	if r := audio.ToneRatio(mid, audio.SampleRate, 1000); r < 0.9 {
		t.Errorf("1 kHz kept with ratio %.3f", r)
	}
	// 6 kHz is above the 4 kHz Nyquist of the output: it must be filtered,
	// not folded to 2 kHz.
	if r := audio.ToneRatio(mid, audio.SampleRate, 2000); r > 0.01 {
		t.Errorf("6 kHz aliased to 2 kHz with ratio %.3f", r)
	}
}

func TestSeqSourceRewind(t *testing.T) {
	b := &Backend{}
	src, err := b.source(context.Background(), []mediacore.Media{
		mediacore.Silence(40 * time.Millisecond),
		mediacore.ToneFor(mediacore.Tone{Freqs: []float64{500}}, 60*time.Millisecond),
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		all, err := audio.ReadAll(src, 8000)
		if err != nil {
			t.Fatal(err)
		}
		return len(all)
	}
	if n := count(); n != 800 {
		t.Fatalf("first pass %d samples, want 800", n)
	}
	if err := src.(interface{ Rewind() error }).Rewind(); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 800 {
		t.Fatalf("after rewind %d samples, want 800", n)
	}
	if _, err := src.ReadFrame(make([]int16, 160)); err != io.EOF {
		t.Fatalf("after the end: %v", err)
	}
}

// TestPlayFileAndTTS plays a WAV prompt from the media dir and a TTS
// sentence to a real call, and checks what the phone hears; the TTS file is
// cached (a second Play does not synthesise again).
func TestPlayFileAndTTS(t *testing.T) {
	testenv.RequireTool(t, "espeak-ng")
	b := newTestBackend(t, nil)
	writeToneWAV(t, filepath.Join(b.cfg.MediaDir, "prompt700.wav"), 700, 2*time.Second)
	a := startAutoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, ch := a.dialIn(ctx, t, b)
	if _, err := a.core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.File("prompt700.wav")}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	call.ClearHeard()
	time.Sleep(500 * time.Millisecond)
	if r := audio.ToneRatio(call.Heard(400*time.Millisecond), audio.SampleRate, 700); r < 0.5 {
		t.Errorf("file prompt: 700 Hz ratio %.3f", r)
	}
	if _, err := a.core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.File("missing.wav")}}); err == nil {
		t.Error("playing a missing file succeeded")
	}

	pb, err := a.core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.TTS("en", "Thank you for calling. Please hold.")}})
	if err != nil {
		t.Fatal(err)
	}
	cached, _ := filepath.Glob(filepath.Join(b.cfg.MediaDir, "tts", "*.wav"))
	if len(cached) != 1 {
		t.Fatalf("tts cache holds %v", cached)
	}
	st, _ := os.Stat(cached[0])
	time.Sleep(2500 * time.Millisecond) // after the 700 Hz prompt ends
	speech := call.Heard(time.Second)
	if lvl := audio.LevelDBm0(speech); lvl < -40 {
		t.Errorf("no speech heard: %.1f dBm0", lvl)
	}
	a.waitFor(t, 10*time.Second, func(evs []mediacore.Event) bool {
		for _, ev := range evs {
			if ev.Type == mediacore.EventPlaybackFinished && ev.Playback == pb {
				return true
			}
		}
		return false
	})
	if _, err := a.core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.TTS("en", "Thank you for calling. Please hold.")}}); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(cached[0])
	if !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the same text was synthesised twice")
	}
}
