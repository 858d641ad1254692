package rtpengine

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"hotline/mediacore/audio"
)

// Role is a bridge member's role (audio.Role): whisper and barge are
// roles, not special cases (barge is Speak).
type Role = audio.Role

const (
	// Speak: the member hears every other Speak member (never itself) and is
	// heard by every member.
	Speak = audio.Speak
	// ListenOnly: the member hears the Speak members and nobody hears it
	// (silent monitoring).
	ListenOnly = audio.ListenOnly
	// Whisper: the member hears the Speak members and only its target hears
	// it (coaching).
	Whisper = audio.Whisper
)

// member is one leg in a bridge, with its mixer member and per-tick
// scratch frames.
type member struct {
	leg    *Leg
	role   Role
	target *Leg
	mm     *audio.Member
	in     [frameSamples]int16 // what it sent us this tick (decoded)
	out    [frameSamples]int16 // what it hears this tick
	inOK   bool                // in holds audio (it may still be silence)
}

// Bridge joins legs. With exactly two Speak members on the same codec and
// nothing that needs mixing or per-leg decoded audio (no bridge playback, no
// playback, leg recording or armed in-band DTMF on either leg, both legs
// sendrecv), packets are relayed between the legs' sockets with SSRC,
// sequence numbers and timestamps rewritten (the fast path); a recording of
// such a bridge taps the relay: each received packet is also queued, still
// encoded, for the ticker to decode and write (left the first member, right
// the other; mono their sum), with nothing mixed or re-encoded. Otherwise
// the ticker decodes, mixes (mix-minus with roles), records and plays every
// 20 ms. The bridge switches between
// the two modes by itself whenever membership, roles, directions,
// playbacks or recordings change.
type Bridge struct {
	eng    *Engine
	id     string
	events *eventQueue

	mu      sync.Mutex // guards the fields below; taken before any Leg.mu
	closed  bool
	members []*member
	relay   bool
	plays   playQueue
	rec     *Recording
	dirty   bool // reconfigure after this tick
	// mixer does the mix-minus. Two hidden members ride along: announcer
	// (Speak) carries Bridge.Play so every member hears it, and recorder
	// (ListenOnly, only while recording) hears what a silent monitor hears:
	// every Speak member and the announcements, the mono recording.
	mixer     *audio.Mixer
	announcer *audio.Member
	recorder  *audio.Member
	bp        [frameSamples]int16 // bridge playback frame (ticker scratch)
	left      [frameSamples]int16 // stereo recording scratch
	right     [frameSamples]int16
}

// NewBridge creates an empty bridge. It mixes nothing until legs are added.
func (e *Engine) NewBridge(id string) *Bridge {
	mixer, _ := audio.NewMixer(frameSamples) // cannot fail for a positive size
	announcer, _ := mixer.Add(Speak, nil)
	b := &Bridge{eng: e, id: id, events: newEventQueue(nil), mixer: mixer, announcer: announcer}
	e.mu.Lock()
	if !e.closed {
		e.bridges[b] = struct{}{}
	} else {
		b.closed = true
	}
	e.mu.Unlock()
	return b
}

// OnEvent sets the callback for the bridge's own events (PlaybackFinished
// of Bridge.Play, RecordingFinished of Bridge.Record), delivered in order
// from one goroutine. Set it before starting playbacks or recordings.
func (b *Bridge) OnEvent(fn func(LegEvent)) {
	b.mu.Lock()
	b.events = newEventQueue(fn)
	b.mu.Unlock()
}

// ID returns the id given to NewBridge.
func (b *Bridge) ID() string { return b.id }

// Add puts l into the bridge with role; whisperTo names the member that
// hears a Whisper member (it must be a member already) and must be nil for
// other roles. A leg belongs to at most one bridge.
func (b *Bridge) Add(l *Leg, role Role, whisperTo *Leg) error {
	if l == nil || role > Whisper || (role == Whisper) != (whisperTo != nil) || whisperTo == l {
		return fmt.Errorf("%w: role %v", ErrInvalidArgument, role)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if whisperTo != nil && b.find(whisperTo) < 0 {
		return fmt.Errorf("%w: whisper target %s", ErrNotMember, whisperTo.id)
	}
	var target *audio.Member
	if whisperTo != nil {
		target = b.members[b.find(whisperTo)].mm
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	if l.bridge != nil {
		l.mu.Unlock()
		return fmt.Errorf("%w: %s", ErrInBridge, l.id)
	}
	mm, err := b.mixer.Add(role, target)
	if err != nil {
		l.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	l.bridge = b
	l.resetJitterLocked()
	l.mu.Unlock()
	b.members = append(b.members, &member{leg: l, role: role, target: whisperTo, mm: mm})
	b.reconfigureLocked()
	return nil
}

// SetRole changes a member's role (e.g. whisper to barge: Whisper to
// Speak). whisperTo follows the rules of Add.
func (b *Bridge) SetRole(l *Leg, role Role, whisperTo *Leg) error {
	if l == nil || role > Whisper || (role == Whisper) != (whisperTo != nil) || whisperTo == l {
		return fmt.Errorf("%w: role %v", ErrInvalidArgument, role)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.find(l)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNotMember, l.id)
	}
	var target *audio.Member
	if whisperTo != nil {
		j := b.find(whisperTo)
		if j < 0 {
			return fmt.Errorf("%w: whisper target %s", ErrNotMember, whisperTo.id)
		}
		target = b.members[j].mm
	}
	if err := b.members[i].mm.SetRole(role, target); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	b.members[i].role, b.members[i].target = role, whisperTo
	b.reconfigureLocked()
	return nil
}

// Remove takes l out of the bridge. Whisper members targeting l fall back to
// ListenOnly (their target is gone).
func (b *Bridge) Remove(l *Leg) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.find(l)
	if i < 0 {
		return fmt.Errorf("%w: %s", ErrNotMember, l.id)
	}
	_ = b.mixer.Remove(b.members[i].mm)
	b.members = slices.Delete(b.members, i, i+1)
	for _, m := range b.members {
		if m.target == l {
			m.role, m.target = ListenOnly, nil
			_ = m.mm.SetRole(ListenOnly, nil)
		}
	}
	l.mu.Lock()
	l.bridge = nil
	l.relayTo, l.tap = nil, false
	l.updateRouteLocked()
	l.mu.Unlock()
	b.reconfigureLocked()
	return nil
}

// Close removes every member, stops the bridge's playbacks and recording.
func (b *Bridge) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	for _, m := range b.members {
		m.leg.mu.Lock()
		m.leg.bridge = nil
		m.leg.relayTo, m.leg.tap = nil, false
		m.leg.updateRouteLocked()
		m.leg.mu.Unlock()
	}
	b.members = nil
	finished := b.plays.clear()
	rec := b.rec
	b.rec = nil
	ev := b.events
	b.mu.Unlock()
	b.eng.mu.Lock()
	delete(b.eng.bridges, b)
	b.eng.mu.Unlock()
	for _, id := range finished {
		ev.push(PlaybackFinished{ID: id, Stopped: true})
	}
	if rec != nil {
		_, _ = rec.stop()
	}
}

// Play queues src for every member (an announcement), mixed into what each
// hears; PlaybackFinished goes to the bridge's OnEvent callback.
func (b *Bridge) Play(src audio.Source, loop bool) (PlaybackID, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, ErrClosed
	}
	id, err := b.plays.add(src, loop)
	if err == nil {
		b.reconfigureLocked()
	}
	return id, err
}

// StopPlayback stops a bridge playback.
func (b *Bridge) StopPlayback(id PlaybackID) error {
	b.mu.Lock()
	ok := b.plays.remove(id)
	if ok {
		b.reconfigureLocked()
	}
	ev := b.events
	b.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %d", ErrNoSuchPlayback, id)
	}
	ev.push(PlaybackFinished{ID: id, Stopped: true})
	return nil
}

// Record starts recording the bridge into w as WAV (8 kHz, 16-bit). Mono:
// the mix of all Speak members and announcements. Stereo: left is the first
// member added (by convention the caller), right the mix of the others.
func (b *Bridge) Record(w io.WriteSeeker, stereo bool) (*Recording, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if b.rec != nil {
		return nil, ErrRecording
	}
	mode := RecordReceived // the recorder member's output: the mix
	if stereo {
		mode = RecordStereo
	}
	rec, err := newRecording(w, mode, b.events, func(r *Recording) {
		b.mu.Lock()
		if b.rec == r {
			b.rec = nil
			_ = b.mixer.Remove(b.recorder)
			b.recorder = nil
			b.reconfigureLocked()
		}
		b.mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	b.recorder, _ = b.mixer.Add(ListenOnly, nil)
	b.rec = rec
	b.reconfigureLocked()
	return rec, nil
}

// Relayed reports whether the bridge currently runs the two-party relay fast
// path (for tests, metrics and logs).
func (b *Bridge) Relayed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.relay
}

func (b *Bridge) find(l *Leg) int {
	for i, m := range b.members {
		if m.leg == l {
			return i
		}
	}
	return -1
}

// reconfigure re-evaluates the bridge's mode after a change on a member.
func (b *Bridge) reconfigure() {
	b.mu.Lock()
	b.reconfigureLocked()
	b.mu.Unlock()
}

// reconfigureLocked chooses relay or mixing mode and publishes it to the
// members' routes.
func (b *Bridge) reconfigureLocked() {
	relay := !b.closed && len(b.members) == 2 && b.plays.empty()
	if relay {
		for _, m := range b.members {
			l := m.leg
			l.mu.Lock()
			ok := m.role == Speak && l.dir == SendRecv && l.remote.IsValid() &&
				!l.needsDecodedLocked() && l.codec == b.members[0].leg.codec
			l.mu.Unlock()
			if !ok {
				relay = false
				break
			}
		}
	}
	for i, m := range b.members {
		l := m.leg
		var peer *Leg
		if relay {
			peer = b.members[1-i].leg
		}
		tap := relay && b.rec != nil
		l.mu.Lock()
		if l.relayTo != peer || l.tap != tap {
			l.relayTo, l.tap = peer, tap
			l.resetJitterLocked()
		}
		l.updateRouteLocked()
		l.mu.Unlock()
	}
	if relay != b.relay {
		b.eng.log.Debug("bridge mode", "bridge", b.id, "relay", relay)
	}
	b.relay = relay
}

// tick does one 20 ms frame of a mixing bridge: pull each member's audio,
// mix-minus by role, send each member its mix, record. Relay-mode bridges
// have nothing to do here (their packets move in the readers).
func (b *Bridge) tick(tick uint64, now time.Time) {
	b.mu.Lock()
	if b.relay && b.rec != nil && !b.closed && len(b.members) == 2 {
		b.recordRelayLocked()
	}
	if b.relay || b.closed || len(b.members) == 0 {
		b.mu.Unlock()
		return
	}
	var finished []PlaybackID
	hasBP, done := b.plays.next(b.bp[:])
	if done != 0 {
		finished = append(finished, done)
		b.dirty = true
	}
	if hasBP {
		_ = b.announcer.Write(b.bp[:])
	}
	for _, m := range b.members {
		m.leg.mu.Lock()
	}
	for _, m := range b.members {
		m.inOK = m.leg.pullRxLocked(m.in[:])
		if m.inOK {
			_ = m.mm.Write(m.in[:])
		}
	}
	b.mixer.Mix()
	for _, m := range b.members {
		l := m.leg
		// A held member (SendOnly: we send, it does not talk to us) gets
		// nothing from the bridge: it hears only its own playback (music on
		// hold), added next.
		if l.dir.receives() {
			copy(m.out[:], m.mm.Output())
		} else {
			clear(m.out[:])
		}
		wasInband := l.dtmfOut.inbandActive()
		if id := l.playIntoLocked(m.out[:]); id != 0 {
			l.events.push(PlaybackFinished{ID: id})
			b.dirty = true
		}
		if wasInband && !l.dtmfOut.inbandActive() {
			b.dirty = true // in-band digits done: the relay may resume
		}
		l.emitLocked(m.out[:], tick, now)
		if l.rec != nil {
			l.rec.writeFrame(m.in[:], m.out[:])
		}
	}
	if b.rec != nil {
		b.recordLocked()
	}
	for _, m := range b.members {
		m.leg.mu.Unlock()
	}
	if b.dirty {
		b.dirty = false
		b.reconfigureLocked()
	}
	ev := b.events
	b.mu.Unlock()
	for _, id := range finished {
		ev.push(PlaybackFinished{ID: id})
	}
}

// recordRelayLocked writes one frame of the recording of a relayed bridge
// from the two legs' tapped audio: stereo left the first member, right the
// second; mono their sum (what the mixer's recorder member would hear).
func (b *Bridge) recordRelayLocked() {
	for _, m := range b.members {
		m.leg.mu.Lock()
		m.inOK = m.leg.pullRxLocked(m.in[:])
		m.leg.mu.Unlock()
	}
	first, second := b.members[0], b.members[1]
	if b.rec.stereo {
		b.rec.writeFrame(first.in[:], second.in[:])
		return
	}
	for i := range b.left {
		b.left[i] = sat16(int32(first.in[i]) + int32(second.in[i]))
	}
	b.rec.writeFrame(b.left[:], nil)
}

// sat16 saturates a 32-bit sum to 16 bits.
func sat16(v int32) int16 {
	return int16(max(-32768, min(32767, v)))
}

// recordLocked writes one frame of the bridge recording. Mono: the
// recorder member's output (all Speak members and announcements). Stereo:
// left is the first member's own audio, right that mix minus the first
// member, i.e. the others.
func (b *Bridge) recordLocked() {
	all := b.recorder.Output()
	if !b.rec.stereo {
		b.rec.writeFrame(all, nil)
		return
	}
	first := b.members[0]
	self := first.role == Speak && first.inOK
	for i, v := range all {
		if self {
			b.right[i] = sat16(int32(v) - int32(first.in[i]))
		} else {
			b.right[i] = v
		}
	}
	if first.inOK {
		b.left = first.in
	} else {
		clear(b.left[:])
	}
	b.rec.writeFrame(b.left[:], b.right[:])
}
