package api

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"hotline/acd"
	"hotline/controller"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/internal/clock"
	"hotline/mediacore"
)

// liveEnv is an API over a controller with a virtual ACD clock, a media
// core and a record of the ACD's events: what a REST change does to the
// live parts is observable.
type liveEnv struct {
	*env
	clk    *clock.Fake
	mu     sync.Mutex
	events []acd.Event
	media  *trunkBackend
}

func newLiveEnv(t *testing.T) *liveEnv {
	t.Helper()
	fc := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	le := &liveEnv{clk: clock.NewFake(fc.Now()), media: &trunkBackend{got: make(chan []mediacore.TrunkConfig, 16)}}
	core, err := mediacore.New(le.media, mediacore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = core.Close() })
	st := memstore.New(fc.Now)
	ctl := newController(t, st, func(o *controller.Options) {
		o.Clock = le.clk
		o.Media = core
		o.OnACDEvents = func(evs []acd.Event) {
			le.mu.Lock()
			le.events = append(le.events, evs...)
			le.mu.Unlock()
		}
	})
	srv, err := New(Options{Controller: ctl, Now: fc.Now, BcryptCost: 4, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureBootstrapToken(context.Background(), ctl, adminSecret, fc.Now()); err != nil {
		t.Fatal(err)
	}
	le.env = &env{t: t, srv: srv, h: srv.Handler(), st: st, ctl: ctl, mem: st, clock: fc}
	return le
}

// offers returns the agents offered call, in order.
func (le *liveEnv) offers(call acd.CallID) []acd.AgentID {
	le.mu.Lock()
	defer le.mu.Unlock()
	var out []acd.AgentID
	for _, ev := range le.events {
		if ev.Kind == acd.EventOffer && ev.Call == call {
			out = append(out, ev.Agent)
		}
	}
	return out
}

// TestQueueStrategyChangeRoutesNextCall: a queue's strategy changed over
// REST is the strategy of the next routing decision. Agent a is first in
// the member order (top-down picks it); agent b has been idle longer
// (longest-idle picks it).
func TestQueueStrategyChangeRoutesNextCall(t *testing.T) {
	for _, tc := range []struct {
		name      string
		change    string // strategy PUT before the call; "" keeps top-down
		wantFirst bool   // a is offered (else b)
	}{
		{name: "unchanged top-down offers the first member", wantFirst: true},
		{name: "changed to longest-idle offers the longest idle", change: "longest-idle"},
		{name: "changed away and back to top-down", change: "top-down", wantFirst: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			le := newLiveEnv(t)
			ctx := t.Context()
			var a, b store.Agent
			le.admin("POST", "/api/v1/agents", map[string]any{"name": "A", "extension": "1001"}, http.StatusCreated, &a)
			le.admin("POST", "/api/v1/agents", map[string]any{"name": "B", "extension": "1002"}, http.StatusCreated, &b)
			var q store.Queue
			le.admin("POST", "/api/v1/queues", map[string]any{"name": "sales", "strategy": "top-down",
				"members": []map[string]any{{"agent_id": a.ID}, {"agent_id": b.ID}}}, http.StatusCreated, &q)
			if tc.change == "top-down" {
				q.Strategy = "longest-idle"
				le.admin("PUT", "/api/v1/queues/"+q.ID, q, http.StatusOK, &q)
			}
			if tc.change != "" {
				q.Strategy = store.Strategy(tc.change)
				le.admin("PUT", "/api/v1/queues/"+q.ID, q, http.StatusOK, &q)
			}
			acdq := le.ctl.ACD()
			for _, id := range []string{b.ID, a.ID} { // b logs in first: idle longer
				if err := acdq.Login(ctx, acd.AgentID(id), acd.Origin{}); err != nil {
					t.Fatal(err)
				}
				if err := acdq.SetReady(ctx, acd.AgentID(id), acd.Origin{}); err != nil {
					t.Fatal(err)
				}
				le.clk.Advance(time.Second)
			}
			if err := acdq.EnqueueCall(ctx, acd.Call{ID: "c1", Queue: acd.QueueID(q.ID)}); err != nil {
				t.Fatal(err)
			}
			// EnqueueCall returns after the owner published the decision.
			want := acd.AgentID(b.ID)
			if tc.wantFirst {
				want = acd.AgentID(a.ID)
			}
			if got := le.offers("c1"); !slices.Equal(got, []acd.AgentID{want}) {
				t.Fatalf("offered to %v, want %v (a=%s b=%s)", got, want, a.ID, b.ID)
			}
		})
	}
}

// trunkBackend is a media backend that only takes trunks: the unit-level
// stand-in for a node that implements mediacore.TrunkConfigurer. Any
// other call panics (the embedded nil Backend).
type trunkBackend struct {
	mediacore.Backend
	got chan []mediacore.TrunkConfig
}

func (b *trunkBackend) Name() string                                       { return "trunks-only" }
func (b *trunkBackend) Start(context.Context, func(mediacore.Event)) error { return nil }
func (b *trunkBackend) Close() error                                       { return nil }
func (b *trunkBackend) SetTrunks(_ context.Context, ts []mediacore.TrunkConfig) error {
	b.got <- slices.Clone(ts)
	return nil
}

var _ mediacore.TrunkConfigurer = (*trunkBackend)(nil)

// TestTrunkOverRESTReachesMediaCore: a trunk created, changed and deleted
// over REST is handed to the media core's backend before the answer.
func TestTrunkOverRESTReachesMediaCore(t *testing.T) {
	le := newLiveEnv(t)
	next := func(what string) []mediacore.TrunkConfig {
		t.Helper()
		// The controller hands the trunks over before the 2xx: they are
		// already there.
		select {
		case ts := <-le.media.got:
			return ts
		default:
			t.Fatalf("%s: the backend got no trunks before the answer", what)
			return nil
		}
	}
	// The stored trunks (none) at start.
	if ts := next("start"); len(ts) != 0 {
		t.Fatalf("at start: %+v", ts)
	}
	var tr store.Trunk
	le.admin("POST", "/api/v1/trunks", map[string]any{"name": "carrier", "host": "127.0.0.1", "port": 5070,
		"username": "hotline", "password": "secret", "register": true}, http.StatusCreated, &tr)
	ts := next("create")
	if len(ts) != 1 || ts[0].Name != "carrier" || ts[0].Address != "127.0.0.1:5070" || !ts[0].Register ||
		ts[0].Username != "hotline" || ts[0].Password != "secret" || ts[0].Disabled {
		t.Fatalf("after create: %+v", ts)
	}
	tr.Enabled = false
	le.admin("PUT", "/api/v1/trunks/"+tr.ID, tr, http.StatusOK, &tr)
	if ts := next("update"); len(ts) != 1 || !ts[0].Disabled || ts[0].Password != "secret" {
		t.Fatalf("after update: %+v", ts)
	}
	le.admin("DELETE", "/api/v1/trunks/"+tr.ID+"?version=2", nil, http.StatusNoContent, nil)
	if ts := next("delete"); len(ts) != 0 {
		t.Fatalf("after delete: %+v", ts)
	}
}
