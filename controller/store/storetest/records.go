package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"

	"hotline/controller/store"
)

var contactSuite = repoSuite[store.Contact]{
	repo: func(s store.Store) store.Repo[store.Contact] { return s.Contacts() },
	make: func(i int) store.Contact {
		c := store.Contact{
			Name:    fmt.Sprintf("Customer %d", i),
			Numbers: []string{fmt.Sprintf("+8613800%06d", i), fmt.Sprintf("010-555-%04d", i)},
			Company: "ACME",
		}
		if i%2 == 0 {
			c.Notes = "prefers mornings"
			c.Fields = map[string]string{"tier": "gold", "account": fmt.Sprint(i)}
		}
		return c
	},
	mutate: func(v *store.Contact) {
		v.Notes += "!"
		if len(v.Numbers) == 2 {
			v.Numbers = append(v.Numbers, "+1555"+v.Numbers[0][len(v.Numbers[0])-6:])
		} else {
			v.Numbers = v.Numbers[:2]
		}
		if v.Fields == nil {
			v.Fields = map[string]string{"new": "yes"}
		} else {
			v.Fields = nil
		}
	},
	setKey: func(v *store.Contact, from store.Contact) { v.Numbers = append(v.Numbers, from.Numbers[1]) },
	getByKey: func(ctx context.Context, s store.Store, like store.Contact) (store.Contact, error) {
		return s.Contacts().GetByNumber(ctx, like.Numbers[1])
	},
}

var ivrFlowSuite = repoSuite[store.IVRFlow]{
	repo: func(s store.Store) store.Repo[store.IVRFlow] { return s.IVRFlows() },
	make: func(i int) store.IVRFlow {
		// Not normalized JSON on purpose: the document comes back as saved.
		return store.IVRFlow{Name: fmt.Sprintf("flow-%d", i),
			Flow: json.RawMessage(fmt.Sprintf(`{"start": "m", "nodes": {"m": {"type":"hangup"}}, "n": %d}`, i))}
	},
	mutate:   func(v *store.IVRFlow) { v.Flow = json.RawMessage(`{"z":1,  "a":2}`) },
	setKey:   func(v *store.IVRFlow, from store.IVRFlow) { v.Name = from.Name },
	getByKey: nil,
}

// testContactNumbers checks the number index follows updates and deletes.
func testContactNumbers(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	a := contactSuite.make(0)
	must(t, "create", s.Contacts().Create(c, &a))
	old := a.Numbers[0]
	a.Numbers = []string{"+49301234"}
	must(t, "update", s.Contacts().Update(c, &a))
	_, err := s.Contacts().GetByNumber(c, old)
	wantErr(t, "old number after update", err, store.ErrNotFound)
	got, err := s.Contacts().GetByNumber(c, "+49301234")
	must(t, "new number", err)
	equal(t, "by new number", got.ID, a.ID)
	// The old number is free for another contact now.
	b := store.Contact{Name: "B", Numbers: []string{old}}
	must(t, "create with a freed number", s.Contacts().Create(c, &b))
	must(t, "delete", s.Contacts().Delete(c, a.ID, a.Version))
	_, err = s.Contacts().GetByNumber(c, "+49301234")
	wantErr(t, "number after delete", err, store.ErrNotFound)
	// Contacts are configuration: in the change feed.
	ch, err := s.Changes(c, 0, 0)
	must(t, "changes", err)
	if len(ch) != 4 || ch[0].Kind != store.KindContact || ch[3].Op != store.OpDelete {
		t.Fatalf("changes = %+v", ch)
	}
	f := ivrFlowSuite.make(1)
	must(t, "create flow", s.IVRFlows().Create(c, &f))
	ch, err = s.Changes(c, 4, 0)
	must(t, "changes", err)
	if len(ch) != 1 || ch[0].Kind != store.KindIVRFlow || ch[0].ID != f.ID {
		t.Fatalf("changes = %+v", ch)
	}
}

func cdrFixture(i int) store.CDR {
	start := at(3, i%60).Add(0)
	ans := start.Add(12_000_000)
	c := store.CDR{
		ID: fmt.Sprintf("call-%03d", i), Direction: "inbound", Caller: fmt.Sprintf("+86138%d", i%3),
		Called: "800", Node: "n1", Start: start, End: start.Add(90e9),
		IVRPath: []store.IVRStep{{Flow: "f1", Node: "menu", At: start}}, Queue: fmt.Sprintf("q%d", i%2),
		WaitSeconds: 12, Outcome: store.OutcomeAnswered, AgentID: fmt.Sprintf("a%d", i%4), TalkSeconds: 60,
		HangupCause: "normal", HangupSide: store.SideCaller, Transfers: []store.CDRTransfer{},
		Legs: []store.CDRLeg{{Channel: "ch1", Node: "n1", Role: "caller", Start: start, End: start.Add(90e9)}},
	}
	if i%2 == 0 {
		c.Answer = &ans
		c.Variables = map[string]string{"lang": "zh"}
		c.Outcome = store.OutcomeAbandoned
	}
	return c
}

func testCDRs(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	var all []store.CDR
	for i := range 7 {
		all = append(all, cdrFixture(i))
	}
	must(t, "put", s.CDRs().Put(c, all...))
	// Idempotent replay: the same batch again, with one record changed.
	all[3].Disposition = "sale"
	must(t, "replay", s.CDRs().Put(c, all...))
	got, err := s.CDRs().Get(c, all[3].ID)
	must(t, "get", err)
	equal(t, "cdr", got, all[3])
	_, err = s.CDRs().Get(c, "nope")
	wantErr(t, "get missing", err, store.ErrNotFound)

	// Newest first, paged.
	var ids []string
	opt := store.ListOptions{Limit: 3}
	for {
		p, err := s.CDRs().Search(c, store.CDRFilter{}, opt)
		must(t, "search", err)
		for _, v := range p.Items {
			ids = append(ids, v.ID)
		}
		if p.Next == "" {
			break
		}
		opt.After = p.Next
	}
	equal(t, "order", ids, []string{"call-006", "call-005", "call-004", "call-003", "call-002", "call-001", "call-000"})

	filters := []struct {
		name string
		f    store.CDRFilter
		want []string
	}{
		{"caller", store.CDRFilter{Caller: "+861381"}, []string{"call-004", "call-001"}},
		{"queue", store.CDRFilter{Queue: "q1"}, []string{"call-005", "call-003", "call-001"}},
		{"agent", store.CDRFilter{AgentID: "a2"}, []string{"call-006", "call-002"}},
		{"outcome", store.CDRFilter{Outcome: store.OutcomeAnswered}, []string{"call-005", "call-003", "call-001"}},
		{"called", store.CDRFilter{Called: "801"}, nil},
		{"time", store.CDRFilter{Since: at(3, 2), Until: at(3, 4)}, []string{"call-003", "call-002"}},
		{"combined", store.CDRFilter{Queue: "q0", Since: at(3, 1)}, []string{"call-006", "call-004", "call-002"}},
	}
	for _, tc := range filters {
		p, err := s.CDRs().Search(c, tc.f, store.ListOptions{})
		must(t, tc.name, err)
		var got []string
		for _, v := range p.Items {
			got = append(got, v.ID)
		}
		equal(t, tc.name, got, tc.want)
	}
	_, err = s.CDRs().Search(c, store.CDRFilter{}, store.ListOptions{After: "garbage"})
	wantErr(t, "bad cursor", err, store.ErrBadCursor)
}

func testQueueEvents(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	var evs []store.QueueEvent
	for i := 1; i <= 9; i++ {
		evs = append(evs, store.QueueEvent{Seq: 1000, At: at(4, i), Kind: "offer", CallID: fmt.Sprintf("c%d", i%3),
			Queue: fmt.Sprintf("q%d", i%2), AgentID: "a1", State: "reserved", Data: json.RawMessage(`{"x":1}`),
			Source: "journal-1", Pos: int64(100 + i)})
	}
	// Two batches, the second replaying part of the first (a crash between
	// a write and its acknowledgement): one copy each, in write order.
	must(t, "put", s.QueueEvents().Put(c, evs[:6]...))
	dup := evs[4]
	dup.Kind = "changed" // a replayed event is skipped, not overwritten
	must(t, "replay", s.QueueEvents().Put(c, append([]store.QueueEvent{dup}, evs[5:]...)...))
	want := slices.Clone(evs)
	for i := range want {
		want[i].Seq = int64(i + 1) // assigned by the store, in write order
	}
	got, err := s.QueueEvents().Search(c, store.QueueEventFilter{}, 0)
	must(t, "search", err)
	equal(t, "all events in seq order", got, want)
	// Another journal's positions do not collide with these.
	other := evs[0]
	other.Source = "journal-2"
	must(t, "other source", s.QueueEvents().Put(c, other))
	// Events without a source are always appended.
	anon := store.QueueEvent{At: at(4, 30), Kind: "x"}
	must(t, "anonymous", s.QueueEvents().Put(c, anon, anon))
	got, err = s.QueueEvents().Search(c, store.QueueEventFilter{AfterSeq: 9}, 0)
	must(t, "after 9", err)
	if len(got) != 3 || got[0].Seq != 10 || got[0].Source != "journal-2" || got[2].Seq != 12 {
		t.Fatalf("after 9: %+v", got)
	}
	got, err = s.QueueEvents().Search(c, store.QueueEventFilter{AfterSeq: 3}, 2)
	must(t, "after", err)
	equal(t, "after 3, 2", got, want[3:5])
	got, err = s.QueueEvents().Search(c, store.QueueEventFilter{Queue: "q1", CallID: "c1", AgentID: "a1"}, 0)
	must(t, "filter", err)
	if len(got) != 3 || got[2].Source != "journal-2" {
		t.Fatalf("q1 c1: %+v", got)
	}
	equal(t, "q1 c1", got[:2], []store.QueueEvent{want[0], want[6]})
	got, err = s.QueueEvents().Search(c, store.QueueEventFilter{Since: at(4, 8), Until: at(4, 10)}, 0)
	must(t, "since", err)
	equal(t, "since", got, want[7:])
	got, err = s.QueueEvents().Search(c, store.QueueEventFilter{AgentID: "zz"}, 0)
	must(t, "none", err)
	if got == nil || len(got) != 0 {
		t.Fatalf("no match gives %#v, want an empty slice", got)
	}
}

func testRecordings(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	var recs []store.Recording
	for i := range 5 {
		r := store.Recording{ID: fmt.Sprintf("rec-%d", i), CallID: fmt.Sprintf("call-%d", i), Start: at(5, i),
			End: at(5, i).Add(60e9), Duration: float64(10 * (i + 1)), Caller: fmt.Sprintf("+86%d", i%2), Called: "800",
			AgentID: fmt.Sprintf("a%d", i%2), Queue: "q", Stereo: true, Path: fmt.Sprintf("2026/03/05/rec-%d.wav", i),
			Bytes: 1000, Pauses: []store.RecordPause{}, Node: "n"}
		if i == 2 {
			r.Pauses = []store.RecordPause{{From: at(5, 2), To: at(5, 3), By: "a0"}}
		}
		recs = append(recs, r)
	}
	must(t, "put", s.Recordings().Put(c, recs...))
	must(t, "replay", s.Recordings().Put(c, recs[2]))
	got, err := s.Recordings().Get(c, "rec-2")
	must(t, "get", err)
	equal(t, "recording (path included)", got, recs[2])
	_, err = s.Recordings().Get(c, "x")
	wantErr(t, "missing", err, store.ErrNotFound)
	cases := []struct {
		name string
		f    store.RecordingFilter
		want []string
	}{
		{"all", store.RecordingFilter{}, []string{"rec-4", "rec-3", "rec-2", "rec-1", "rec-0"}},
		{"agent", store.RecordingFilter{AgentID: "a1"}, []string{"rec-3", "rec-1"}},
		{"caller", store.RecordingFilter{Caller: "+860"}, []string{"rec-4", "rec-2", "rec-0"}},
		{"duration", store.RecordingFilter{MinDuration: 20, MaxDuration: 40}, []string{"rec-3", "rec-2", "rec-1"}},
		{"time", store.RecordingFilter{Since: at(5, 1), Until: at(5, 3)}, []string{"rec-2", "rec-1"}},
		{"called+queue", store.RecordingFilter{Called: "800", Queue: "nope"}, nil},
	}
	for _, tc := range cases {
		p, err := s.Recordings().Search(c, tc.f, store.ListOptions{})
		must(t, tc.name, err)
		var ids []string
		for _, v := range p.Items {
			ids = append(ids, v.ID)
		}
		equal(t, tc.name, ids, tc.want)
	}
	p, err := s.Recordings().Search(c, store.RecordingFilter{}, store.ListOptions{Limit: 2})
	must(t, "page 1", err)
	p2, err := s.Recordings().Search(c, store.RecordingFilter{}, store.ListOptions{Limit: 2, After: p.Next})
	must(t, "page 2", err)
	if len(p2.Items) != 2 || p2.Items[0].ID != "rec-2" || p2.Next == "" {
		t.Fatalf("page 2 = %+v", p2)
	}
	_, err = s.Recordings().Search(c, store.RecordingFilter{}, store.ListOptions{After: "1_"})
	if !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

// testQueueEventsConcurrent: writers appending at once (several controller
// nodes on one database) get unique, gapless seqs, each writer's events in
// its order.
func testQueueEventsConcurrent(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	const writers, each = 4, 15
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			var err error
			for i := 0; i < each && err == nil; i++ {
				err = s.QueueEvents().Put(c, store.QueueEvent{At: at(6, i), Kind: "k", Source: fmt.Sprint("w", w), Pos: int64(i + 1)})
			}
			errs <- err
		}()
	}
	for range writers {
		must(t, "concurrent put", <-errs)
	}
	got, err := s.QueueEvents().Search(c, store.QueueEventFilter{}, store.MaxLimit)
	must(t, "search", err)
	if len(got) != writers*each {
		t.Fatalf("%d events stored, want %d", len(got), writers*each)
	}
	last := map[string]int64{}
	for i, e := range got {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: not gapless", i, e.Seq)
		}
		if e.Pos != last[e.Source]+1 {
			t.Fatalf("writer %s: pos %d after %d", e.Source, e.Pos, last[e.Source])
		}
		last[e.Source] = e.Pos
	}
}
