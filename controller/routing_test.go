package controller

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"hotline/controller/ivr"
	"hotline/controller/store"
	"hotline/mediacore"
)

// hangupOf returns the cause the call path hung a channel up with.
func hangupOf(h *harness, ch mediacore.ChannelID) string {
	for _, c := range h.fake.CallsOf("hangup") {
		if c.ID == string(ch) {
			return c.Arg
		}
	}
	return ""
}

// Inbound routing: lists, unknown numbers, VIPs and schedules.
func TestInboundRouting(t *testing.T) {
	cases := []struct {
		name    string
		opts    []harnessOpt
		setup   func(h *harness)
		caller  string
		called  string
		ready   bool
		outcome store.CallOutcome
		cause   string // the caller's hangup cause from the call path ("" = none)
		check   func(t *testing.T, h *harness, cdr store.CDR)
	}{
		{name: "unknown number is 404 and counted", caller: "13800000001", called: "999",
			outcome: store.OutcomeRejected, cause: "unallocated",
			check: func(t *testing.T, h *harness, _ store.CDR) {
				if n := counterValue(t, h.cc.m.rejected.WithLabelValues("unknown_number")); n != 1 {
					t.Errorf("rejected{unknown_number} = %v", n)
				}
			}},
		{name: "blacklisted exact is busy", caller: "13800000009", called: "800",
			setup: func(h *harness) {
				h.list(store.ListEntry{List: store.ListBlacklist, Pattern: "13800000009", Match: store.MatchExact})
			},
			outcome: store.OutcomeRejected, cause: "busy"},
		{name: "blacklisted prefix is declined when so configured", caller: "17000001234", called: "800",
			opts: []harnessOpt{func(o *CallCenterOptions) { o.Blacklist = BlacklistReject }},
			setup: func(h *harness) {
				h.list(store.ListEntry{List: store.ListBlacklist, Pattern: "170", Match: store.MatchPrefix})
			},
			outcome: store.OutcomeRejected, cause: "rejected"},
		{name: "prefix of another number does not match", caller: "13900000001", called: "800", ready: true,
			setup: func(h *harness) {
				h.list(store.ListEntry{List: store.ListBlacklist, Pattern: "170", Match: store.MatchPrefix})
			},
			outcome: store.OutcomeAnswered},
		{name: "VIP with a target skips the IVR to it", caller: "13600000001", called: "801",
			setup: func(h *harness) {
				h.number(store.Number{Number: "801", Route: store.Target{Kind: store.TargetIVR, Value: "demo-800"}})
				h.list(store.ListEntry{List: store.ListWhitelist, Pattern: "136", Match: store.MatchPrefix,
					Target: &store.Target{Kind: store.TargetExtension, Value: "1002"}})
			},
			outcome: store.OutcomeAnswered,
			check: func(t *testing.T, h *harness, cdr store.CDR) {
				if len(cdr.IVRPath) != 0 || len(h.originates("user/1002")) != 1 || cdr.Variables["vip"] != "true" {
					t.Errorf("VIP not sent straight to 1002: path %v, vars %v", cdr.IVRPath, cdr.Variables)
				}
			}},
		{name: "VIP without a target queues first", caller: "13600000002", called: "800", ready: true,
			setup: func(h *harness) {
				h.list(store.ListEntry{List: store.ListWhitelist, Pattern: "13600000002", Match: store.MatchExact})
			},
			outcome: store.OutcomeAnswered,
			check: func(t *testing.T, h *harness, cdr store.CDR) {
				for _, e := range h.j.Events() {
					if e.Kind == "queued" && e.CallID == cdr.ID {
						var d map[string]any
						_ = json.Unmarshal(e.Data, &d)
						if d["priority"] != float64(VIPPriority) {
							t.Errorf("VIP queued with %v", d["priority"])
						}
						return
					}
				}
				t.Error("VIP never queued")
			}},
		{name: "closed goes to after hours", caller: "13800000001", called: "802",
			setup: func(h *harness) {
				id := h.schedule(store.Schedule{Name: "early", TimeZone: "Asia/Shanghai",
					Weekly: []store.WeeklyHours{{Weekday: time.Monday, Start: "09:00", End: "12:00"}}})
				// 10:00 UTC is 18:00 in Shanghai: closed.
				h.number(store.Number{Number: "802", Route: store.Target{Kind: store.TargetQueue, Value: h.queues["sales"]},
					ScheduleID: id, AfterHours: &store.Target{Kind: store.TargetVoicemail, Value: "after"}})
			},
			outcome: store.OutcomeVoicemail,
			check: func(t *testing.T, h *harness, cdr store.CDR) {
				if cdr.Variables["schedule"] != "closed" || cdr.Variables["voicemail_box"] != "after" || cdr.Queue != "" {
					t.Errorf("vars %v, queue %q", cdr.Variables, cdr.Queue)
				}
			}},
		{name: "holiday goes to after hours", caller: "13800000001", called: "803",
			setup: func(h *harness) {
				id := h.schedule(store.Schedule{Name: "open", TimeZone: "UTC",
					Weekly:   []store.WeeklyHours{{Weekday: time.Monday, Start: "00:00", End: "24:00"}},
					Holidays: []store.Holiday{{Date: "2026-12-07"}}})
				h.number(store.Number{Number: "803", Route: store.Target{Kind: store.TargetQueue, Value: h.queues["sales"]},
					ScheduleID: id, AfterHours: &store.Target{Kind: store.TargetHangup}})
			},
			outcome: store.OutcomeRejected, cause: "normal",
			check: func(t *testing.T, h *harness, cdr store.CDR) {
				if cdr.Variables["schedule"] != "holiday" {
					t.Errorf("schedule = %q", cdr.Variables["schedule"])
				}
			}},
		{name: "open schedule routes normally", caller: "13800000001", called: "804", ready: true,
			setup: func(h *harness) {
				id := h.schedule(store.Schedule{Name: "open", TimeZone: "UTC",
					Weekly: []store.WeeklyHours{{Weekday: time.Monday, Start: "09:00", End: "18:00"}}})
				h.number(store.Number{Number: "804", Route: store.Target{Kind: store.TargetQueue, Value: h.queues["sales"]},
					ScheduleID: id, AfterHours: &store.Target{Kind: store.TargetHangup}})
			},
			outcome: store.OutcomeAnswered},
		{name: "closed without after hours is refused", caller: "13800000001", called: "805",
			setup: func(h *harness) {
				id := h.schedule(store.Schedule{Name: "never", TimeZone: "UTC"})
				h.number(store.Number{Number: "805", Route: store.Target{Kind: store.TargetQueue, Value: h.queues["sales"]},
					ScheduleID: id})
			},
			outcome: store.OutcomeRejected, cause: "unavailable"},
		{name: "external route dials through a trunk endpoint", caller: "13800000001", called: "806",
			setup: func(h *harness) {
				h.number(store.Number{Number: "806", Route: store.Target{Kind: store.TargetExternal, Value: "+8613700000000"}})
			},
			outcome: store.OutcomeAnswered,
			check: func(t *testing.T, h *harness, cdr store.CDR) {
				if len(h.originates("tel/+8613700000000")) != 1 || len(cdr.Transfers) != 1 || cdr.Transfers[0].Kind != "external" {
					t.Errorf("external dial: %v, transfers %+v", h.fake.CallsOf("originate"), cdr.Transfers)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts...)
			if tc.setup != nil {
				tc.setup(h)
			}
			if tc.ready {
				h.ready("1001")
			}
			ch := h.fake.Inbound(tc.caller, tc.called)
			if tc.outcome == store.OutcomeAnswered {
				h.until("answered", 10*time.Second, func() bool {
					info, ok := h.fake.Channel(ch)
					return ok && !info.Answered.IsZero() && len(h.fake.CallsOf("add_to_bridge")) == 2
				})
				if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
					t.Fatal(err)
				}
			}
			if tc.outcome == store.OutcomeVoicemail {
				h.until("voicemail recording", 10*time.Second, func() bool { return len(h.fake.CallsOf("record")) == 1 })
				if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
					t.Fatal(err)
				}
			}
			h.until("the CDR", 10*time.Second, h.cdrCount(1))
			cdr := h.j.CDRs()[0]
			if cdr.Outcome != tc.outcome {
				t.Errorf("outcome = %q, want %q", cdr.Outcome, tc.outcome)
			}
			if got := hangupOf(h, ch); got != tc.cause {
				t.Errorf("caller hung up by the call path with %q, want %q", got, tc.cause)
			}
			if tc.check != nil {
				tc.check(t, h, cdr)
			}
		})
	}
}

func (h *harness) list(e store.ListEntry) {
	h.t.Helper()
	if err := h.ctl.Lists().Create(h.ctx, &e); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) schedule(s store.Schedule) string {
	h.t.Helper()
	if err := h.ctl.Schedules().Create(h.ctx, &s); err != nil {
		h.t.Fatal(err)
	}
	return s.ID
}

func TestScheduleStateAt(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	sc := store.Schedule{Meta: store.Meta{ID: "s"}, TimeZone: "Asia/Shanghai",
		Weekly: []store.WeeklyHours{
			{Weekday: time.Monday, Start: "09:00", End: "12:00"}, {Weekday: time.Monday, Start: "13:00", End: "18:00"},
			{Weekday: time.Saturday, Start: "10:00", End: "12:00"}},
		Holidays:      []store.Holiday{{Date: "2026-10-01", Name: "国庆"}},
		ExtraWorkdays: []string{"2026-09-27"}, ExtraWorkdayAs: time.Monday}
	cases := []struct {
		name string
		at   time.Time
		want ivr.ScheduleState
	}{
		{"monday morning", time.Date(2026, 12, 7, 9, 0, 0, 0, sh), ivr.StateOpen},
		{"monday lunch", time.Date(2026, 12, 7, 12, 30, 0, 0, sh), ivr.StateClosed},
		{"end is exclusive", time.Date(2026, 12, 7, 18, 0, 0, 0, sh), ivr.StateClosed},
		{"time zone: 01:30 UTC is 09:30 in Shanghai", time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC), ivr.StateOpen},
		{"sunday", time.Date(2026, 12, 6, 10, 0, 0, 0, sh), ivr.StateClosed},
		{"saturday hours", time.Date(2026, 12, 5, 11, 0, 0, 0, sh), ivr.StateOpen},
		{"holiday", time.Date(2026, 10, 1, 10, 0, 0, 0, sh), ivr.StateHoliday},
		{"extra workday has monday hours", time.Date(2026, 9, 27, 15, 0, 0, 0, sh), ivr.StateOpen},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ScheduleStateAt(sc, c.at)
			if err != nil || got != c.want {
				t.Errorf("= %q, %v; want %q", got, err, c.want)
			}
		})
	}
	if _, err := ScheduleStateAt(store.Schedule{TimeZone: "Mars/Olympus"}, time.Now()); err == nil {
		t.Error("unknown time zone accepted")
	}
	if _, err := ScheduleStateAt(store.Schedule{Weekly: []store.WeeklyHours{{Weekday: time.Monday, Start: "9", End: "x"}}},
		time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)); err == nil || !strings.Contains(err.Error(), "bad hours") {
		t.Errorf("bad hours: %v", err)
	}
}

// counterValue reads a counter.
func counterValue(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// slowLists is a list repository whose database hangs.
type slowLists struct{ store.ListRepo }

func (slowLists) Match(ctx context.Context, _ store.ListKind, _ string, _ time.Time) ([]store.ListEntry, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

type slowStore struct{ store.Store }

func (s slowStore) Lists() store.ListRepo { return slowLists{s.Store.Lists()} }

// A database that hangs while a call is routed holds the call no longer
// than the routing bound: the caller counts as not listed.
func TestRoutingSurvivesAHangingDatabase(t *testing.T) {
	h := newHarnessOver(t, func(s store.Store) store.Store { return slowStore{s} },
		func(o *CallCenterOptions) { o.RoutingTimeout = 50 * time.Millisecond })
	h.ready("1001")
	ch := h.fake.Inbound("13800000001", "800")
	h.until("answered", 5*time.Second, h.hasCTI("call.answered"))
	if err := h.fake.RemoteHangup(ch, mediacore.CauseNormal); err != nil {
		t.Fatal(err)
	}
	h.until("the CDR", time.Second, h.cdrCount(1))
	if cdr := h.j.CDRs()[0]; cdr.Outcome != store.OutcomeAnswered {
		t.Errorf("outcome %q", cdr.Outcome)
	}
}
