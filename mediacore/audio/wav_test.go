package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hotline/internal/testenv"
)

// wavBytes builds a WAV stream by hand: fmt fields, then extra chunks
// before data, then data with the given declared size.
func wavBytes(tag uint16, channels, rate, bits int, extra []byte, declared uint32, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(36+len(extra)+len(data)))
	b.WriteString("WAVEfmt ")
	_ = binary.Write(&b, binary.LittleEndian, uint32(16))
	_ = binary.Write(&b, binary.LittleEndian, tag)
	_ = binary.Write(&b, binary.LittleEndian, uint16(channels))
	_ = binary.Write(&b, binary.LittleEndian, uint32(rate))
	_ = binary.Write(&b, binary.LittleEndian, uint32(rate*channels*bits/8))
	_ = binary.Write(&b, binary.LittleEndian, uint16(channels*bits/8))
	_ = binary.Write(&b, binary.LittleEndian, uint16(bits))
	b.Write(extra)
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, declared)
	b.Write(data)
	return b.Bytes()
}

func pcmBytes(s []int16) []byte {
	out := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
	}
	return out
}

func TestWAVSourceFormats(t *testing.T) {
	tone := sine(SampleRate/2, 1000, 8000)
	tone16k := make([]int16, SampleRate)
	for i := range tone16k {
		tone16k[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/16000))
	}
	ulaw := make([]byte, len(tone))
	EncodeUlaw(ulaw, tone)
	alaw := make([]byte, len(tone))
	EncodeAlaw(alaw, tone)
	list := []byte("LIST\x05\x00\x00\x00abcde\x00") // odd-sized chunk with its pad byte
	tests := []struct {
		name    string
		in      []byte
		samples int
	}{
		{"pcm 8k", wavBytes(WAVFormatPCM, 1, 8000, 16, nil, uint32(2*len(tone)), pcmBytes(tone)), 4000},
		{"pcm 16k", wavBytes(WAVFormatPCM, 1, 16000, 16, nil, uint32(2*len(tone16k)), pcmBytes(tone16k)), 4000},
		{"ulaw", wavBytes(WAVFormatUlaw, 1, 8000, 8, nil, uint32(len(ulaw)), ulaw), 4000},
		{"alaw", wavBytes(WAVFormatAlaw, 1, 8000, 8, nil, uint32(len(alaw)), alaw), 4000},
		{"extra chunk", wavBytes(WAVFormatPCM, 1, 8000, 16, list, uint32(2*len(tone)), pcmBytes(tone)), 4000},
		{"unknown size 0", wavBytes(WAVFormatPCM, 1, 8000, 16, nil, 0, pcmBytes(tone)), 4000},
		{"unknown size max", wavBytes(WAVFormatPCM, 1, 8000, 16, nil, math.MaxUint32, pcmBytes(tone)), 4000},
		{"declared shorter", wavBytes(WAVFormatPCM, 1, 8000, 16, nil, 1000, pcmBytes(tone)), 500},
		{"declared longer (truncated file)", wavBytes(WAVFormatPCM, 1, 8000, 16, nil, 1<<20, pcmBytes(tone)), 4000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewWAVSource(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadAll(src, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.samples {
				t.Fatalf("%d samples, want %d", len(got), tt.samples)
			}
			if !HasTone(got, SampleRate, 1000) || ToneRatio(got, SampleRate, 1000) < 0.95 {
				t.Fatalf("1 kHz ratio %.3f", ToneRatio(got, SampleRate, 1000))
			}
		})
	}
}

// TestWAVDownsampleFilter checks the 16 kHz path keeps the telephone band
// and removes what would alias.
func TestWAVDownsampleFilter(t *testing.T) {
	tests := []struct {
		name     string
		freq     float64
		minLevel float64 // dB relative to input
		maxLevel float64
	}{
		{"300 Hz passes", 300, -0.5, 0.5},
		{"3400 Hz passes", 3400, -1.5, 0.5},
		{"5000 Hz removed", 5000, -200, -40},
		{"7000 Hz removed", 7000, -200, -40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make([]int16, 16000)
			for i := range in {
				in[i] = int16(10000 * math.Sin(2*math.Pi*tt.freq*float64(i)/16000))
			}
			src, err := NewWAVSource(bytes.NewReader(wavBytes(WAVFormatPCM, 1, 16000, 16, nil, uint32(2*len(in)), pcmBytes(in))))
			if err != nil {
				t.Fatal(err)
			}
			out, err := ReadAll(src, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			// Skip the filter's start-up transient.
			rel := LevelDBm0(out[100:]) - LevelDBm0(in)
			if rel < tt.minLevel || rel > tt.maxLevel {
				t.Fatalf("relative level %.2f dB, want [%v, %v]", rel, tt.minLevel, tt.maxLevel)
			}
		})
	}
}

func TestWAVSourceErrors(t *testing.T) {
	pcm := pcmBytes(make([]int16, 10))
	ext := wavBytes(wavFormatExtensible, 1, 8000, 16, nil, 20, pcm)
	// An extensible header needs a 40-byte fmt chunk; 16 bytes is malformed.
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrNotWAV},
		{"not riff", []byte("RIFX\x00\x00\x00\x00WAVE"), ErrNotWAV},
		{"not wave", []byte("RIFF\x00\x00\x00\x00AVI "), ErrNotWAV},
		{"no data", []byte("RIFF\x04\x00\x00\x00WAVE"), ErrMalformedWAV},
		{"data before fmt", []byte("RIFF\x04\x00\x00\x00WAVEdata\x00\x00\x00\x00"), ErrMalformedWAV},
		{"short fmt", []byte("RIFF\x04\x00\x00\x00WAVEfmt \x04\x00\x00\x00abcd"), ErrMalformedWAV},
		{"truncated chunk", []byte("RIFF\x04\x00\x00\x00WAVEJUNK\xff\x00\x00\x00abcd"), ErrMalformedWAV},
		{"extensible too short", ext, ErrMalformedWAV},
		{"gsm", wavBytes(49, 1, 8000, 0, nil, 20, pcm), ErrUnsupportedFormat},
		{"8-bit pcm", wavBytes(WAVFormatPCM, 1, 8000, 8, nil, 20, pcm), ErrUnsupportedFormat},
		{"float", wavBytes(3, 1, 8000, 32, nil, 20, pcm), ErrUnsupportedFormat},
		{"stereo", wavBytes(WAVFormatPCM, 2, 8000, 16, nil, 20, pcm), ErrUnsupportedChannels},
		{"44.1k", wavBytes(WAVFormatPCM, 1, 44100, 16, nil, 20, pcm), ErrUnsupportedRate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewWAVSource(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestWAVExtensible(t *testing.T) {
	tone := sine(800, 1000, 8000)
	var b bytes.Buffer
	b.WriteString("RIFF\x00\x00\x00\x00WAVEfmt ")
	fmtChunk := make([]byte, 40)
	binary.LittleEndian.PutUint16(fmtChunk[0:], wavFormatExtensible)
	binary.LittleEndian.PutUint16(fmtChunk[2:], 1)
	binary.LittleEndian.PutUint32(fmtChunk[4:], 8000)
	binary.LittleEndian.PutUint32(fmtChunk[8:], 16000)
	binary.LittleEndian.PutUint16(fmtChunk[12:], 2)
	binary.LittleEndian.PutUint16(fmtChunk[14:], 16)
	binary.LittleEndian.PutUint16(fmtChunk[16:], 22)
	binary.LittleEndian.PutUint16(fmtChunk[24:], WAVFormatPCM) // SubFormat GUID starts with the tag
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(fmtChunk)))
	b.Write(fmtChunk)
	b.WriteString("data")
	_ = binary.Write(&b, binary.LittleEndian, uint32(2*len(tone)))
	b.Write(pcmBytes(tone))
	src, err := NewWAVSource(&b)
	if err != nil {
		t.Fatal(err)
	}
	if src.Format().Tag != WAVFormatPCM {
		t.Fatalf("tag %d", src.Format().Tag)
	}
	got, _ := ReadAll(src, 10000)
	if len(got) != 800 || got[5] != tone[5] {
		t.Fatalf("len %d", len(got))
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestWAVSourceReadError(t *testing.T) {
	boom := errors.New("disk gone")
	hdr := wavBytes(WAVFormatPCM, 1, 8000, 16, nil, 1000, nil)
	src, err := NewWAVSource(io.MultiReader(bytes.NewReader(hdr), failingReader{boom}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.ReadFrame(make([]int16, FrameSamples)); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
}

func TestWAVWriterMonoRoundTrip(t *testing.T) {
	var f testenv.MemFile
	w, err := NewWAVWriter(&f, 1, 8000)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := NewToneSource(Tone{Freqs: []float64{1000}, Level: -10})
	frame := make([]int16, FrameSamples)
	var want []int16
	for range 60 { // 1.2 s
		_, _ = src.ReadFrame(frame)
		want = append(want, frame...)
		if err := w.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
	}
	if w.Duration() != 1200*time.Millisecond {
		t.Fatalf("Duration %v", w.Duration())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.WriteFrame(frame); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	if len(f.Bytes()) != 44+2*len(want) {
		t.Fatalf("file is %d bytes", len(f.Bytes()))
	}
	rs, err := NewWAVSource(bytes.NewReader(f.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if fm := rs.Format(); fm.DataBytes != int64(2*len(want)) || fm.SampleRate != 8000 {
		t.Fatalf("format %+v", fm)
	}
	got, _ := ReadAll(rs, 1<<20)
	if len(got) != len(want) {
		t.Fatalf("read %d samples, wrote %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("sample %d differs", i)
		}
	}
}

// TestWAVWriterCrashSafe cuts the file at several moments, as a crash would,
// and checks each cut is a valid WAV whose header covers exactly the audio
// flushed so far.
func TestWAVWriterCrashSafe(t *testing.T) {
	var f testenv.MemFile
	w, err := NewWAVWriter(&f, 1, 8000, WithHeaderInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	check := func(wantSamples int) {
		t.Helper()
		cut := f.Bytes()
		rs, err := NewWAVSource(bytes.NewReader(cut))
		if wantSamples == 0 {
			// Header only: data size 0 reads as "unknown", which is empty here.
			if err != nil {
				t.Fatalf("header-only file: %v", err)
			}
		} else if err != nil {
			t.Fatal(err)
		}
		if riff := binary.LittleEndian.Uint32(cut[4:]); int(riff) != len(cut)-8 {
			t.Fatalf("RIFF size %d for a %d-byte file", riff, len(cut))
		}
		got, _ := ReadAll(rs, 1<<20)
		if len(got) != wantSamples {
			t.Fatalf("cut holds %d samples, want %d", len(got), wantSamples)
		}
	}
	check(0)
	frame := sine(FrameSamples, 1000, 5000)
	for i := 1; i <= 12; i++ {
		if err := w.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
		// 100 ms is 5 frames: the file grows every fifth frame.
		check((i / 5) * 5 * FrameSamples)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	check(12 * FrameSamples)
}

func TestWAVWriterStereo(t *testing.T) {
	var f testenv.MemFile
	w, err := NewWAVWriter(&f, 2, 8000)
	if err != nil {
		t.Fatal(err)
	}
	l := sine(FrameSamples, 1000, 6000)
	r := sine(FrameSamples, 450, 6000)
	for range 50 {
		if err := w.WriteStereo(l, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteStereo(l, r[:10]); !errors.Is(err, ErrFrameSize) {
		t.Fatalf("mismatched frames: %v", err)
	}
	if err := w.WriteFrame(l); !errors.Is(err, ErrUnsupportedChannels) {
		t.Fatalf("mono write on stereo: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := f.Bytes()[44:]
	if len(data) != 50*FrameSamples*4 {
		t.Fatalf("data %d bytes", len(data))
	}
	left := make([]int16, len(data)/4)
	right := make([]int16, len(data)/4)
	for i := range left {
		left[i] = int16(binary.LittleEndian.Uint16(data[4*i:]))
		right[i] = int16(binary.LittleEndian.Uint16(data[4*i+2:]))
	}
	if !HasTone(left, SampleRate, 1000) || HasTone(left, SampleRate, 450) {
		t.Fatal("left channel is not 1 kHz alone")
	}
	if !HasTone(right, SampleRate, 450) || HasTone(right, SampleRate, 1000) {
		t.Fatal("right channel is not 450 Hz alone")
	}
	if got := binary.LittleEndian.Uint16(f.Bytes()[22:]); got != 2 {
		t.Fatalf("channels field %d", got)
	}
}

func TestWAVWriterOffsetAndErrors(t *testing.T) {
	// A writer started past offset 0 (after a container's own header).
	f := testenv.MemFile{}
	_, _ = f.Write([]byte("prefix"))
	w, err := NewWAVWriter(&f, 1, 16000)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.WriteFrame(make([]int16, 320))
	_ = w.Close()
	if string(f.Bytes()[:6]) != "prefix" || string(f.Bytes()[6:10]) != "RIFF" {
		t.Fatal("prefix overwritten")
	}
	if got := binary.LittleEndian.Uint32(f.Bytes()[6+40:]); got != 640 {
		t.Fatalf("data size %d", got)
	}
	tests := []struct {
		name     string
		channels int
		rate     int
		opts     []WAVWriterOption
		want     error
	}{
		{"3 channels", 3, 8000, nil, ErrUnsupportedChannels},
		{"rate 4000", 1, 4000, nil, ErrUnsupportedRate},
		{"tiny interval", 1, 8000, []WAVWriterOption{WithHeaderInterval(time.Millisecond)}, ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewWAVWriter(&testenv.MemFile{}, tt.channels, tt.rate, tt.opts...); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	mono, _ := NewWAVWriter(&testenv.MemFile{}, 1, 8000)
	if err := mono.WriteStereo(nil, nil); !errors.Is(err, ErrUnsupportedChannels) {
		t.Fatalf("stereo write on mono: %v", err)
	}
}

// TestWAVWithSox checks both directions against a real tool: sox reads the
// writer's files (including one cut mid-way) and writes files the reader
// plays.
func TestWAVWithSox(t *testing.T) {
	sox := testenv.RequireTool(t, "sox")
	dir := t.TempDir()

	t.Run("sox reads writer output", func(t *testing.T) {
		path := filepath.Join(dir, "out.wav")
		file, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		w, err := NewWAVWriter(file, 2, 8000)
		if err != nil {
			t.Fatal(err)
		}
		l, r := sine(FrameSamples, 1000, 6000), sine(FrameSamples, 450, 6000)
		for range 75 { // 1.5 s: one header update, then Close
			if err := w.WriteStereo(l, r); err != nil {
				t.Fatal(err)
			}
		}
		// What a crash would leave now: one second flushed, half a second
		// still buffered; add a partly written block past it.
		crashed, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		crashed = append(crashed, make([]byte, 1234)...)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := file.Close(); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(sox, "--i", path).CombinedOutput()
		if err != nil {
			t.Fatalf("sox --i: %v\n%s", err, out)
		}
		info := string(out)
		for _, want := range []string{"Channels       : 2", "Sample Rate    : 8000", "00:00:01.50", "16-bit Signed Integer PCM"} {
			if !strings.Contains(info, want) {
				t.Fatalf("sox --i lacks %q:\n%s", want, info)
			}
		}
		// sox must read the one second the crashed file's header covers.
		cut := filepath.Join(dir, "cut.wav")
		if err := os.WriteFile(cut, crashed, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err = exec.Command(sox, "--i", "-D", cut).CombinedOutput()
		if err != nil {
			t.Fatalf("sox on cut file: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != "1.000000" {
			t.Fatalf("cut file duration %q, want 1.000000", got)
		}
	})

	encodings := []struct {
		name string
		args []string
		tag  uint16
	}{
		{"pcm 8k", []string{"-r", "8000", "-b", "16", "-e", "signed-integer"}, WAVFormatPCM},
		{"pcm 16k", []string{"-r", "16000", "-b", "16", "-e", "signed-integer"}, WAVFormatPCM},
		{"ulaw", []string{"-r", "8000", "-b", "8", "-e", "u-law"}, WAVFormatUlaw},
		{"alaw", []string{"-r", "8000", "-b", "8", "-e", "a-law"}, WAVFormatAlaw},
	}
	for _, enc := range encodings {
		t.Run("reader plays sox "+enc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(enc.name, " ", "_")+".wav")
			args := append([]string{"-n", "-c", "1"}, enc.args...)
			args = append(args, path, "synth", "0.5", "sine", "1000", "vol", "0.5")
			if out, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
				t.Fatalf("sox: %v\n%s", err, out)
			}
			file, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			src, err := NewWAVSource(file)
			if err != nil {
				t.Fatal(err)
			}
			if src.Format().Tag != enc.tag {
				t.Fatalf("tag %d, want %d", src.Format().Tag, enc.tag)
			}
			got, err := ReadAll(src, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 4000 {
				t.Fatalf("%d samples, want 4000", len(got))
			}
			if r := ToneRatio(got[100:], SampleRate, 1000); r < 0.95 {
				t.Fatalf("1 kHz ratio %.3f", r)
			}
		})
	}
}

func FuzzWAVReader(f *testing.F) {
	tone := sine(400, 1000, 8000)
	ulaw := make([]byte, len(tone))
	EncodeUlaw(ulaw, tone)
	f.Add(wavBytes(WAVFormatPCM, 1, 8000, 16, nil, uint32(2*len(tone)), pcmBytes(tone)))
	f.Add(wavBytes(WAVFormatPCM, 1, 16000, 16, nil, 0, pcmBytes(tone)))
	f.Add(wavBytes(WAVFormatUlaw, 1, 8000, 8, []byte("LIST\x01\x00\x00\x00x\x00"), uint32(len(ulaw)), ulaw))
	f.Add(wavBytes(WAVFormatAlaw, 1, 16000, 8, nil, math.MaxUint32, ulaw[:33]))
	f.Add(wavBytes(wavFormatExtensible, 1, 8000, 16, nil, 3, []byte{1, 2, 3}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := NewWAVSource(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotWAV) && !errors.Is(err, ErrMalformedWAV) && !errors.Is(err, ErrUnsupportedFormat) &&
				!errors.Is(err, ErrUnsupportedChannels) && !errors.Is(err, ErrUnsupportedRate) {
				t.Fatalf("error without sentinel: %v", err)
			}
			return
		}
		frame := make([]int16, 97) // odd size on purpose
		total := 0
		for {
			n, err := src.ReadFrame(frame)
			total += n
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("read error on in-memory input: %v", err)
			}
			if n == 0 {
				t.Fatal("no progress without EOF")
			}
		}
		// Never more samples than bytes in the input.
		if total > len(data) {
			t.Fatalf("%d samples from %d bytes", total, len(data))
		}
	})
}

func TestWAVSourceZeroAllocs(t *testing.T) {
	for _, rate := range []int{8000, 16000} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			in := make([]int16, rate*2)
			data := wavBytes(WAVFormatPCM, 1, rate, 16, nil, uint32(2*len(in)), pcmBytes(in))
			src, err := NewWAVSource(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]int16, FrameSamples)
			if a := testing.AllocsPerRun(50, func() { _, _ = src.ReadFrame(buf) }); a != 0 {
				t.Fatalf("%v allocs per frame", a)
			}
		})
	}
}

// With WithBufferDuration the audio reaches the file every buffer
// duration while the header is rewritten at its interval only, and the
// header never claims more than the file holds.
func TestWAVWriterBufferDuration(t *testing.T) {
	var f testenv.MemFile
	// Header every 100 ms (5 frames), audio written every 40 ms (2 frames).
	w, err := NewWAVWriter(&f, 1, 8000, WithHeaderInterval(100*time.Millisecond), WithBufferDuration(40*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	const frameBytes = 2 * FrameSamples
	frame := sine(FrameSamples, 1000, 5000)
	for i := 1; i <= 12; i++ {
		if err := w.WriteFrame(frame); err != nil {
			t.Fatal(err)
		}
		b := f.Bytes()
		if got, want := len(b)-44, (i/2)*2*frameBytes; got != want {
			t.Fatalf("after frame %d the file holds %d audio bytes, want %d", i, got, want)
		}
		// The header catches up once 5 frames are in the file beyond what
		// it claims: at frame 6 (6 frames), then at frame 12.
		wantClaim := map[bool]int{true: (i / 6) * 6 * frameBytes, false: 0}[i >= 6]
		if claim := int(binary.LittleEndian.Uint32(b[40:])); claim != wantClaim || claim > len(b)-44 {
			t.Fatalf("after frame %d the header claims %d bytes, want %d (file %d)", i, claim, wantClaim, len(b)-44)
		}
	}
	if _, err := NewWAVWriter(&f, 1, 8000, WithBufferDuration(time.Millisecond)); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("buffer duration below a frame: %v", err)
	}
}

// EncodeWAV builds in memory the very file WAVWriter writes for the same
// samples, and refuses a rate out of range.
func TestEncodeWAVMatchesWriter(t *testing.T) {
	samples := sine(3*FrameSamples+7, 700, 6000)
	var f testenv.MemFile
	w, err := NewWAVWriter(&f, 1, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(samples); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := EncodeWAV(samples, 8000)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, f.Bytes()) {
		t.Errorf("EncodeWAV differs from WAVWriter's file (%d vs %d bytes)", len(got), len(f.Bytes()))
	}
	if _, err := EncodeWAV(samples, 4000); !errors.Is(err, ErrUnsupportedRate) {
		t.Errorf("4000 Hz: %v", err)
	}
}
