package audio

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"hotline/internal/testenv"
)

// dtmfSignal builds in-band DTMF for digits: each tone on for on, then off
// of silence, the column tone twistDB above the row tone, the row at level
// dBm0, frequencies scaled by (1+deviation), starting after lead samples of
// silence.
func dtmfSignal(t *testing.T, digits string, level, twistDB, deviation float64, on, off time.Duration, lead int) []int16 {
	t.Helper()
	out := make([]int16, lead)
	aRow := amplitudeDBm0(level)
	aCol := amplitudeDBm0(level + twistDB)
	onN, offN := int(durationSamples(on)), int(durationSamples(off))
	for _, dg := range digits {
		row, col, ok := dtmfPosition(dg)
		if !ok {
			t.Fatalf("bad digit %q", dg)
		}
		fr := DTMFRowFrequencies[row] * (1 + deviation)
		fc := DTMFColumnFrequencies[col] * (1 + deviation)
		for i := range onN {
			x := float64(i) / SampleRate
			v := aRow*math.Sin(2*math.Pi*fr*x) + aCol*math.Sin(2*math.Pi*fc*x+1)
			out = append(out, sat16(int32(v)))
		}
		out = append(out, make([]int16, offN)...)
	}
	return out
}

// detectAll runs a default detector over s in 20 ms frames.
func detectAll(t *testing.T, cfg DTMFDetectorConfig, s []int16) string {
	t.Helper()
	d, err := NewDTMFDetector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []rune
	for i := 0; i < len(s); i += FrameSamples {
		got = d.Detect(got, s[i:min(i+FrameSamples, len(s))])
	}
	return string(got)
}

func TestDTMFDetectorDigits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	withNoise := func(s []int16, amp float64) []int16 { return addSignals(s, noise(rng, len(s), amp)) }
	all := "0123456789*#ABCD"
	tests := []struct {
		name string
		sig  []int16
		want string
	}{
		{"all digits clean", dtmfSignal(t, all, -10, 2, 0, 60*time.Millisecond, 60*time.Millisecond, 0), all},
		{"40 ms tones, 40 ms gaps", dtmfSignal(t, "159#", -10, 0, 0, 40*time.Millisecond, 40*time.Millisecond, 37), "159#"},
		{"40 ms tones, odd alignment", dtmfSignal(t, "2580", -10, 0, 0, 40*time.Millisecond, 45*time.Millisecond, 61), "2580"},
		{"same digit repeated", dtmfSignal(t, "777", -10, 0, 0, 80*time.Millisecond, 50*time.Millisecond, 0), "777"},
		{"long press reported once", dtmfSignal(t, "5", -10, 0, 0, 2*time.Second, 0, 0), "5"},
		{"quiet tones -25 dBm0", dtmfSignal(t, "369", -25, 0, 0, 60*time.Millisecond, 60*time.Millisecond, 0), "369"},
		{"normal twist 6 dB", dtmfSignal(t, "14", -10, -6, 0, 60*time.Millisecond, 60*time.Millisecond, 0), "14"},
		{"reverse twist 3 dB", dtmfSignal(t, "14", -10, 3, 0, 60*time.Millisecond, 60*time.Millisecond, 0), "14"},
		{"frequency off by 1.5%", dtmfSignal(t, "0D", -10, 0, 0.015, 60*time.Millisecond, 60*time.Millisecond, 0), "0D"},
		{"frequency off by -1.5%", dtmfSignal(t, "1A", -10, 0, -0.015, 60*time.Millisecond, 60*time.Millisecond, 0), "1A"},
		{"noise 20 dB below", withNoise(dtmfSignal(t, all, -10, 2, 0, 60*time.Millisecond, 60*time.Millisecond, 0), amplitudeDBm0(-30)*math.Sqrt(3)), all},
		{"noise 15 dB below", withNoise(dtmfSignal(t, "4826", -10, 0, 0, 50*time.Millisecond, 50*time.Millisecond, 0), amplitudeDBm0(-25)*math.Sqrt(3)), "4826"},
		{"through G.711", g711Trip(dtmfSignal(t, "9*3", -15, 0, 0, 50*time.Millisecond, 50*time.Millisecond, 11)), "9*3"},
		{"too short (15 ms)", dtmfSignal(t, "1234", -10, 0, 0, 15*time.Millisecond, 60*time.Millisecond, 0), ""},
		{"too quiet -40 dBm0", dtmfSignal(t, "1", -40, 0, 0, 100*time.Millisecond, 0, 0), ""},
		{"normal twist 12 dB", dtmfSignal(t, "1", -10, -12, 0, 100*time.Millisecond, 0, 0), ""},
		{"reverse twist 7 dB", dtmfSignal(t, "1", -10, 7, 0, 100*time.Millisecond, 0, 0), ""},
		{"frequency off by 5%", dtmfSignal(t, "1", -10, 0, 0.05, 100*time.Millisecond, 0, 0), ""},
		{"buried in noise", withNoise(dtmfSignal(t, "1", -20, 0, 0, 100*time.Millisecond, 0, 0), amplitudeDBm0(-10)*math.Sqrt(3)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detectAll(t, DefaultDTMFDetectorConfig(), tt.sig); got != tt.want {
				t.Fatalf("detected %q, want %q", got, tt.want)
			}
		})
	}
}

func g711Trip(s []int16) []int16 {
	b := make([]byte, len(s))
	EncodeUlaw(b, s)
	out := make([]int16, len(s))
	DecodeUlaw(out, b)
	return out
}

// speechLike synthesizes voiced sound: a gliding pitch with many harmonics
// shaped by vowel formants, changing vowel every 150 ms, with syllable-rate
// amplitude modulation.
func speechLike(n int, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 1))
	vowels := [][3]float64{{730, 1090, 2440}, {270, 2290, 3010}, {300, 870, 2240}, {530, 1840, 2480}, {570, 840, 2410}}
	out := make([]int16, n)
	var phase float64
	for i := range out {
		tm := float64(i) / SampleRate
		f0 := 110 + 40*math.Sin(2*math.Pi*1.3*tm) + 20*math.Sin(2*math.Pi*0.4*tm)
		phase += 2 * math.Pi * f0 / SampleRate
		v := vowels[(i/1200)%len(vowels)]
		var s float64
		for h := 1; float64(h)*f0 < 3800; h++ {
			fh := float64(h) * f0
			g := 0.0
			for _, fm := range v {
				g += 1 / (1 + ((fh-fm)/120)*((fh-fm)/120))
			}
			s += g * math.Sin(float64(h)*phase) / math.Sqrt(float64(h))
		}
		env := 0.6 + 0.4*math.Sin(2*math.Pi*4*tm)
		out[i] = sat16(int32(6000*s*env + rng.NormFloat64()*100))
	}
	return out
}

func TestDTMFDetectorRejects(t *testing.T) {
	tone := func(freqs ...float64) []int16 {
		src, err := NewToneSource(Tone{Freqs: freqs, Level: -10, Cadence: []time.Duration{2 * time.Second}, Repeat: 1})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := ReadAll(src, 1<<20)
		return s
	}
	tests := []struct {
		name string
		sig  []int16
	}{
		{"speech-like 1", speechLike(3*SampleRate, 1)},
		{"speech-like 2", speechLike(3*SampleRate, 2)},
		{"silence", make([]int16, SampleRate)},
		{"white noise", noise(rand.New(rand.NewPCG(3, 4)), 2*SampleRate, 20000)},
		{"1 kHz", tone(1000)},
		{"ringback 450 Hz", tone(450)},
		{"row tone alone", tone(770)},
		{"column tone alone", tone(1477)},
		{"two row tones", tone(697, 852)},
		{"two column tones", tone(1209, 1633)},
		{"dial tone 350+440", tone(350, 440)},
		{"three tones with a DTMF pair", tone(697, 1209, 500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detectAll(t, DefaultDTMFDetectorConfig(), tt.sig); got != "" {
				t.Fatalf("detected %q in a signal without DTMF", got)
			}
		})
	}
}

func TestDTMFToneGenerator(t *testing.T) {
	var sig []int16
	for _, dg := range "*0#" {
		tn, err := DTMFTone(dg, -10, 70*time.Millisecond, 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		src, _ := NewToneSource(tn)
		s, _ := ReadAll(src, 1<<20)
		sig = append(sig, s...)
	}
	if got := detectAll(t, DefaultDTMFDetectorConfig(), sig); got != "*0#" {
		t.Fatalf("detected %q", got)
	}
	if _, err := DTMFTone('z', -10, time.Second, 0); !errors.Is(err, ErrUnknownDigit) {
		t.Fatalf("err = %v", err)
	}
	if tn, _ := DTMFTone('b', -10, time.Second, 0); tn.Freqs[0] != 770 || tn.Freqs[1] != 1633 {
		t.Fatalf("b = %v", tn.Freqs)
	}
}

func TestDTMFDetectorConfig(t *testing.T) {
	bad := []func(*DTMFDetectorConfig){
		func(c *DTMFDetectorConfig) { c.MinBlocks = 0 },
		func(c *DTMFDetectorConfig) { c.GapBlocks = 0 },
		func(c *DTMFDetectorConfig) { c.MaxHighOverLow = -1 },
		func(c *DTMFDetectorConfig) { c.MinToneRatio = 0 },
		func(c *DTMFDetectorConfig) { c.MinToneRatio = 1.5 },
	}
	for i, mod := range bad {
		cfg := DefaultDTMFDetectorConfig()
		mod(&cfg)
		if _, err := NewDTMFDetector(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("case %d: err = %v", i, err)
		}
	}
	// MinBlocks is honoured: 4 blocks (51 ms) rejects 40 ms tones.
	cfg := DefaultDTMFDetectorConfig()
	cfg.MinBlocks = 4
	if got := detectAll(t, cfg, dtmfSignal(t, "12", -10, 0, 0, 40*time.Millisecond, 60*time.Millisecond, 0)); got != "" {
		t.Fatalf("MinBlocks 4 detected %q", got)
	}
	d, _ := NewDTMFDetector(DefaultDTMFDetectorConfig())
	half := dtmfSignal(t, "5", -10, 0, 0, 100*time.Millisecond, 0, 0)
	_ = d.Detect(nil, half[:150])
	d.Reset()
	if got := d.Detect(nil, make([]int16, 400)); len(got) != 0 {
		t.Fatal("Reset kept state")
	}
}

func TestDTMFDetectorZeroAllocs(t *testing.T) {
	d, _ := NewDTMFDetector(DefaultDTMFDetectorConfig())
	sig := dtmfSignal(t, "1", -10, 0, 0, time.Second, 0, 0)
	dst := make([]rune, 0, 8)
	i := 0
	a := testing.AllocsPerRun(40, func() {
		dst = d.Detect(dst[:0], sig[i:i+FrameSamples])
		i += FrameSamples
	})
	if a != 0 {
		t.Fatalf("%v allocs per frame", a)
	}
}

// TestDTMFDetectorWithSox detects digits that sox synthesized at 16 kHz,
// read through the WAV reader's down-sampler: an independent generator
// and the full player-side path.
func TestDTMFDetectorWithSox(t *testing.T) {
	sox := testenv.RequireTool(t, "sox")
	dir := t.TempDir()
	const digits = "0123456789*#ABCD"
	var sig []int16
	for i, dg := range digits {
		row, col, _ := dtmfPosition(dg)
		path := filepath.Join(dir, fmt.Sprintf("d%d.wav", i))
		cmd := exec.Command(sox, "-n", "-r", "16000", "-b", "16", "-c", "1", path,
			"synth", "0.06", "sine", fmt.Sprint(DTMFRowFrequencies[row]), "sine", fmt.Sprint(DTMFColumnFrequencies[col]),
			"remix", "-", "vol", "0.3", "pad", "0", "0.05")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sox: %v\n%s", err, out)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		src, err := NewWAVSource(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ReadAll(src, 1<<20)
		_ = f.Close()
		if err != nil {
			t.Fatal(err)
		}
		sig = append(sig, s...)
	}
	if got := detectAll(t, DefaultDTMFDetectorConfig(), sig); got != digits {
		t.Fatalf("detected %q, want %q", got, digits)
	}
}
