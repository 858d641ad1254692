package controller

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"hotline/acd"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/internal/clock"
	"hotline/internal/sipdigest"
	"hotline/mediacore"
)

// events collects what the ACD owner publishes.
type events struct {
	mu  sync.Mutex
	evs []acd.Event
	ch  chan struct{}
}

func newEvents() *events { return &events{ch: make(chan struct{}, 1)} }

func (e *events) publish(evs []acd.Event) {
	e.mu.Lock()
	e.evs = append(e.evs, evs...)
	e.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

// waitFor waits until an event matching ok was published and returns it.
func (e *events) waitFor(t *testing.T, what string, ok func(acd.Event) bool) acd.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		e.mu.Lock()
		i := slices.IndexFunc(e.evs, ok)
		var ev acd.Event
		if i >= 0 {
			ev = e.evs[i]
		}
		e.mu.Unlock()
		if i >= 0 {
			return ev
		}
		select {
		case <-e.ch:
		case <-deadline:
			t.Fatalf("no %s event", what)
		}
	}
}

// fakeMedia records the trunks it is given.
type fakeMedia struct {
	mu    sync.Mutex
	calls [][]mediacore.TrunkConfig
}

func (f *fakeMedia) SetTrunks(_ context.Context, ts []mediacore.TrunkConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, slices.Clone(ts))
	return nil
}

func (f *fakeMedia) last() ([]mediacore.TrunkConfig, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		return nil, 0
	}
	return f.calls[len(f.calls)-1], len(f.calls)
}

type fixture struct {
	st    *memstore.Store
	c     *Controller
	evs   *events
	media *fakeMedia
	clk   *clock.Fake
}

func newFixture(t *testing.T, st *memstore.Store) *fixture {
	t.Helper()
	if st == nil {
		st = memstore.New(nil)
	}
	f := &fixture{st: st, evs: newEvents(), media: &fakeMedia{}, clk: clock.NewFake(time.Time{})}
	c, err := New(t.Context(), Options{Store: st, Media: f.media, Clock: f.clk, OnACDEvents: f.evs.publish, CatchUp: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	f.c = c
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) agent(t *testing.T, ext string) store.Agent {
	t.Helper()
	a := store.Agent{Name: "agent " + ext, Extension: ext, Skills: []store.SkillLevel{}}
	must(t, f.c.Agents().Create(t.Context(), &a))
	return a
}

func queueCfg(t *testing.T, f *fixture, id string) (acd.QueueConfig, bool) {
	t.Helper()
	cfg, ok, err := f.c.QueueConfig(t.Context(), id)
	must(t, err)
	return cfg, ok
}

// TestQueueWritesGoLive: a queue written through the controller is the
// live ACD's configuration when the write returns, for create, update and
// delete.
func TestQueueWritesGoLive(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	a, b := f.agent(t, "1001"), f.agent(t, "1002")
	q := store.Queue{Name: "sales", Strategy: store.StrategyTopDown, RingTimeout: 20, Members: []store.QueueMember{{AgentID: a.ID}, {AgentID: b.ID, Penalty: 2}}}
	must(t, f.c.Queues().Create(ctx, &q))
	cfg, ok := queueCfg(t, f, q.ID)
	if !ok || cfg.Strategy != acd.StrategyTopDown || len(cfg.Members) != 2 || cfg.Members[1].Penalty != 2 || cfg.RingTimeout != 20*time.Second {
		t.Fatalf("after create: %+v %v", cfg, ok)
	}
	q.Strategy = store.StrategyRoundRobin
	q.Members = q.Members[:1]
	must(t, f.c.Queues().Update(ctx, &q))
	cfg, _ = queueCfg(t, f, q.ID)
	if cfg.Strategy != acd.StrategyRoundRobin || len(cfg.Members) != 1 {
		t.Fatalf("after update: %+v", cfg)
	}
	must(t, f.c.Queues().Delete(ctx, q.ID, q.Version))
	if _, ok := queueCfg(t, f, q.ID); ok {
		t.Fatal("a deleted queue is still live")
	}
}

// TestDisabledAgentLeavesQueues: disabling an agent logs it out and takes
// it out of its queues; enabling it puts it back.
func TestDisabledAgentLeavesQueues(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	a := f.agent(t, "1001")
	q := store.Queue{Name: "sales", Strategy: store.StrategyLongestIdle, RingTimeout: 20, Members: []store.QueueMember{{AgentID: a.ID}}}
	must(t, f.c.Queues().Create(ctx, &q))
	must(t, f.c.ACD().Login(ctx, acd.AgentID(a.ID), acd.Origin{}))
	a.Disabled = true
	must(t, f.c.Agents().Update(ctx, &a))
	if cfg, _ := queueCfg(t, f, q.ID); len(cfg.Members) != 0 {
		t.Fatalf("a disabled agent is still a member: %+v", cfg.Members)
	}
	st, err := f.c.ACD().Agent(ctx, acd.AgentID(a.ID))
	must(t, err)
	if st.State != acd.StateLoggedOut {
		t.Fatalf("a disabled agent is %v, want logged out", st.State)
	}
	a.Disabled = false
	must(t, f.c.Agents().Update(ctx, &a))
	if cfg, _ := queueCfg(t, f, q.ID); len(cfg.Members) != 1 {
		t.Fatalf("a re-enabled agent is not a member: %+v", cfg.Members)
	}
	must(t, f.c.Queues().Delete(ctx, q.ID, 0))
	must(t, f.c.Agents().Delete(ctx, a.ID, 0))
	if _, err := f.c.ACD().Agent(ctx, acd.AgentID(a.ID)); err == nil {
		t.Fatal("a deleted agent is still in the ACD")
	}
}

// TestTrunkWritesReachMedia: every trunk write hands the whole stored set
// to the media layer before it returns.
func TestTrunkWritesReachMedia(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	_, n0 := f.media.last()
	tr := store.Trunk{Name: "carrier", Host: "127.0.0.1", Port: 5070, Transport: store.TransportUDP, Username: "u", Password: "p",
		Register: true, Enabled: true, InboundAddresses: []string{"127.0.0.0/8"}}
	must(t, f.c.Trunks().Create(ctx, &tr))
	got, n := f.media.last()
	want := []mediacore.TrunkConfig{{Name: "carrier", Address: "127.0.0.1:5070", Transport: "udp", Username: "u", Password: "p",
		Register: true, InboundFrom: []string{"127.0.0.0/8"}}}
	if n != n0+1 || !slices.EqualFunc(got, want, trunkEqual) {
		t.Fatalf("after create (%d calls): %+v", n-n0, got)
	}
	tr.Enabled = false
	must(t, f.c.Trunks().Update(ctx, &tr))
	if got, _ := f.media.last(); len(got) != 1 || !got[0].Disabled {
		t.Fatalf("after disabling: %+v", got)
	}
	must(t, f.c.Trunks().Delete(ctx, tr.ID, 0))
	if got, _ := f.media.last(); len(got) != 0 {
		t.Fatalf("after delete: %+v", got)
	}
}

func trunkEqual(a, b mediacore.TrunkConfig) bool {
	return a.Name == b.Name && a.Address == b.Address && a.Transport == b.Transport && a.Username == b.Username &&
		a.Password == b.Password && a.Register == b.Register && a.Disabled == b.Disabled && slices.Equal(a.InboundFrom, b.InboundFrom)
}

// TestNumberRoutes: the live route table follows creates, renumbering and
// deletes.
func TestNumberRoutes(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	n := store.Number{Number: "+864000001", Route: store.Target{Kind: store.TargetQueue, Value: "q1"}}
	must(t, f.c.Numbers().Create(ctx, &n))
	if got, ok := f.c.Routes().Lookup("+864000001"); !ok || got.Route.Value != "q1" {
		t.Fatalf("after create: %+v %v", got, ok)
	}
	n.Number = "+864000002"
	must(t, f.c.Numbers().Update(ctx, &n))
	if _, ok := f.c.Routes().Lookup("+864000001"); ok {
		t.Fatal("the old number still routes")
	}
	if _, ok := f.c.Routes().Lookup("+864000002"); !ok {
		t.Fatal("the new number does not route")
	}
	must(t, f.c.Numbers().Delete(ctx, n.ID, 0))
	if f.c.Routes().Len() != 0 {
		t.Fatal("a deleted number still routes")
	}
}

// TestFollowsForeignWrites: a change committed by someone else (another
// node; here a write straight to the store) reaches the live parts through
// the feed, and a controller started later loads what exists.
func TestFollowsForeignWrites(t *testing.T) {
	st := memstore.New(nil)
	ctx := t.Context()
	pre := store.Queue{Name: "before", Strategy: store.StrategyRandom, RingTimeout: 20}
	must(t, st.Queues().Create(ctx, &pre))
	f := newFixture(t, st)
	if cfg, ok := queueCfg(t, f, pre.ID); !ok || cfg.Strategy != acd.StrategyRandom {
		t.Fatalf("not loaded at start: %+v %v", cfg, ok)
	}
	q := store.Queue{Name: "foreign", Strategy: store.StrategyLeastCalls, RingTimeout: 20}
	must(t, st.Queues().Create(ctx, &q))
	waitUntil(t, "the foreign queue to go live", func() bool { _, ok := queueCfg(t, f, q.ID); return ok })
	tr := store.Trunk{Name: "foreign", Host: "127.0.0.1", Port: 5060, Transport: store.TransportUDP, Enabled: true}
	must(t, st.Trunks().Create(ctx, &tr))
	waitUntil(t, "the foreign trunk to reach the media", func() bool { got, _ := f.media.last(); return len(got) == 1 })
	rev, err := st.Revision(ctx)
	must(t, err)
	waitUntil(t, "the revision to be applied", func() bool { return f.c.Revision() == rev })
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestACDTimersFromDeadline: the owner arms the engine's next deadline on
// the clock, so a ring timeout fires when the clock passes it, with no
// polling.
func TestACDTimersFromDeadline(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	a := f.agent(t, "1001")
	q := store.Queue{Name: "sales", Strategy: store.StrategyLongestIdle, RingTimeout: 15, Members: []store.QueueMember{{AgentID: a.ID}}, JoinWhenNoAgents: true}
	must(t, f.c.Queues().Create(ctx, &q))
	must(t, f.c.ACD().Login(ctx, acd.AgentID(a.ID), acd.Origin{}))
	must(t, f.c.ACD().SetReady(ctx, acd.AgentID(a.ID), acd.Origin{}))
	must(t, f.c.ACD().EnqueueCall(ctx, acd.Call{ID: "c1", Queue: acd.QueueID(q.ID)}))
	f.evs.waitFor(t, "offer", func(e acd.Event) bool { return e.Kind == acd.EventOffer && e.Call == "c1" })
	waitUntil(t, "the ring timer to be armed", func() bool { return f.clk.Pending() > 0 })
	f.clk.Advance(15 * time.Second)
	f.evs.waitFor(t, "offer timeout", func(e acd.Event) bool { return e.Kind == acd.EventOfferTimeout && e.Call == "c1" })
}

// TestCredentialsFollowWrites: a changed SIP password or a disabled agent
// is what the registrar reads next.
func TestCredentialsFollowWrites(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	a := store.Agent{Name: "a", Extension: "1001", SIPHA1MD5: sipdigest.HA1(sipdigest.MD5, "1001", "hotline", "old")}
	must(t, f.c.Agents().Create(ctx, &a))
	creds := f.c.Credentials()
	a.SIPHA1MD5 = sipdigest.HA1(sipdigest.MD5, "1001", "hotline", "new")
	must(t, f.c.Agents().Update(ctx, &a))
	if ha1, ok, err := creds.HA1(ctx, "1001", sipdigest.MD5); err != nil || !ok || ha1 != a.SIPHA1MD5 {
		t.Fatalf("HA1 after a password change = %q %v %v", ha1, ok, err)
	}
	a.Disabled = true
	must(t, f.c.Agents().Update(ctx, &a))
	if _, ok, err := creds.HA1(ctx, "1001", sipdigest.MD5); err != nil || ok {
		t.Fatalf("a disabled agent still has credentials (%v, %v)", ok, err)
	}
}

// deafStore is a store whose Watch never wakes: only the catch-up period
// can bring foreign changes.
type deafStore struct{ *memstore.Store }

func (deafStore) Watch(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{})
	context.AfterFunc(ctx, func() { close(ch) })
	return ch
}

// TestCatchUpWithoutWakeUps: with every wake-up lost, the periodic
// catch-up still applies foreign changes.
func TestCatchUpWithoutWakeUps(t *testing.T) {
	st := memstore.New(nil)
	c, err := New(t.Context(), Options{Store: deafStore{st}, CatchUp: 20 * time.Millisecond})
	must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	q := store.Queue{Name: "foreign", Strategy: store.StrategyTopDown, RingTimeout: 20}
	must(t, st.Queues().Create(t.Context(), &q))
	waitUntil(t, "the catch-up to apply the foreign queue", func() bool {
		_, ok, err := c.QueueConfig(t.Context(), q.ID)
		return err == nil && ok
	})
}

// TestConcurrentWritesAllGoLive: writers racing through the controller
// each find their change live when their write returns, and the revision
// ends at the store's.
func TestConcurrentWritesAllGoLive(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			q := store.Queue{Name: "q" + string(rune('a'+i)), Strategy: store.StrategyRandom, RingTimeout: 20}
			if err := f.c.Queues().Create(ctx, &q); err != nil {
				errs <- err
				return
			}
			_, ok, err := f.c.QueueConfig(ctx, q.ID)
			if err == nil && !ok {
				t.Errorf("queue %s not live when its write returned", q.Name)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	rev, err := f.st.Revision(ctx)
	must(t, err)
	if got := f.c.Revision(); got != rev {
		t.Fatalf("applied revision %d, store at %d", got, rev)
	}
}

// flakyTrunks is a store whose trunk listing fails while fail is set.
type flakyTrunks struct {
	*memstore.Store
	fail *atomicBool
}

type atomicBool struct {
	mu sync.Mutex
	v  bool
}

func (b *atomicBool) set(v bool) { b.mu.Lock(); b.v = v; b.mu.Unlock() }
func (b *atomicBool) get() bool  { b.mu.Lock(); defer b.mu.Unlock(); return b.v }

type flakyTrunkRepo struct {
	store.TrunkRepo
	fail *atomicBool
}

func (s flakyTrunks) Trunks() store.TrunkRepo { return flakyTrunkRepo{s.Store.Trunks(), s.fail} }

func (r flakyTrunkRepo) List(ctx context.Context, opt store.ListOptions) (store.Page[store.Trunk], error) {
	if r.fail.get() {
		return store.Page[store.Trunk]{}, store.ErrUnavailable
	}
	return r.TrunkRepo.List(ctx, opt)
}

// TestTrunksRetriedAfterAFailedRead: trunk changes whose hand-over failed
// (the store could not list the trunks) stay due and are handed over by
// the next sync, although no trunk changed since.
func TestTrunksRetriedAfterAFailedRead(t *testing.T) {
	fail := &atomicBool{}
	st := flakyTrunks{memstore.New(nil), fail}
	media := &fakeMedia{}
	c, err := New(t.Context(), Options{Store: st, Media: media, CatchUp: time.Hour})
	must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx := t.Context()
	fail.set(true)
	tr := store.Trunk{Name: "carrier", Host: "127.0.0.1", Port: 5060, Transport: store.TransportUDP, Enabled: true}
	must(t, c.Trunks().Create(ctx, &tr)) // committed; the hand-over fails
	if got, _ := media.last(); len(got) != 0 {
		t.Fatalf("trunks handed over although the listing failed: %+v", got)
	}
	fail.set(false)
	k := store.Skill{Name: "billing"}
	must(t, c.Skills().Create(ctx, &k)) // any later sync
	if got, _ := media.last(); len(got) != 1 || got[0].Name != "carrier" {
		t.Fatalf("the failed hand-over was not retried: %+v", got)
	}
}
