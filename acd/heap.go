package acd

import "time"

// The engine's indexes are binary heaps with back-pointers (each element
// knows its index), so removal of an arbitrary element (an abandon, an agent
// leaving ready) is O(log n) and nothing allocates once the backing arrays
// have grown.

// memberLess orders ready members of one bucket by the strategy's key.
func memberLess(a, b *member) bool {
	if a.k1 != b.k1 {
		return a.k1 < b.k1
	}
	if a.k2 != b.k2 {
		return a.k2 < b.k2
	}
	return a.a.seq < b.a.seq
}

type memberHeap []*member

func (h *memberHeap) push(m *member) {
	m.hidx = len(*h)
	*h = append(*h, m)
	h.up(m.hidx)
}

func (h *memberHeap) remove(i int) {
	s := *h
	n := len(s) - 1
	m := s[i]
	if i != n {
		s[i] = s[n]
		s[i].hidx = i
	}
	s[n] = nil
	*h = s[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	m.hidx = -1
}

func (h memberHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !memberLess(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		h[i].hidx, h[p].hidx = i, p
		i = p
	}
}

func (h memberHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && memberLess(h[r], h[l]) {
			j = r
		}
		if !memberLess(h[j], h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		h[i].hidx, h[j].hidx = i, j
		i = j
	}
	return i > start
}

// callLess orders the calls of one list: FIFO by entry time, then arrival.
func callLess(a, b *call) bool {
	if a.entered != b.entered {
		return a.entered < b.entered
	}
	return a.seq < b.seq
}

// callBetter orders calls across lists and queues: priority, then FIFO.
func callBetter(a, b *call) bool {
	if a.prio != b.prio {
		return a.prio > b.prio
	}
	return callLess(a, b)
}

type callHeap []*call

func (h *callHeap) push(c *call) {
	c.hidx = len(*h)
	*h = append(*h, c)
	h.up(c.hidx)
}

func (h *callHeap) remove(i int) {
	s := *h
	n := len(s) - 1
	c := s[i]
	if i != n {
		s[i] = s[n]
		s[i].hidx = i
	}
	s[n] = nil
	*h = s[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	c.hidx = -1
}

func (h callHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !callLess(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		h[i].hidx, h[p].hidx = i, p
		i = p
	}
}

func (h callHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && callLess(h[r], h[l]) {
			j = r
		}
		if !callLess(h[j], h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		h[i].hidx, h[j].hidx = i, j
		i = j
	}
	return i > start
}

// verdict is what an ordered scan's visitor says about one element.
type verdict uint8

const (
	vSkip verdict = iota // not this one; go on in order
	vTake                // this one
	vStop                // none from here on
)

// orderedScan visits the elements of heap s in increasing order (by less)
// until visit takes or stops, and returns the taken element. It keeps a
// frontier of candidate indexes in *fr (a reused scratch slice), so visiting
// k elements costs O(k log k) and no allocation in steady state.
func orderedScan[T any](s []T, less func(a, b T) bool, fr *[]int32, visit func(T) verdict) (T, bool) {
	var zero T
	if len(s) == 0 {
		return zero, false
	}
	switch visit(s[0]) {
	case vTake:
		return s[0], true
	case vStop:
		return zero, false
	}
	f := (*fr)[:0]
	defer func() { *fr = f[:0] }()
	lessIdx := func(i, j int32) bool { return less(s[i], s[j]) }
	push := func(i int32) {
		if int(i) >= len(s) {
			return
		}
		f = append(f, i)
		k := len(f) - 1
		for k > 0 {
			p := (k - 1) / 2
			if !lessIdx(f[k], f[p]) {
				break
			}
			f[k], f[p] = f[p], f[k]
			k = p
		}
	}
	pop := func() int32 {
		top := f[0]
		n := len(f) - 1
		f[0] = f[n]
		f = f[:n]
		k := 0
		for {
			l := 2*k + 1
			if l >= n {
				break
			}
			j := l
			if r := l + 1; r < n && lessIdx(f[r], f[l]) {
				j = r
			}
			if !lessIdx(f[j], f[k]) {
				break
			}
			f[k], f[j] = f[j], f[k]
			k = j
		}
		return top
	}
	push(1)
	push(2)
	for len(f) > 0 {
		i := pop()
		switch visit(s[i]) {
		case vTake:
			return s[i], true
		case vStop:
			return zero, false
		}
		push(2*i + 1)
		push(2*i + 2)
	}
	return zero, false
}

// timer is one pending deadline, owned by a call or an agent (one each).
type timer struct {
	at    time.Time
	seq   uint64
	idx   int // index in the timer heap, -1 when not armed
	call  *call
	agent *agent
}

func timerLess(a, b *timer) bool {
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.seq < b.seq
}

type timerHeap []*timer

func (h *timerHeap) push(t *timer) {
	t.idx = len(*h)
	*h = append(*h, t)
	h.up(t.idx)
}

func (h *timerHeap) remove(i int) {
	s := *h
	n := len(s) - 1
	t := s[i]
	if i != n {
		s[i] = s[n]
		s[i].idx = i
	}
	s[n] = nil
	*h = s[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	t.idx = -1
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !timerLess(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		h[i].idx, h[p].idx = i, p
		i = p
	}
}

func (h timerHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && timerLess(h[r], h[l]) {
			j = r
		}
		if !timerLess(h[j], h[i]) {
			break
		}
		h[i], h[j] = h[j], h[i]
		h[i].idx, h[j].idx = i, j
		i = j
	}
	return i > start
}
