package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"hotline/controller/store"
)

// testChanges checks the change feed: every committed create, update and
// delete of configuration is one change with the next revision, in commit
// order; failed writes, tokens and the audit log record nothing; paging by
// revision works; Watch wakes after a commit.
func testChanges(t *testing.T, open Open) {
	s := open(t)
	c := ctx(t)
	got, err := s.Changes(c, 0, 0)
	must(t, "changes of an empty store", err)
	if len(got) != 0 {
		t.Fatalf("an empty store has changes: %+v", got)
	}
	rev, err := s.Revision(c)
	must(t, "revision of an empty store", err)
	equal(t, "revision of an empty store", rev, int64(0))

	wctx, stop := context.WithCancel(c)
	wake := s.Watch(wctx)

	before := time.Now()
	a := agentSuite.make(0)
	must(t, "create agent", s.Agents().Create(c, &a))
	select {
	case <-wake:
	case <-c.Done():
		t.Fatal("Watch did not wake after a commit")
	}
	q := queueSuite.make(1)
	must(t, "create queue", s.Queues().Create(c, &q))
	stale := a
	a.Name = "renamed"
	must(t, "update agent", s.Agents().Update(c, &a))
	wantErr(t, "stale update", s.Agents().Update(c, &stale), store.ErrVersionMismatch)
	wantErr(t, "stale delete", s.Queues().Delete(c, q.ID, 9), store.ErrVersionMismatch)
	wantErr(t, "delete missing", s.Skills().Delete(c, store.NewID(), 0), store.ErrNotFound)
	dup := agentSuite.make(0)
	wantErr(t, "duplicate create", s.Agents().Create(c, &dup), store.ErrConflict)
	tok := store.Token{UserID: "u", Name: "n", Kind: store.TokenAPI, Hash: "feedhash"}
	must(t, "create token", s.Tokens().Create(c, &tok))
	must(t, "append audit", s.Audit().Append(c, &store.AuditEntry{At: at(1, 1), Action: "create", Resource: "queues"}))
	must(t, "delete queue", s.Queues().Delete(c, q.ID, q.Version))
	after := time.Now()

	got, err = s.Changes(c, 0, 0)
	must(t, "changes", err)
	want := []store.Change{
		{Revision: 1, Kind: store.KindAgent, ID: a.ID, Op: store.OpCreate},
		{Revision: 2, Kind: store.KindQueue, ID: q.ID, Op: store.OpCreate},
		{Revision: 3, Kind: store.KindAgent, ID: a.ID, Op: store.OpUpdate},
		{Revision: 4, Kind: store.KindQueue, ID: q.ID, Op: store.OpDelete},
	}
	if len(got) != len(want) {
		t.Fatalf("changes:\n got %+v\nwant %+v", got, want)
	}
	for i := range got {
		checkStamp(t, "change time", got[i].At, before, after)
		got[i].At = time.Time{}
	}
	equal(t, "changes", got, want)

	rev, err = s.Revision(c)
	must(t, "revision", err)
	equal(t, "revision", rev, int64(4))
	page, err := s.Changes(c, 1, 2)
	must(t, "changes after 1, limit 2", err)
	if len(page) != 2 || page[0].Revision != 2 || page[1].Revision != 3 {
		t.Fatalf("changes after 1, limit 2: %+v", page)
	}
	page, err = s.Changes(c, 4, 0)
	must(t, "changes after the last", err)
	if len(page) != 0 {
		t.Fatalf("changes after the last revision: %+v", page)
	}

	// Concurrent writers get distinct, gapless revisions.
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			k := skillSuite.make(100 + i)
			errs <- s.Skills().Create(c, &k)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "concurrent create", err)
	}
	all, err := s.Changes(c, 0, store.MaxLimit)
	must(t, "all changes", err)
	if len(all) != 4+writers {
		t.Fatalf("%d changes after %d concurrent creates, want %d", len(all), writers, 4+writers)
	}
	for i, ch := range all {
		if ch.Revision != int64(i+1) {
			t.Fatalf("revision %d at position %d: not gapless", ch.Revision, i)
		}
	}

	stop()
	select {
	case _, ok := <-wake:
		for ok {
			_, ok = <-wake
		}
	case <-c.Done():
		t.Fatal("Watch's channel not closed after its context ended")
	}
}
