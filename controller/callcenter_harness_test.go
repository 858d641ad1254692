package controller

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hotline/acd"
	"hotline/controller/cti"
	"hotline/controller/ivr"
	"hotline/controller/store"
	"hotline/controller/store/memstore"
	"hotline/internal/clock"
	"hotline/mediacore"
	"hotline/mediacore/mediafake"
)

// memJournal is the in-test Journal: it keeps what it is given.
type memJournal struct {
	mu   sync.Mutex
	cdrs []store.CDR
	evs  []store.QueueEvent
	recs []store.Recording
}

func (j *memJournal) CallEnded(c store.CDR) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cdrs = append(j.cdrs, c)
}

func (j *memJournal) QueueEvents(evs ...store.QueueEvent) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.evs = append(j.evs, evs...)
}

func (j *memJournal) RecordingFinished(r store.Recording) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.recs = append(j.recs, r)
}

func (j *memJournal) CDRs() []store.CDR {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.cdrs)
}

func (j *memJournal) Events() []store.QueueEvent {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.evs)
}

func (j *memJournal) Recordings() []store.Recording {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.recs)
}

// memRecStore is the in-test RecordingStore.
type memRecStore struct {
	mu    sync.Mutex
	files map[string][]byte
}

func (m *memRecStore) Save(_ context.Context, id string, r io.Reader) (string, int64, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string][]byte{}
	}
	p := "rec/" + id + ".wav"
	m.files[p] = b
	return p, int64(len(b)), nil
}

func (m *memRecStore) Open(p string) (ReadSeekCloser, error) {
	b := m.get(p)
	if b == nil {
		return nil, store.ErrNotFound
	}
	return nopCloser{bytes.NewReader(b)}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func (m *memRecStore) get(p string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.files[p]
}

// fakeDirectory answers every number with one customer, or fails.
type fakeDirectory struct {
	cu   Customer
	fail bool
}

func (d fakeDirectory) LookupCaller(ctx context.Context, number string) (Customer, error) {
	if d.fail {
		<-ctx.Done()
		return Customer{}, ctx.Err()
	}
	c := d.cu
	c.Fields = map[string]string{"number": number}
	return c, nil
}

// harness is a call center over a mediafake node on a virtual clock.
type harness struct {
	t     *testing.T
	ctx   context.Context
	clk   *clock.Fake
	fake  *mediafake.Fake
	fakes []*mediafake.Fake
	core  *mediacore.Core
	st    *memstore.Store
	ctl   *Controller
	cc    *CallCenter
	j     *memJournal
	recs  *memRecStore

	mu  sync.Mutex
	cti []cti.Event

	agents map[string]string // extension -> id
	queues map[string]string // name -> id
}

type harnessOpt func(*CallCenterOptions)

// newHarness builds the call center with two agents (1001, 1002, team
// "blue"), a queue "sales" (top-down, ring 10 s, wrap-up 5 s, recording
// all) and the number 800 routed to it. 2026-12-07 10:00 UTC is a Monday.
func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	return newHarnessWith(t, harnessConfig{}, opts...)
}

// newHarnessOver is newHarness with the controller's store wrapped.
func newHarnessOver(t *testing.T, wrap func(store.Store) store.Store, opts ...harnessOpt) *harness {
	t.Helper()
	return newHarnessWith(t, harnessConfig{wrap: wrap}, opts...)
}

// harnessConfig varies the harness: a wrapped store, more media nodes
// (fakes "n1", "n2"...; h.fake is the first, h.fakes all).
type harnessConfig struct {
	wrap  func(store.Store) store.Store
	nodes int
	caps  *mediafake.Caps // the fakes' capabilities; nil: all
}

func newHarnessWith(t *testing.T, hc harnessConfig, opts ...harnessOpt) *harness {
	t.Helper()
	wrap := hc.wrap
	ctx := t.Context()
	clk := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	var fakes []*mediafake.Fake
	var nodes []mediacore.Node
	for i := range max(hc.nodes, 1) {
		name := "fake"
		if hc.nodes > 0 {
			name = fmt.Sprintf("n%d", i+1)
		}
		caps := mediafake.AllCaps()
		if hc.caps != nil {
			caps = *hc.caps
		}
		f := mediafake.New(mediafake.Options{Name: name, IDPrefix: name, Clock: clk, Caps: caps})
		fakes = append(fakes, f)
		nodes = append(nodes, mediacore.Node{Name: name, Backend: f.Backend()})
	}
	fake := fakes[0]
	var ccp atomic.Pointer[CallCenter]
	core, err := mediacore.NewNodes(nodes, mediacore.Options{Clock: clk, Handler: func(ev mediacore.Event) {
		if c := ccp.Load(); c != nil {
			c.HandleMedia(ev)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := core.Start(ctx); err != nil {
		t.Fatal(err)
	}
	st := memstore.New(clk.Now)
	var cst store.Store = st
	if wrap != nil {
		cst = wrap(st)
	}
	ctl, err := New(ctx, Options{Store: cst, Clock: clk, OnACDEvents: func(evs []acd.Event) {
		if c := ccp.Load(); c != nil {
			c.HandleACD(evs)
		}
	}, ACDOptions: []acd.Option{acd.WithRand(rand.New(rand.NewPCG(1, 2)))}})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, ctx: ctx, clk: clk, fake: fake, fakes: fakes, core: core, st: st, ctl: ctl, j: &memJournal{},
		recs: &memRecStore{}, agents: map[string]string{}, queues: map[string]string{}}
	o := CallCenterOptions{Controller: ctl, Media: core, Journal: h.j, Recordings: h.recs, Clock: clk,
		Directory:    fakeDirectory{cu: Customer{Name: "Zhao Lei", Company: "ACME", Source: "directory"}},
		BuiltinFlows: map[string]*ivr.Flow{"demo-800": ivr.DemoFlow()}}
	for _, f := range opts {
		f(&o)
	}
	cc, err := NewCallCenter(o)
	if err != nil {
		t.Fatal(err)
	}
	ccp.Store(cc)
	h.cc = cc
	sub, err := cc.Events().Subscribe(nil, cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := sub.Next(context.Background())
			if err != nil {
				return
			}
			h.mu.Lock()
			h.cti = append(h.cti, ev)
			h.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cc.Close()
		_ = ctl.Close()
		_ = core.Close()
		sub.Close()
		<-done
	})
	for _, a := range []struct{ ext, name string }{{"1001", "Wang Fang"}, {"1002", "Li Wei"}} {
		ag := store.Agent{Name: a.name, Extension: a.ext, Team: "blue"}
		if err := ctl.Agents().Create(ctx, &ag); err != nil {
			t.Fatal(err)
		}
		h.agents[a.ext] = ag.ID
	}
	h.queue(store.Queue{Name: "sales", Strategy: store.StrategyTopDown, RingTimeout: 10, WrapUp: 5,
		JoinWhenNoAgents: true, Recording: store.RecordingPolicy{Mode: store.RecordAll},
		Members: []store.QueueMember{{AgentID: h.agents["1001"]}, {AgentID: h.agents["1002"], Penalty: 1}}})
	h.number(store.Number{Number: "800", Route: store.Target{Kind: store.TargetQueue, Value: h.queues["sales"]}})
	return h
}

func (h *harness) queue(q store.Queue) string {
	h.t.Helper()
	if err := h.ctl.Queues().Create(h.ctx, &q); err != nil {
		h.t.Fatal(err)
	}
	h.queues[q.Name] = q.ID
	return q.ID
}

func (h *harness) number(n store.Number) {
	h.t.Helper()
	if err := h.ctl.Numbers().Create(h.ctx, &n); err != nil {
		h.t.Fatal(err)
	}
}

var admin = Actor{UserID: "u-admin", Role: store.RoleAdmin}

// ready logs an agent in and makes it ready.
func (h *harness) ready(ext string) {
	h.t.Helper()
	if _, err := h.cc.SetAgentState(h.ctx, admin, h.agents[ext], AgentStateRequest{State: "ready"}); err != nil {
		h.t.Fatal(err)
	}
}

// until advances the virtual clock in small steps until cond holds, at
// most max of virtual time (each step yields to the actors). Past max the
// clock stays put and until keeps waiting in real time: on a loaded
// machine the actors may need more than a step's yield to act on what
// virtual time already allowed, and that is not a failure; cond still
// false after 20 s of real time is.
func (h *harness) until(what string, max time.Duration, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var passed time.Duration
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: not after %v of virtual time", what, passed)
		}
		// Let the actors drain what the last step produced before time
		// moves again.
		for range 5 {
			if cond() {
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
		if passed <= max {
			h.clk.Advance(100 * time.Millisecond)
			passed += 100 * time.Millisecond
		}
	}
}

// waitReal waits, without moving virtual time, until cond holds.
func (h *harness) waitReal(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) events() []cti.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.cti)
}

func (h *harness) ctiOf(typ string) []cti.Event {
	var out []cti.Event
	for _, e := range h.events() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func (h *harness) hasCTI(typ string) func() bool {
	return func() bool { return len(h.ctiOf(typ)) > 0 }
}

func (h *harness) cdrCount(n int) func() bool {
	return func() bool { return len(h.j.CDRs()) >= n }
}

func (h *harness) agentState(ext string) string {
	v, err := h.cc.AgentState(h.ctx, admin, h.agents[ext])
	if err != nil {
		h.t.Fatal(err)
	}
	return v.State
}

// agentLeg returns the channel of the first originate to endpoint.
func (h *harness) originates(endpoint string) []mediafake.Call {
	var out []mediafake.Call
	for _, c := range h.fake.CallsOf("originate") {
		if strings.Contains(c.Arg, endpoint) {
			out = append(out, c)
		}
	}
	return out
}

func payload(t *testing.T, ev cti.Event) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ev.Payload, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
