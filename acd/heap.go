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

// heapElem is what an indexedHeap holds: a pointer that knows its own
// index in the heap (-1 when out of it) and how it orders against another.
type heapElem[E any] interface {
	setHeapIndex(i int)
	heapLess(other E) bool
}

// indexedHeap is a binary min-heap whose elements carry their index, so an
// arbitrary element can be removed in O(log n).
type indexedHeap[E heapElem[E]] []E

func (h *indexedHeap[E]) push(e E) {
	e.setHeapIndex(len(*h))
	*h = append(*h, e)
	h.up(len(*h) - 1)
}

func (h *indexedHeap[E]) remove(i int) {
	s := *h
	n := len(s) - 1
	e := s[i]
	if i != n {
		s[i] = s[n]
		s[i].setHeapIndex(i)
	}
	var zero E
	s[n] = zero
	*h = s[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	e.setHeapIndex(-1)
}

func (h indexedHeap[E]) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].setHeapIndex(i)
	h[j].setHeapIndex(j)
}

func (h indexedHeap[E]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].heapLess(h[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h indexedHeap[E]) down(i int) bool {
	start := i
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && h[r].heapLess(h[l]) {
			j = r
		}
		if !h[j].heapLess(h[i]) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > start
}

// memberHeap holds the ready members of one bucket, best first.
type memberHeap = indexedHeap[*member]

func (m *member) setHeapIndex(i int)          { m.hidx = i }
func (m *member) heapLess(other *member) bool { return memberLess(m, other) }

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

// callHeap holds the calls of one list, oldest first.
type callHeap = indexedHeap[*call]

func (c *call) setHeapIndex(i int)        { c.hidx = i }
func (c *call) heapLess(other *call) bool { return callLess(c, other) }

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
