package rtpengine

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"hotline/mediacore/audio"
)

// PlaybackID identifies one playback on a leg or bridge. IDs are unique
// within an Engine.
type PlaybackID uint64

// Rewinder is an optional interface of an audio.Source: a looping playback
// calls Rewind at the source's end instead of caching the samples it
// played. Sources without it are looped from a copy of their first pass, at
// most maxLoopCache samples (30 s, 480 KB); a longer source plays once.
// For long music on hold, wrap the file's opener in a Reopener.
type Rewinder interface {
	Rewind() error
}

// maxLoopCache bounds the samples cached to loop a source that cannot
// rewind: 30 s at 8 kHz, 480 KB. Longer (or endless) sources stop caching.
const maxLoopCache = 30 * audio.SampleRate

// Reopener is a Source that reads from open()'s source and, on Rewind,
// opens a fresh one: the way to loop a long WAV file without holding it in
// memory. If the source returned by open implements io.Closer it is closed
// when replaced.
type Reopener struct {
	open func() (audio.Source, error)
	cur  audio.Source
}

// NewReopener opens the first source.
func NewReopener(open func() (audio.Source, error)) (*Reopener, error) {
	src, err := open()
	if err != nil {
		return nil, err
	}
	return &Reopener{open: open, cur: src}, nil
}

// ReadFrame implements audio.Source.
func (r *Reopener) ReadFrame(dst []int16) (int, error) { return r.cur.ReadFrame(dst) }

// Rewind implements Rewinder.
func (r *Reopener) Rewind() error {
	src, err := r.open()
	if err != nil {
		return err
	}
	if c, ok := r.cur.(io.Closer); ok {
		_ = c.Close()
	}
	r.cur = src
	return nil
}

var playbackIDs atomic.Uint64

// playback is one queued or playing source.
type playback struct {
	id    PlaybackID
	src   audio.Source
	loop  bool
	cache []int16 // first pass of a looping source without Rewind
	pos   int     // read position in cache once replaying
	fromC bool    // replaying from cache
}

// read fills dst (one frame) and reports whether the playback has ended. A
// short last frame is padded with silence.
func (p *playback) read(dst []int16) (ended bool) {
	n := 0
	rewinds := 0
	for n < len(dst) {
		if p.fromC {
			m := copy(dst[n:], p.cache[p.pos:])
			n += m
			p.pos += m
			if p.pos >= len(p.cache) {
				p.pos = 0
			}
			continue
		}
		rw, canRewind := p.src.(Rewinder)
		m, err := p.src.ReadFrame(dst[n:])
		if m < 0 || m > len(dst)-n {
			m, err = 0, io.ErrUnexpectedEOF
		}
		if m > 0 && p.loop && !canRewind {
			if len(p.cache)+m <= maxLoopCache {
				p.cache = append(p.cache, dst[n:n+m]...)
			} else {
				p.loop, p.cache = false, nil
			}
		}
		n += m
		if m > 0 {
			rewinds = 0
		}
		if err == nil && m > 0 {
			continue
		}
		// The source ended (or returned nothing, which is treated as the
		// end so a broken source cannot spin the ticker), or failed.
		if !p.loop || (err != nil && !errors.Is(err, io.EOF)) || rewinds > 1 {
			clear(dst[n:])
			return true
		}
		rewinds++
		if canRewind {
			if rw.Rewind() != nil {
				clear(dst[n:])
				return true
			}
			continue
		}
		if len(p.cache) == 0 {
			clear(dst[n:])
			return true
		}
		p.fromC = true
	}
	return false
}

// playQueue is a FIFO of playbacks: a new Play is queued behind the current
// one, like ARI's channel playbacks, so an IVR can queue prompts.
type playQueue struct {
	q []*playback
}

func (q *playQueue) empty() bool { return len(q.q) == 0 }

func (q *playQueue) add(src audio.Source, loop bool) (PlaybackID, error) {
	if src == nil {
		return 0, fmt.Errorf("%w: nil source", ErrInvalidArgument)
	}
	id := PlaybackID(playbackIDs.Add(1))
	q.q = append(q.q, &playback{id: id, src: src, loop: loop})
	return id, nil
}

// remove drops id from the queue; false if unknown.
func (q *playQueue) remove(id PlaybackID) bool {
	for i, p := range q.q {
		if p.id == id {
			q.q = append(q.q[:i], q.q[i+1:]...)
			return true
		}
	}
	return false
}

// clear empties the queue and returns the ids it held.
func (q *playQueue) clear() []PlaybackID {
	ids := make([]PlaybackID, 0, len(q.q))
	for _, p := range q.q {
		ids = append(ids, p.id)
	}
	q.q = nil
	return ids
}

// next fills dst with the current playback's next frame. has is false when
// nothing plays; finished is the id of a playback that ended with this
// frame (0 if none).
func (q *playQueue) next(dst []int16) (has bool, finished PlaybackID) {
	if len(q.q) == 0 {
		return false, 0
	}
	p := q.q[0]
	if p.read(dst) {
		q.q[0] = nil
		q.q = q.q[1:]
		return true, p.id
	}
	return true, 0
}

// Play queues src to be sent to the remote, 20 ms per tick, after any
// playback already queued; loop repeats it until StopPlayback. When it ends,
// PlaybackFinished{ID} is raised. On a bridged leg the playback is mixed
// into what the leg hears (music on hold while SendOnly: only the music).
func (l *Leg) Play(src audio.Source, loop bool) (PlaybackID, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	id, err := l.plays.add(src, loop)
	b := l.bridge
	l.mu.Unlock()
	if err == nil && b != nil {
		b.reconfigure()
	}
	return id, err
}

// StopPlayback stops (or unqueues) playback id and raises
// PlaybackFinished{ID, Stopped: true}.
func (l *Leg) StopPlayback(id PlaybackID) error {
	l.mu.Lock()
	ok := l.plays.remove(id)
	b := l.bridge
	l.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoSuchPlayback, id)
	}
	l.events.push(PlaybackFinished{ID: id, Stopped: true})
	if b != nil {
		b.reconfigure()
	}
	return nil
}
