package audio

import (
	"errors"
	"io"
	"math"
	"testing"
	"time"
)

// onOffPattern classifies each 10 ms block of samples as tone (true) or
// silence (false) at freq.
func onOffPattern(t *testing.T, s []int16, freq float64) []bool {
	t.Helper()
	const block = 80
	var out []bool
	for i := 0; i+block <= len(s); i += block {
		b := s[i : i+block]
		on := LevelDBm0(b) > -40
		if on && ToneRatio(b, SampleRate, freq) < 0.9 {
			t.Fatalf("block %d: sound that is not %v Hz", i/block, freq)
		}
		out = append(out, on)
	}
	return out
}

// runs turns a pattern into run lengths of blocks, e.g. 100 on, 400 off.
func runs(p []bool) []int {
	var out []int
	for i := 0; i < len(p); {
		j := i
		for j < len(p) && p[j] == p[i] {
			j++
		}
		out = append(out, j-i)
		i = j
	}
	return out
}

func TestTonePresets(t *testing.T) {
	tests := []struct {
		name  string
		tone  Tone
		read  time.Duration
		freq  float64
		runs  []int // 10 ms blocks alternating on/off
		isEOF bool
	}{
		{"ringback", Ringback, 11 * time.Second, 450, []int{100, 400, 100, 400, 100}, false},
		{"busy", Busy, 1400 * time.Millisecond, 450, []int{35, 35, 35, 35}, false},
		{"beep", Beep, time.Second, 1000, []int{20}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewToneSource(tt.tone)
			if err != nil {
				t.Fatal(err)
			}
			max := int(durationSamples(tt.read))
			s, err := ReadAll(src, max)
			if tt.isEOF != (err == nil) {
				t.Fatalf("ReadAll err = %v", err)
			}
			if !tt.isEOF && len(s) != max {
				t.Fatalf("got %d samples, want %d", len(s), max)
			}
			got := runs(onOffPattern(t, s, tt.freq))
			if len(got) != len(tt.runs) {
				t.Fatalf("runs %v, want %v", got, tt.runs)
			}
			for i := range got {
				if got[i] != tt.runs[i] {
					t.Fatalf("runs %v, want %v", got, tt.runs)
				}
			}
		})
	}
}

func TestToneLevelAndMultiFrequency(t *testing.T) {
	src, err := NewToneSource(Tone{Freqs: []float64{350, 440}, Level: -13, Cadence: []time.Duration{time.Second}, Repeat: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadAll(src, SampleRate*2)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != SampleRate {
		t.Fatalf("len %d", len(s))
	}
	for _, f := range []float64{350, 440} {
		if r := ToneRatio(s, SampleRate, f); r < 0.45 || r > 0.55 {
			t.Fatalf("%v Hz ratio %.3f", f, r)
		}
	}
	// Two equal tones at -13 dBm0 each add to -10 dBm0.
	if l := LevelDBm0(s); math.Abs(l-(-10)) > 0.2 {
		t.Fatalf("level %.2f dBm0", l)
	}
}

// TestTonePhaseContinuous reads a tone in odd-sized frames and compares it
// with one read in a single call: any phase reset at a frame boundary would
// differ.
func TestTonePhaseContinuous(t *testing.T) {
	whole, _ := NewToneSource(Tone{Freqs: []float64{1000, 1333}, Level: -10})
	parts, _ := NewToneSource(Tone{Freqs: []float64{1000, 1333}, Level: -10})
	want := make([]int16, 1000)
	if _, err := whole.ReadFrame(want); err != nil {
		t.Fatal(err)
	}
	got := make([]int16, 0, 1000)
	buf := make([]int16, 37)
	for len(got) < 1000 {
		n, err := parts.ReadFrame(buf[:min(37, 1000-len(got))])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sample %d: %d != %d", i, got[i], want[i])
		}
	}
	// Largest sample-to-sample step of a 1333 Hz + 1000 Hz sum stays bounded:
	// a discontinuity would show as a jump.
	amp := amplitudeDBm0(-10)
	limit := amp * 2 * math.Pi * (1000 + 1333) / SampleRate * 1.05
	for i := 1; i < len(got); i++ {
		if d := math.Abs(float64(got[i]) - float64(got[i-1])); d > limit {
			t.Fatalf("jump of %.0f at %d (limit %.0f)", d, i, limit)
		}
	}
}

func TestToneShortLastFrame(t *testing.T) {
	src, _ := NewToneSource(Tone{Freqs: []float64{1000}, Level: -10, Cadence: []time.Duration{25 * time.Millisecond}, Repeat: 1})
	buf := make([]int16, FrameSamples)
	if n, err := src.ReadFrame(buf); n != FrameSamples || err != nil {
		t.Fatalf("first frame %d, %v", n, err)
	}
	if n, err := src.ReadFrame(buf); n != 40 || err != nil {
		t.Fatalf("second frame %d, %v", n, err)
	}
	if n, err := src.ReadFrame(buf); n != 0 || err != io.EOF {
		t.Fatalf("third frame %d, %v", n, err)
	}
}

func TestToneInvalid(t *testing.T) {
	tests := []struct {
		name string
		tone Tone
	}{
		{"no frequency", Tone{Level: -10}},
		{"too many", Tone{Freqs: []float64{1, 2, 3, 4, 5}}},
		{"nyquist", Tone{Freqs: []float64{4000}}},
		{"negative freq", Tone{Freqs: []float64{-5}}},
		{"NaN freq", Tone{Freqs: []float64{math.NaN()}}},
		{"too loud", Tone{Freqs: []float64{400}, Level: 6}},
		{"negative duration", Tone{Freqs: []float64{400}, Cadence: []time.Duration{-time.Second}}},
		{"no sound", Tone{Freqs: []float64{400}, Cadence: []time.Duration{0, time.Second}}},
		{"negative repeat", Tone{Freqs: []float64{400}, Repeat: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewToneSource(tt.tone); !errors.Is(err, ErrInvalidTone) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestSilence(t *testing.T) {
	s, err := ReadAll(Silence(50*time.Millisecond), SampleRate)
	if err != nil || len(s) != 400 {
		t.Fatalf("len %d err %v", len(s), err)
	}
	if Energy(s) != 0 {
		t.Fatal("silence not silent")
	}
	if s, _ := ReadAll(Silence(-time.Second), 10); len(s) != 0 {
		t.Fatal("negative silence not empty")
	}
	if _, err := ReadAll(Silence(time.Second), 100); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("ReadAll over max: %v", err)
	}
}

func TestToneZeroAllocs(t *testing.T) {
	src, _ := NewToneSource(Busy)
	buf := make([]int16, FrameSamples)
	if a := testing.AllocsPerRun(100, func() { _, _ = src.ReadFrame(buf) }); a != 0 {
		t.Fatalf("%v allocs per frame", a)
	}
}

// TestToneLongRunAccuracy plays a tone for two minutes and checks the last
// second is still the right frequency at the right level: oscillator drift
// would show as a level or frequency error.
func TestToneLongRunAccuracy(t *testing.T) {
	src, _ := NewToneSource(Tone{Freqs: []float64{1000}, Level: -10})
	buf := make([]int16, SampleRate)
	for range 120 {
		if _, err := src.ReadFrame(buf); err != nil {
			t.Fatal(err)
		}
	}
	if l := LevelDBm0(buf); math.Abs(l+10) > 0.05 {
		t.Fatalf("level after 2 min %.3f dBm0", l)
	}
	if r := ToneRatio(buf, SampleRate, 1000); r < 0.999 {
		t.Fatalf("1 kHz ratio after 2 min %.5f", r)
	}
}
