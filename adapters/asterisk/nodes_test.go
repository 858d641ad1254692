package asterisk

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hotline/mediacore"
	"hotline/mediacore/mediatest/sippeer"
)

// Two real Asterisk nodes under one Core: originations spread by load,
// Near keeps a leg on its caller's node, a node killed with SIGKILL
// mid-call ends its calls with CauseNodeLost while new calls go to the
// survivor, and the node restarted is redialled and reconciled
// (BackendUp).
func TestTwoNodes(t *testing.T) {
	n1 := asterisk(t, "n1")
	n2 := asterisk(t, "n2")
	var mu sync.Mutex
	var evs []mediacore.Event
	notify := make(chan struct{}, 1)
	handler := func(ev mediacore.Event) {
		mu.Lock()
		evs = append(evs, ev)
		mu.Unlock()
		select {
		case notify <- struct{}{}:
		default:
		}
	}
	wait := func(what string, pred func(mediacore.Event) bool) mediacore.Event {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			mu.Lock()
			cp := append([]mediacore.Event(nil), evs...)
			mu.Unlock()
			for _, ev := range cp {
				if pred(ev) {
					return ev
				}
			}
			select {
			case <-notify:
			case <-time.After(100 * time.Millisecond):
			case <-deadline:
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	mk := func(in *instance, name string) *Backend {
		b, err := New(in.config(), name, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	core, err := mediacore.NewNodes([]mediacore.Node{{Name: "ast1", Backend: mk(n1, "ast1")}, {Name: "ast2", Backend: mk(n2, "ast2")}},
		mediacore.Options{Handler: handler, NodeLostAfter: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer core.Close()

	// The same agent registered on both nodes.
	agents := map[string]*sippeer.Phone{}
	for _, in := range []*instance{n1, n2} {
		p, err := sippeer.New(sippeer.Config{User: "1001"})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if code, err := p.Register(ctx, in.sipAddr, agentPassword, 300); err != nil || code != 200 {
			t.Fatalf("register on %s: %d %v", in.name, code, err)
		}
		agents[in.name] = p
	}

	nodeOf := func(id mediacore.ChannelID) string {
		return wait("created "+string(id), func(ev mediacore.Event) bool {
			return ev.Channel == id && ev.Type == mediacore.EventChannelCreated
		}).Node
	}
	answered := func(id mediacore.ChannelID) {
		wait("answered "+string(id), func(ev mediacore.Event) bool { return ev.Channel == id && ev.Type == mediacore.EventAnswered })
	}
	// Spread by load: two calls, two nodes.
	used := map[string]bool{}
	for range 2 {
		id, err := core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1001", Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		answered(id)
		used[nodeOf(id)] = true
	}
	if !used["ast1"] || !used["ast2"] {
		t.Errorf("two originations on nodes %v, want both", used)
	}

	// Near: a caller on ast2, its agent leg on ast2 too.
	caller, err := sippeer.New(sippeer.Config{User: "2000"})
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	res := caller.DialAsync(ctx, "sip:100@"+n2.sipAddr)
	in := wait("inbound on ast2", func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventChannelCreated && ev.Direction == mediacore.Inbound
	})
	if in.Node != "ast2" {
		t.Fatalf("inbound call on %s", in.Node)
	}
	if err := core.Answer(ctx, in.Channel); err != nil {
		t.Fatal(err)
	}
	if r := <-res; r.Err != nil {
		t.Fatal(r.Err)
	}
	near, err := core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1001", Near: in.Channel, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if n := nodeOf(near); n != "ast2" {
		t.Errorf("Near leg on %s, want ast2", n)
	}
	answered(near)

	// SIGKILL ast2 mid-call.
	if err := syscall.Kill(n2.pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d: %v", n2.pid, err)
	}
	wait("ast2 down", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendDown && ev.Node == "ast2" })
	for _, id := range []mediacore.ChannelID{in.Channel, near} {
		ev := wait("lost "+string(id), func(ev mediacore.Event) bool { return ev.Channel == id && ev.Type == mediacore.EventHangup })
		if ev.Cause != mediacore.CauseNodeLost {
			t.Errorf("%s ended %v, want node_lost", id, ev.Cause)
		}
	}
	for range 2 {
		id, err := core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1001", Timeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("originate with ast2 down: %v", err)
		}
		if n := nodeOf(id); n != "ast1" {
			t.Errorf("new call on %s while ast2 is down", n)
		}
		answered(id)
	}

	// Asterisk comes back on the same ports: redial, reconcile, BackendUp.
	port := func(addr string) int {
		var p int
		fmt.Sscan(addr[strings.LastIndexByte(addr, ':')+1:], &p)
		return p
	}
	var httpPort int
	fmt.Sscanf(n2.url, "http://127.0.0.1:%d/ari", &httpPort)
	back, err := startAsterisk(t, n2.name, port(n2.sipAddr), httpPort)
	if err != nil {
		t.Fatal(err)
	}
	peers.mu.Lock()
	n2.pid = back.pid
	peers.mu.Unlock()
	ups := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, ev := range evs {
			if ev.Type == mediacore.EventBackendUp && ev.Node == "ast2" {
				n++
			}
		}
		return n
	}
	wait("ast2 up again", func(mediacore.Event) bool { return ups() >= 2 })
	nodes := core.Nodes()
	for _, n := range nodes {
		if !n.Up {
			t.Errorf("node %+v not up after restart", n)
		}
	}
}
