package native

import (
	"context"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/audio"
	"hotline/mediacore/mediatest/sippeer"
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
// sentence to a real call, and checks what the phone hears: the prompt's
// tone, then speech that is speech-like (energy spread over the telephone
// band and moving over time, not a tone) and follows the loudness contour
// of what espeak-ng renders for the same text. The TTS file is cached (a
// second Play does not synthesise again).
func TestPlayFileAndTTS(t *testing.T) {
	testenv.RequireTool(t, "espeak-ng")
	b := newTestBackend(t, nil)
	writeToneWAV(t, filepath.Join(b.cfg.MediaDir, "prompt700.wav"), 700, 2*time.Second)
	a := startAutoAnswer(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, ch := a.dialIn(ctx, t, b)
	prompt, err := a.core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.File("prompt700.wav")}})
	if err != nil {
		t.Fatal(err)
	}
	if !waitAudio(call, 5*time.Second, func(heard []int16) bool {
		return audio.ToneRatio(heard, audio.SampleRate, 700) >= 0.5
	}) {
		t.Errorf("file prompt: 700 Hz ratio %.3f", audio.ToneRatio(call.Heard(400*time.Millisecond), audio.SampleRate, 700))
	}
	if _, err := a.core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.File("missing.wav")}}); err == nil {
		t.Error("playing a missing file succeeded")
	}
	finished := func(pb mediacore.PlaybackID) {
		t.Helper()
		evs := a.waitFor(t, 10*time.Second, func(evs []mediacore.Event) bool { return playbackFinished(evs, pb) })
		if !playbackFinished(evs, pb) {
			t.Fatalf("playback %s did not finish", pb)
		}
	}
	finished(prompt)

	const text = "Thank you for calling. Please hold."
	call.ClearHeard()
	pb, err := a.core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.TTS("en", text)}})
	if err != nil {
		t.Fatal(err)
	}
	cached, _ := filepath.Glob(filepath.Join(b.cfg.MediaDir, "tts", "*.wav"))
	if len(cached) != 1 {
		t.Fatalf("tts cache holds %v", cached)
	}
	st, _ := os.Stat(cached[0])
	finished(pb)
	// The last packets are still on their way when the engine reports
	// the end: wait until the phone heard a moment of silence.
	waitAudio(call, 2*time.Second, func(heard []int16) bool { return audio.LevelDBm0(heard) < -50 })
	heard := trimSilence(call.Heard(time.Minute))
	checkSpeechLike(t, heard)
	checkSameSpeech(t, heard, renderEspeak(t, text))

	if _, err := a.core.Play(ctx, mediacore.ChannelTarget(ch), mediacore.PlayRequest{Media: []mediacore.Media{mediacore.TTS("en", text)}}); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(cached[0])
	if !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the same text was synthesised twice")
	}
}

func playbackFinished(evs []mediacore.Event, pb mediacore.PlaybackID) bool {
	for _, ev := range evs {
		if ev.Type == mediacore.EventPlaybackFinished && ev.Playback == pb {
			return true
		}
	}
	return false
}

// waitAudio polls the last 100 ms the phone heard until cond holds or d
// passes.
func waitAudio(call *sippeer.Call, d time.Duration, cond func([]int16) bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond(call.Heard(100 * time.Millisecond)) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// speechFrame is the analysis frame: 20 ms.
const speechFrame = audio.SampleRate / 50

// frameLevels returns the level (dBm0) of each 20 ms frame, at least -60.
func frameLevels(s []int16) []float64 {
	var out []float64
	for i := 0; i+speechFrame <= len(s); i += speechFrame {
		out = append(out, max(audio.LevelDBm0(s[i:i+speechFrame]), -60))
	}
	return out
}

// trimSilence cuts the frames quieter than -45 dBm0 at both ends.
func trimSilence(s []int16) []int16 {
	lv := frameLevels(s)
	first, last := -1, -1
	for i, l := range lv {
		if l > -45 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	return s[first*speechFrame : (last+1)*speechFrame]
}

// checkSpeechLike requires energy spread over the 300-3400 Hz band and
// moving over time: over 40 ms frames with sound, the loudest of 32 bands
// changes often, and no band holds most of the energy. A tone (or two)
// puts nearly everything in one or two bands.
func checkSpeechLike(t *testing.T, s []int16) {
	t.Helper()
	if d := time.Duration(len(s)) * time.Second / audio.SampleRate; d < time.Second {
		t.Fatalf("heard %v of speech, want at least 1 s", d)
	}
	const frame = 2 * speechFrame
	var bands []float64
	for f := 300.0; f <= 3400; f += 100 {
		bands = append(bands, f)
	}
	total := make([]float64, len(bands))
	dominant := map[int]bool{}
	frames := 0
	for i := 0; i+frame <= len(s); i += frame {
		x := s[i : i+frame]
		if audio.LevelDBm0(x) < -40 {
			continue
		}
		frames++
		best, bestP := 0, -1.0
		for k, f := range bands {
			p := audio.Goertzel(x, audio.SampleRate, f)
			total[k] += p
			if p > bestP {
				best, bestP = k, p
			}
		}
		dominant[best] = true
	}
	sum, top := 0.0, 0.0
	for _, p := range total {
		sum += p
		top = max(top, p)
	}
	if frames < 10 || sum == 0 {
		t.Fatalf("only %d frames with sound", frames)
	}
	t.Logf("speech: %d frames, loudest band took %d values, top band share %.2f", frames, len(dominant), top/sum)
	if len(dominant) < 6 {
		t.Errorf("the loudest band took %d values over %d frames, want at least 6 (speech moves)", len(dominant), frames)
	}
	if share := top / sum; share > 0.3 {
		t.Errorf("one band holds %.0f%% of the energy, want at most 30%% (not a tone)", 100*share)
	}
}

// renderEspeak renders text with espeak-ng into a WAV file, independently
// of the backend's TTS, and returns it at 8 kHz without its silences.
func renderEspeak(t *testing.T, text string) []int16 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ref.wav")
	cmd := exec.Command("espeak-ng", "-v", "en", "-w", path, "--", text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, out)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pcm, rate, err := readPCM16(raw)
	if err != nil {
		t.Fatal(err)
	}
	return trimSilence(resample(pcm, rate, audio.SampleRate))
}

// checkSameSpeech compares what the phone heard with the reference
// rendering: about the same duration, and the same loudness contour
// (syllables and pauses in the same places): the correlation of their
// 20 ms frame levels, at the best shift of up to 100 ms, is high.
func checkSameSpeech(t *testing.T, heard, ref []int16) {
	t.Helper()
	if len(ref) == 0 {
		t.Fatal("espeak-ng rendered silence")
	}
	ratio := float64(len(heard)) / float64(len(ref))
	if ratio < 0.85 || ratio > 1.15 {
		t.Errorf("heard %d ms of speech, espeak-ng renders %d ms", len(heard)/8, len(ref)/8)
	}
	h, r := frameLevels(heard), frameLevels(ref)
	best := -1.0
	for lag := -5; lag <= 5; lag++ {
		best = max(best, correlation(h, r, lag))
	}
	t.Logf("speech: heard %d ms, espeak-ng %d ms, contour correlation %.2f", len(heard)/8, len(ref)/8, best)
	if best < 0.8 {
		t.Errorf("loudness contour correlation with espeak-ng's rendering %.2f, want at least 0.8", best)
	}
}

// correlation is Pearson's r of a[i] and b[i+lag] where both exist.
func correlation(a, b []float64, lag int) float64 {
	var xs, ys []float64
	for i := range a {
		if j := i + lag; j >= 0 && j < len(b) {
			xs = append(xs, a[i])
			ys = append(ys, b[j])
		}
	}
	n := float64(len(xs))
	if n < 10 {
		return -1
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return -1
	}
	return sxy / math.Sqrt(sxx*syy)
}
