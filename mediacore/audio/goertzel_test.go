package audio

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sine returns n samples of a sine at freq with the given peak amplitude.
func sine(n int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(i)/SampleRate))
	}
	return out
}

// addSignals sums signals sample by sample, saturating.
func addSignals(sigs ...[]int16) []int16 {
	out := make([]int16, len(sigs[0]))
	for i := range out {
		var acc int32
		for _, s := range sigs {
			acc += int32(s[i])
		}
		out[i] = sat16(acc)
	}
	return out
}

// noise returns n samples of uniform white noise of the given peak amplitude.
func noise(r *rand.Rand, n int, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16((r.Float64()*2 - 1) * amp)
	}
	return out
}

func TestGoertzel(t *testing.T) {
	tone1k := sine(FrameSamples, 1000, 10000)
	two := addSignals(sine(FrameSamples, 450, 8000), sine(FrameSamples, 1400, 8000))
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name     string
		samples  []int16
		freq     float64
		min, max float64
	}{
		{"pure tone at its frequency", tone1k, 1000, 0.95, 1.05},
		{"pure tone elsewhere", tone1k, 1400, 0, 0.01},
		{"pure tone at neighbour 100 Hz away", tone1k, 1100, 0, 0.05},
		{"two tones first", two, 450, 0.45, 0.55},
		{"two tones second", two, 1400, 0.45, 0.55},
		{"two tones absent", two, 1000, 0, 0.02},
		{"silence", make([]int16, FrameSamples), 1000, 0, 0},
		{"white noise", noise(rng, FrameSamples, 10000), 1000, 0, 0.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToneRatio(tt.samples, SampleRate, tt.freq)
			if got < tt.min || got > tt.max {
				t.Fatalf("ToneRatio = %.4f, want [%v, %v]", got, tt.min, tt.max)
			}
		})
	}
	// Absolute power of a full-block sine: (A·N/2)².
	want := math.Pow(10000*FrameSamples/2, 2)
	if p := Goertzel(tone1k, SampleRate, 1000); math.Abs(p-want)/want > 0.05 {
		t.Fatalf("Goertzel power %.4g, want about %.4g", p, want)
	}
}

func TestHasTone(t *testing.T) {
	tests := []struct {
		name    string
		samples []int16
		freq    float64
		want    bool
	}{
		{"1 kHz present", sine(800, 1000, 5000), 1000, true},
		{"1 kHz absent", sine(800, 450, 5000), 1000, false},
		{"too quiet", sine(800, 1000, 3), 1000, false},
		{"empty", nil, 1000, false},
		{"one of three", addSignals(sine(800, 400, 4000), sine(800, 1000, 4000), sine(800, 2000, 4000)), 1000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HasTone(tt.samples, SampleRate, tt.freq); got != tt.want {
				t.Fatalf("HasTone = %v (ratio %.3f, level %.1f dBm0)", got,
					ToneRatio(tt.samples, SampleRate, tt.freq), LevelDBm0(tt.samples))
			}
		})
	}
}

func TestLevelDBm0(t *testing.T) {
	tests := []struct {
		name  string
		level float64
	}{{"0 dBm0", 0}, {"-10 dBm0", -10}, {"-30 dBm0", -30}, {"+3 dBm0", 3}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LevelDBm0(sine(8000, 1000, amplitudeDBm0(tt.level)))
			if math.Abs(got-tt.level) > 0.1 {
				t.Fatalf("LevelDBm0 = %.2f, want %.2f", got, tt.level)
			}
		})
	}
	if !math.IsInf(LevelDBm0(make([]int16, 10)), -1) {
		t.Fatal("silence must be -Inf")
	}
}

func TestDominantFrequency(t *testing.T) {
	s := addSignals(sine(FrameSamples, 1209, 3000), sine(FrameSamples, 697, 9000))
	f, r := DominantFrequency(s, SampleRate, DTMFRowFrequencies[:])
	if f != 697 || r < 0.8 {
		t.Fatalf("DominantFrequency = %v, %.3f", f, r)
	}
	if f, r := DominantFrequency(s, SampleRate, nil); f != 0 || r != 0 {
		t.Fatalf("empty candidates = %v, %v", f, r)
	}
}
