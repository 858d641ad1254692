package audio

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// party is a mixer member fed by its own tone, so that what each member
// hears can be decomposed with Goertzel.
type party struct {
	name string
	freq float64
	src  *ToneSource
	mem  *Member
	got  []int16
}

var partyFreqs = []float64{400, 700, 1000, 1300, 1600, 1900, 2200, 2500, 2800, 3100}

func newParties(t *testing.T, m *Mixer, roles ...Role) []*party {
	t.Helper()
	var ps []*party
	for i, r := range roles {
		src, err := NewToneSource(Tone{Freqs: []float64{partyFreqs[i]}, Level: -20})
		if err != nil {
			t.Fatal(err)
		}
		var target *Member
		if r == Whisper {
			target = ps[0].mem // tests whisper to the first party
		}
		mem, err := m.Add(r, target)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, &party{name: fmt.Sprintf("%s%d", r, i), freq: partyFreqs[i], src: src, mem: mem})
	}
	return ps
}

// runMix plays frames ticks and collects each party's output.
func runMix(t *testing.T, m *Mixer, ps []*party, frames int) {
	t.Helper()
	buf := make([]int16, FrameSamples)
	for _, p := range ps {
		p.got = p.got[:0]
	}
	for range frames {
		for _, p := range ps {
			if _, err := p.src.ReadFrame(buf); err != nil {
				t.Fatal(err)
			}
			if err := p.mem.Write(buf); err != nil {
				t.Fatal(err)
			}
		}
		m.Mix()
		for _, p := range ps {
			p.got = append(p.got, p.mem.Output()...)
		}
	}
}

// hears reports whether listener's output holds speaker's tone.
func hears(listener, speaker *party) bool {
	// Each tone present holds 1/k of the energy; 3% rules out leakage.
	return ToneRatio(listener.got, SampleRate, speaker.freq) > 0.03
}

// checkHearing asserts the full who-hears-whom matrix: want[i] lists the
// parties i must hear; every other party must be inaudible to i.
func checkHearing(t *testing.T, ps []*party, want map[int][]int) {
	t.Helper()
	for li, l := range ps {
		must := map[int]bool{}
		for _, s := range want[li] {
			must[s] = true
		}
		for si, s := range ps {
			if got := hears(l, s); got != must[si] {
				t.Errorf("%s hears %s: %v, want %v (ratio %.3f)", l.name, s.name, got, must[si],
					ToneRatio(l.got, SampleRate, s.freq))
			}
		}
	}
}

func TestMixerRoles(t *testing.T) {
	tests := []struct {
		name  string
		roles []Role
		want  map[int][]int // listener -> speakers heard
	}{
		{"two speakers", []Role{Speak, Speak}, map[int][]int{0: {1}, 1: {0}}},
		{"three speakers", []Role{Speak, Speak, Speak}, map[int][]int{0: {1, 2}, 1: {0, 2}, 2: {0, 1}}},
		{"silent monitor", []Role{Speak, Speak, ListenOnly}, map[int][]int{0: {1}, 1: {0}, 2: {0, 1}}},
		// 0 is the agent, 1 the customer, 2 the coach whispering to 0.
		{"whisper to agent", []Role{Speak, Speak, Whisper}, map[int][]int{0: {1, 2}, 1: {0}, 2: {0, 1}}},
		{"whisper with monitor", []Role{Speak, Speak, Whisper, ListenOnly}, map[int][]int{0: {1, 2}, 1: {0}, 2: {0, 1}, 3: {0, 1}}},
		{"two whisperers", []Role{Speak, Speak, Whisper, Whisper}, map[int][]int{0: {1, 2, 3}, 1: {0}, 2: {0, 1}, 3: {0, 1}}},
		{"ten members", []Role{Speak, Speak, Speak, Speak, Speak, Speak, Speak, ListenOnly, Whisper, ListenOnly},
			map[int][]int{
				0: {1, 2, 3, 4, 5, 6, 8}, 1: {0, 2, 3, 4, 5, 6}, 2: {0, 1, 3, 4, 5, 6}, 3: {0, 1, 2, 4, 5, 6},
				4: {0, 1, 2, 3, 5, 6}, 5: {0, 1, 2, 3, 4, 6}, 6: {0, 1, 2, 3, 4, 5},
				7: {0, 1, 2, 3, 4, 5, 6}, 8: {0, 1, 2, 3, 4, 5, 6}, 9: {0, 1, 2, 3, 4, 5, 6},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMixer(0)
			if err != nil {
				t.Fatal(err)
			}
			ps := newParties(t, m, tt.roles...)
			runMix(t, m, ps, 10)
			checkHearing(t, ps, tt.want)
		})
	}
}

func TestMixerRoleChanges(t *testing.T) {
	m, _ := NewMixer(0)
	ps := newParties(t, m, Speak, Speak, ListenOnly) // agent, customer, supervisor
	agent, sup := ps[0], ps[2]

	steps := []struct {
		name   string
		change func() error
		want   map[int][]int
	}{
		{"listen", func() error { return nil }, map[int][]int{0: {1}, 1: {0}, 2: {0, 1}}},
		{"whisper", func() error { return sup.mem.SetRole(Whisper, agent.mem) }, map[int][]int{0: {1, 2}, 1: {0}, 2: {0, 1}}},
		{"barge", func() error { return sup.mem.SetRole(Speak, nil) }, map[int][]int{0: {1, 2}, 1: {0, 2}, 2: {0, 1}}},
		{"back to listen", func() error { return sup.mem.SetRole(ListenOnly, nil) }, map[int][]int{0: {1}, 1: {0}, 2: {0, 1}}},
		{"whisper, then agent leaves", func() error {
			if err := sup.mem.SetRole(Whisper, agent.mem); err != nil {
				return err
			}
			if err := m.Remove(agent.mem); err != nil {
				return err
			}
			if r, tgt := sup.mem.Role(); r != Whisper || tgt != nil {
				return fmt.Errorf("role after target left: %v %v", r, tgt)
			}
			ps = ps[1:]
			return nil
		}, map[int][]int{0: {}, 1: {0}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.change(); err != nil {
				t.Fatal(err)
			}
			runMix(t, m, ps, 8)
			checkHearing(t, ps, st.want)
		})
	}
}

func TestMixerExactSamples(t *testing.T) {
	m, _ := NewMixer(4)
	a, _ := m.Add(Speak, nil)
	b, _ := m.Add(Speak, nil)
	c, _ := m.Add(Speak, nil)
	l, _ := m.Add(ListenOnly, nil)
	w, _ := m.Add(Whisper, a)
	_ = a.Write([]int16{1, 2, 3, 4})
	_ = b.Write([]int16{10, 20, 30, 40})
	_ = c.Write([]int16{100, 200}) // short: padded with silence
	_ = l.Write([]int16{5000, 5000, 5000, 5000})
	_ = w.Write([]int16{-1000, -1000, -1000, -1000})
	m.Mix()
	tests := []struct {
		name string
		mem  *Member
		want []int16
	}{
		{"a hears b+c+whisper", a, []int16{110 - 1000, 220 - 1000, 30 - 1000, 40 - 1000}},
		{"b hears a+c", b, []int16{101, 202, 3, 4}},
		{"c hears a+b", c, []int16{11, 22, 33, 44}},
		{"listener hears speakers", l, []int16{111, 222, 33, 44}},
		{"whisperer hears speakers", w, []int16{111, 222, 33, 44}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.mem.Output()
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Fatalf("output %v, want %v", got, tt.want)
				}
			}
		})
	}
	// Inputs are consumed: a tick without writes is silence for everyone.
	m.Mix()
	for _, mem := range []*Member{a, b, c, l, w} {
		if Energy(mem.Output()) != 0 {
			t.Fatalf("stale input mixed: %v", mem.Output())
		}
	}
}

func TestMixerSaturates(t *testing.T) {
	m, _ := NewMixer(2)
	a, _ := m.Add(Speak, nil)
	b, _ := m.Add(Speak, nil)
	c, _ := m.Add(Speak, nil)
	l, _ := m.Add(ListenOnly, nil)
	for _, mem := range []*Member{a, b, c} {
		_ = mem.Write([]int16{30000, -30000})
	}
	m.Mix()
	if got := l.Output(); got[0] != 32767 || got[1] != -32768 {
		t.Fatalf("listener %v: not saturated", got)
	}
	// The speaker's own subtraction happens before saturation: a hears
	// b+c = 60000, clamped, not wrapped.
	if got := a.Output(); got[0] != 32767 || got[1] != -32768 {
		t.Fatalf("speaker %v", got)
	}
}

// TestMixerMatchesNaive compares Mix with an O(N²) reference on random roles
// and inputs.
func TestMixerMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for round := range 50 {
		m, _ := NewMixer(8)
		n := 1 + rng.IntN(9)
		var mems []*Member
		for range n {
			mem, _ := m.Add(Speak, nil)
			mems = append(mems, mem)
		}
		ins := make([][]int16, n)
		written := make([]bool, n)
		for i, mem := range mems {
			switch r := rng.IntN(3); {
			case r == 2 && n > 1:
				tgt := rng.IntN(n - 1)
				if tgt >= i {
					tgt++
				}
				_ = mem.SetRole(Whisper, mems[tgt])
			case r == 1:
				_ = mem.SetRole(ListenOnly, nil)
			}
			ins[i] = make([]int16, 8)
			for k := range ins[i] {
				ins[i][k] = int16(rng.IntN(65536) - 32768)
			}
			if rng.IntN(5) > 0 {
				written[i] = true
				_ = mem.Write(ins[i])
			}
		}
		m.Mix()
		for li, l := range mems {
			for k := range 8 {
				var acc int32
				for si, s := range mems {
					if si == li || !written[si] {
						continue
					}
					role, tgt := s.Role()
					if role == Speak || (role == Whisper && tgt == l) {
						acc += int32(ins[si][k])
					}
				}
				if got := l.Output()[k]; got != sat16(acc) {
					t.Fatalf("round %d: member %d sample %d = %d, want %d", round, li, k, got, sat16(acc))
				}
			}
		}
	}
}

func TestMixerErrors(t *testing.T) {
	m, _ := NewMixer(0)
	other, _ := NewMixer(0)
	a, _ := m.Add(Speak, nil)
	x, _ := other.Add(Speak, nil)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"negative frame", func() error { _, err := NewMixer(-1); return err }(), ErrInvalidConfig},
		{"whisper without target", func() error { _, err := m.Add(Whisper, nil); return err }(), ErrInvalidConfig},
		{"speak with target", func() error { _, err := m.Add(Speak, a); return err }(), ErrInvalidConfig},
		{"whisper to self", a.SetRole(Whisper, a), ErrInvalidConfig},
		{"unknown role", a.SetRole(Role(9), nil), ErrInvalidConfig},
		{"target in other mixer", func() error { _, err := m.Add(Whisper, x); return err }(), ErrNotMember},
		{"frame too long", a.Write(make([]int16, FrameSamples+1)), ErrFrameSize},
		{"remove foreign", m.Remove(x), ErrNotMember},
		{"remove nil", m.Remove(nil), ErrNotMember},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.want) {
				t.Fatalf("err = %v, want %v", tt.err, tt.want)
			}
		})
	}
	if err := m.Remove(a); err != nil {
		t.Fatal(err)
	}
	if err := a.Write(nil); !errors.Is(err, ErrNotMember) {
		t.Fatalf("write after remove: %v", err)
	}
	if err := a.SetRole(Speak, nil); !errors.Is(err, ErrNotMember) {
		t.Fatalf("role after remove: %v", err)
	}
	if m.Len() != 0 || m.FrameSamples() != FrameSamples || Whisper.String() != "whisper" {
		t.Fatal("accessors")
	}
}

func TestMixerZeroAllocs(t *testing.T) {
	m, _ := NewMixer(0)
	var mems []*Member
	for i := range 10 {
		role, tgt := Speak, (*Member)(nil)
		if i == 9 {
			role, tgt = Whisper, mems[0]
		}
		mem, _ := m.Add(role, tgt)
		mems = append(mems, mem)
	}
	frame := sine(FrameSamples, 1000, 3000)
	a := testing.AllocsPerRun(100, func() {
		for _, mem := range mems {
			_ = mem.Write(frame)
		}
		m.Mix()
	})
	if a != 0 {
		t.Fatalf("%v allocs per frame", a)
	}
}
