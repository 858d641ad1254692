package audio

import (
	"fmt"
	"io"
	"math"
	"time"
)

// Source produces 8 kHz mono linear audio, normally one 20 ms frame of
// [FrameSamples] samples per call. It is what the player sends and the
// recorder and mixer consume.
type Source interface {
	// ReadFrame fills dst with the next samples and returns how many it wrote.
	// It fills dst completely except possibly on the last frame, which may be
	// short (the caller pads it with silence). After the last sample it
	// returns 0, io.EOF. Implementations must not keep dst.
	ReadFrame(dst []int16) (n int, err error)
}

// Tone describes a tone: the listed frequencies summed, each at Level, played
// by Cadence.
type Tone struct {
	// Freqs are the frequencies in Hz, each below half [SampleRate].
	Freqs []float64
	// Level is the level of each frequency in dBm0; -10 is a usual tone level.
	Level float64
	// Cadence alternates on and off durations, starting with on: {1s, 4s}
	// is one second of tone then four of silence. Nil means a continuous
	// tone. Durations are rounded to whole samples.
	Cadence []time.Duration
	// Repeat is how many times the cadence plays before the tone ends
	// (io.EOF); 0 repeats for ever. It is ignored for a continuous tone,
	// which never ends.
	Repeat int
}

// Preset tones. China's call progress tones are 450 Hz (YD/T 1277), which
// Hotline uses as its default region; others can be built from a [Tone].
var (
	// Ringback is China's ringback tone: 450 Hz, 1 s on, 4 s off, for ever.
	Ringback = Tone{Freqs: []float64{450}, Level: -10, Cadence: []time.Duration{time.Second, 4 * time.Second}}
	// Busy is China's busy tone: 450 Hz, 0.35 s on, 0.35 s off, for ever.
	Busy = Tone{Freqs: []float64{450}, Level: -10, Cadence: []time.Duration{350 * time.Millisecond, 350 * time.Millisecond}}
	// Beep is a 1 kHz beep of 200 ms, played once (the recording beep).
	Beep = Tone{Freqs: []float64{1000}, Level: -10, Cadence: []time.Duration{200 * time.Millisecond}, Repeat: 1}
)

// maxToneFreqs bounds the frequencies of one tone so a ToneSource holds its
// oscillators in a fixed array.
const maxToneFreqs = 4

// ToneSource is a [Source] playing a [Tone]. It is phase-continuous across
// frames and allocates nothing per frame.
type ToneSource struct {
	n int
	// Each frequency is a rotating unit phasor (re, im) advanced by one
	// complex multiplication per sample, far cheaper than math.Sin; it is
	// renormalized every renormSamples samples (counted from the start, so
	// the output does not depend on frame sizes) to stop rounding drift.
	re, im      [maxToneFreqs]float64
	cosW, sinW  [maxToneFreqs]float64
	sinceRenorm int
	amp         float64
	cad         [16]int64 // cadence in samples
	ncad        int
	repeat      int
	pos         int64 // sample position within the current cadence element
	idx         int   // current cadence element
	cycles      int   // completed cadences
	done        bool
}

// NewToneSource checks t and returns a source playing it. It returns
// ErrInvalidTone for no or too many (more than 4) frequencies, a frequency
// not in (0, 4000) Hz, a level above +3.17 dBm0, more than 16 cadence
// elements, a negative duration, a cadence with no sound, or a negative
// Repeat.
func NewToneSource(t Tone) (*ToneSource, error) {
	if len(t.Freqs) == 0 || len(t.Freqs) > maxToneFreqs {
		return nil, fmt.Errorf("%w: %d frequencies (1 to %d)", ErrInvalidTone, len(t.Freqs), maxToneFreqs)
	}
	if t.Level > FullScaleDBm0 || math.IsNaN(t.Level) {
		return nil, fmt.Errorf("%w: level %v dBm0", ErrInvalidTone, t.Level)
	}
	if len(t.Cadence) > 16 {
		return nil, fmt.Errorf("%w: %d cadence elements (max 16)", ErrInvalidTone, len(t.Cadence))
	}
	if t.Repeat < 0 {
		return nil, fmt.Errorf("%w: repeat %d", ErrInvalidTone, t.Repeat)
	}
	s := &ToneSource{n: len(t.Freqs), repeat: t.Repeat, ncad: len(t.Cadence)}
	for i, f := range t.Freqs {
		if !(f > 0 && f < SampleRate/2) {
			return nil, fmt.Errorf("%w: frequency %v Hz", ErrInvalidTone, f)
		}
		w := 2 * math.Pi * f / SampleRate
		s.cosW[i], s.sinW[i] = math.Cos(w), math.Sin(w)
		s.re[i] = 1
	}
	// Summing k frequencies at Level each may exceed full scale; the sum is
	// saturated rather than scaled so a listed level stays what it says.
	s.amp = amplitudeDBm0(t.Level)
	var on int64
	for i, d := range t.Cadence {
		if d < 0 {
			return nil, fmt.Errorf("%w: negative duration %v", ErrInvalidTone, d)
		}
		s.cad[i] = durationSamples(d)
		if i%2 == 0 {
			on += s.cad[i]
		}
	}
	if s.ncad > 0 && on == 0 {
		return nil, fmt.Errorf("%w: cadence has no sound", ErrInvalidTone)
	}
	return s, nil
}

// renormSamples is how often oscillators are renormalized.
const renormSamples = 1024

// durationSamples converts d to a number of samples at SampleRate, rounded.
func durationSamples(d time.Duration) int64 {
	return (int64(d)*SampleRate + int64(time.Second)/2) / int64(time.Second)
}

// ReadFrame implements [Source].
func (s *ToneSource) ReadFrame(dst []int16) (int, error) {
	if s.done {
		return 0, io.EOF
	}
	for i := range dst {
		on := true
		if s.ncad > 0 {
			// Skip finished (or empty) cadence elements.
			for s.pos >= s.cad[s.idx] {
				s.pos = 0
				s.idx++
				if s.idx == s.ncad {
					s.idx = 0
					s.cycles++
					if s.repeat > 0 && s.cycles >= s.repeat {
						s.done = true
						if i == 0 {
							return 0, io.EOF
						}
						return i, nil
					}
				}
			}
			on = s.idx%2 == 0
			s.pos++
		}
		var v float64
		for k := range s.n {
			if on {
				v += s.im[k]
			}
			// The oscillator runs during silences too, so each burst
			// continues the same phase.
			re, im := s.re[k], s.im[k]
			s.re[k] = re*s.cosW[k] - im*s.sinW[k]
			s.im[k] = im*s.cosW[k] + re*s.sinW[k]
		}
		if s.sinceRenorm++; s.sinceRenorm == renormSamples {
			s.sinceRenorm = 0
			for k := range s.n {
				g := 1 / math.Hypot(s.re[k], s.im[k])
				s.re[k] *= g
				s.im[k] *= g
			}
		}
		dst[i] = sat16(int32(math.Round(v * s.amp)))
	}
	return len(dst), nil
}

// SilenceSource is a [Source] of zero samples for a fixed duration.
type SilenceSource struct {
	left int64
}

// Silence returns a source of d of silence (rounded to whole samples);
// d <= 0 gives an empty source.
func Silence(d time.Duration) *SilenceSource {
	return &SilenceSource{left: max(durationSamples(d), 0)}
}

// ReadFrame implements [Source].
func (s *SilenceSource) ReadFrame(dst []int16) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	n := len(dst)
	if int64(n) > s.left {
		n = int(s.left)
	}
	clear(dst[:n])
	s.left -= int64(n)
	return n, nil
}

// ReadAll reads src to its end in frames of [FrameSamples] and returns every
// sample, stopping with ErrInvalidConfig after maxSamples so an endless
// source cannot exhaust memory. It is meant for tests and short prompts, not
// for the per-frame path.
func ReadAll(src Source, maxSamples int) ([]int16, error) {
	var out []int16
	frame := make([]int16, FrameSamples)
	for {
		n, err := src.ReadFrame(frame)
		out = append(out, frame[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if len(out) > maxSamples {
			return out[:maxSamples], fmt.Errorf("%w: source longer than %d samples", ErrInvalidConfig, maxSamples)
		}
	}
}

// sat16 clamps v to the int16 range.
func sat16(v int32) int16 {
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}
