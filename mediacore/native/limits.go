package native

import (
	"math"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"hotline/internal/clock"
)

// Defaults of the INVITE limits (Config.InviteRate, InviteBurst,
// MaxInvites). A phone or a PBX places a few calls a second at most; a
// flood from one address is refused long before it costs anything.
const (
	DefaultInviteRate  = 5.0
	DefaultInviteBurst = 20
	DefaultMaxInvites  = 1000
)

// maxRateSources bounds the per-source buckets kept; beyond it idle (full)
// buckets are dropped first, then any.
const maxRateSources = 16384

// rateLimiter is a token bucket per source address.
type rateLimiter struct {
	clk   clock.Clock
	rate  float64 // tokens per second
	burst float64

	mu      sync.Mutex // guards buckets
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(clk clock.Clock, rate float64, burst int) *rateLimiter {
	return &rateLimiter{clk: clk, rate: rate, burst: float64(burst), buckets: map[netip.Addr]*bucket{}}
}

// allow takes a token of ip's bucket. When there is none it returns false
// and how long until one is there.
func (l *rateLimiter) allow(ip netip.Addr) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clk.Now()
	b := l.buckets[ip]
	if b == nil {
		if len(l.buckets) >= maxRateSources {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[ip] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// prune drops full buckets (their sources are idle), and if none is full,
// half of them.
func (l *rateLimiter) prune(now time.Time) {
	for ip, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, ip)
		}
	}
	for ip := range l.buckets {
		if len(l.buckets) < maxRateSources/2 {
			break
		}
		delete(l.buckets, ip)
	}
}

// inviteGate decides, before anything is allocated, whether a new INVITE
// may proceed: at most max in progress, and at most the rate per source.
type inviteGate struct {
	limiter  *rateLimiter // nil: no per-source limit
	max      int64
	inFlight atomic.Int64
}

// enter admits an INVITE from src (trunk sources skip the rate limit). It
// returns the Retry-After of a refusal, or 0 and a release func to call
// when the INVITE is answered.
func (g *inviteGate) enter(src netip.Addr, trunk bool) (retry time.Duration, reason string, release func()) {
	if n := g.inFlight.Add(1); n > g.max {
		g.inFlight.Add(-1)
		return time.Second, dropInviteLimit, nil
	}
	if g.limiter != nil && !trunk {
		if ok, wait := g.limiter.allow(src); !ok {
			g.inFlight.Add(-1)
			return max(wait, time.Second), dropInviteRate, nil
		}
	}
	return 0, "", func() { g.inFlight.Add(-1) }
}

// refuseBusy answers 503 with Retry-After (RFC 3261 §21.5.4, §20.33), in
// whole seconds rounded up.
func refuseBusy(tx sip.ServerTransaction, req *sip.Request, retry time.Duration) {
	res := sip.NewResponseFromRequest(req, sip.StatusServiceUnavailable, "Service Unavailable", nil)
	res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds())))))
	_ = tx.Respond(res)
}
