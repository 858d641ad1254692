package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"hotline/controller/store"
)

// entity is a pointer to an aggregate that embeds store.Meta.
type entity[T any] interface {
	*T
	GetMeta() *store.Meta
}

// repoSuite describes one aggregate to the generic repository tests.
type repoSuite[T any] struct {
	repo func(s store.Store) store.Repo[T]
	// make returns a valid record whose unique key depends on i, with every
	// nested field populated (odd i leave optional slices and pointers
	// nil, even i fill them, so both shapes round-trip).
	make func(i int) T
	// mutate changes non-key fields, nested ones included.
	mutate func(v *T)
	// setKey gives v the unique key of from.
	setKey func(v *T, from T)
	// getByKey looks a record up by its unique key; nil when the repository
	// has no such method.
	getByKey func(ctx context.Context, s store.Store, like T) (T, error)
}

func runRepo[T any, P entity[T]](t *testing.T, open Open, rs repoSuite[T]) {
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store, r store.Repo[T])
	}{
		{"CreateGet", func(t *testing.T, s store.Store, r store.Repo[T]) { testCreateGet[T, P](t, s, r, rs) }},
		{"Update", func(t *testing.T, s store.Store, r store.Repo[T]) { testUpdate[T, P](t, r, rs) }},
		{"Delete", func(t *testing.T, s store.Store, r store.Repo[T]) { testDelete[T, P](t, r, rs) }},
		{"Conflict", func(t *testing.T, s store.Store, r store.Repo[T]) { testConflict[T, P](t, r, rs) }},
		{"Paginate", func(t *testing.T, s store.Store, r store.Repo[T]) { testPaginate[T, P](t, r, rs) }},
		{"ConcurrentUpdate", func(t *testing.T, s store.Store, r store.Repo[T]) { testConcurrentUpdate[T, P](t, r, rs) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			tc.run(t, s, rs.repo(s))
		})
	}
}

func meta[T any, P entity[T]](v *T) *store.Meta { return P(v).GetMeta() }

func testCreateGet[T any, P entity[T]](t *testing.T, s store.Store, r store.Repo[T], rs repoSuite[T]) {
	c := ctx(t)
	for i := range 2 { // an even and an odd fixture: filled and nil optional fields
		v := rs.make(i)
		// Create ignores whatever Meta the caller passes.
		*meta[T, P](&v) = store.Meta{ID: "caller-chosen", Version: 7, CreatedAt: at(1, 0)}
		before := time.Now()
		must(t, "create", r.Create(c, &v))
		after := time.Now()
		m := meta[T, P](&v)
		checkID(t, m.ID)
		if m.Version != 1 {
			t.Fatalf("version after create = %d, want 1", m.Version)
		}
		checkStamp(t, "created_at", m.CreatedAt, before, after)
		if !m.UpdatedAt.Equal(m.CreatedAt) {
			t.Fatalf("updated_at %v != created_at %v after create", m.UpdatedAt, m.CreatedAt)
		}

		got, err := r.Get(c, m.ID)
		must(t, "get", err)
		equal(t, fmt.Sprintf("get after create (fixture %d)", i), got, v)

		if rs.getByKey != nil {
			got, err := rs.getByKey(c, s, v)
			must(t, "get by key", err)
			equal(t, "get by key", got, v)
			_, err = rs.getByKey(c, s, rs.make(1000+i))
			wantErr(t, "get by missing key", err, store.ErrNotFound)
		}
	}
	_, err := r.Get(c, store.NewID())
	wantErr(t, "get missing", err, store.ErrNotFound)
}

func testUpdate[T any, P entity[T]](t *testing.T, r store.Repo[T], rs repoSuite[T]) {
	c := ctx(t)
	v := rs.make(0)
	must(t, "create", r.Create(c, &v))
	created := *meta[T, P](&v)
	stale := v

	rs.mutate(&v)
	before := time.Now()
	must(t, "update", r.Update(c, &v))
	after := time.Now()
	m := meta[T, P](&v)
	if m.Version != 2 {
		t.Fatalf("version after update = %d, want 2", m.Version)
	}
	if m.ID != created.ID || !m.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("update changed id or created_at: %+v, was %+v", *m, created)
	}
	checkStamp(t, "updated_at", m.UpdatedAt, before, after)
	got, err := r.Get(c, m.ID)
	must(t, "get", err)
	equal(t, "get after update", got, v)

	// The copy read before the update is stale now.
	rs.mutate(&stale)
	wantErr(t, "update stale", r.Update(c, &stale), store.ErrVersionMismatch)
	if meta[T, P](&stale).Version != 1 {
		t.Fatalf("failed update changed the caller's version to %d", meta[T, P](&stale).Version)
	}
	got, err = r.Get(c, m.ID)
	must(t, "get", err)
	equal(t, "get after stale update", got, v)

	missing := rs.make(1)
	*meta[T, P](&missing) = store.Meta{ID: store.NewID(), Version: 1}
	wantErr(t, "update missing", r.Update(c, &missing), store.ErrNotFound)

	// A second update from the fresh copy works and counts on.
	rs.mutate(&v)
	must(t, "second update", r.Update(c, &v))
	if m.Version != 3 {
		t.Fatalf("version after second update = %d, want 3", m.Version)
	}
}

func testDelete[T any, P entity[T]](t *testing.T, r store.Repo[T], rs repoSuite[T]) {
	c := ctx(t)
	a, b := rs.make(0), rs.make(1)
	must(t, "create a", r.Create(c, &a))
	must(t, "create b", r.Create(c, &b))
	ma := meta[T, P](&a)
	rs.mutate(&a)
	must(t, "update a", r.Update(c, &a)) // version 2

	tests := []struct {
		name    string
		id      string
		version int64
		want    error
	}{
		{"stale version", ma.ID, 1, store.ErrVersionMismatch},
		{"future version", ma.ID, 3, store.ErrVersionMismatch},
		{"missing id", store.NewID(), 1, store.ErrNotFound},
		{"missing id any version", store.NewID(), 0, store.ErrNotFound},
		{"current version", ma.ID, 2, nil},
		{"already deleted", ma.ID, 2, store.ErrNotFound},
		{"any version", meta[T, P](&b).ID, 0, nil},
	}
	for _, tc := range tests {
		err := r.Delete(c, tc.id, tc.version)
		if tc.want == nil {
			must(t, "delete "+tc.name, err)
			_, err := r.Get(c, tc.id)
			wantErr(t, "get after delete "+tc.name, err, store.ErrNotFound)
			continue
		}
		wantErr(t, "delete "+tc.name, err, tc.want)
	}
	// The unique key of a deleted record is free again.
	again := rs.make(0)
	must(t, "create with a deleted record's key", r.Create(c, &again))
}

func testConflict[T any, P entity[T]](t *testing.T, r store.Repo[T], rs repoSuite[T]) {
	c := ctx(t)
	a, b := rs.make(0), rs.make(1)
	must(t, "create a", r.Create(c, &a))
	must(t, "create b", r.Create(c, &b))

	dup := rs.make(2)
	rs.setKey(&dup, a)
	wantErr(t, "create with a's key", r.Create(c, &dup), store.ErrConflict)
	if meta[T, P](&dup).ID != "" {
		t.Fatalf("failed create set id %q", meta[T, P](&dup).ID)
	}

	bb := b
	rs.setKey(&bb, a)
	wantErr(t, "update b to a's key", r.Update(c, &bb), store.ErrConflict)
	if meta[T, P](&bb).Version != 1 {
		t.Fatalf("failed update changed the caller's version to %d", meta[T, P](&bb).Version)
	}
	got, err := r.Get(c, meta[T, P](&b).ID)
	must(t, "get b", err)
	equal(t, "b after failed update", got, b)

	// Writing a record with its own key is no conflict.
	rs.mutate(&a)
	must(t, "update a keeping its key", r.Update(c, &a))
}

func testPaginate[T any, P entity[T]](t *testing.T, r store.Repo[T], rs repoSuite[T]) {
	c := ctx(t)
	const n = 120
	var ids []string
	for i := range n {
		v := rs.make(i)
		must(t, "create", r.Create(c, &v))
		ids = append(ids, meta[T, P](&v).ID)
	}
	if !slices.IsSorted(ids) {
		t.Fatalf("ids are not increasing in creation order")
	}

	tests := []struct {
		name  string
		limit int
		pages int
	}{
		{"limit 25", 25, 5},
		{"limit 40 divides", 40, 3},
		{"limit 7", 7, 18},
		{"default limit", 0, 3}, // DefaultLimit 50
		{"clamped limit", store.MaxLimit + 100, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			opt := store.ListOptions{Limit: tc.limit}
			pages := 0
			for {
				p, err := r.List(c, opt)
				must(t, "list", err)
				pages++
				if pages > n+1 {
					t.Fatalf("pagination does not end")
				}
				want := min(opt.Normalize().Limit, n-len(got))
				if len(p.Items) != want {
					t.Fatalf("page %d has %d items, want %d", pages, len(p.Items), want)
				}
				for i := range p.Items {
					got = append(got, meta[T, P](&p.Items[i]).ID)
				}
				if p.Next == "" {
					break
				}
				if p.Next != got[len(got)-1] {
					t.Fatalf("next cursor %q is not the page's last id %q", p.Next, got[len(got)-1])
				}
				opt.After = p.Next
			}
			if pages != tc.pages {
				t.Fatalf("walked %d pages, want %d", pages, tc.pages)
			}
			equal(t, "ids walked", got, ids)
		})
	}

	p, err := r.List(c, store.ListOptions{After: ids[n-1]})
	must(t, "list after last", err)
	if len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("list after the last id = %d items, next %q; want none", len(p.Items), p.Next)
	}
}

// testConcurrentUpdate races writers holding the same version: in every
// round exactly one must win and the others see ErrVersionMismatch.
func testConcurrentUpdate[T any, P entity[T]](t *testing.T, r store.Repo[T], rs repoSuite[T]) {
	c := ctx(t)
	v := rs.make(0)
	must(t, "create", r.Create(c, &v))
	const rounds, writers = 8, 4
	for round := range rounds {
		start := make(chan struct{})
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			cp := v
			rs.mutate(&cp)
			wg.Go(func() {
				<-start
				errs[w] = r.Update(c, &cp)
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrVersionMismatch):
			default:
				t.Fatalf("round %d: unexpected error %v", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d writers won with the same version, want exactly 1", round, wins)
		}
		got, err := r.Get(c, meta[T, P](&v).ID)
		must(t, "get", err)
		if gv := meta[T, P](&got).Version; gv != int64(round)+2 {
			t.Fatalf("round %d: stored version %d, want %d", round, gv, round+2)
		}
		v = got
	}
}
