package audio

import "math"

// Goertzel returns the power of samples at freq (Hz), sampled at sampleRate:
// |X(f)|² of the block's discrete-time Fourier transform, computed with the
// Goertzel recurrence for any frequency (not only DFT bins). A sine of
// amplitude A lasting the whole block of N samples yields about (A·N/2)².
func Goertzel(samples []int16, sampleRate, freq float64) float64 {
	w := 2 * math.Pi * freq / sampleRate
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x) + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// Energy returns the sum of the squared samples.
func Energy(samples []int16) float64 {
	var e float64
	for _, x := range samples {
		v := float64(x)
		e += v * v
	}
	return e
}

// ToneRatio returns the share of the block's energy that lies at freq, in
// [0, 1] up to a little spectral leakage: 1 for a pure sine at freq, about
// 1/k for k sines of equal level, near 0 when freq is absent or the block is
// silent. Blocks of 20 ms or more resolve tones 100 Hz apart.
func ToneRatio(samples []int16, sampleRate, freq float64) float64 {
	e := Energy(samples)
	if e == 0 || len(samples) == 0 {
		return 0
	}
	// A sine of amplitude A has energy A²N/2 and Goertzel power (AN/2)², so
	// power·2/(N·energy) is 1 for a pure tone.
	return 2 * Goertzel(samples, sampleRate, freq) / (float64(len(samples)) * e)
}

// HasToneMinRatio is the share of energy [HasTone] asks of a tone: a quarter,
// so a tone is found when it is alone, or one of up to three equal tones, or
// clearly above noise.
const HasToneMinRatio = 0.25

// HasToneMinLevel is the level, in dBm0, under which [HasTone] calls a block
// silent whatever its spectrum.
const HasToneMinLevel = -50.0

// HasTone reports whether freq carries at least [HasToneMinRatio] of the
// block's energy and the block is louder than [HasToneMinLevel]. Tests use it
// to assert "1 kHz on the left channel"; use [ToneRatio] directly when several
// tones share a block.
func HasTone(samples []int16, sampleRate, freq float64) bool {
	if LevelDBm0(samples) < HasToneMinLevel {
		return false
	}
	return ToneRatio(samples, sampleRate, freq) >= HasToneMinRatio
}

// FullScaleDBm0 is the level of a full-scale sine, +3.17 dBm0 for µ-law
// (ITU-T G.711 §3 and G.168 conventions); A-law's +3.14 differs by less than
// a measurement's error, so one constant serves both.
const FullScaleDBm0 = 3.17

// amplitudeDBm0 returns the peak amplitude of a sine at level dBm0.
func amplitudeDBm0(level float64) float64 {
	return 32767 * math.Pow(10, (level-FullScaleDBm0)/20)
}

// LevelDBm0 returns the RMS level of samples in dBm0, -math.Inf(1) for
// silence or an empty block. A sine at 0 dBm0 reads 0.
func LevelDBm0(samples []int16) float64 {
	if len(samples) == 0 {
		return math.Inf(-1)
	}
	e := Energy(samples)
	if e == 0 {
		return math.Inf(-1)
	}
	rms := math.Sqrt(e / float64(len(samples)))
	// A 0 dBm0 sine has RMS amplitude/√2.
	ref := amplitudeDBm0(0) / math.Sqrt2
	return 20 * math.Log10(rms/ref)
}

// DominantFrequency returns, among the candidate frequencies, the one with
// the largest Goertzel power in samples, and that power's [ToneRatio]. It
// returns 0, 0 when candidates is empty.
func DominantFrequency(samples []int16, sampleRate float64, candidates []float64) (freq, ratio float64) {
	best := -1.0
	for _, f := range candidates {
		p := Goertzel(samples, sampleRate, f)
		if p > best {
			best, freq = p, f
		}
	}
	if best < 0 {
		return 0, 0
	}
	return freq, ToneRatio(samples, sampleRate, freq)
}
