package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// WAV format tags (RFC 2361 Appendix A).
const (
	// WAVFormatPCM is linear PCM.
	WAVFormatPCM uint16 = 1
	// WAVFormatAlaw is G.711 A-law, one byte per sample.
	WAVFormatAlaw uint16 = 6
	// WAVFormatUlaw is G.711 µ-law, one byte per sample.
	WAVFormatUlaw uint16 = 7
	// wavFormatExtensible defers the real tag to the first two bytes of the
	// SubFormat GUID.
	wavFormatExtensible uint16 = 0xFFFE
)

// WAVFormat describes a WAV stream as its fmt chunk states it.
type WAVFormat struct {
	// Tag is the format tag: [WAVFormatPCM], [WAVFormatAlaw] or [WAVFormatUlaw]
	// (an extensible header is reported with its SubFormat's tag).
	Tag uint16
	// Channels is the channel count.
	Channels int
	// SampleRate is the file's sample rate in Hz (the source always yields
	// 8 kHz).
	SampleRate int
	// BitsPerSample is 16 for PCM, 8 for G.711.
	BitsPerSample int
	// DataBytes is the data chunk size from the header, or -1 when the
	// header does not say (0 or 0xFFFFFFFF, as a recorder cut before its
	// first header update leaves it): the data then runs to the end.
	DataBytes int64
}

// decimTaps is the length of the 16 kHz -> 8 kHz anti-alias FIR.
const decimTaps = 63

// decimFilter holds the low-pass taps: a Hamming-windowed sinc cut at
// 3.8 kHz, enough to keep the 300-3400 Hz telephone band flat and push what
// would alias above 4 kHz down by about 50 dB. Filled at init, read only.
var decimFilter [decimTaps]float64

func init() {
	const fc = 3800.0 / 16000
	var sum float64
	m := float64(decimTaps-1) / 2
	for i := range decimFilter {
		x := float64(i) - m
		h := 2 * fc
		if x != 0 {
			h = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		h *= 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/float64(decimTaps-1))
		decimFilter[i] = h
		sum += h
	}
	for i := range decimFilter {
		decimFilter[i] /= sum // unity gain at DC
	}
}

// WAVSource reads a mono WAV stream (16-bit PCM at 8 or 16 kHz, or G.711
// µ-law/A-law) as a [Source] of 8 kHz frames. 16 kHz input is low-pass
// filtered and decimated by two. It reads the stream sequentially and never
// seeks.
type WAVSource struct {
	r       io.Reader
	format  WAVFormat
	left    int64 // data bytes still to read, -1 when unknown
	bytesPS int   // bytes per input sample
	decim   bool
	raw     []byte    // input bytes for one call
	lin     []int16   // decoded input samples for one call (16 kHz path)
	hist    []float64 // FIR history then new input (16 kHz path)
	eof     bool
}

// NewWAVSource parses the RIFF header of r up to the start of the data chunk
// and returns a source for it. It returns ErrNotWAV, ErrMalformedWAV,
// ErrUnsupportedFormat, ErrUnsupportedChannels or ErrUnsupportedRate,
// wrapped, for input it cannot play; an error from r is returned wrapped.
func NewWAVSource(r io.Reader) (*WAVSource, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotWAV, err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, ErrNotWAV
	}
	var (
		f      WAVFormat
		haveFm bool
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, fmt.Errorf("%w: no data chunk: %w", ErrMalformedWAV, err)
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			var err error
			if f, err = readFmtChunk(r, size); err != nil {
				return nil, err
			}
			haveFm = true
		case "data":
			if !haveFm {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrMalformedWAV)
			}
			f.DataBytes = size
			if size == 0 || size == math.MaxUint32 {
				f.DataBytes = -1
			}
			return newWAVSource(r, f)
		default:
			// RIFF chunks are padded to an even size (RIFF spec, "Chunks").
			if _, err := io.CopyN(io.Discard, r, size+size&1); err != nil {
				return nil, fmt.Errorf("%w: chunk %q truncated: %w", ErrMalformedWAV, id, err)
			}
		}
	}
}

// readFmtChunk parses a fmt chunk of the given size and checks that the
// format is one the source plays.
func readFmtChunk(r io.Reader, size int64) (WAVFormat, error) {
	if size < 16 {
		return WAVFormat{}, fmt.Errorf("%w: fmt chunk of %d bytes", ErrMalformedWAV, size)
	}
	var b [40]byte
	n := min(size, int64(len(b)))
	if _, err := io.ReadFull(r, b[:n]); err != nil {
		return WAVFormat{}, fmt.Errorf("%w: fmt chunk truncated: %w", ErrMalformedWAV, err)
	}
	if rest := size - n + size&1; rest > 0 {
		if _, err := io.CopyN(io.Discard, r, rest); err != nil {
			return WAVFormat{}, fmt.Errorf("%w: fmt chunk truncated: %w", ErrMalformedWAV, err)
		}
	}
	f := WAVFormat{
		Tag:           binary.LittleEndian.Uint16(b[0:2]),
		Channels:      int(binary.LittleEndian.Uint16(b[2:4])),
		SampleRate:    int(binary.LittleEndian.Uint32(b[4:8])),
		BitsPerSample: int(binary.LittleEndian.Uint16(b[14:16])),
	}
	blockAlign := int(binary.LittleEndian.Uint16(b[12:14]))
	if f.Tag == wavFormatExtensible {
		if n < 40 {
			return f, fmt.Errorf("%w: extensible fmt chunk of %d bytes", ErrMalformedWAV, size)
		}
		f.Tag = binary.LittleEndian.Uint16(b[24:26])
	}
	switch {
	case f.Tag == WAVFormatPCM && f.BitsPerSample == 16:
	case (f.Tag == WAVFormatAlaw || f.Tag == WAVFormatUlaw) && f.BitsPerSample == 8:
	default:
		return f, fmt.Errorf("%w: tag %d with %d bits per sample", ErrUnsupportedFormat, f.Tag, f.BitsPerSample)
	}
	if f.Channels != 1 {
		return f, fmt.Errorf("%w: %d channels (mono only)", ErrUnsupportedChannels, f.Channels)
	}
	if f.SampleRate != 8000 && f.SampleRate != 16000 {
		return f, fmt.Errorf("%w: %d Hz (8000 or 16000)", ErrUnsupportedRate, f.SampleRate)
	}
	if blockAlign != f.BitsPerSample/8 {
		return f, fmt.Errorf("%w: block align %d for %d-bit mono", ErrMalformedWAV, blockAlign, f.BitsPerSample)
	}
	return f, nil
}

func newWAVSource(r io.Reader, f WAVFormat) (*WAVSource, error) {
	s := &WAVSource{r: r, format: f, left: f.DataBytes, bytesPS: f.BitsPerSample / 8, decim: f.SampleRate == 16000}
	s.grow(FrameSamples)
	return s, nil
}

// grow sizes the per-call buffers for frames of n output samples; it
// allocates only when a caller asks for a larger frame than before.
func (s *WAVSource) grow(n int) {
	in := n
	if s.decim {
		in = 2 * n
	}
	if cap(s.raw) < in*s.bytesPS {
		s.raw = make([]byte, in*s.bytesPS)
	}
	if s.decim && cap(s.lin) < in {
		s.lin = make([]int16, in)
	}
	if s.decim && cap(s.hist) < decimTaps-1+in {
		h := make([]float64, decimTaps-1, decimTaps-1+in)
		copy(h, s.hist)
		s.hist = h
	}
}

// Format returns the stream's format as its header states it.
func (s *WAVSource) Format() WAVFormat { return s.format }

// ReadFrame implements [Source]: it fills dst with 8 kHz samples. A trailing
// partial sample is ignored. A read error other than the stream's end is
// returned as is.
func (s *WAVSource) ReadFrame(dst []int16) (int, error) {
	if s.eof || len(dst) == 0 {
		if s.eof {
			return 0, io.EOF
		}
		return 0, nil
	}
	s.grow(len(dst))
	in := len(dst)
	if s.decim {
		in *= 2
	}
	want := int64(in * s.bytesPS)
	if s.left >= 0 && want > s.left {
		want = s.left
	}
	raw := s.raw[:want]
	got, err := io.ReadFull(s.r, raw)
	if s.left >= 0 {
		s.left -= int64(got)
	}
	switch {
	case err == nil:
		if s.left == 0 {
			s.eof = true
		}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		s.eof = true
	default:
		return 0, err
	}
	samples := got / s.bytesPS
	var n int
	if s.decim {
		s.decode(s.lin[:samples], raw)
		n = s.decimate(dst, s.lin[:samples])
	} else {
		n = s.decode(dst[:samples], raw)
	}
	if n == 0 && s.eof {
		return 0, io.EOF
	}
	return n, nil
}

// decode turns raw bytes into linear samples in dst.
func (s *WAVSource) decode(dst []int16, raw []byte) int {
	switch s.format.Tag {
	case WAVFormatUlaw:
		return DecodeUlaw(dst, raw)
	case WAVFormatAlaw:
		return DecodeAlaw(dst, raw)
	}
	for i := range dst {
		dst[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return len(dst)
}

// decimate low-pass filters 16 kHz samples in and keeps every other one.
// The FIR's history carries across calls, so frame edges are seamless.
func (s *WAVSource) decimate(dst []int16, in []int16) int {
	h := s.hist[:decimTaps-1]
	for _, v := range in {
		h = append(h, float64(v))
	}
	n := len(in) / 2
	for i := range n {
		// Output i is centred on input 2i+1 of this call, delayed by the
		// filter's (decimTaps-1)/2 samples of group delay.
		x := h[2*i+1 : 2*i+1+decimTaps]
		var acc float64
		for k, c := range decimFilter {
			acc += c * x[k]
		}
		dst[i] = sat16(int32(math.Round(acc)))
	}
	// Keep the last decimTaps-1 inputs consumed as the next call's history;
	// an odd trailing input (end of stream) is dropped.
	used := 2 * n
	copy(s.hist[:decimTaps-1], h[used:used+decimTaps-1])
	s.hist = s.hist[:decimTaps-1]
	return n
}

// WAVWriter writes 16-bit PCM WAV to an io.WriteSeeker, mono or stereo.
//
// Its RIFF header is valid at all times: audio is buffered and, every header
// interval (one second of audio by default) and on Flush and Close, the
// buffered audio is written and then the RIFF and data sizes are rewritten to
// match. A file cut by a crash therefore plays up to the last update. (With
// WithBufferDuration the audio is written more often than the header is
// rewritten: the header then covers less than the file holds, never more.)
// Close does not close or sync the underlying writer: its owner does, after
// Close.
type WAVWriter struct {
	w          io.WriteSeeker
	start      int64 // offset of the RIFF header in w
	channels   int
	rate       int
	interval   time.Duration
	flushBytes int           // audio bytes per header interval
	bufDur     time.Duration // 0: the header interval
	bufBytes   int           // audio bytes buffered before a write
	data       int64         // data bytes written to w
	sized      int64         // data bytes the header last claimed
	buf        []byte
	scratch    [4]byte
	closed     bool
	err        error // sticky write error
}

// WAVWriterOption configures a [WAVWriter].
type WAVWriterOption func(*WAVWriter) error

// WithHeaderInterval sets how much audio is buffered between header
// rewrites: at most d of audio is lost when the process dies. d must be at
// least one 20 ms frame.
func WithHeaderInterval(d time.Duration) WAVWriterOption {
	return func(w *WAVWriter) error {
		if d < FrameDuration {
			return fmt.Errorf("%w: header interval %v below %v", ErrInvalidConfig, d, FrameDuration)
		}
		w.interval = d
		return nil
	}
}

// WithBufferDuration writes the buffered audio to the underlying writer
// every d (at least one 20 ms frame; at most the header interval, which a
// longer d is cut to), while the header is still rewritten only every
// header interval. It trades a few more writes for a smaller buffer: a
// recorder with many files open keeps d of audio per file in memory
// instead of a whole interval.
func WithBufferDuration(d time.Duration) WAVWriterOption {
	return func(w *WAVWriter) error {
		if d < FrameDuration {
			return fmt.Errorf("%w: buffer duration %v below %v", ErrInvalidConfig, d, FrameDuration)
		}
		w.bufDur = d
		return nil
	}
}

// DefaultWAVHeaderInterval is the default audio duration between WAV header
// rewrites.
const DefaultWAVHeaderInterval = time.Second

// maxWAVData is the largest data chunk whose RIFF size (data + 36) fits 32
// bits.
const maxWAVData = math.MaxUint32 - 36

// NewWAVWriter writes a 44-byte header (16-bit PCM, channels 1 or 2,
// sampleRate from 8000 to 48000 Hz) at w's current offset and returns a
// writer for the audio. It returns ErrUnsupportedChannels,
// ErrUnsupportedRate, ErrInvalidConfig or w's error, wrapped.
func NewWAVWriter(w io.WriteSeeker, channels, sampleRate int, opts ...WAVWriterOption) (*WAVWriter, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("%w: %d (1 or 2)", ErrUnsupportedChannels, channels)
	}
	if sampleRate < 8000 || sampleRate > 48000 {
		return nil, fmt.Errorf("%w: %d Hz (8000 to 48000)", ErrUnsupportedRate, sampleRate)
	}
	ww := &WAVWriter{w: w, channels: channels, rate: sampleRate, interval: DefaultWAVHeaderInterval}
	for _, o := range opts {
		if err := o(ww); err != nil {
			return nil, err
		}
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("audio: wav writer seek: %w", err)
	}
	ww.start = start
	bytesPerSec := sampleRate * channels * 2
	bytesFor := func(d time.Duration) int {
		n := int(int64(bytesPerSec) * int64(d) / int64(time.Second))
		return n - n%(channels*2)
	}
	ww.flushBytes = bytesFor(ww.interval)
	ww.bufBytes = ww.flushBytes
	if ww.bufDur > 0 && ww.bufDur < ww.interval {
		ww.bufBytes = bytesFor(ww.bufDur)
	}
	ww.buf = make([]byte, 0, ww.bufBytes+2*channels*FrameSamples)

	h := wavHeader(channels, sampleRate, 0)
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("audio: wav writer header: %w", err)
	}
	return ww, nil
}

// wavHeader is the 44-byte header of 16-bit PCM audio with dataBytes of
// samples.
func wavHeader(channels, sampleRate, dataBytes int) [44]byte {
	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+dataBytes))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], WAVFormatPCM)
	binary.LittleEndian.PutUint16(h[22:], uint16(channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(sampleRate))
	binary.LittleEndian.PutUint32(h[28:], uint32(sampleRate*channels*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(channels*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(dataBytes))
	return h
}

// EncodeWAV returns a whole 16-bit PCM WAV file of mono samples at
// sampleRate (8000 to 48000 Hz), for audio made in memory, such as a
// rendered tone served over HTTP. It returns ErrUnsupportedRate, or
// ErrWAVTooLarge past 4 GiB.
func EncodeWAV(samples []int16, sampleRate int) ([]byte, error) {
	if sampleRate < 8000 || sampleRate > 48000 {
		return nil, fmt.Errorf("%w: %d Hz (8000 to 48000)", ErrUnsupportedRate, sampleRate)
	}
	if int64(len(samples))*2 > maxWAVData {
		return nil, ErrWAVTooLarge
	}
	h := wavHeader(1, sampleRate, 2*len(samples))
	out := make([]byte, 44+2*len(samples))
	copy(out, h[:])
	for i, s := range samples {
		binary.LittleEndian.PutUint16(out[44+2*i:], uint16(s))
	}
	return out, nil
}

// WriteFrame appends mono samples. On a stereo writer it returns
// ErrUnsupportedChannels: use WriteStereo.
func (w *WAVWriter) WriteFrame(samples []int16) error {
	if w.channels != 1 {
		return fmt.Errorf("%w: WriteFrame on a stereo writer", ErrUnsupportedChannels)
	}
	if err := w.check(len(samples) * 2); err != nil {
		return err
	}
	b := w.grow(2 * len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return w.maybeFlush()
}

// WriteStereo appends one frame per channel, interleaved left then right
// (the WAV channel order). left and right must have the same length
// (ErrFrameSize otherwise). On a mono writer it returns
// ErrUnsupportedChannels.
func (w *WAVWriter) WriteStereo(left, right []int16) error {
	if w.channels != 2 {
		return fmt.Errorf("%w: WriteStereo on a mono writer", ErrUnsupportedChannels)
	}
	if len(left) != len(right) {
		return fmt.Errorf("%w: left %d, right %d samples", ErrFrameSize, len(left), len(right))
	}
	if err := w.check(len(left) * 4); err != nil {
		return err
	}
	b := w.grow(4 * len(left))
	right = right[:len(left)]
	for i, l := range left {
		// One 32-bit store per sample pair: left in the low half, right
		// in the high one, which little-endian order writes l, then r.
		binary.LittleEndian.PutUint32(b[4*i:], uint32(uint16(l))|uint32(uint16(right[i]))<<16)
	}
	return w.maybeFlush()
}

// grow extends the buffer by n bytes and returns them. (A recording's
// buffer is written for every 20 ms frame of every call: filling it in
// place with one store per sample pair, rather than appending sample by
// sample, took WriteStereo from 11% to 2% of the native core's CPU with
// 100 recorded calls under load; perf, docs/BENCHMARKS.md "Issue 14".)
func (w *WAVWriter) grow(n int) []byte {
	l := len(w.buf)
	w.buf = slices.Grow(w.buf, n)[:l+n]
	return w.buf[l:]
}

// check refuses writes after Close, after a write error, or past 4 GiB.
func (w *WAVWriter) check(n int) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if w.data+int64(len(w.buf))+int64(n) > maxWAVData {
		return ErrWAVTooLarge
	}
	return nil
}

func (w *WAVWriter) maybeFlush() error {
	if len(w.buf) < w.bufBytes {
		return nil
	}
	if w.data+int64(len(w.buf))-w.sized < int64(w.flushBytes) {
		// The audio now, the header at its interval.
		return w.writeBuffered()
	}
	return w.Flush()
}

// writeBuffered writes the buffered audio (not the header). A write error
// is sticky.
func (w *WAVWriter) writeBuffered() error {
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.w.Write(w.buf); err != nil {
		w.err = fmt.Errorf("audio: wav write: %w", err)
		return w.err
	}
	w.data += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

// Flush writes the buffered audio and then rewrites the header sizes to
// cover it. A write error is sticky: later writes return it.
func (w *WAVWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	if len(w.buf) == 0 && w.sized == w.data {
		return nil
	}
	// Data first, sizes second: the header never claims bytes not yet in
	// the file.
	if err := w.writeBuffered(); err != nil {
		return err
	}
	if err := w.writeSizes(); err != nil {
		w.err = fmt.Errorf("audio: wav header update: %w", err)
		return w.err
	}
	w.sized = w.data
	return nil
}

// writeSizes rewrites the RIFF size (offset 4) and the data size (offset 40)
// and returns to the end of the data.
func (w *WAVWriter) writeSizes() error {
	put := func(off int64, v uint32) error {
		if _, err := w.w.Seek(w.start+off, io.SeekStart); err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(w.scratch[:], v)
		_, err := w.w.Write(w.scratch[:])
		return err
	}
	if err := put(4, uint32(36+w.data)); err != nil {
		return err
	}
	if err := put(40, uint32(w.data)); err != nil {
		return err
	}
	_, err := w.w.Seek(w.start+44+w.data, io.SeekStart)
	return err
}

// Duration returns the audio written so far, buffered or not.
func (w *WAVWriter) Duration() time.Duration {
	frames := (w.data + int64(len(w.buf))) / int64(2*w.channels)
	return time.Duration(frames * int64(time.Second) / int64(w.rate))
}

// Close flushes and finalizes the header. It does not close the underlying
// writer. Calling Close again returns nil.
func (w *WAVWriter) Close() error {
	if w.closed {
		return nil
	}
	err := w.Flush()
	w.closed = true
	return err
}
