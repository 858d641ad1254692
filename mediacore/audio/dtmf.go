package audio

import (
	"fmt"
	"math"
	"time"
)

// DTMFRowFrequencies are the DTMF low-group frequencies in Hz (ITU-T Q.23).
var DTMFRowFrequencies = [4]float64{697, 770, 852, 941}

// DTMFColumnFrequencies are the DTMF high-group frequencies in Hz (ITU-T Q.23).
var DTMFColumnFrequencies = [4]float64{1209, 1336, 1477, 1633}

// dtmfKeypad maps row and column to the digit (Q.23 Figure 1).
var dtmfKeypad = [4][4]rune{
	{'1', '2', '3', 'A'},
	{'4', '5', '6', 'B'},
	{'7', '8', '9', 'C'},
	{'*', '0', '#', 'D'},
}

// dtmfPosition returns the keypad row and column of digit.
func dtmfPosition(digit rune) (row, col int, ok bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	for r := range 4 {
		for c := range 4 {
			if dtmfKeypad[r][c] == digit {
				return r, c, true
			}
		}
	}
	return 0, 0, false
}

// DTMFTone returns the [Tone] of one DTMF digit for in-band signalling: its
// row and column frequencies, each at level dBm0, on for on and then silent
// for off, played once. It returns ErrUnknownDigit, wrapped, for a digit
// outside 0-9, *, #, A-D.
func DTMFTone(digit rune, level float64, on, off time.Duration) (Tone, error) {
	row, col, ok := dtmfPosition(digit)
	if !ok {
		return Tone{}, fmt.Errorf("%w: %q", ErrUnknownDigit, digit)
	}
	return Tone{
		Freqs:   []float64{DTMFRowFrequencies[row], DTMFColumnFrequencies[col]},
		Level:   level,
		Cadence: []time.Duration{on, off},
		Repeat:  1,
	}, nil
}

// DTMFBlockSamples is the analysis block of the in-band detector: 102
// samples (12.75 ms) resolve the 73 Hz spacing of the row tones while two
// consecutive blocks fit in any 40 ms tone, whatever its alignment.
const DTMFBlockSamples = 102

// DTMFDetectorConfig tunes the in-band detector. Start from
// [DefaultDTMFDetectorConfig].
type DTMFDetectorConfig struct {
	// MinLevel is the lowest level, in dBm0, each of the two tones may have.
	MinLevel float64
	// MaxLowOverHigh is how many dB the row (low) tone may exceed the column
	// tone ("normal twist", Q.24 §4).
	MaxLowOverHigh float64
	// MaxHighOverLow is how many dB the column (high) tone may exceed the
	// row tone ("reverse twist").
	MaxHighOverLow float64
	// MinToneRatio is the share of a block's energy the two tones must hold
	// together; it rejects speech, music and noise that happen to contain
	// both frequencies.
	MinToneRatio float64
	// MinBlocks is how many consecutive blocks must agree before a digit is
	// reported: 2 blocks means a tone of about 40 ms or more.
	MinBlocks int
	// GapBlocks is how many consecutive blocks without the digit end it, so
	// that the same digit pressed again is reported again.
	GapBlocks int
}

// DefaultDTMFDetectorConfig returns the detector's defaults: tones down to
// -30 dBm0, 8 dB normal and 4 dB reverse twist (Q.24 limits used by most
// administrations), tones holding 70% of the energy, two blocks to report
// and two blocks (25.5 ms) of gap to re-arm.
func DefaultDTMFDetectorConfig() DTMFDetectorConfig {
	return DTMFDetectorConfig{
		MinLevel:       -30,
		MaxLowOverHigh: 8,
		MaxHighOverLow: 4,
		MinToneRatio:   0.7,
		MinBlocks:      2,
		GapBlocks:      2,
	}
}

// DTMFDetector finds DTMF digits in 8 kHz linear audio: the fallback for
// peers that send digits in band rather than as RFC 4733 events. It runs the
// Goertzel algorithm on the eight DTMF frequencies over blocks of
// [DTMFBlockSamples], and reports a digit once when MinBlocks consecutive
// blocks hold one row and one column tone loud enough, within the twist
// limits, clearly above the other tones of their group, and carrying most
// of the energy. It allocates nothing per frame.
type DTMFDetector struct {
	cfg       DTMFDetectorConfig
	coeff     [8]float64
	block     [DTMFBlockSamples]int16
	fill      int
	minPower  float64 // Goertzel power of a tone at MinLevel over one block
	lowHigh   float64 // linear power ratios of the twist limits
	highLow   float64
	candidate rune // digit of the previous block, 0 for none
	hits      int
	held      rune // digit reported and not yet ended
	misses    int
}

// NewDTMFDetector returns a detector with cfg, or ErrInvalidConfig, wrapped,
// for a MinBlocks or GapBlocks below 1, negative twist limits or a
// MinToneRatio outside (0, 1].
func NewDTMFDetector(cfg DTMFDetectorConfig) (*DTMFDetector, error) {
	if cfg.MinBlocks < 1 || cfg.GapBlocks < 1 || cfg.MaxLowOverHigh < 0 || cfg.MaxHighOverLow < 0 ||
		!(cfg.MinToneRatio > 0 && cfg.MinToneRatio <= 1) {
		return nil, fmt.Errorf("%w: DTMF detector %+v", ErrInvalidConfig, cfg)
	}
	d := &DTMFDetector{cfg: cfg}
	for i, f := range DTMFRowFrequencies {
		d.coeff[i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
	}
	for i, f := range DTMFColumnFrequencies {
		d.coeff[4+i] = 2 * math.Cos(2*math.Pi*f/SampleRate)
	}
	a := amplitudeDBm0(cfg.MinLevel) * DTMFBlockSamples / 2
	d.minPower = a * a
	d.lowHigh = math.Pow(10, cfg.MaxLowOverHigh/10)
	d.highLow = math.Pow(10, cfg.MaxHighOverLow/10)
	return d, nil
}

// Detect analyses samples (any length; the detector keeps partial blocks
// between calls), appends each digit found to dst and returns it. With a
// dst of spare capacity it allocates nothing.
func (d *DTMFDetector) Detect(dst []rune, samples []int16) []rune {
	for len(samples) > 0 {
		n := copy(d.block[d.fill:], samples)
		d.fill += n
		samples = samples[n:]
		if d.fill < DTMFBlockSamples {
			break
		}
		d.fill = 0
		if digit, ok := d.step(d.classify()); ok {
			dst = append(dst, digit)
		}
	}
	return dst
}

// Reset forgets all state, as at the start of a call.
func (d *DTMFDetector) Reset() {
	d.fill, d.candidate, d.hits, d.held, d.misses = 0, 0, 0, 0, 0
}

// step advances the per-block state machine with the block's digit (0 for
// none) and reports a digit when it has lasted MinBlocks and is not the one
// already held.
func (d *DTMFDetector) step(digit rune) (rune, bool) {
	if digit != 0 && digit == d.candidate {
		d.hits++
	} else if digit != 0 {
		d.hits = 1
	} else {
		d.hits = 0
	}
	d.candidate = digit
	if d.held != 0 {
		if digit == d.held {
			d.misses = 0
		} else if d.misses++; d.misses >= d.cfg.GapBlocks {
			d.held = 0
		}
	}
	if digit != 0 && digit != d.held && d.hits >= d.cfg.MinBlocks {
		d.held, d.misses = digit, 0
		return digit, true
	}
	return 0, false
}

// classify returns the digit one full block holds, or 0.
func (d *DTMFDetector) classify() rune {
	var p [8]float64
	var energy float64
	for _, x := range d.block {
		v := float64(x)
		energy += v * v
	}
	if energy == 0 {
		return 0
	}
	// Four Goertzel recurrences per pass: independent dependency chains
	// let the CPU overlap them, about three times faster than one at a
	// time, while still fitting in registers.
	for g := 0; g < 8; g += 4 {
		c0, c1, c2, c3 := d.coeff[g], d.coeff[g+1], d.coeff[g+2], d.coeff[g+3]
		var a1, a2, b1, b2, e1, e2, f1, f2 float64
		for _, x := range d.block {
			v := float64(x)
			a1, a2 = v+c0*a1-a2, a1
			b1, b2 = v+c1*b1-b2, b1
			e1, e2 = v+c2*e1-e2, e1
			f1, f2 = v+c3*f1-f2, f1
		}
		p[g] = a1*a1 + a2*a2 - c0*a1*a2
		p[g+1] = b1*b1 + b2*b2 - c1*b1*b2
		p[g+2] = e1*e1 + e2*e2 - c2*e1*e2
		p[g+3] = f1*f1 + f2*f2 - c3*f1*f2
	}
	row, col := 0, 4
	for k := 1; k < 4; k++ {
		if p[k] > p[row] {
			row = k
		}
		if p[4+k] > p[col] {
			col = 4 + k
		}
	}
	pr, pc := p[row], p[col]
	if pr < d.minPower || pc < d.minPower {
		return 0
	}
	if pr > pc*d.lowHigh || pc > pr*d.highLow {
		return 0
	}
	// Every other tone of each group must be at least 6 dB (a factor of 4
	// in power) below the strongest one.
	for k := range 4 {
		if k != row && p[k]*4 > pr {
			return 0
		}
		if 4+k != col && p[4+k]*4 > pc {
			return 0
		}
	}
	// Share of energy in the two tones, as in ToneRatio.
	if 2*(pr+pc)/(DTMFBlockSamples*energy) < d.cfg.MinToneRatio {
		return 0
	}
	return dtmfKeypad[row][col-4]
}
