package rtpengine

import (
	"sync"
	"time"
)

// LegEvent is an event about a leg (or a bridge, for events set up with
// Bridge.OnEvent). The concrete types are DTMF, PlaybackFinished,
// MediaTimeout and RecordingFinished; use a type switch.
//
// Events for one leg are delivered in the order they happened, one at a time,
// by a single goroutine: a callback that blocks delays only that leg's later
// events, never the media path and never another leg.
type LegEvent interface {
	legEvent()
}

// DTMF reports one digit received, once per key press, from RFC 4733
// telephone-events (audio.DTMFReceiver: deduplicated on the event
// timestamp) or, when in-band detection is on, from audio.DTMFDetector. It
// is raised as soon as the digit is known, not when the key is released, so
// an IVR can cut a prompt at once.
type DTMF struct {
	// Digit is one of 0-9, *, #, A-D.
	Digit rune
	// Duration is the duration the event carried in the packet that
	// reported it (RFC 4733 §2.3.5; often 0 or 20 ms at the start), and 0
	// for in-band digits. It is informative only.
	Duration time.Duration
}

// PlaybackFinished reports that a playback ended: its source was exhausted
// (Stopped false) or StopPlayback / Close ended it (Stopped true).
type PlaybackFinished struct {
	ID      PlaybackID
	Stopped bool
}

// MediaTimeout reports that no RTP arrived from the remote for the
// configured MediaTimeout. It fires once per silent stretch: after RTP
// resumes and stops again it fires again.
type MediaTimeout struct {
	// Silence is how long nothing arrived when the event was raised.
	Silence time.Duration
}

// RecordingFinished reports that a recording ended, by Stop or because its
// leg or bridge was closed.
type RecordingFinished struct {
	// Duration is the length of the audio written (paused stretches included,
	// as silence).
	Duration time.Duration
	// Err is the first write or sync error, nil when the file is complete.
	Err error
}

func (DTMF) legEvent()              {}
func (PlaybackFinished) legEvent()  {}
func (MediaTimeout) legEvent()      {}
func (RecordingFinished) legEvent() {}

// eventQueue delivers events to one callback in order. It holds an
// unbounded queue and at most one draining goroutine, started when the queue
// goes from empty to non-empty and ending when it is empty again: events are
// never dropped, never reordered, and the media path never waits for a
// callback.
type eventQueue struct {
	fn func(LegEvent)

	mu      sync.Mutex // guards q and running
	q       []LegEvent
	running bool
}

func newEventQueue(fn func(LegEvent)) *eventQueue {
	return &eventQueue{fn: fn}
}

// push queues ev for delivery. It never blocks on the callback.
func (e *eventQueue) push(ev LegEvent) {
	if e == nil || e.fn == nil {
		return
	}
	e.mu.Lock()
	e.q = append(e.q, ev)
	if !e.running {
		e.running = true
		go e.drain()
	}
	e.mu.Unlock()
}

func (e *eventQueue) drain() {
	for {
		e.mu.Lock()
		if len(e.q) == 0 {
			e.running = false
			e.q = e.q[:0]
			e.mu.Unlock()
			return
		}
		ev := e.q[0]
		e.q[0] = nil
		e.q = e.q[1:]
		e.mu.Unlock()
		e.fn(ev)
	}
}
