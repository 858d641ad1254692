package audio

import "fmt"

// JitterConfig sizes a [JitterBuffer]. Start from [DefaultJitterConfig].
type JitterConfig struct {
	// Depth is the playout delay in frames: playback starts once Depth
	// frames are buffered (or Depth ticks have passed since the first
	// packet). 3 frames is 60 ms.
	Depth int
	// Capacity is the number of frame slots, at least Depth: packets
	// arriving up to Capacity frames ahead of playout are kept; further
	// ahead, the oldest frames are skipped to make room (the producer's
	// clock runs fast, or a burst arrived).
	Capacity int
	// FrameSamples is the RTP timestamp span of one packet: 160 for 20 ms at
	// 8 kHz. Each packet fills one slot, so it must match the sender's
	// packetization time.
	FrameSamples uint32
	// MaxPayload is the largest payload kept, in bytes; slots are
	// preallocated at this size. Larger payloads are dropped.
	MaxPayload int
	// ResyncFrames is the timestamp jump, in frames either way, past which
	// the buffer drops its contents and starts over from the new packet (a
	// new SSRC, a restarted sender). The same happens after ResyncFrames
	// consecutive lost frames (a long silence) and after Capacity
	// consecutive late packets (the sender fell behind for good).
	ResyncFrames int
}

// DefaultJitterConfig returns 3 frames of depth (60 ms), 8 slots, 20 ms
// frames of 8 kHz G.711 (160 bytes, slots of 320 to allow 16-bit PCM) and a
// resync on jumps of 50 frames (1 s).
func DefaultJitterConfig() JitterConfig {
	return JitterConfig{Depth: 3, Capacity: 8, FrameSamples: FrameSamples, MaxPayload: 2 * FrameSamples, ResyncFrames: 50}
}

// PushResult says what [JitterBuffer.Push] did with a packet.
type PushResult uint8

const (
	// PushQueued means the packet was stored for playout.
	PushQueued PushResult = iota
	// PushDuplicate means a packet with the same timestamp was already
	// stored; the new one was ignored.
	PushDuplicate
	// PushLate means the packet's frame was already played (or reported
	// lost); it was dropped.
	PushLate
	// PushTooLarge means the payload exceeded MaxPayload; it was dropped.
	PushTooLarge
	// PushResynced means the packet jumped too far from the stream and
	// started it over; it was stored as the new first frame.
	PushResynced
)

// String names the result for logs.
func (r PushResult) String() string {
	switch r {
	case PushQueued:
		return "queued"
	case PushDuplicate:
		return "duplicate"
	case PushLate:
		return "late"
	case PushTooLarge:
		return "too large"
	case PushResynced:
		return "resynced"
	}
	return "unknown"
}

// PopStatus says what [JitterBuffer.Pop] returned.
type PopStatus uint8

const (
	// PopBuffering means playout has not started (no packet yet, or still
	// filling to Depth after a start or resync): play silence; nothing was
	// lost.
	PopBuffering PopStatus = iota
	// PopFrame means the frame holds the packet due at this tick.
	PopFrame
	// PopLost means the packet due at this tick is missing: conceal it by
	// repeating the last frame once or twice, then silence.
	PopLost
)

// String names the status for logs.
func (s PopStatus) String() string {
	switch s {
	case PopBuffering:
		return "buffering"
	case PopFrame:
		return "frame"
	case PopLost:
		return "lost"
	}
	return "unknown"
}

// Frame is a packet returned by [JitterBuffer.Pop].
type Frame struct {
	// Seq is the packet's RTP sequence number.
	Seq uint16
	// Timestamp is the packet's RTP timestamp; for a lost frame, the
	// timestamp the frame due at this tick would have had.
	Timestamp uint32
	// Payload is the packet's payload. It points into the buffer's own
	// storage and is valid only until the next Push or Pop.
	Payload []byte
}

// JitterStats counts what a [JitterBuffer] saw since it was made.
type JitterStats struct {
	// Pushed counts packets accepted by Push (all but TooLarge).
	Pushed uint64
	// Played counts frames Pop returned with PopFrame.
	Played uint64
	// Lost counts ticks Pop reported PopLost.
	Lost uint64
	// Late counts packets dropped because their frame had been played.
	Late uint64
	// Duplicates counts packets ignored as already stored.
	Duplicates uint64
	// TooLarge counts packets dropped for exceeding MaxPayload.
	TooLarge uint64
	// Skipped counts frames dropped unplayed to bound the delay when the
	// sender ran ahead by more than Capacity.
	Skipped uint64
	// Resyncs counts restarts on a timestamp jump or a run of late packets.
	Resyncs uint64
}

type jitterSlot struct {
	valid bool
	seq   uint16
	ts    uint32
	n     int
	buf   []byte
}

// JitterBuffer reorders RTP packets by timestamp and releases one frame per
// consumer tick, with a fixed playout delay. Ordering and loss are decided on
// RTP timestamps, not arrival times, with 32-bit wrap-around handled by
// serial-number arithmetic (RFC 3550 §5.1). Payloads are copied into slots
// preallocated at construction: Push and Pop allocate nothing.
type JitterBuffer struct {
	cfg     JitterConfig
	slots   []jitterSlot
	head    int    // slot of the frame due next
	next    uint32 // timestamp of the frame due next
	newest  int    // frames from next to the newest stored packet, -1 if none
	started bool   // a packet arrived since the last reset
	playing bool   // prefill done
	waited  int    // Pop calls while prefilling
	lostRun int    // consecutive lost frames
	lateRun int    // consecutive late packets
	stats   JitterStats
}

// NewJitterBuffer returns an empty buffer, or ErrInvalidConfig, wrapped, for
// a Depth below 1, a Capacity below Depth, a zero FrameSamples, a MaxPayload
// below 1 or a ResyncFrames not above Capacity.
func NewJitterBuffer(cfg JitterConfig) (*JitterBuffer, error) {
	if cfg.Depth < 1 || cfg.Capacity < cfg.Depth || cfg.FrameSamples == 0 || cfg.FrameSamples > 1<<20 ||
		cfg.MaxPayload < 1 || cfg.ResyncFrames <= cfg.Capacity {
		return nil, fmt.Errorf("%w: jitter buffer %+v", ErrInvalidConfig, cfg)
	}
	j := &JitterBuffer{cfg: cfg, slots: make([]jitterSlot, cfg.Capacity), newest: -1}
	store := make([]byte, cfg.Capacity*cfg.MaxPayload)
	for i := range j.slots {
		j.slots[i].buf = store[i*cfg.MaxPayload : (i+1)*cfg.MaxPayload : (i+1)*cfg.MaxPayload]
	}
	return j, nil
}

// Push stores a copy of one packet's payload. It never blocks and never
// keeps payload. A timestamp jump beyond ResyncFrames, or a run of late
// packets, restarts the buffer from this packet (PushResynced); call Reset
// when the caller itself sees the SSRC change.
func (j *JitterBuffer) Push(seq uint16, ts uint32, payload []byte) PushResult {
	if len(payload) > j.cfg.MaxPayload {
		j.stats.TooLarge++
		return PushTooLarge
	}
	j.stats.Pushed++
	fs := int64(j.cfg.FrameSamples)
	res := PushQueued
	if !j.started {
		j.restart(ts)
	}
	d := int64(int32(ts - j.next))
	switch {
	case d < -int64(j.cfg.ResyncFrames)*fs || d >= int64(j.cfg.ResyncFrames)*fs:
		j.resync(ts)
		d, res = 0, PushResynced
	case d < 0 && !j.playing && j.newest+int((-d+fs-1)/fs) < j.cfg.Capacity:
		// Before playout starts, an earlier packet (the first ones arrived
		// out of order) moves the start back instead of being late.
		back := int((-d + fs - 1) / fs)
		j.head = (j.head - back%j.cfg.Capacity + j.cfg.Capacity) % j.cfg.Capacity
		j.next -= uint32(int64(back) * fs)
		j.newest += back
		d += int64(back) * fs
	case d < 0:
		j.stats.Late++
		j.lateRun++
		if j.lateRun <= j.cfg.Capacity {
			return PushLate
		}
		j.resync(ts)
		d, res = 0, PushResynced
	}
	j.lateRun = 0
	k := int(d / fs)
	if k >= j.cfg.Capacity {
		// The sender is ahead of playout by more than the buffer holds:
		// skip the oldest frames rather than grow the delay.
		for range k - j.cfg.Capacity + 1 {
			j.slots[j.head].valid = false
			j.stats.Skipped++
			j.advance()
		}
		k = j.cfg.Capacity - 1
	}
	s := &j.slots[(j.head+k)%j.cfg.Capacity]
	if s.valid && s.ts == ts {
		j.stats.Duplicates++
		return PushDuplicate
	}
	s.valid, s.seq, s.ts, s.n = true, seq, ts, copy(s.buf, payload)
	j.newest = max(j.newest, k)
	return res
}

// Pop returns the frame due at this tick; the caller calls it once per
// FrameSamples of its own clock (every 20 ms). See [PopStatus] for what to
// play.
func (j *JitterBuffer) Pop() (Frame, PopStatus) {
	if !j.started {
		return Frame{}, PopBuffering
	}
	if !j.playing {
		j.waited++
		if j.newest+1 < j.cfg.Depth && j.waited < j.cfg.Depth {
			return Frame{}, PopBuffering
		}
		j.playing = true
	}
	s := &j.slots[j.head]
	f := Frame{Timestamp: j.next}
	st := PopLost
	if s.valid {
		s.valid = false
		f.Seq, f.Timestamp, f.Payload = s.seq, s.ts, s.buf[:s.n]
		st = PopFrame
		j.stats.Played++
		j.lostRun = 0
	} else {
		j.stats.Lost++
		j.lostRun++
	}
	j.advance()
	if j.lostRun >= j.cfg.ResyncFrames {
		// A long silence (or a dead stream): stop counting losses and start
		// over, with a fresh prefill, when packets come back.
		j.started = false
	}
	return f, st
}

// advance moves playout one frame on.
func (j *JitterBuffer) advance() {
	j.head = (j.head + 1) % j.cfg.Capacity
	j.next += j.cfg.FrameSamples
	j.newest = max(j.newest-1, -1)
}

// restart empties the buffer and sets playout to start at ts.
func (j *JitterBuffer) restart(ts uint32) {
	for i := range j.slots {
		j.slots[i].valid = false
	}
	j.head, j.next, j.newest = 0, ts, -1
	j.started, j.playing, j.waited, j.lostRun, j.lateRun = true, false, 0, 0, 0
}

func (j *JitterBuffer) resync(ts uint32) {
	j.stats.Resyncs++
	j.restart(ts)
}

// Reset empties the buffer, as for a new stream; statistics are kept.
func (j *JitterBuffer) Reset() {
	j.restart(0)
	j.started = false
}

// Buffered returns the number of frames stored and not yet played.
func (j *JitterBuffer) Buffered() int {
	n := 0
	for i := range j.slots {
		if j.slots[i].valid {
			n++
		}
	}
	return n
}

// Stats returns the counters.
func (j *JitterBuffer) Stats() JitterStats { return j.stats }
