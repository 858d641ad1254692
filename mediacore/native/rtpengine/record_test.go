package rtpengine

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore/audio"
)

// monoSamples decodes the data chunk of a mono WAV written by the recorder.
func monoSamples(t *testing.T, b []byte) []int16 {
	t.Helper()
	if len(b) < 44 || binary.LittleEndian.Uint16(b[22:]) != 1 {
		t.Fatal("not a mono WAV")
	}
	size := int(binary.LittleEndian.Uint32(b[40:]))
	if size != len(b)-44 {
		t.Fatalf("header says %d data bytes, file has %d", size, len(b)-44)
	}
	out := make([]int16, 0, size/2)
	for i := 44; i+2 <= len(b); i += 2 {
		out = append(out, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	return out
}

// TestLegRecordMono records what an unbridged leg receives.
func TestLegRecordMono(t *testing.T) {
	e := newTestEngine(t, nil)
	p := newPeer(t, 1000)
	ev := &eventLog{}
	l := newLegTo(t, e, "rec", p, 101, ev)
	f := &testenv.MemFile{}
	rec, err := l.Record(f, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Record(&testenv.MemFile{}, false); !errors.Is(err, ErrRecording) {
		t.Errorf("second recording: %v, want ErrRecording", err)
	}
	defer p.stream(l.LocalAddr())()
	time.Sleep(600 * time.Millisecond)
	if _, err := rec.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Stop(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Stop: %v, want ErrClosed", err)
	}
	s := monoSamples(t, f.Bytes())
	if len(s) < 3200 {
		t.Fatalf("%d samples recorded", len(s))
	}
	if r := ratio(s[len(s)-2400:], 1000); r < 0.8 {
		t.Errorf("recorded 1 kHz ratio %.2f", r)
	}
	waitFor(t, "RecordingFinished", func() bool {
		for _, x := range ev.all() {
			if rf, ok := x.(RecordingFinished); ok && rf.Err == nil && rf.Duration > 400*time.Millisecond {
				return true
			}
		}
		return false
	})
}

// TestBridgePlayAnnouncement: Bridge.Play reaches every member, on top of
// the conversation, and its PlaybackFinished goes to the bridge callback.
func TestBridgePlayAnnouncement(t *testing.T) {
	e := newTestEngine(t, nil)
	a, b, pa, pb, br := setupPair(t, e, 1000, 400)
	bev := &eventLog{}
	br.OnEvent(bev.add)
	defer pa.stream(a.LocalAddr())()
	defer pb.stream(b.LocalAddr())()
	src, err := audio.NewToneSource(audio.Tone{Freqs: []float64{1800}, Level: -10, Cadence: []time.Duration{time.Second}, Repeat: 1})
	if err != nil {
		t.Fatal(err)
	}
	pa.reset()
	pb.reset()
	id, err := br.Play(src, false)
	if err != nil {
		t.Fatal(err)
	}
	if br.Relayed() {
		t.Fatal("bridge playing an announcement still relays")
	}
	for name, p := range map[string]*peer{"a": pa, "b": pb} {
		got := p.waitAudio(t, 5600)[2400:5600]
		if r := ratio(got, 1800); r < 0.3 {
			t.Errorf("%s hears the announcement at ratio %.2f", name, r)
		}
	}
	waitFor(t, "bridge PlaybackFinished", func() bool {
		for _, x := range bev.all() {
			if pf, ok := x.(PlaybackFinished); ok && pf.ID == id {
				return true
			}
		}
		return false
	})
	waitFor(t, "back to relay", br.Relayed)
}

// countingSource plays n frames of a tone and counts rewinds.
type countingSource struct {
	tone    *audio.ToneSource
	left    int
	frames  int
	rewinds int
}

func (c *countingSource) ReadFrame(dst []int16) (int, error) {
	if c.left == 0 {
		return 0, errEOF
	}
	c.left--
	return c.tone.ReadFrame(dst)
}

func (c *countingSource) Rewind() error {
	c.rewinds++
	c.left = c.frames
	return nil
}

func TestPlayLoopRewinds(t *testing.T) {
	src := &countingSource{tone: mustTone(t, 500), left: 3, frames: 3}
	var q playQueue
	if _, err := q.add(src, true); err != nil {
		t.Fatal(err)
	}
	var frame [frameSamples]int16
	for i := range 10 {
		has, done := q.next(frame[:])
		if !has || done != 0 {
			t.Fatalf("frame %d: has %v done %v", i, has, done)
		}
	}
	if src.rewinds != 3 {
		t.Errorf("%d rewinds over 10 frames of a 3-frame source, want 3", src.rewinds)
	}
	empty := &countingSource{tone: mustTone(t, 500)}
	q = playQueue{}
	id, _ := q.add(empty, true)
	if has, done := q.next(frame[:]); !has || done != id {
		t.Errorf("an empty looping source must end, got has %v done %v", has, done)
	}
}

var errEOF = io.EOF

// TestLegRecordModes: a mono leg recording holds what the leg received,
// what was sent to it, or both mixed; an unknown mode is refused.
func TestLegRecordModes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mode      RecordMode
		has, hasn []float64
	}{
		{"received", RecordReceived, []float64{1000}, []float64{400}},
		{"sent", RecordSent, []float64{400}, []float64{1000}},
		{"mixed", RecordMixed, []float64{1000, 400}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEngine(t, nil)
			p := newPeer(t, 1000)
			l := newLegTo(t, e, "rec-"+tc.name, p, 101, &eventLog{})
			if _, err := l.Play(mustTone(t, 400), true); err != nil {
				t.Fatal(err)
			}
			f := &testenv.MemFile{}
			rec, err := l.RecordMode(f, tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			defer p.stream(l.LocalAddr())()
			p.waitAudio(t, 4800) // the peer heard 600 ms: both ways flowed
			if _, err := rec.Stop(); err != nil {
				t.Fatal(err)
			}
			s := monoSamples(t, f.Bytes())
			if len(s) < 3200 {
				t.Fatalf("%d samples recorded", len(s))
			}
			tail := s[len(s)-2400:]
			for _, fq := range tc.has {
				if r := ratio(tail, fq); r < 0.2 {
					t.Errorf("%v Hz ratio %.2f, want it recorded", fq, r)
				}
			}
			for _, fq := range tc.hasn {
				if r := ratio(tail, fq); r > 0.05 {
					t.Errorf("%v Hz ratio %.2f, want it absent", fq, r)
				}
			}
		})
	}
	e := newTestEngine(t, nil)
	l := newLegTo(t, e, "rec-bad", newPeer(t, 1000), 101, &eventLog{})
	if _, err := l.RecordMode(&testenv.MemFile{}, RecordStereo+1); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("unknown mode: %v, want ErrInvalidArgument", err)
	}
}
