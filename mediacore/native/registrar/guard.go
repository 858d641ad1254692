package registrar

import (
	"container/list"
	"sync"
	"time"
)

// guard blocks sources that fail authentication too often: more than
// maxFailures failures within window block the source for blockFor. It
// tracks at most maxSources sources, evicting the least recently active.
type guard struct {
	maxFailures int
	window      time.Duration
	blockFor    time.Duration
	maxSources  int

	// mu guards sources and lru.
	mu      sync.Mutex
	sources map[string]*list.Element // of *sourceState
	lru     *list.List               // front = most recently active
}

type sourceState struct {
	ip string
	// fails holds the times of the most recent failures, oldest first,
	// at most maxFailures+1 of them: enough to see whether the latest
	// maxFailures+1 fit in the window (an exact sliding window).
	fails        []time.Time
	blockedUntil time.Time
}

func newGuard(maxFailures int, window, blockFor time.Duration, maxSources int) *guard {
	return &guard{
		maxFailures: maxFailures, window: window, blockFor: blockFor, maxSources: maxSources,
		sources: make(map[string]*list.Element), lru: list.New(),
	}
}

// blocked reports whether ip is blocked at now.
func (g *guard) blocked(ip string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.sources[ip]
	if !ok {
		return false
	}
	s := e.Value.(*sourceState)
	if now.Before(s.blockedUntil) {
		g.lru.MoveToFront(e)
		return true
	}
	return false
}

// fail records a failed authentication from ip and reports whether the
// source is now blocked.
func (g *guard) fail(ip string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	var s *sourceState
	if e, ok := g.sources[ip]; ok {
		g.lru.MoveToFront(e)
		s = e.Value.(*sourceState)
	} else {
		for g.lru.Len() >= g.maxSources {
			old := g.lru.Back()
			g.lru.Remove(old)
			delete(g.sources, old.Value.(*sourceState).ip)
		}
		s = &sourceState{ip: ip, fails: make([]time.Time, 0, g.maxFailures+1)}
		g.sources[ip] = g.lru.PushFront(s)
	}
	if now.Before(s.blockedUntil) {
		return true
	}
	if len(s.fails) == g.maxFailures+1 {
		copy(s.fails, s.fails[1:])
		s.fails = s.fails[:g.maxFailures]
	}
	s.fails = append(s.fails, now)
	if len(s.fails) == g.maxFailures+1 && now.Sub(s.fails[0]) <= g.window {
		s.blockedUntil = now.Add(g.blockFor)
		s.fails = s.fails[:0]
		return true
	}
	return false
}

// sweep forgets sources that are neither blocked nor have failures inside
// the window at now.
func (g *guard) sweep(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for ip, e := range g.sources {
		s := e.Value.(*sourceState)
		if now.Before(s.blockedUntil) {
			continue
		}
		if n := len(s.fails); n > 0 && now.Sub(s.fails[n-1]) <= g.window {
			continue
		}
		g.lru.Remove(e)
		delete(g.sources, ip)
	}
}

// tracked returns the number of tracked sources.
func (g *guard) tracked() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sources)
}

// list returns the sources blocked at now.
func (g *guard) list(now time.Time) []Block {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Block
	for ip, e := range g.sources {
		if s := e.Value.(*sourceState); now.Before(s.blockedUntil) {
			out = append(out, Block{Kind: "burst", Source: ip, Until: s.blockedUntil, Count: 1})
		}
	}
	return out
}

// clear unblocks ip and forgets its failures; it reports whether a block
// was in force.
func (g *guard) clear(ip string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.sources[ip]
	if !ok {
		return false
	}
	was := now.Before(e.Value.(*sourceState).blockedUntil)
	g.lru.Remove(e)
	delete(g.sources, ip)
	return was
}
