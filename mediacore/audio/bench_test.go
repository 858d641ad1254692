package audio

import (
	"io"
	"testing"
	"time"
)

func benchFrame() []int16 { return sine(FrameSamples, 1000, 8000) }

func BenchmarkG711(b *testing.B) {
	pcm := benchFrame()
	enc := make([]byte, FrameSamples)
	PCMU.Encode(enc, pcm)
	for _, c := range []Codec{PCMU, PCMA} {
		b.Run(c.String()+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(FrameSamples * 2)
			for b.Loop() {
				c.Encode(enc, pcm)
			}
		})
		b.Run(c.String()+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(FrameSamples)
			for b.Loop() {
				c.Decode(pcm, enc)
			}
		})
	}
}

func BenchmarkGoertzelFrame(b *testing.B) {
	pcm := benchFrame()
	b.ReportAllocs()
	for b.Loop() {
		Goertzel(pcm, SampleRate, 1000)
	}
}

func BenchmarkDTMFDetectorFrame(b *testing.B) {
	d, _ := NewDTMFDetector(DefaultDTMFDetectorConfig())
	pcm := benchFrame()
	dst := make([]rune, 0, 4)
	b.ReportAllocs()
	for b.Loop() {
		dst = d.Detect(dst[:0], pcm)
	}
}

func BenchmarkToneSourceFrame(b *testing.B) {
	src, _ := NewToneSource(Tone{Freqs: []float64{350, 440}, Level: -13})
	buf := make([]int16, FrameSamples)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = src.ReadFrame(buf)
	}
}

// discardSeeker is an io.WriteSeeker that keeps nothing.
type discardSeeker struct{ pos, end int64 }

func (d *discardSeeker) Write(p []byte) (int, error) {
	d.pos += int64(len(p))
	d.end = max(d.end, d.pos)
	return len(p), nil
}

func (d *discardSeeker) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
		d.pos = off
	case io.SeekCurrent:
		d.pos += off
	case io.SeekEnd:
		d.pos = d.end + off
	}
	return d.pos, nil
}

func BenchmarkWAVWriterStereoFrame(b *testing.B) {
	w, _ := NewWAVWriter(&discardSeeker{}, 2, 8000, WithHeaderInterval(time.Second))
	pcm := benchFrame()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteStereo(pcm, pcm); err != nil {
			// 4 GiB reached on a very long run: start a new file.
			w, _ = NewWAVWriter(&discardSeeker{}, 2, 8000)
		}
	}
}

func BenchmarkJitterBufferPushPop(b *testing.B) {
	j, _ := NewJitterBuffer(DefaultJitterConfig())
	payload := make([]byte, FrameSamples)
	var seq uint16
	var ts uint32
	b.ReportAllocs()
	for b.Loop() {
		j.Push(seq, ts, payload)
		j.Pop()
		seq++
		ts += FrameSamples
	}
}

func BenchmarkMixer(b *testing.B) {
	for _, n := range []int{3, 10} {
		b.Run(itoa(n)+"members", func(b *testing.B) {
			m, _ := NewMixer(0)
			var mems []*Member
			for range n {
				mem, _ := m.Add(Speak, nil)
				mems = append(mems, mem)
			}
			pcm := benchFrame()
			b.ReportAllocs()
			for b.Loop() {
				for _, mem := range mems {
					_ = mem.Write(pcm)
				}
				m.Mix()
			}
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
