package rtpengine

import (
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"hotline/mediacore/audio"
)

// Recording is an active WAV recording of a leg or a bridge. The ticker
// writes one 20 ms frame per tick; the WAV header is rewritten every second
// so a file cut by a crash stays playable (audio.WAVWriter).
type Recording struct {
	dst    io.WriteSeeker
	stereo bool
	mode   RecordMode
	events *eventQueue
	detach func(*Recording)

	mu      sync.Mutex // guards the fields below
	w       *audio.WAVWriter
	paused  bool
	stopped bool
	err     error
	frames  int64
	mix     [frameSamples]int16 // RecordMixed scratch
}

// RecordMode says what a leg recording holds.
type RecordMode int

// Record modes.
const (
	// RecordReceived: mono, what the leg received (the far end's voice).
	RecordReceived RecordMode = iota
	// RecordSent: mono, what was sent to the leg (playbacks, the bridge's
	// mix for it).
	RecordSent
	// RecordMixed: mono, both directions summed.
	RecordMixed
	// RecordStereo: left what the leg received, right what was sent to it.
	RecordStereo
)

var silentFrame [frameSamples]int16

// recordBuffer is how much audio a recording keeps in memory before it
// writes to its file (the header is still rewritten every second): 8 KB
// per stereo recording instead of a second's 32 KB, for 3 more writes per
// second, so hundreds of recorded calls stay small (docs/BENCHMARKS.md
// "Issue 14").
const recordBuffer = 250 * time.Millisecond

func newRecording(w io.WriteSeeker, mode RecordMode, events *eventQueue, detach func(*Recording)) (*Recording, error) {
	if w == nil || mode < RecordReceived || mode > RecordStereo {
		return nil, ErrInvalidArgument
	}
	stereo := mode == RecordStereo
	ch := 1
	if stereo {
		ch = 2
	}
	ww, err := audio.NewWAVWriter(w, ch, audio.SampleRate, audio.WithBufferDuration(recordBuffer))
	if err != nil {
		return nil, err
	}
	return &Recording{dst: w, stereo: stereo, mode: mode, events: events, detach: detach, w: ww}, nil
}

// writeFrame appends one frame (right is ignored for mono). While paused it
// writes silence instead, so the file keeps the call's timing and holds no
// trace of what was said (card data, R6.5).
func (r *Recording) writeFrame(left, right []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.err != nil {
		return
	}
	if r.paused {
		left, right = silentFrame[:], silentFrame[:]
	}
	if right == nil {
		right = silentFrame[:]
	}
	var err error
	switch r.mode {
	case RecordStereo:
		err = r.w.WriteStereo(left, right)
	case RecordSent:
		err = r.w.WriteFrame(right)
	case RecordMixed:
		for i := range r.mix {
			r.mix[i] = sat16(int32(left[i]) + int32(right[i]))
		}
		err = r.w.WriteFrame(r.mix[:])
	default:
		err = r.w.WriteFrame(left)
	}
	if err != nil {
		r.err = err
		return
	}
	r.frames++
}

// Pause makes the recording write silence until Resume.
func (r *Recording) Pause() {
	r.mu.Lock()
	r.paused = true
	r.mu.Unlock()
}

// Resume ends a Pause.
func (r *Recording) Resume() {
	r.mu.Lock()
	r.paused = false
	r.mu.Unlock()
}

// Stop ends the recording: it flushes the audio, finalizes the WAV header
// and, when the writer is an *os.File, fsyncs it (the caller still owns and
// closes the file). It returns the recorded duration and the first error
// met while recording or stopping, and raises RecordingFinished. Calling
// Stop again returns ErrClosed.
func (r *Recording) Stop() (time.Duration, error) {
	d, err, ok := r.finish()
	if !ok {
		return 0, ErrClosed
	}
	r.detach(r)
	return d, err
}

// stop is Stop for an owner that is closing (it already detached).
func (r *Recording) stop() (time.Duration, error) {
	d, err, _ := r.finish()
	return d, err
}

func (r *Recording) finish() (time.Duration, error, bool) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return 0, nil, false
	}
	r.stopped = true
	err := errors.Join(r.err, r.w.Close())
	if f, ok := r.dst.(*os.File); ok && err == nil {
		err = f.Sync()
	}
	d := time.Duration(r.frames) * frameDur
	r.mu.Unlock()
	r.events.push(RecordingFinished{Duration: d, Err: err})
	return d, err, true
}

// Record starts recording the leg into w as WAV (8 kHz, 16-bit). Mono:
// what the leg received. Stereo: left what it received, right what we sent
// it (playbacks, the bridge's mix). Recording needs decoded audio, so it
// turns a relayed bridge into a mixing one while it runs.
func (l *Leg) Record(w io.WriteSeeker, stereo bool) (*Recording, error) {
	mode := RecordReceived
	if stereo {
		mode = RecordStereo
	}
	return l.RecordMode(w, mode)
}

// RecordMode is Record with the choice of what the file holds (mono
// received, sent or both mixed, or stereo).
func (l *Leg) RecordMode(w io.WriteSeeker, mode RecordMode) (*Recording, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil, ErrClosed
	}
	if l.rec != nil {
		l.mu.Unlock()
		return nil, ErrRecording
	}
	rec, err := newRecording(w, mode, l.events, func(r *Recording) {
		l.mu.Lock()
		changed := l.rec == r
		if changed {
			l.rec = nil
			l.updateRouteLocked()
		}
		b := l.bridge
		l.mu.Unlock()
		if changed && b != nil {
			b.reconfigure()
		}
	})
	if err != nil {
		l.mu.Unlock()
		return nil, err
	}
	l.rec = rec
	l.resetJitterLocked()
	l.updateRouteLocked()
	b := l.bridge
	l.mu.Unlock()
	if b != nil {
		b.reconfigure()
	}
	return rec, nil
}
