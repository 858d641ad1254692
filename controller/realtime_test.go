package controller

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"hotline/controller/cti"
	"hotline/controller/reports"
	"hotline/controller/store"
	"hotline/mediacore"
)

// reportingTestJournal is what cmd's reporting journal does: the event
// log goes to the journal, the report aggregator (numbered in order) and
// the sliding window, on the ACD owner's goroutine.
type reportingTestJournal struct {
	*memJournal
	agg *reports.Aggregator
	win *reports.Window

	mu  sync.Mutex
	seq int64
}

func (j *reportingTestJournal) CallEnded(c store.CDR) {
	j.memJournal.CallEnded(c)
	j.agg.AddCDR(c)
}

func (j *reportingTestJournal) QueueEvents(evs ...store.QueueEvent) {
	j.memJournal.QueueEvents(evs...)
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, ev := range evs {
		j.seq++
		ev.Seq = j.seq
		j.agg.AddEvent(ev)
		j.win.AddEvent(ev)
	}
}

type realtimeHarness struct {
	*harness
	rt  *Realtime
	agg *reports.Aggregator
	reg *prometheus.Registry
}

func newRealtimeHarness(t *testing.T) *realtimeHarness {
	t.Helper()
	agg, err := reports.NewAggregator(reports.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	win, err := reports.NewWindow(reports.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	j := &reportingTestJournal{memJournal: &memJournal{}, agg: agg, win: win}
	h := newHarness(t, func(o *CallCenterOptions) { o.Journal = j })
	h.j = j.memJournal
	reg := prometheus.NewRegistry()
	rt, err := NewRealtime(RealtimeOptions{Controller: h.ctl, Reports: agg, Window: win, Hub: h.cc.Events(), Clock: h.clk,
		Location: time.UTC, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rt.Close)
	return &realtimeHarness{harness: h, rt: rt, agg: agg, reg: reg}
}

// queuedAt returns when the event log says call entered a queue.
func (h *realtimeHarness) queuedAt(callID string) time.Time {
	h.t.Helper()
	for _, ev := range h.j.Events() {
		if ev.Kind == "queued" && ev.CallID == callID {
			return ev.At
		}
	}
	h.t.Fatalf("call %s never queued", callID)
	return time.Time{}
}

func (h *realtimeHarness) stats() RealtimeStats {
	h.t.Helper()
	st, err := h.rt.Stats(h.ctx, admin, RealtimeQuery{})
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func queueOf(t *testing.T, st RealtimeStats, id string) QueueRealtime {
	t.Helper()
	for _, q := range st.Queues {
		if q.QueueID == id {
			return q
		}
	}
	t.Fatalf("queue %s not in %+v", id, st.Queues)
	return QueueRealtime{}
}

func agentOf(t *testing.T, st RealtimeStats, id string) AgentRealtime {
	t.Helper()
	for _, a := range st.Agents {
		if a.AgentID == id {
			return a
		}
	}
	t.Fatalf("agent %s not in %+v", id, st.Agents)
	return AgentRealtime{}
}

// liveCallIDs returns the ids of the live calls, oldest first.
func (h *realtimeHarness) liveCallIDs() []string {
	calls, err := h.cc.Calls(h.ctx, admin)
	if err != nil {
		h.t.Fatal(err)
	}
	var ids []string
	for _, c := range calls {
		if c.State == "queued" {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Two callers queue in sales while nobody is ready: the figures count
// them with the longest wait from the first one's queue entry and the
// members by state; then 1001 answers the first and the second hangs up,
// and today's figures say so, equal to the report aggregator's.
func TestRealtimeQueueAndAgents(t *testing.T) {
	h := newRealtimeHarness(t)
	sales := h.queues["sales"]
	if _, err := h.cc.SetAgentState(h.ctx, admin, h.agents["1002"], AgentStateRequest{State: "not-ready", Reason: "lunch"}); err != nil {
		t.Fatal(err)
	}
	chA := h.fake.Inbound("13800000001", "800")
	h.until("A queued", time.Second, func() bool { return len(h.liveCallIDs()) == 1 })
	h.clk.Advance(5 * time.Second)
	chB := h.fake.Inbound("13800000002", "800")
	h.until("B queued", time.Second, func() bool { return len(h.liveCallIDs()) == 2 })
	h.clk.Advance(3 * time.Second)
	ids := h.liveCallIDs()
	a := ids[0]
	if h.queuedAt(ids[1]).Before(h.queuedAt(a)) {
		a = ids[1]
	}

	st := h.stats()
	now := h.clk.Now()
	q := queueOf(t, st, sales)
	wantLongest := now.Sub(h.queuedAt(a)).Seconds()
	if q.Waiting != 2 || q.Ringing != 0 || q.LongestWait != wantLongest || wantLongest < 8 || wantLongest > 8.5 {
		t.Errorf("sales: waiting %d ringing %d longest %v, want 2, 0, %v", q.Waiting, q.Ringing, q.LongestWait, wantLongest)
	}
	wantAgents := map[string]int{"logged-out": 1, "not-ready": 1, "ready": 0, "reserved": 0, "busy": 0, "wrap-up": 0}
	if !reflect.DeepEqual(q.Agents, wantAgents) {
		t.Errorf("sales agents = %v, want %v", q.Agents, wantAgents)
	}
	if q.Today.Offered != 2 || q.Today.Answered != 0 || q.Window.Offered != 2 || !st.Time.Equal(now) {
		t.Errorf("today %+v window %+v at %v", q.Today, q.Window, st.Time)
	}
	ag := agentOf(t, st, h.agents["1002"])
	if ag.State != "not-ready" || ag.Reason != "lunch" || ag.InState != now.Sub(ag.Since).Seconds() || ag.InState < 8 {
		t.Errorf("1002 = %+v", ag)
	}

	// 1001 answers A (the mediafake answers at once); B gives up after
	// more than the short-abandon threshold.
	h.ready("1001")
	h.until("A answered", 5*time.Second, h.hasCTI("call.answered"))
	h.clk.Advance(4 * time.Second)
	if err := h.fake.RemoteHangup(chB, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("B abandoned", time.Second, func() bool { return len(h.liveCallIDs()) == 0 && len(h.j.CDRs()) == 1 })

	st = h.stats()
	q = queueOf(t, st, sales)
	if q.Waiting != 0 || q.LongestWait != 0 || q.Agents["busy"] != 1 || q.Agents["not-ready"] != 1 {
		t.Errorf("after: %+v", q)
	}
	if q.Today.Offered != 2 || q.Today.Answered != 1 || q.Today.Abandoned != 1 || q.Today.AnsweredInSL != 1 ||
		q.Today.ServiceLevel == nil || *q.Today.ServiceLevel != 0.5 {
		t.Errorf("today = %+v", q.Today)
	}
	rep, err := h.agg.QueueReport(h.ctx, reports.Today(st.Time, time.UTC, []string{sales}))
	if err != nil || len(rep.Rows) != 1 {
		t.Fatalf("report: %v %+v", err, rep)
	}
	if want := rep.Rows[0].QueueFigures(); !reflect.DeepEqual(q.Today, want) {
		t.Errorf("today's figures %+v differ from the report's %+v", q.Today, want)
	}
	if !reflect.DeepEqual(q.Window, q.Today) {
		t.Errorf("the 15-minute window %+v differs from today %+v (every call is in both)", q.Window, q.Today)
	}
	ag = agentOf(t, st, h.agents["1001"])
	if ag.State != "busy" || ag.CallsToday != 1 {
		t.Errorf("1001 = %+v", ag)
	}
	if err := h.fake.RemoteHangup(chA, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}

	// A window that starts after both calls entered is empty.
	h.clk.Advance(time.Minute)
	st, err = h.rt.Stats(h.ctx, admin, RealtimeQuery{Window: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if q := queueOf(t, st, sales); q.Window.Offered != 0 || q.Today.Offered != 2 || st.WindowSeconds != 30 {
		t.Errorf("30 s window: %+v today %+v", q.Window, q.Today)
	}
	if _, err := h.rt.Stats(h.ctx, admin, RealtimeQuery{Window: reports.MaxWindow + time.Second}); !errors.Is(err, reports.ErrInvalidQuery) {
		t.Errorf("too long a window: err = %v", err)
	}
}

// Roles: an agent may not read the figures; a supervisor of another
// team sees neither sales nor its agents; the blue team's sees them.
func TestRealtimeRoles(t *testing.T) {
	h := newRealtimeHarness(t)
	if _, err := h.rt.Stats(h.ctx, Actor{Role: store.RoleAgent, AgentID: h.agents["1001"]}, RealtimeQuery{}); !errors.Is(err, ErrForbidden) {
		t.Errorf("agent: err = %v", err)
	}
	red, err := h.rt.Stats(h.ctx, Actor{Role: store.RoleSupervisor, Team: "red"}, RealtimeQuery{})
	if err != nil || len(red.Queues) != 0 || len(red.Agents) != 0 {
		t.Errorf("red supervisor: %v %+v", err, red)
	}
	blue, err := h.rt.Stats(h.ctx, Actor{Role: store.RoleSupervisor, Team: "blue"}, RealtimeQuery{})
	if err != nil || len(blue.Queues) != 1 || len(blue.Agents) != 2 {
		t.Errorf("blue supervisor: %v %+v", err, blue)
	}
	rep, err := h.rt.Stats(h.ctx, Actor{Role: store.RoleReporter}, RealtimeQuery{})
	if err != nil || len(rep.Queues) != 1 || len(rep.Agents) != 2 {
		t.Errorf("reporter: %v %+v", err, rep)
	}
}

// The figures are pushed as stats.realtime once per (virtual) second,
// visible to the team's supervisor and not to an agent, and the gauges
// show the pushed figures.
func TestRealtimePushAndGauges(t *testing.T) {
	h := newRealtimeHarness(t)
	hub := h.cc.Events()
	sup, err := hub.Subscribe(cti.All(cti.ForPrincipal("supervisor", "", []string{"blue"}), cti.Types(RealtimeEventType, "marker")), cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	agent, err := hub.Subscribe(cti.All(cti.ForPrincipal("agent", h.agents["1001"], nil), cti.Types(RealtimeEventType, "marker")), cti.Live)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()

	h.fake.Inbound("13800000001", "800")
	h.until("queued", time.Second, func() bool { return len(h.liveCallIDs()) == 1 })
	h.rt.Start()
	start := h.clk.Now()
	h.clk.Advance(500 * time.Millisecond) // no push yet
	for range 3 {
		h.clk.Advance(time.Second)
	}
	// Publish is synchronous in the tick: a marker published now comes
	// after every push of those 3.5 virtual seconds.
	hub.Publish(cti.Event{Type: "marker", Audience: cti.Audience{Teams: []string{"blue"}, Agents: []string{h.agents["1001"]}}})
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	var pushes []cti.Event
	for {
		ev, err := sup.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == "marker" {
			break
		}
		pushes = append(pushes, ev)
	}
	if len(pushes) != 3 {
		t.Fatalf("%d pushes in 3.5 virtual seconds, want 3", len(pushes))
	}
	for i, ev := range pushes {
		if want := start.Add(time.Duration(i+1) * time.Second); !ev.Time.Equal(want) {
			t.Errorf("push %d at %v, want %v", i, ev.Time, want)
		}
	}
	var st RealtimeStats
	if err := json.Unmarshal(pushes[2].Payload, &st); err != nil {
		t.Fatal(err)
	}
	q := queueOf(t, st, h.queues["sales"])
	if q.Waiting != 1 || q.LongestWait < 3 || q.LongestWait > 4 {
		t.Errorf("pushed sales = %+v", q)
	}
	if ev, err := agent.Next(ctx); err != nil || ev.Type != "marker" {
		t.Errorf("an agent received %s (%v) before the marker", ev.Type, err)
	}

	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			got[key] = m.GetGauge().GetValue()
		}
	}
	sales := h.queues["sales"]
	for key, want := range map[string]float64{
		"hotline_queue_waiting_calls,queue=" + sales:                1,
		"hotline_queue_agents,queue=" + sales + ",state=logged-out": 2,
		"hotline_queue_offered_today,queue=" + sales:                1,
		"hotline_queue_longest_wait_seconds,queue=" + sales:         q.LongestWait,
	} {
		if v, ok := got[key]; !ok || math.Abs(v-want) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v", key, v, ok, want)
		}
	}
	// The waiting call is offered and not (yet) answered within T: 0.
	if v, ok := got["hotline_queue_service_level_today,queue="+sales]; !ok || v != 0 {
		t.Errorf("service level today = %v (present %v), want 0", v, ok)
	}
	if _, ok := got["hotline_queue_asa_today_seconds,queue="+sales]; ok {
		t.Error("ASA exported with nothing answered")
	}
}
