package audio

// concealFrames is how many lost frames in a row are filled from the last
// good frame before silence: beyond 60 ms a repeated frame sounds like a
// buzz, not speech (the reasoning of ITU-T G.711 Appendix I, reduced to its
// simplest form).
const concealFrames = 3

// LossConcealer fills frames a [JitterBuffer] reports lost: the first lost
// frames repeat the last good one, 6 dB quieter each time, then silence
// follows until a good frame arrives. It works on linear samples, keeps one
// frame of state and allocates nothing after the first frame.
type LossConcealer struct {
	last []int16
	lost int
}

// Good records a frame that arrived, to be repeated if the next ones are
// lost.
func (c *LossConcealer) Good(frame []int16) {
	if cap(c.last) < len(frame) {
		c.last = make([]int16, len(frame))
	}
	c.last = c.last[:len(frame)]
	copy(c.last, frame)
	c.lost = 0
}

// Conceal fills dst for a lost frame.
func (c *LossConcealer) Conceal(dst []int16) {
	c.lost++
	if c.lost > concealFrames || len(c.last) == 0 {
		clear(dst)
		return
	}
	shift := uint(c.lost) // halve the amplitude per repetition
	n := copy(dst, c.last)
	for i := range n {
		dst[i] >>= shift
	}
	clear(dst[n:])
}
