package freeswitch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"hotline/internal/testenv"
	"hotline/mediacore"
	"hotline/mediacore/mediatest/sippeer"
)

// TestTwoNodes drives two real FreeSWITCH instances under one Core:
// originations spread by load, Near keeps a leg on its caller's node, and
// a node killed with SIGKILL mid-call has its calls ended with
// CauseNodeLost while new calls go to the survivor.
func TestTwoNodes(t *testing.T) {
	if os.Getenv("HOTLINE_TEST_FREESWITCH") != "" {
		t.Skip("uses peers.sh instances of its own (HOTLINE_TEST_FREESWITCH names one switch)")
	}
	a := mainSwitch(t)
	bIn, err := startSwitch("b")
	if err != nil {
		testenv.Unavailable(t, "second FreeSWITCH: "+err.Error())
	}
	nodeA, err := New(a.config())
	if err != nil {
		t.Fatal(err)
	}
	cfgB := bIn.config()
	cfgB.RedialMax = 500 * time.Millisecond
	nodeB, err := New(cfgB)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []mediacore.Event
	core, err := mediacore.NewNodes([]mediacore.Node{{Name: "fsa", Backend: nodeA}, {Name: "fsb", Backend: nodeB}},
		mediacore.Options{NodeLostAfter: 2 * time.Second, Handler: func(ev mediacore.Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	waitEv := func(what string, pred func(mediacore.Event) bool) mediacore.Event {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			for _, ev := range events {
				if pred(ev) {
					mu.Unlock()
					return ev
				}
			}
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for %s", what)
		return mediacore.Event{}
	}
	phone := func(user string) *sippeer.Phone {
		p, err := sippeer.New(sippeer.Config{User: user})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	nodeOf := func(id mediacore.ChannelID) string {
		return waitEv("created "+string(id), func(ev mediacore.Event) bool {
			return ev.Channel == id && ev.Type == mediacore.EventChannelCreated
		}).Node
	}

	// Spread by load: four calls to phones, two on each node.
	perNode := map[string][]mediacore.ChannelID{}
	for i := range 4 {
		p := phone(fmt.Sprintf("90%02d", i))
		id, err := core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "sip:" + fmt.Sprintf("90%02d", i) + "@" + p.Addr(), Timeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("originate %d: %v", i, err)
		}
		waitEv("answered", func(ev mediacore.Event) bool { return ev.Channel == id && ev.Type == mediacore.EventAnswered })
		n := nodeOf(id)
		perNode[n] = append(perNode[n], id)
	}
	if len(perNode["fsa"]) != 2 || len(perNode["fsb"]) != 2 {
		t.Errorf("calls per node %v, want 2 and 2", perNode)
	}

	// Near: a leg for a call that came in on fsb is placed on fsb.
	caller := phone("2900")
	res := caller.DialAsync(ctx, "sip:777@"+bIn.sip)
	in := waitEv("inbound on fsb", func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventChannelCreated && ev.Called == "777"
	})
	if in.Node != "fsb" {
		t.Errorf("inbound call on %s", in.Node)
	}
	if err := core.Answer(ctx, in.Channel); err != nil {
		t.Fatal(err)
	}
	<-res
	pn := phone("9100")
	near, err := core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "sip:9100@" + pn.Addr(), Near: in.Channel, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if n := nodeOf(near); n != "fsb" {
		t.Errorf("Near leg on %s, want fsb", n)
	}

	// SIGKILL fsb mid-call.
	if err := syscall.Kill(bIn.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	lost := append(append([]mediacore.ChannelID{}, perNode["fsb"]...), in.Channel, near)
	for _, id := range lost {
		ev := waitEv("node-lost hangup of "+string(id), func(ev mediacore.Event) bool {
			return ev.Channel == id && ev.Type == mediacore.EventHangup
		})
		if ev.Cause != mediacore.CauseNodeLost {
			t.Errorf("%s ended with %v, want node_lost", id, ev.Cause)
		}
	}
	for _, id := range perNode["fsa"] {
		mu.Lock()
		for _, ev := range events {
			if ev.Channel == id && ev.Type == mediacore.EventHangup {
				t.Errorf("call %s on the surviving node ended", id)
			}
		}
		mu.Unlock()
	}
	// New calls go to the survivor.
	for i := range 2 {
		p := phone(fmt.Sprintf("92%02d", i))
		id, err := core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "sip:92@" + p.Addr(), Timeout: 10 * time.Second})
		if err != nil {
			t.Fatalf("originate after the loss: %v", err)
		}
		if n := nodeOf(id); n != "fsa" {
			t.Errorf("new call on %s after fsb died", n)
		}
	}
	// Pinned to the dead node: refused at once.
	if _, err := core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "sip:93@127.0.0.1:9", Node: "fsb"}); !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Errorf("originate on the dead node: %v", err)
	}
}
