package audio

import "fmt"

// Role says what a mixer member hears and who hears it.
type Role uint8

const (
	// Speak: heard by every other member, hears every other audible
	// member. A supervisor's barge is a Speak member.
	Speak Role = iota
	// ListenOnly: hears everyone, heard by no one (silent monitor, a muted
	// conference member).
	ListenOnly
	// Whisper: heard only by its target member, hears everyone (a coach
	// talking to an agent without the customer hearing).
	Whisper
)

// String names the role for logs and APIs.
func (r Role) String() string {
	switch r {
	case Speak:
		return "speak"
	case ListenOnly:
		return "listen_only"
	case Whisper:
		return "whisper"
	}
	return "unknown"
}

// Mixer mixes N members' frames with mix-minus: each member hears the sum of
// what its role lets it hear, never itself. Per tick the owner writes each
// member's input frame, calls Mix once, and reads each member's output.
//
// Mix costs O(N) frame operations, not O(N²): the speakers' sum is computed
// once and each speaker's own contribution subtracted from its copy; whispers
// are added only to their targets. Sums are kept in int32 and saturated to
// int16 on output. Nothing is allocated per frame. A Mixer is not safe for
// concurrent use: one goroutine (the media tick) owns it.
type Mixer struct {
	frame   int
	members []*Member
	sum     []int32
}

// Member is one party of a [Mixer], made by [Mixer.Add].
type Member struct {
	mixer     *Mixer
	role      Role
	target    *Member
	in        []int16
	hasIn     bool
	whisper   []int32 // whispers addressed to this member this tick
	whispered bool
	out       []int16
}

// NewMixer returns an empty mixer for frames of frameSamples samples (0
// means [FrameSamples]); ErrInvalidConfig, wrapped, for a negative size.
func NewMixer(frameSamples int) (*Mixer, error) {
	if frameSamples < 0 {
		return nil, fmt.Errorf("%w: mixer frame of %d samples", ErrInvalidConfig, frameSamples)
	}
	if frameSamples == 0 {
		frameSamples = FrameSamples
	}
	return &Mixer{frame: frameSamples, sum: make([]int32, frameSamples)}, nil
}

// Add makes a member with role; target is the member a Whisper member is
// heard by, and must be nil for other roles. It returns the errors of
// [Member.SetRole].
func (m *Mixer) Add(role Role, target *Member) (*Member, error) {
	mem := &Member{
		mixer:   m,
		in:      make([]int16, m.frame),
		whisper: make([]int32, m.frame),
		out:     make([]int16, m.frame),
	}
	if err := mem.SetRole(role, target); err != nil {
		return nil, err
	}
	m.members = append(m.members, mem)
	return mem, nil
}

// Remove takes mem out of the mixer. Whisper members that targeted it are
// then heard by no one until given a new target. It returns ErrNotMember,
// wrapped, when mem is not in m.
func (m *Mixer) Remove(mem *Member) error {
	if mem == nil || mem.mixer != m {
		return fmt.Errorf("%w: remove", ErrNotMember)
	}
	for i, x := range m.members {
		if x == mem {
			last := len(m.members) - 1
			m.members[i] = m.members[last]
			m.members[last] = nil
			m.members = m.members[:last]
			break
		}
	}
	for _, x := range m.members {
		if x.target == mem {
			x.target = nil
		}
	}
	mem.mixer, mem.target = nil, nil
	return nil
}

// Len returns the number of members.
func (m *Mixer) Len() int { return len(m.members) }

// FrameSamples returns the frame size the mixer works on.
func (m *Mixer) FrameSamples() int { return m.frame }

// SetRole changes what mem hears and who hears it, from the next Mix on.
// target must be another member of the same mixer for Whisper and nil
// otherwise. It returns ErrInvalidConfig or ErrNotMember, wrapped.
func (mem *Member) SetRole(role Role, target *Member) error {
	if mem.mixer == nil {
		return fmt.Errorf("%w: set role", ErrNotMember)
	}
	switch role {
	case Speak, ListenOnly:
		if target != nil {
			return fmt.Errorf("%w: role %v takes no target", ErrInvalidConfig, role)
		}
	case Whisper:
		if target == nil || target == mem {
			return fmt.Errorf("%w: whisper needs another member as target", ErrInvalidConfig)
		}
		if target.mixer != mem.mixer {
			return fmt.Errorf("%w: whisper target", ErrNotMember)
		}
	default:
		return fmt.Errorf("%w: role %d", ErrInvalidConfig, role)
	}
	mem.role, mem.target = role, target
	return nil
}

// Role returns mem's role and, for Whisper, its target (nil once the target
// left).
func (mem *Member) Role() (Role, *Member) { return mem.role, mem.target }

// Write sets mem's input for the next Mix by copying samples; a shorter
// frame is padded with silence. A member not written to before a Mix
// contributes silence. It returns ErrFrameSize for a frame longer than the
// mixer's, or ErrNotMember after Remove, wrapped.
func (mem *Member) Write(samples []int16) error {
	if mem.mixer == nil {
		return fmt.Errorf("%w: write", ErrNotMember)
	}
	if len(samples) > len(mem.in) {
		return fmt.Errorf("%w: %d samples, mixer frame is %d", ErrFrameSize, len(samples), len(mem.in))
	}
	n := copy(mem.in, samples)
	clear(mem.in[n:])
	mem.hasIn = true
	return nil
}

// Output returns what mem hears after the last Mix. The slice belongs to the
// member and is overwritten by the next Mix.
func (mem *Member) Output() []int16 { return mem.out }

// Mix computes every member's output from the inputs written since the last
// Mix, then clears the inputs.
func (m *Mixer) Mix() {
	sum := m.sum
	clear(sum)
	for _, mem := range m.members {
		if mem.role == Speak && mem.hasIn {
			for i, v := range mem.in {
				sum[i] += int32(v)
			}
		}
	}
	for _, mem := range m.members {
		if mem.role == Whisper && mem.hasIn && mem.target != nil {
			t := mem.target
			if !t.whispered {
				clear(t.whisper)
				t.whispered = true
			}
			for i, v := range mem.in {
				t.whisper[i] += int32(v)
			}
		}
	}
	for _, mem := range m.members {
		out := mem.out[:len(sum)]
		self := mem.role == Speak && mem.hasIn
		switch {
		case self && mem.whispered:
			for i, s := range sum {
				out[i] = sat16(s - int32(mem.in[i]) + mem.whisper[i])
			}
		case self:
			for i, s := range sum {
				out[i] = sat16(s - int32(mem.in[i]))
			}
		case mem.whispered:
			for i, s := range sum {
				out[i] = sat16(s + mem.whisper[i])
			}
		default:
			for i, s := range sum {
				out[i] = sat16(s)
			}
		}
	}
	for _, mem := range m.members {
		mem.hasIn, mem.whispered = false, false
	}
}
