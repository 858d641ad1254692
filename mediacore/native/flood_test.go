package native

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"hotline/internal/clock"
	"hotline/mediacore"
)

// rawInvite is an INVITE with an SDP offer from the socket at from.
func rawInvite(from net.Addr, to, callID string) []byte {
	sdp := "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE sip:100@%s SIP/2.0\r\n", to)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s;rport\r\n", from, callID)
	fmt.Fprintf(&b, "From: <sip:flood@127.0.0.1>;tag=%s\r\n", callID)
	fmt.Fprintf(&b, "To: <sip:100@%s>\r\n", to)
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n", callID)
	fmt.Fprintf(&b, "Contact: <sip:flood@%s>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", from, len(sdp), sdp)
	return []byte(b.String())
}

// answer is a final response read back by the flooder.
type answer struct {
	code       int
	retryAfter string
}

// flooder sends INVITEs from one UDP socket and never ACKs.
type flooder struct {
	t    *testing.T
	conn net.PacketConn
	to   string

	mu     sync.Mutex // guards finals
	finals map[string]answer
}

func newFlooder(t *testing.T, to string) *flooder {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &flooder{t: t, conn: c, to: to, finals: map[string]answer{}}
	t.Cleanup(func() { c.Close() })
	go f.read()
	return f
}

func (f *flooder) read() {
	buf := make([]byte, 65535)
	for {
		n, _, err := f.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		r := bufio.NewReader(bytes.NewReader(buf[:n]))
		status, _ := r.ReadString('\n')
		if !strings.HasPrefix(status, "SIP/2.0 ") || len(status) < 11 {
			continue
		}
		code, _ := strconv.Atoi(status[8:11])
		if code < 200 {
			continue
		}
		var a answer
		a.code = code
		id := ""
		for {
			l, err := r.ReadString('\n')
			l = strings.TrimRight(l, "\r\n")
			if name, v, ok := strings.Cut(l, ":"); ok {
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "call-id", "i":
					id = strings.TrimSpace(v)
				case "retry-after":
					a.retryAfter = strings.TrimSpace(v)
				}
			}
			if err != nil || l == "" {
				break
			}
		}
		f.mu.Lock()
		if _, seen := f.finals[id]; !seen {
			f.finals[id] = a
		}
		f.mu.Unlock()
	}
}

// invite sends one INVITE.
func (f *flooder) invite(callID string) {
	f.t.Helper()
	dst, _ := net.ResolveUDPAddr("udp", f.to)
	if _, err := f.conn.WriteTo(rawInvite(f.conn.LocalAddr(), f.to, callID), dst); err != nil {
		f.t.Fatal(err)
	}
}

// final waits for the final answer to callID.
func (f *flooder) final(callID string) answer {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		a, ok := f.finals[callID]
		f.mu.Unlock()
		if ok {
			return a
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatalf("no final answer to %s", callID)
	return answer{}
}

// rejecting starts a core on b whose controller refuses every inbound
// call with cause, as the daemon does before call routing exists; the
// errors of those Hangup calls are collected.
type rejecting struct {
	core *mediacore.Core
	mu   sync.Mutex // guards errs and created
	errs []error
	n    int
}

func startRejecting(t *testing.T, b *Backend, cause mediacore.Cause) *rejecting {
	t.Helper()
	r := &rejecting{}
	core, err := mediacore.New(b, mediacore.Options{Handler: func(ev mediacore.Event) {
		if ev.Type != mediacore.EventChannelCreated || ev.Direction != mediacore.Inbound {
			return
		}
		if cause == mediacore.CauseUnknown {
			r.mu.Lock()
			r.n++
			r.mu.Unlock()
			return // leave it ringing
		}
		// In the handler, with the daemon's 5 s bound.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := r.core.Hangup(ctx, ev.Channel, cause)
		r.mu.Lock()
		r.n++
		if err != nil {
			r.errs = append(r.errs, err)
		}
		r.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	r.core = core
	if err := core.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = core.Close() })
	return r
}

func (b *Backend) channelCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.channels)
}

// TestRefusedInviteFlood: INVITEs that are never ACKed, each refused 480
// by the controller. Each refusal returns at once (the transaction, not
// the call, waits for the ACK), so no Hangup runs into its deadline, and
// no channel is left behind.
func TestRefusedInviteFlood(t *testing.T) {
	b := newTestBackend(t, func(c *Config) { c.InviteRate = -1 })
	r := startRejecting(t, b, mediacore.CauseUnavailable)
	f := newFlooder(t, b.Addr().String())
	const calls = 40
	for i := range calls {
		f.invite(fmt.Sprintf("flood-%d", i))
	}
	for i := range calls {
		if a := f.final(fmt.Sprintf("flood-%d", i)); a.code != 480 {
			t.Fatalf("INVITE %d answered %d, want 480", i, a.code)
		}
	}
	waitFor(t, func() bool { return b.channelCount() == 0 }, "%d channels left after the refusals", b.channelCount())
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) != 0 {
		t.Errorf("%d of %d refusals failed, first: %v", len(r.errs), r.n, r.errs[0])
	}
}

// TestInviteRateLimit: beyond the per-source burst an INVITE gets 503 with
// Retry-After and creates no channel, until the bucket refills (virtual
// clock); a trunk's source is exempt.
func TestInviteRateLimit(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	b := newTestBackend(t, func(c *Config) {
		c.Clock = clk
		c.InviteRate, c.InviteBurst = 1, 3
	})
	r := startRejecting(t, b, mediacore.CauseBusy)
	f := newFlooder(t, b.Addr().String())
	for i := range 3 {
		f.invite(fmt.Sprintf("burst-%d", i))
		if a := f.final(fmt.Sprintf("burst-%d", i)); a.code != 486 {
			t.Fatalf("INVITE %d within the burst answered %d, want 486", i, a.code)
		}
	}
	for i := range 5 {
		f.invite(fmt.Sprintf("over-%d", i))
		if a := f.final(fmt.Sprintf("over-%d", i)); a.code != 503 || a.retryAfter != "1" {
			t.Fatalf("INVITE %d over the limit answered %d Retry-After %q, want 503 with Retry-After 1", i, a.code, a.retryAfter)
		}
	}
	if got := testutil.ToFloat64(b.m.dropped.WithLabelValues(dropInviteRate)); got != 5 {
		t.Errorf("invite_rate drops %v, want 5", got)
	}
	r.mu.Lock()
	if r.n != 3 {
		t.Errorf("%d channels created, want 3 (refused INVITEs build none)", r.n)
	}
	r.mu.Unlock()
	clk.Advance(time.Second)
	f.invite("refilled")
	if a := f.final("refilled"); a.code != 486 {
		t.Fatalf("INVITE after a second answered %d, want 486", a.code)
	}

	t.Run("trunk source is exempt", func(t *testing.T) {
		b := newTestBackend(t, func(c *Config) {
			c.Clock = clk
			c.InviteRate, c.InviteBurst = 1, 1
			c.AllowUnknownSources = false
			c.Trunks = []Trunk{{Name: "carrier", Address: "127.0.0.9:5060", InboundFrom: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}}
		})
		startRejecting(t, b, mediacore.CauseBusy)
		f := newFlooder(t, b.Addr().String())
		for i := range 5 {
			f.invite(fmt.Sprintf("trunk-%d", i))
			if a := f.final(fmt.Sprintf("trunk-%d", i)); a.code != 486 {
				t.Fatalf("trunk INVITE %d answered %d, want 486", i, a.code)
			}
		}
	})
}

// TestInviteInFlightBound: with two calls in setup, a third INVITE gets
// 503 with Retry-After; once one of them ends, INVITEs are admitted again.
func TestInviteInFlightBound(t *testing.T) {
	b := newTestBackend(t, func(c *Config) { c.InviteRate, c.MaxInvites = -1, 2 })
	r := startRejecting(t, b, mediacore.CauseUnknown)
	f := newFlooder(t, b.Addr().String())
	f.invite("ring-1")
	f.invite("ring-2")
	waitFor(t, func() bool { return b.channelCount() == 2 }, "the two calls did not reach setup")
	f.invite("third")
	if a := f.final("third"); a.code != 503 || a.retryAfter == "" {
		t.Fatalf("third INVITE answered %d Retry-After %q, want 503 with Retry-After", a.code, a.retryAfter)
	}
	if got := testutil.ToFloat64(b.m.dropped.WithLabelValues(dropInviteLimit)); got != 1 {
		t.Errorf("invite_limit drops %v, want 1", got)
	}
	var first mediacore.ChannelID
	b.mu.Lock()
	for id := range b.channels {
		first = id
		break
	}
	b.mu.Unlock()
	if err := r.core.Hangup(context.Background(), first, mediacore.CauseBusy); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return b.channelCount() == 1 }, "the hung-up call is still there")
	// The slot is released when the refused INVITE's handler returns,
	// which may be a moment after the channel is gone.
	waitFor(t, func() bool { return b.gate.inFlight.Load() == 1 }, "the ended call's INVITE slot was not released")
	f.invite("after")
	waitFor(t, func() bool { return b.channelCount() == 2 }, "the INVITE after a call ended was not admitted")
}
