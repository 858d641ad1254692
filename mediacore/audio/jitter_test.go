package audio

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sort"
	"testing"
)

// pkt is a test packet whose payload carries its index, so the test can
// check what comes out.
type pkt struct {
	seq uint16
	ts  uint32
	idx uint32
}

func payloadOf(idx uint32) []byte {
	b := make([]byte, FrameSamples)
	binary.BigEndian.PutUint32(b, idx)
	return b
}

func stream(seq0 uint16, ts0 uint32, n int) []pkt {
	out := make([]pkt, n)
	for i := range out {
		out[i] = pkt{seq0 + uint16(i), ts0 + uint32(i)*FrameSamples, uint32(i)}
	}
	return out
}

func newJB(t *testing.T) *JitterBuffer {
	t.Helper()
	j, err := NewJitterBuffer(DefaultJitterConfig())
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// popResult summarises one Pop: "b" buffering, "L" lost, or the index.
func popResult(t *testing.T, j *JitterBuffer) any {
	t.Helper()
	f, st := j.Pop()
	switch st {
	case PopBuffering:
		return "b"
	case PopLost:
		return "L"
	}
	if len(f.Payload) != FrameSamples {
		t.Fatalf("payload of %d bytes", len(f.Payload))
	}
	return binary.BigEndian.Uint32(f.Payload)
}

// runTicks pushes arrivals[i] before the i-th Pop and returns the pops.
func runTicks(t *testing.T, j *JitterBuffer, arrivals [][]pkt, extraTicks int) []any {
	t.Helper()
	var out []any
	for i := range len(arrivals) + extraTicks {
		if i < len(arrivals) {
			for _, p := range arrivals[i] {
				j.Push(p.seq, p.ts, payloadOf(p.idx))
			}
		}
		out = append(out, popResult(t, j))
	}
	return out
}

func equalAny(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestJitterBufferScenarios(t *testing.T) {
	s := stream(100, 5000, 8)
	u := func(v ...uint32) []any {
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	}
	cat := func(parts ...[]any) []any {
		var out []any
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	wrap := stream(65533, 0xFFFFFFFF-2*FrameSamples+1, 8)
	tests := []struct {
		name     string
		arrivals [][]pkt
		extra    int
		want     []any
	}{
		{
			// Playout starts once 3 frames are held: 2 ticks of buffering.
			name:     "in order",
			arrivals: [][]pkt{{s[0]}, {s[1]}, {s[2]}, {s[3]}, {s[4]}, {s[5]}},
			extra:    3,
			want:     cat([]any{"b", "b"}, u(0, 1, 2, 3, 4, 5), []any{"L"}),
		},
		{
			name:     "reordered within depth",
			arrivals: [][]pkt{{s[1]}, {s[0], s[3]}, {s[2]}, {s[5], s[4]}, {}, {s[6]}, {s[7]}},
			extra:    2,
			want:     cat([]any{"b"}, u(0, 1, 2, 3, 4, 5, 6, 7)),
		},
		{
			name:     "loss reported in place",
			arrivals: [][]pkt{{s[0]}, {s[1]}, {s[2]}, {}, {s[4]}, {s[5]}},
			extra:    2,
			want:     cat([]any{"b", "b"}, u(0, 1, 2), []any{"L"}, u(4, 5)),
		},
		{
			name:     "late packet dropped",
			arrivals: [][]pkt{{s[0]}, {s[1]}, {s[3]}, {s[4]}, {s[5]}, {s[2]}},
			extra:    2,
			want:     cat([]any{"b", "b"}, u(0, 1), []any{"L"}, u(3, 4, 5)),
		},
		{
			name:     "duplicates ignored",
			arrivals: [][]pkt{{s[0], s[0]}, {s[1], s[0]}, {s[2], s[1], s[2]}, {s[3], s[3]}},
			extra:    2,
			want:     cat([]any{"b", "b"}, u(0, 1, 2, 3)),
		},
		{
			name:     "sequence and timestamp wrap",
			arrivals: [][]pkt{{wrap[0]}, {wrap[1]}, {wrap[3], wrap[2]}, {wrap[4]}, {wrap[5]}},
			extra:    2,
			want:     cat([]any{"b", "b"}, u(0, 1, 2, 3, 4)),
		},
		{
			// A first packet lost does not stall playout: after Depth ticks
			// it starts anyway.
			name:     "prefill by time when packets are missing",
			arrivals: [][]pkt{{s[1]}, {}, {}, {s[4]}},
			extra:    0,
			want:     []any{"b", "b", uint32(1), "L"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runTicks(t, newJB(t), tt.arrivals, tt.extra)
			if !equalAny(got, tt.want) {
				t.Fatalf("pops %v, want %v", got, tt.want)
			}
		})
	}
}

func TestJitterBufferPushResults(t *testing.T) {
	j := newJB(t)
	p := payloadOf(1)
	steps := []struct {
		name string
		seq  uint16
		ts   uint32
		pay  []byte
		want PushResult
	}{
		{"first", 1, 1000, p, PushQueued},
		{"duplicate", 1, 1000, p, PushDuplicate},
		{"next", 2, 1160, p, PushQueued},
		{"too large", 3, 1320, make([]byte, 321), PushTooLarge},
		{"jump ahead 10 s (new stream)", 500, 1000 + 80000, p, PushResynced},
		{"jump back (SSRC change)", 7, 9, p, PushResynced},
	}
	for _, st := range steps {
		if got := j.Push(st.seq, st.ts, st.pay); got != st.want {
			t.Fatalf("%s: %v, want %v", st.name, got, st.want)
		}
	}
	if got := j.Stats(); got.Resyncs != 2 || got.Duplicates != 1 || got.TooLarge != 1 {
		t.Fatalf("stats %+v", got)
	}
	if PushLate.String() != "late" || PopLost.String() != "lost" {
		t.Fatal("names")
	}
}

func TestJitterBufferResyncResumes(t *testing.T) {
	j := newJB(t)
	a := stream(10, 1000, 6)
	b := stream(9000, 3_000_000_000, 6) // new SSRC: unrelated seq and ts
	got := runTicks(t, j, [][]pkt{{a[0]}, {a[1]}, {a[2]}, {a[3]}, {b[0]}, {b[1]}, {b[2]}, {b[3]}}, 1)
	want := []any{"b", "b", uint32(0), uint32(1), "b", "b", uint32(0), uint32(1), uint32(2)}
	if !equalAny(got, want) {
		t.Fatalf("pops %v, want %v", got, want)
	}
}

func TestJitterBufferOverflowBoundsDelay(t *testing.T) {
	j := newJB(t)
	s := stream(0, 0, 30)
	// A burst of 30 frames at once: only the newest Capacity are kept.
	for _, p := range s {
		j.Push(p.seq, p.ts, payloadOf(p.idx))
	}
	if j.Buffered() != DefaultJitterConfig().Capacity {
		t.Fatalf("buffered %d", j.Buffered())
	}
	if got := popResult(t, j); got != uint32(22) {
		t.Fatalf("first pop %v, want 22", got)
	}
	if j.Stats().Skipped != 22 {
		t.Fatalf("skipped %d", j.Stats().Skipped)
	}
}

func TestJitterBufferLongSilenceRebuffers(t *testing.T) {
	cfg := DefaultJitterConfig()
	j, _ := NewJitterBuffer(cfg)
	s := stream(0, 0, 200)
	var got []any
	for _, i := range []int{0, 1, 2} {
		j.Push(s[i].seq, s[i].ts, payloadOf(s[i].idx))
	}
	for range 3 + cfg.ResyncFrames + 2 {
		got = append(got, popResult(t, j))
	}
	// 3 frames, then losses until ResyncFrames in a row, then buffering.
	if got[0] != uint32(0) || got[3] != "L" || got[2+cfg.ResyncFrames] != "L" || got[3+cfg.ResyncFrames] != "b" {
		t.Fatalf("pops %v", got)
	}
	// The next talk spurt starts cleanly.
	p := s[150]
	if r := j.Push(p.seq, p.ts, payloadOf(p.idx)); r != PushQueued {
		t.Fatalf("push after silence: %v", r)
	}
}

func TestJitterBufferLateRunResyncs(t *testing.T) {
	j := newJB(t)
	s := stream(0, 0, 40)
	for i := range 3 {
		j.Push(s[i].seq, s[i].ts, payloadOf(s[i].idx))
	}
	for range 20 {
		j.Pop()
	}
	// The sender's clock is now far behind ours: every packet is late.
	var last PushResult
	for i := 3; i < 3+DefaultJitterConfig().Capacity+1; i++ {
		last = j.Push(s[i].seq, s[i].ts, payloadOf(s[i].idx))
	}
	if last != PushResynced {
		t.Fatalf("after a run of late packets: %v", last)
	}
}

func TestJitterBufferCopiesPayload(t *testing.T) {
	j := newJB(t)
	b := []byte{1, 2, 3}
	j.Push(1, 0, b)
	b[0] = 9
	for range 2 {
		j.Pop()
	}
	f, st := j.Pop()
	if st != PopFrame || f.Payload[0] != 1 || len(f.Payload) != 3 || f.Seq != 1 {
		t.Fatalf("%v %+v", st, f)
	}
}

// TestJitterBufferRandomJitter sends a stream whose packets are delayed by a
// random 0-39 ms (less than the 60 ms depth) and reordered accordingly: all
// frames must come out, in order, none lost.
func TestJitterBufferRandomJitter(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 99))
		const n = 500
		s := stream(uint16(rng.Uint32()), rng.Uint32(), n)
		type arrival struct {
			at int // ms
			p  pkt
		}
		var arr []arrival
		for i, p := range s {
			arr = append(arr, arrival{i*20 + rng.IntN(40), p})
		}
		sort.SliceStable(arr, func(a, b int) bool { return arr[a].at < arr[b].at })
		j := newJB(t)
		var got []uint32
		ai := 0
		for tick := 0; tick*20 < n*20+200; tick++ {
			for ai < len(arr) && arr[ai].at <= tick*20+10 {
				j.Push(arr[ai].p.seq, arr[ai].p.ts, payloadOf(arr[ai].p.idx))
				ai++
			}
			f, st := j.Pop()
			if st == PopLost && len(got) < n {
				t.Fatalf("seed %d: frame %d lost", seed, len(got))
			}
			if st == PopFrame {
				got = append(got, binary.BigEndian.Uint32(f.Payload))
			}
		}
		if len(got) != n {
			t.Fatalf("seed %d: %d frames out of %d", seed, len(got), n)
		}
		for i, v := range got {
			if v != uint32(i) {
				t.Fatalf("seed %d: frame %d is %d", seed, i, v)
			}
		}
	}
}

func TestJitterBufferConfig(t *testing.T) {
	bad := []func(*JitterConfig){
		func(c *JitterConfig) { c.Depth = 0 },
		func(c *JitterConfig) { c.Capacity = 2 },
		func(c *JitterConfig) { c.FrameSamples = 0 },
		func(c *JitterConfig) { c.MaxPayload = 0 },
		func(c *JitterConfig) { c.ResyncFrames = 8 },
	}
	for i, mod := range bad {
		cfg := DefaultJitterConfig()
		mod(&cfg)
		if _, err := NewJitterBuffer(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Fatalf("case %d: %v", i, err)
		}
	}
	j := newJB(t)
	j.Push(1, 1, []byte{1})
	j.Reset()
	if _, st := j.Pop(); st != PopBuffering || j.Buffered() != 0 {
		t.Fatal("Reset kept state")
	}
}

func TestJitterBufferZeroAllocs(t *testing.T) {
	j := newJB(t)
	p := make([]byte, FrameSamples)
	var seq uint16
	var ts uint32
	a := testing.AllocsPerRun(1000, func() {
		j.Push(seq, ts, p)
		j.Pop()
		seq++
		ts += FrameSamples
	})
	if a != 0 {
		t.Fatalf("%v allocs per packet", a)
	}
}

func TestLossConcealer(t *testing.T) {
	var c LossConcealer
	out := make([]int16, 4)
	c.Conceal(out)
	if out[0] != 0 {
		t.Fatal("nothing to repeat yet: must be silence")
	}
	c.Good([]int16{800, -800, 400, 0})
	wants := [][]int16{{400, -400, 200, 0}, {200, -200, 100, 0}, {100, -100, 50, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}}
	for i, want := range wants {
		c.Conceal(out)
		for k := range want {
			if out[k] != want[k] {
				t.Fatalf("lost frame %d: %v, want %v", i+1, out, want)
			}
		}
	}
	c.Good([]int16{8, 8})
	c.Conceal(out)
	if out[0] != 4 || out[2] != 0 {
		t.Fatalf("after a new good frame: %v", out)
	}
}

func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 2, 2, 9, 9, 3, 3})
	f.Add([]byte{0, 0, 200, 7, 100, 100, 255, 1, 3, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		cfg := DefaultJitterConfig()
		j, err := NewJitterBuffer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var ts uint32
		var seq uint16
		payload := make([]byte, 8)
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i], ops[i+1]
			if op%4 == 3 {
				f, st := j.Pop()
				if st == PopFrame && binary.BigEndian.Uint32(f.Payload) != f.Timestamp {
					t.Fatalf("frame for ts %d holds ts %d", f.Timestamp, binary.BigEndian.Uint32(f.Payload))
				}
				continue
			}
			// Move the sender's timestamp by a signed number of frames,
			// sometimes by odd amounts or huge jumps.
			switch op % 4 {
			case 0:
				ts += uint32(int32(int8(arg))) * FrameSamples
			case 1:
				ts += uint32(arg) * 1000003
			case 2:
				ts += uint32(arg)
			}
			seq++
			binary.BigEndian.PutUint32(payload, ts)
			j.Push(seq, ts, payload)
			if b := j.Buffered(); b > cfg.Capacity {
				t.Fatalf("%d frames buffered", b)
			}
		}
	})
}
