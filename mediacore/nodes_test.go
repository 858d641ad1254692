package mediacore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hotline/internal/clock"
	"hotline/mediacore"
	"hotline/mediacore/mediafake"
)

// recorder collects the events a Core hands its Handler and lets a test
// wait for one.
type recorder struct {
	mu   sync.Mutex
	cond *sync.Cond
	evs  []mediacore.Event
}

func newRecorder() *recorder {
	r := &recorder{}
	r.cond = sync.NewCond(&r.mu)
	return r
}

func (r *recorder) handle(ev mediacore.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	r.cond.Broadcast()
}

func (r *recorder) all() []mediacore.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evs)
}

// wait returns the first event matching ok, waiting up to 10 s.
func (r *recorder) wait(t *testing.T, what string, ok func(mediacore.Event) bool) mediacore.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	timer := time.AfterFunc(10*time.Second, r.cond.Broadcast)
	defer timer.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		for _, ev := range r.evs {
			if ok(ev) {
				return ev
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event; got %v", what, summary(r.evs))
		}
		r.cond.Wait()
	}
}

func (r *recorder) channel(ch mediacore.ChannelID) []mediacore.Event {
	var out []mediacore.Event
	for _, ev := range r.all() {
		if ev.Channel == ch {
			out = append(out, ev)
		}
	}
	return out
}

func summary(evs []mediacore.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "[%s %s@%s %s] ", ev.Type, ev.Channel, ev.Node, ev.Cause)
	}
	return b.String()
}

func is(typ mediacore.EventType, ch mediacore.ChannelID) func(mediacore.Event) bool {
	return func(ev mediacore.Event) bool { return ev.Type == typ && (ch == "" || ev.Channel == ch) }
}

// cluster is a Core over several fakes on one virtual clock.
type cluster struct {
	core  *mediacore.Core
	clk   *clock.Fake
	fakes map[string]*mediafake.Fake
	rec   *recorder

	mu   sync.Mutex
	seen map[mediacore.ChannelID]bool // channels answerInbound handed out
}

type nodeSpec struct {
	name string
	opts mediafake.Options
}

func newCluster(t *testing.T, opts mediacore.Options, specs ...nodeSpec) *cluster {
	t.Helper()
	cl := &cluster{clk: clock.NewFake(time.Time{}), fakes: map[string]*mediafake.Fake{}, rec: newRecorder()}
	var nodes []mediacore.Node
	for _, s := range specs {
		s.opts.Clock = cl.clk
		f := mediafake.New(s.opts)
		cl.fakes[s.name] = f
		nodes = append(nodes, mediacore.Node{Name: s.name, Backend: f.Backend()})
	}
	opts.Clock = cl.clk
	opts.Handler = cl.rec.handle
	if opts.CommandTimeout == 0 {
		opts.CommandTimeout = 5 * time.Second
	}
	c, err := mediacore.NewNodes(nodes, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	cl.core = c
	t.Cleanup(func() {
		_ = c.Close()
		for _, ev := range cl.rec.all() {
			if ev.Node == "" {
				t.Errorf("event without Node: %+v", ev)
			}
		}
	})
	return cl
}

func twoNodes(t *testing.T, opts mediacore.Options, a, b mediafake.Options) *cluster {
	return newCluster(t, opts, nodeSpec{"a", a}, nodeSpec{"b", b})
}

// answerInbound starts an inbound call on fake f and answers it through
// the Core; it returns the Core's id.
func (cl *cluster) answerInbound(t *testing.T, node string) mediacore.ChannelID {
	t.Helper()
	f := cl.fakes[node]
	raw := f.Inbound("100", "200")
	ev := cl.rec.wait(t, "created", func(ev mediacore.Event) bool {
		if ev.Type != mediacore.EventChannelCreated || ev.Node != node {
			return false
		}
		id, _ := cl.core.NodeOf(ev.Channel)
		return id == node && (ev.Channel == raw || strings.HasSuffix(string(ev.Channel), "."+string(raw))) && !cl.seenID(ev.Channel)
	})
	cl.mark(ev.Channel)
	if err := cl.core.Answer(context.Background(), ev.Channel); err != nil {
		t.Fatal(err)
	}
	return ev.Channel
}

func (cl *cluster) seenID(id mediacore.ChannelID) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.seen[id]
}

func (cl *cluster) mark(id mediacore.ChannelID) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.seen == nil {
		cl.seen = map[mediacore.ChannelID]bool{}
	}
	cl.seen[id] = true
}

// waitUntil polls cond until it holds, for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNodesValidation(t *testing.T) {
	f := mediafake.New(mediafake.Options{})
	tests := []struct {
		name  string
		nodes []mediacore.Node
	}{
		{"none", nil},
		{"bad name", []mediacore.Node{{Name: "a b", Backend: f.Backend()}}},
		{"long name", []mediacore.Node{{Name: strings.Repeat("n", 33), Backend: f.Backend()}}},
		{"duplicate", []mediacore.Node{{Name: "a", Backend: f.Backend()}, {Name: "a", Backend: f.Backend()}}},
		{"nil backend", []mediacore.Node{{Name: "a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := mediacore.NewNodes(tt.nodes, mediacore.Options{}); !errors.Is(err, mediacore.ErrInvalidArgument) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestNodesIDCollisionAndRouting: two nodes report the same channel id;
// Core keeps them apart and every command reaches only its channel's node.
func TestNodesIDCollisionAndRouting(t *testing.T) {
	cl := twoNodes(t, mediacore.Options{}, mediafake.Options{}, mediafake.Options{})
	ctx := context.Background()
	ra := cl.fakes["a"].Inbound("100", "200")
	rb := cl.fakes["b"].Inbound("101", "201")
	if ra != rb {
		t.Fatalf("the fakes should collide: %s %s", ra, rb)
	}
	ea := cl.rec.wait(t, "created on a", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventChannelCreated && ev.Node == "a" })
	eb := cl.rec.wait(t, "created on b", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventChannelCreated && ev.Node == "b" })
	if ea.Channel == eb.Channel {
		t.Fatalf("both nodes' channels are %s in Core", ea.Channel)
	}
	if ea.Channel != ra || eb.Channel != "b."+rb {
		t.Fatalf("ids %s, %s; want %s and b.%s", ea.Channel, eb.Channel, ra, rb)
	}
	for _, id := range []mediacore.ChannelID{ea.Channel, eb.Channel} {
		if err := mediacore.ValidateID(string(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.core.Progress(ctx, eb.Channel); err != nil {
		t.Fatal(err)
	}
	if p := cl.rec.wait(t, "progress", is(mediacore.EventProgress, eb.Channel)); p.Node != "b" {
		t.Fatalf("progress %+v", p)
	}
	if err := cl.core.Answer(ctx, eb.Channel); err != nil {
		t.Fatal(err)
	}
	if got := cl.fakes["a"].CallsOf("answer"); len(got) != 0 {
		t.Fatalf("node a got %v", got)
	}
	if got := cl.fakes["b"].CallsOf("answer"); len(got) != 1 || got[0].ID != string(rb) {
		t.Fatalf("node b got %v", got)
	}
	cl.rec.wait(t, "answered on b", is(mediacore.EventAnswered, eb.Channel))
	if err := cl.core.Hangup(ctx, ea.Channel, mediacore.CauseBusy); err != nil {
		t.Fatal(err)
	}
	if got := cl.fakes["b"].CallsOf("hangup"); len(got) != 0 {
		t.Fatalf("node b got %v", got)
	}
	if info, ok := cl.fakes["b"].Channel(rb); !ok || info.State != mediacore.ChannelUp {
		t.Fatalf("b's channel: %+v %v", info, ok)
	}
	if err := cl.core.Answer(ctx, "nope"); !errors.Is(err, mediacore.ErrNoSuchChannel) {
		t.Fatalf("unknown id on a multi-node core: %v", err)
	}
	// Variables, DTMF and transfers route the same way.
	if err := cl.core.SetVariable(ctx, eb.Channel, "X-Case", "42"); err != nil {
		t.Fatal(err)
	}
	if v, err := cl.core.Variable(ctx, eb.Channel, "X-Case"); err != nil || v != "42" {
		t.Fatalf("variable = %q, %v", v, err)
	}
	if _, err := cl.core.Variable(ctx, eb.Channel, "nope"); !errors.Is(err, mediacore.ErrNoSuchVariable) {
		t.Fatalf("unset variable: %v", err)
	}
	if err := cl.core.SetVariable(ctx, eb.Channel, "X-Case", "a b"); !errors.Is(err, mediacore.ErrInvalidArgument) {
		t.Fatalf("value with a space: %v", err)
	}
	x, err := cl.fakes["b"].Refer(rb, "user/1002", "")
	if err != nil {
		t.Fatal(err)
	}
	tr := cl.rec.wait(t, "transfer", is(mediacore.EventTransferRequested, eb.Channel))
	if tr.Transfer != x || tr.Node != "b" || tr.ReferTo != "user/1002" {
		t.Fatalf("transfer event %+v", tr)
	}
	if err := cl.core.AnswerTransfer(ctx, eb.Channel, x, false); err != nil {
		t.Fatal(err)
	}
	if acc, ok := cl.fakes["b"].TransferAnswer(x); acc || !ok {
		t.Fatal("refusal not recorded on node b")
	}
	// Listings aggregate both nodes in Core ids.
	list, err := cl.core.Channels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[mediacore.ChannelID]string{}
	for _, ci := range list {
		got[ci.ID] = ci.Node
	}
	if len(got) != 1 || got[eb.Channel] != "b" {
		t.Fatalf("channels %v", got)
	}
}

func TestPlacement(t *testing.T) {
	ctx := context.Background()
	cl := twoNodes(t, mediacore.Options{}, mediafake.Options{IDPrefix: "x"}, mediafake.Options{IDPrefix: "y"})
	a1 := cl.answerInbound(t, "a")
	cl.answerInbound(t, "a")
	nodeOf := func(id mediacore.ChannelID) string {
		n, _ := cl.core.NodeOf(id)
		return n
	}
	// Least loaded: b has none.
	o1, err := cl.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1001"})
	if err != nil || nodeOf(o1) != "b" {
		t.Fatalf("least loaded: %s on %q, %v", o1, nodeOf(o1), err)
	}
	if len(cl.fakes["b"].CallsOf("originate")) != 1 {
		t.Fatal("node b did not get the originate")
	}
	// Near follows the channel.
	o2, err := cl.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1002", Near: a1})
	if err != nil || nodeOf(o2) != "a" {
		t.Fatalf("near: %q, %v", nodeOf(o2), err)
	}
	// Node pins.
	o3, err := cl.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1003", Node: "a"})
	if err != nil || nodeOf(o3) != "a" {
		t.Fatalf("pin: %q, %v", nodeOf(o3), err)
	}
	st := cl.core.Nodes()
	if st[0] != (mediacore.NodeStatus{Name: "a", Backend: "fake", Up: true, Channels: 4}) || st[1].Channels != 1 {
		t.Fatalf("nodes %+v", st)
	}
	// A down node is never chosen, even when least loaded.
	cl.fakes["b"].Down("gone")
	cl.rec.wait(t, "down", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendDown && ev.Node == "b" })
	o4, err := cl.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1004"})
	if err != nil || nodeOf(o4) != "a" {
		t.Fatalf("down node skipped: %q, %v", nodeOf(o4), err)
	}
	if _, err := cl.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1004", Node: "b"}); !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Fatalf("pinned to a down node: %v", err)
	}
	if _, err := cl.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1004", Node: "c"}); !errors.Is(err, mediacore.ErrNoSuchNode) {
		t.Fatalf("unknown node: %v", err)
	}
	cl.fakes["a"].Down("gone too")
	cl.rec.wait(t, "down", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendDown && ev.Node == "a" })
	if _, err := cl.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1005"}); !errors.Is(err, mediacore.ErrBackendUnavailable) {
		t.Fatalf("all down: %v", err)
	}
	if len(cl.fakes["a"].CallsOf("originate"))+len(cl.fakes["b"].CallsOf("originate")) != 4 {
		t.Fatal("a refused originate reached a backend")
	}
	// A chosen id in use is refused.
	if _, err := cl.core.Originate(ctx, mediacore.OriginateRequest{Endpoint: "user/1", ChannelID: a1}); !errors.Is(err, mediacore.ErrInvalidArgument) {
		t.Fatalf("id in use: %v", err)
	}
}

type pinB struct{}

func (pinB) Place(mediacore.OriginateRequest, []mediacore.NodeStatus) (string, error) {
	return "b", nil
}

func TestPlacementPluggable(t *testing.T) {
	cl := twoNodes(t, mediacore.Options{Placement: pinB{}}, mediafake.Options{}, mediafake.Options{})
	id, err := cl.core.Originate(context.Background(), mediacore.OriginateRequest{Endpoint: "user/1"})
	if n, _ := cl.core.NodeOf(id); err != nil || n != "b" {
		t.Fatalf("%q, %v", n, err)
	}
}

// syncCreate wraps a backend so that Originate returns only after the
// Handler has seen the ChannelCreated it emitted inside Originate.
type syncCreate struct {
	mediacore.Backend
	seen   chan struct{}
	before func(req mediacore.OriginateRequest)
}

func (s syncCreate) Originate(ctx context.Context, req mediacore.OriginateRequest) (mediacore.ChannelID, error) {
	s.before(req)
	id, err := s.Backend.Originate(ctx, req)
	select {
	case <-s.seen:
	case <-time.After(10 * time.Second):
		return id, errors.New("the handler never saw ChannelCreated")
	}
	return id, err
}

func TestOriginateIDKnownBeforeChannelCreated(t *testing.T) {
	f := mediafake.New(mediafake.Options{Clock: clock.NewFake(time.Time{})})
	var core *mediacore.Core
	var (
		mu       sync.Mutex
		saw      mediacore.Event
		node     string
		ok       bool
		inflight mediacore.NodeStatus
		known    bool
	)
	b := syncCreate{Backend: f.Backend(), seen: make(chan struct{}), before: func(req mediacore.OriginateRequest) {
		// While the backend works on it, the call already counts on its
		// node and its id is known.
		mu.Lock()
		defer mu.Unlock()
		inflight = core.Nodes()[0]
		_, known = core.NodeOf(req.ChannelID)
	}}
	core, err := mediacore.NewNodes([]mediacore.Node{{Name: "n1", Backend: b}}, mediacore.Options{Handler: func(ev mediacore.Event) {
		if ev.Type != mediacore.EventChannelCreated {
			return
		}
		mu.Lock()
		saw = ev
		node, ok = core.NodeOf(ev.Channel)
		mu.Unlock()
		close(b.seen)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer core.Close()
	id, err := core.Originate(context.Background(), mediacore.OriginateRequest{Endpoint: "user/1001"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if inflight.Channels != 1 || !known {
		t.Fatalf("during the backend's Originate: %+v, id known %v", inflight, known)
	}
	if !ok || node != "n1" || saw.Node != "n1" || saw.Channel != id {
		t.Fatalf("handler saw %s (known %v on %q, event node %q); Originate returned %s", saw.Channel, ok, node, saw.Node, id)
	}
	if mediacore.ValidateID(string(id)) != nil || !strings.HasPrefix(string(id), "ch-") {
		t.Fatalf("Core-assigned id %q", id)
	}
	if calls := f.CallsOf("originate"); len(calls) != 1 || calls[0].ID != string(id) {
		t.Fatalf("backend asked for %v, want id %s", calls, id)
	}
}

func TestNodeLostAfterTimer(t *testing.T) {
	ctx := context.Background()
	cl := twoNodes(t, mediacore.Options{NodeLostAfter: 30 * time.Second}, mediafake.Options{}, mediafake.Options{IDPrefix: "b"})
	ch := cl.answerInbound(t, "a")
	other := cl.answerInbound(t, "b")
	cl.rec.wait(t, "answered", is(mediacore.EventAnswered, ch))
	if err := cl.core.SendDTMF(ctx, ch, "1"); err != nil {
		t.Fatal(err)
	}
	cl.fakes["a"].PressDTMF(ch, '5')
	cl.rec.wait(t, "dtmf", is(mediacore.EventDTMF, ch))
	cl.fakes["a"].Down("connection reset")
	cl.rec.wait(t, "down", func(ev mediacore.Event) bool { return ev.Type == mediacore.EventBackendDown && ev.Node == "a" })
	cl.clk.Advance(29 * time.Second)
	if st := cl.core.Nodes(); st[0].Up || st[0].Channels != 1 {
		t.Fatalf("before the timer: %+v", st[0])
	}
	cl.clk.Advance(time.Second)
	h := cl.rec.wait(t, "lost hangup", is(mediacore.EventHangup, ch))
	if h.Cause != mediacore.CauseNodeLost || h.SIPCode != 503 || h.Q850 != 38 || h.Node != "a" {
		t.Fatalf("hangup %+v", h)
	}
	var types []mediacore.EventType
	var seqs []uint64
	for _, ev := range cl.rec.channel(ch) {
		types = append(types, ev.Type)
		seqs = append(seqs, ev.Seq)
	}
	want := []mediacore.EventType{mediacore.EventChannelCreated, mediacore.EventAnswered, mediacore.EventDTMF, mediacore.EventHangup}
	if !slices.Equal(types, want) || !slices.Equal(seqs, []uint64{1, 2, 3, 4}) {
		t.Fatalf("events %v seqs %v, want %v in order", types, seqs, want)
	}
	if st := cl.core.Nodes(); st[0].Channels != 0 || st[1].Channels != 1 {
		t.Fatalf("after loss: %+v", st)
	}
	if err := cl.core.Answer(ctx, ch); !errors.Is(err, mediacore.ErrNoSuchChannel) {
		t.Fatalf("command on a lost channel: %v", err)
	}
	// While a is down the listing is partial, with a's error.
	if list, err := cl.core.Channels(ctx); !errors.Is(err, mediacore.ErrBackendUnavailable) || len(list) != 1 || list[0].ID != other {
		t.Fatalf("channels while a is down: %+v, %v", list, err)
	}
	// The node comes back still holding the channel: Core hangs it up
	// there (the first try fails: the channel stays on the node but is
	// not listed again), and its events are dropped (the Handler had the
	// final Hangup).
	cl.fakes["a"].Fail("hangup", errors.New("injected"))
	cl.fakes["a"].Up()
	waitUntil(t, "the orphan's hangup tried", func() bool { return len(cl.fakes["a"].CallsOf("hangup")) == 1 })
	if list, err := cl.core.Channels(ctx); err != nil || len(list) != 1 || list[0].ID != other {
		t.Fatalf("channels list a lost channel: %+v, %v", list, err)
	}
	if _, ok := cl.fakes["a"].Channel(ch); !ok {
		t.Fatal("the injected failure did not keep the channel")
	}
	cl.fakes["a"].Down("again")
	cl.fakes["a"].Up()
	cl.rec.wait(t, "up", func(ev mediacore.Event) bool {
		return ev.Type == mediacore.EventBackendUp && ev.Node == "a" && ev.Seq > 1
	})
	waitUntil(t, "the orphan hung up on its node", func() bool { _, ok := cl.fakes["a"].Channel(ch); return !ok })
	if h := cl.fakes["a"].CallsOf("hangup"); len(h) != 2 || h[1].Arg != mediacore.CauseNodeLost.String() {
		t.Fatalf("hangups on a: %v", h)
	}
	if list, err := cl.core.Channels(ctx); err != nil || len(list) != 1 || list[0].ID != other {
		t.Fatalf("channels after loss: %+v, %v", list, err)
	}
	_ = cl.fakes["b"].PressDTMF(other, '9') // a marker after a's late event
	cl.rec.wait(t, "marker", is(mediacore.EventDTMF, other))
	if n := len(cl.rec.channel(ch)); n != 4 {
		t.Fatalf("%d events for the lost channel: %s", n, summary(cl.rec.channel(ch)))
	}
	if len(cl.rec.channel(other)) != 3 {
		t.Fatalf("node b's channel touched: %s", summary(cl.rec.channel(other)))
	}
}

func TestReconcileOnBackendUp(t *testing.T) {
	ctx := context.Background()
	cl := twoNodes(t, mediacore.Options{NodeLostAfter: 30 * time.Second}, mediafake.Options{}, mediafake.Options{})
	kept := cl.answerInbound(t, "a")
	gone := cl.answerInbound(t, "a")
	if err := cl.core.CreateBridge(ctx, "conf"); err != nil {
		t.Fatal(err)
	}
	if err := cl.core.AddToBridge(ctx, "conf", gone, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
		t.Fatal(err)
	}
	cl.rec.wait(t, "joined", is(mediacore.EventBridgeJoined, gone))
	cl.fakes["a"].Down("restart")
	cl.rec.wait(t, "down", is(mediacore.EventBackendDown, ""))
	cl.clk.Advance(10 * time.Second)
	cl.fakes["a"].Forget(gone)
	cl.fakes["a"].Up()
	h := cl.rec.wait(t, "reconciled hangup", is(mediacore.EventHangup, gone))
	if h.Cause != mediacore.CauseNodeLost {
		t.Fatalf("cause %v", h.Cause)
	}
	evs := cl.rec.channel(gone)
	if last := evs[len(evs)-1]; last.Type != mediacore.EventHangup || last.Seq != uint64(len(evs)) {
		t.Fatalf("hangup not last in order: %s", summary(evs))
	}
	if _, in := cl.core.BridgeOf(gone); in {
		t.Fatal("lost channel still in its bridge")
	}
	// The timer was stopped by BackendUp: nothing more happens to kept.
	cl.clk.Advance(time.Minute)
	if err := cl.core.SendDTMF(ctx, kept, "1"); err != nil {
		t.Fatal(err)
	}
	for _, ev := range cl.rec.channel(kept) {
		if ev.Type == mediacore.EventHangup {
			t.Fatalf("kept channel hung up: %+v", ev)
		}
	}
	if st := cl.core.Nodes(); !st[0].Up || st[0].Channels != 1 {
		t.Fatalf("nodes %+v", st)
	}
}

func TestBridgesAcrossNodes(t *testing.T) {
	ctx := context.Background()
	cl := twoNodes(t, mediacore.Options{}, mediafake.Options{IDPrefix: "a"}, mediafake.Options{IDPrefix: "b"})
	a1 := cl.answerInbound(t, "a")
	a2 := cl.answerInbound(t, "a")
	b1 := cl.answerInbound(t, "b")
	if err := cl.core.CreateBridge(ctx, "br1"); err != nil {
		t.Fatal(err)
	}
	if calls := cl.fakes["a"].CallsOf("create_bridge"); len(calls) != 0 {
		t.Fatalf("lazy bridge created early: %v", calls)
	}
	for _, ch := range []mediacore.ChannelID{a1, a2} {
		if err := cl.core.AddToBridge(ctx, "br1", ch, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
			t.Fatal(err)
		}
	}
	if calls := cl.fakes["a"].CallsOf("create_bridge"); len(calls) != 1 {
		t.Fatalf("bridge not placed on the first member's node: %v", calls)
	}
	err := cl.core.AddToBridge(ctx, "br1", b1, mediacore.Member{Role: mediacore.RoleSpeak})
	if !errors.Is(err, mediacore.ErrNotSupported) || !strings.Contains(err.Error(), "Near") {
		t.Fatalf("cross-node bridge: %v", err)
	}
	if len(cl.fakes["b"].CallsOf("add_to_bridge")) != 0 {
		t.Fatal("node b was asked")
	}
	if err := cl.core.CreateBridgeOn(ctx, "br2", "b"); err != nil {
		t.Fatal(err)
	}
	if err := cl.core.AddToBridge(ctx, "br2", b1, mediacore.Member{Role: mediacore.RoleSpeak}); err != nil {
		t.Fatal(err)
	}
	if b, ok := cl.core.BridgeOf(a2); !ok || b != "br1" {
		t.Fatalf("BridgeOf = %q %v", b, ok)
	}
	if err := cl.core.DestroyBridge(ctx, "br2"); err != nil {
		t.Fatal(err)
	}
	cl.rec.wait(t, "left", is(mediacore.EventBridgeLeft, b1))
	if _, ok := cl.core.BridgeOf(b1); ok {
		t.Fatal("member of a destroyed bridge")
	}
	list, err := cl.core.Bridges(ctx)
	if err != nil || len(list) != 1 || list[0].ID != "br1" || list[0].Node != "a" || len(list[0].Members) != 2 {
		t.Fatalf("bridges %+v, %v", list, err)
	}
}

func TestSetTrunksAndDTMFDetectionPerNode(t *testing.T) {
	ctx := context.Background()
	cl := twoNodes(t, mediacore.Options{}, mediafake.Options{Caps: mediafake.Caps{TrunkConfigurer: true, DTMFDetector: true}}, mediafake.Options{IDPrefix: "b"})
	trunks := []mediacore.TrunkConfig{{Name: "carrier", Address: "192.0.2.1:5060"}}
	if err := cl.core.SetTrunks(ctx, trunks); err != nil {
		t.Fatal(err)
	}
	if got := cl.fakes["a"].Trunks(); len(got) != 1 || got[0].Name != "carrier" {
		t.Fatalf("trunks on a: %+v", got)
	}
	a := cl.answerInbound(t, "a")
	b := cl.answerInbound(t, "b")
	if err := cl.core.SetDTMFDetection(ctx, a, true); err != nil || !cl.fakes["a"].DTMFDetection(a) {
		t.Fatalf("detector node: %v", err)
	}
	if err := cl.core.SetDTMFDetection(ctx, b, true); err != nil {
		t.Fatalf("node without detector: %v", err)
	}
	ka, _ := cl.core.Capabilities("a")
	kb, _ := cl.core.Capabilities("b")
	if !ka.TrunkConfigurer || !ka.DTMFDetector || kb.TrunkConfigurer || kb.TTS || !kb.StereoChannel {
		t.Fatalf("capabilities a %+v b %+v", ka, kb)
	}
	if _, err := cl.core.Capabilities("c"); !errors.Is(err, mediacore.ErrNoSuchNode) {
		t.Fatal(err)
	}
}

func TestStartWithANodeFailing(t *testing.T) {
	clk := clock.NewFake(time.Time{})
	a := mediafake.New(mediafake.Options{Clock: clk})
	b := mediafake.New(mediafake.Options{Clock: clk})
	b.Fail("start", mediacore.ErrBackendUnavailable)
	c, err := mediacore.NewNodes([]mediacore.Node{{Name: "a", Backend: a.Backend()}, {Name: "b", Backend: b.Backend()}}, mediacore.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Start(context.Background())
	if !errors.Is(err, mediacore.ErrBackendUnavailable) || !strings.Contains(err.Error(), "node b") {
		t.Fatalf("start: %v", err)
	}
	if st := c.Nodes(); !st[0].Up || st[1].Up || st[1].Backend != "fake" {
		t.Fatalf("nodes %+v", st)
	}
	for range 3 {
		id, err := c.Originate(context.Background(), mediacore.OriginateRequest{Endpoint: "user/1"})
		if n, _ := c.NodeOf(id); err != nil || n != "a" {
			t.Fatalf("originate went to %q: %v", n, err)
		}
	}
}
