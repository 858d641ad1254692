package mediacore_test

import (
	"context"
	"strings"
	"testing"

	"hotline/mediacore"
	"hotline/mediacore/mediafake"
)

// TestReachAcrossNodes: a user registered only on node b, rung near a
// caller on node a, is dialled on a at its registered contact (transport
// kept, other parameters dropped); registered on a too, a dials user/
// itself; unregistered everywhere, user/ goes to a unchanged; tel/ and
// sip: endpoints are never rewritten.
func TestReachAcrossNodes(t *testing.T) {
	cl := twoNodes(t, mediacore.Options{}, mediafake.Options{Name: "a", IDPrefix: "a"}, mediafake.Options{Name: "b", IDPrefix: "b"})
	ctx := context.Background()
	caller := cl.answerInbound(t, "a")
	originate := func(endpoint string) string {
		t.Helper()
		before := len(cl.fakes["a"].CallsOf("originate"))
		if _, err := cl.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: endpoint, Near: caller}); err != nil {
			t.Fatalf("originate %s: %v", endpoint, err)
		}
		calls := cl.fakes["a"].CallsOf("originate")
		if len(calls) != before+1 {
			t.Fatalf("originate %s did not reach node a: %v", endpoint, calls)
		}
		return calls[len(calls)-1].Arg
	}
	registered := func(f *mediafake.Fake, node, endpoint string) {
		t.Helper()
		cl.rec.wait(t, "registered "+endpoint+" on "+node, func(ev mediacore.Event) bool {
			return ev.Type == mediacore.EventEndpointRegistered && ev.Node == node && ev.Endpoint == endpoint
		})
	}
	if arg := originate("user/1002"); !strings.Contains(arg, "user/1002") {
		t.Errorf("unregistered user: originate %q", arg)
	}
	cl.fakes["b"].Register("user/1002", `"Li" <sip:1002@127.0.0.1:5062;transport=TCP;ob>`)
	registered(cl.fakes["b"], "b", "user/1002")
	if arg := originate("user/1002"); !strings.Contains(arg, "sip:1002@127.0.0.1:5062;transport=tcp") || strings.Contains(arg, ";ob") {
		t.Errorf("user registered on b only: originate on a %q, want its contact", arg)
	}
	cl.fakes["a"].Register("user/1002", "sip:1002@127.0.0.1:5064")
	registered(cl.fakes["a"], "a", "user/1002")
	if arg := originate("user/1002"); !strings.Contains(arg, "user/1002") {
		t.Errorf("user registered on a too: originate %q", arg)
	}
	cl.fakes["a"].Unregister("user/1002", "sip:1002@127.0.0.1:5064")
	cl.rec.wait(t, "unregistered on a", func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventEndpointUnregistered && ev.Node == "a"
	})
	if arg := originate("user/1002"); !strings.Contains(arg, "sip:1002@127.0.0.1:5062") {
		t.Errorf("user unregistered from a: originate %q, want b's contact", arg)
	}
	cl.fakes["b"].Unregister("user/1002", `"Li" <sip:1002@127.0.0.1:5062;transport=TCP;ob>`)
	cl.rec.wait(t, "unregistered on b", func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventEndpointUnregistered && ev.Node == "b"
	})
	if arg := originate("user/1002"); !strings.Contains(arg, "user/1002") {
		t.Errorf("user unregistered everywhere: originate %q", arg)
	}
	cl.fakes["b"].Register("user/1003", "sip:1003@127.0.0.1:5066")
	registered(cl.fakes["b"], "b", "user/1003")
	for _, ep := range []string{"tel/+8613900000000", "sip:1003@127.0.0.1:5070"} {
		if arg := originate(ep); !strings.Contains(arg, ep) {
			t.Errorf("%s: originate %q", ep, arg)
		}
	}
}
