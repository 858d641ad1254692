package registrar

import (
	"container/list"
	"slices"
	"strings"
	"sync"
	"time"
)

// Budget is a failure budget over a long window, against slow password
// guessing that stays under the burst guard (WithBlocking): more than
// Failures failed authentications within Window block the key for Block,
// and each further block of the same key within ForgetAfter of the last
// one doubles the period, up to MaxBlock.
type Budget struct {
	Failures    int
	Window      time.Duration
	Block       time.Duration
	MaxBlock    time.Duration
	ForgetAfter time.Duration
}

func (b Budget) valid() bool {
	return b.Failures >= 1 && b.Window > 0 && b.Block > 0 && b.MaxBlock >= b.Block && b.ForgetAfter > 0
}

// Block is a refusal in force, for administrators (GET /api/v1/sip/blocks).
type Block struct {
	// Kind is "burst" (many failures within seconds, WithBlocking),
	// "user" (one user's budget from one source, WithUserBudget) or
	// "source" (a source's budget over all users, WithSourceBudget).
	Kind string `json:"kind"`
	// User is the digest username for Kind "user", else "".
	User string `json:"user,omitempty"`
	// Source is the IP address refused.
	Source string    `json:"source"`
	Until  time.Time `json:"until"`
	// Count is how many times in a row this key was blocked (the period
	// doubles each time).
	Count int `json:"count"`
}

// budgetKey is one user from one source, or (user "") a whole source.
type budgetKey struct{ user, ip string }

type budgetState struct {
	key          budgetKey
	fails        []time.Time // failures inside the window, oldest first
	blockedUntil time.Time
	blocks       int       // consecutive blocks, for the doubling
	lastBlock    time.Time // start of the last block
}

// budget enforces one Budget per key. It tracks at most maxKeys keys,
// evicting the least recently active (blocked keys are kept first).
type budget struct {
	cfg     Budget
	kind    string
	maxKeys int

	// mu guards keys and lru.
	mu   sync.Mutex
	keys map[budgetKey]*list.Element // of *budgetState
	lru  *list.List                  // front = most recently active
}

func newBudget(kind string, cfg Budget, maxKeys int) *budget {
	return &budget{cfg: cfg, kind: kind, maxKeys: maxKeys, keys: map[budgetKey]*list.Element{}, lru: list.New()}
}

// blocked reports whether k is refused at now.
func (b *budget) blocked(k budgetKey, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.keys[k]
	return ok && now.Before(e.Value.(*budgetState).blockedUntil)
}

// fail records a failure of k at now and returns the end of the block it
// started, or the zero time.
func (b *budget) fail(k budgetKey, now time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s *budgetState
	if e, ok := b.keys[k]; ok {
		b.lru.MoveToFront(e)
		s = e.Value.(*budgetState)
	} else {
		b.evict(now)
		s = &budgetState{key: k}
		b.keys[k] = b.lru.PushFront(s)
	}
	if now.Before(s.blockedUntil) {
		return time.Time{}
	}
	cut := 0
	for cut < len(s.fails) && now.Sub(s.fails[cut]) > b.cfg.Window {
		cut++
	}
	s.fails = append(s.fails[cut:], now)
	if len(s.fails) <= b.cfg.Failures {
		return time.Time{}
	}
	if s.blocks > 0 && now.Sub(s.lastBlock) > b.cfg.ForgetAfter {
		s.blocks = 0
	}
	d := b.cfg.Block
	for i := 0; i < s.blocks && d < b.cfg.MaxBlock; i++ {
		d *= 2
	}
	d = min(d, b.cfg.MaxBlock)
	s.blocks++
	s.lastBlock = now
	s.blockedUntil = now.Add(d)
	s.fails = s.fails[:0]
	return s.blockedUntil
}

// evict makes room for one key: an idle key goes first, then the least
// recently active.
func (b *budget) evict(now time.Time) {
	for b.lru.Len() >= b.maxKeys {
		victim := b.lru.Back()
		for e := b.lru.Back(); e != nil; e = e.Prev() {
			if !now.Before(e.Value.(*budgetState).blockedUntil) {
				victim = e
				break
			}
		}
		b.lru.Remove(victim)
		delete(b.keys, victim.Value.(*budgetState).key)
	}
}

// sweep forgets keys with no block in force, no failure inside the window
// and no block to remember for the doubling.
func (b *budget) sweep(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, e := range b.keys {
		s := e.Value.(*budgetState)
		active := now.Before(s.blockedUntil) ||
			len(s.fails) > 0 && now.Sub(s.fails[len(s.fails)-1]) <= b.cfg.Window ||
			s.blocks > 0 && now.Sub(s.lastBlock) <= b.cfg.ForgetAfter
		if !active {
			b.lru.Remove(e)
			delete(b.keys, k)
		}
	}
}

// list returns the blocks in force at now.
func (b *budget) list(now time.Time) []Block {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Block
	for _, e := range b.keys {
		s := e.Value.(*budgetState)
		if now.Before(s.blockedUntil) {
			out = append(out, Block{Kind: b.kind, User: s.key.user, Source: s.key.ip, Until: s.blockedUntil, Count: s.blocks})
		}
	}
	return out
}

// clear lifts the blocks of source (of every user when user is ""), and
// forgets their history; it returns how many blocks were in force.
func (b *budget) clear(source, user string, now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for k, e := range b.keys {
		if k.ip != source || user != "" && k.user != user {
			continue
		}
		if now.Before(e.Value.(*budgetState).blockedUntil) {
			n++
		}
		b.lru.Remove(e)
		delete(b.keys, k)
	}
	return n
}

// sortBlocks orders blocks by source, then kind, then user.
func sortBlocks(bs []Block) {
	slices.SortFunc(bs, func(a, c Block) int {
		if d := strings.Compare(a.Source, c.Source); d != 0 {
			return d
		}
		if d := strings.Compare(a.Kind, c.Kind); d != 0 {
			return d
		}
		return strings.Compare(a.User, c.User)
	})
}
