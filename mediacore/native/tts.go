package native

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"hotline/mediacore/audio"
)

// TTS turns text into a prompt.
type TTS interface {
	// Synthesize returns the path of an 8 kHz mono 16-bit WAV file speaking
	// text with voice ("" = engine default). Implementations cache.
	Synthesize(ctx context.Context, voice, text string) (string, error)
}

// Espeak is the default TTS: espeak-ng, resampled to 8 kHz, cached in a
// directory by a hash of (voice, text).
type Espeak struct {
	dir string
	log *slog.Logger
	bin string
	mu  sync.Mutex // serialises synthesis so one text is made once
}

// NewEspeak returns an espeak-ng TTS caching into dir.
func NewEspeak(dir string, log *slog.Logger) *Espeak {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Espeak{dir: dir, log: log, bin: "espeak-ng"}
}

// Synthesize implements TTS.
func (e *Espeak) Synthesize(ctx context.Context, voice, text string) (string, error) {
	if voice == "" {
		voice = "en"
	}
	sum := sha256.Sum256([]byte(voice + "\x00" + text))
	path := filepath.Join(e.dir, hex.EncodeToString(sum[:16])+".wav")
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(e.dir, 0o750); err != nil {
		return "", err
	}
	// Text goes on stdin, never on the command line: nothing in it can
	// become an option. The voice was validated by mediacore (a token).
	cmd := exec.CommandContext(ctx, e.bin, "-v", voice, "--stdin", "--stdout")
	cmd.Stdin = bytes.NewReader([]byte(text))
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("espeak-ng: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	pcm, rate, err := readPCM16(out.Bytes())
	if err != nil {
		return "", err
	}
	pcm = resample(pcm, rate, audio.SampleRate)
	tmp, err := os.CreateTemp(e.dir, "tts-*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	w, err := audio.NewWAVWriter(tmp, 1, audio.SampleRate)
	if err == nil {
		err = w.WriteFrame(pcm)
	}
	if err == nil {
		err = w.Close()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}

var errWAV = errors.New("native: tts output is not 16-bit mono PCM WAV")

// readPCM16 extracts the samples of a mono 16-bit PCM WAV (espeak-ng's
// output). espeak-ng writes 0xFFFFFFFF sizes when writing to a pipe, so
// the data chunk runs to the end.
func readPCM16(b []byte) ([]int16, int, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errWAV
	}
	rate := 0
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4 : p+8]))
		p += 8
		switch id {
		case "fmt ":
			if p+16 > len(b) {
				return nil, 0, errWAV
			}
			if binary.LittleEndian.Uint16(b[p:]) != 1 || binary.LittleEndian.Uint16(b[p+2:]) != 1 ||
				binary.LittleEndian.Uint16(b[p+14:]) != 16 {
				return nil, 0, errWAV
			}
			rate = int(binary.LittleEndian.Uint32(b[p+4:]))
		case "data":
			if rate <= 0 {
				return nil, 0, errWAV
			}
			end := len(b)
			if size >= 0 && p+size <= len(b) {
				end = p + size
			}
			n := (end - p) / 2
			out := make([]int16, n)
			for i := range out {
				out[i] = int16(binary.LittleEndian.Uint16(b[p+2*i:]))
			}
			return out, rate, nil
		}
		if size < 0 || p+size > len(b) {
			return nil, 0, errWAV
		}
		p += size + size&1
	}
	return nil, 0, errWAV
}

// resample converts in from rate `from` to `to` with a windowed-sinc
// low-pass at 0.9 of the output Nyquist (espeak-ng's 22.05 kHz to 8 kHz).
func resample(in []int16, from, to int) []int16 {
	if from == to || len(in) == 0 {
		return in
	}
	const half = 16 // taps each side
	ratio := float64(from) / float64(to)
	fc := 0.9 * 0.5 * math.Min(1, 1/ratio) // cutoff in cycles per input sample
	n := int(float64(len(in)) / ratio)
	out := make([]int16, n)
	for i := range out {
		center := float64(i) * ratio
		c0 := int(center)
		var acc, wsum float64
		for k := c0 - half + 1; k <= c0+half; k++ {
			if k < 0 || k >= len(in) {
				continue
			}
			x := float64(k) - center
			h := 2 * fc
			if x != 0 {
				h = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
			}
			w := 0.5 + 0.5*math.Cos(math.Pi*x/half) // Hann window
			acc += float64(in[k]) * h * w
			wsum += h * w
		}
		if wsum != 0 {
			acc /= wsum
		}
		out[i] = int16(max(-32768, min(32767, math.Round(acc))))
	}
	return out
}
