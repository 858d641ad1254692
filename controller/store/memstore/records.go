package memstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"hotline/controller/store"
)

// Contacts implements store.Store.
func (s *Store) Contacts() store.ContactRepo { return contactRepo{s.contacts} }

// IVRFlows implements store.Store.
func (s *Store) IVRFlows() store.IVRFlowRepo { return s.ivrFlows }

// CDRs implements store.Store.
func (s *Store) CDRs() store.CDRRepo { return cdrRepo{s.recs} }

// QueueEvents implements store.Store.
func (s *Store) QueueEvents() store.QueueEventRepo { return queueEventRepo{s.recs} }

// Recordings implements store.Store.
func (s *Store) Recordings() store.RecordingRepo { return recordingRepo{s.recs} }

type contactRepo struct{ *repo[store.Contact] }

func (r contactRepo) GetByNumber(ctx context.Context, number string) (store.Contact, error) {
	var zero store.Contact
	if err := r.s.check(ctx); err != nil {
		return zero, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.byID {
		if slices.Contains(c.Numbers, number) {
			return r.clone(c), nil
		}
	}
	return zero, fmt.Errorf("%w: contact with number %q", store.ErrNotFound, number)
}

// records holds the call path's records. They are kept as their JSON
// encoding, like the SQL stores' data column, so a caller never shares
// memory with the store and times come back as the SQL stores return them.
// mu guards the maps.
type records struct {
	s      *Store
	mu     sync.Mutex
	cdrs   map[string][]byte
	events map[int64][]byte
	keys   map[string]bool // source + "\x00" + pos of stored events
	seq    int64           // the last event seq given
	recs   map[string][]byte
	paths  map[string]string // recording id -> path (Path is not in JSON)
}

func newRecords(s *Store) *records {
	return &records{s: s, cdrs: map[string][]byte{}, events: map[int64][]byte{}, keys: map[string]bool{}, recs: map[string][]byte{}, paths: map[string]string{}}
}

func decode[T any](b []byte) T {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		panic("memstore: stored record does not decode: " + err.Error())
	}
	return v
}

// timePage keeps the items after the cursor of opt, newest first, and
// cuts one page.
func timePage[T any](items []T, opt store.ListOptions, key func(*T) (int64, string)) (store.Page[T], error) {
	opt = opt.Normalize()
	slices.SortFunc(items, func(a, b T) int {
		ta, ia := key(&a)
		tb, ib := key(&b)
		if c := cmp.Compare(tb, ta); c != 0 {
			return c
		}
		return cmp.Compare(ib, ia)
	})
	if opt.After != "" {
		t0, id0, err := store.ParseTimeCursor(opt.After)
		if err != nil {
			return store.Page[T]{}, err
		}
		us0 := t0.UnixMicro()
		items = slices.DeleteFunc(items, func(v T) bool {
			us, id := key(&v)
			return !(us < us0 || us == us0 && id < id0)
		})
	}
	p := store.Page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(items) > opt.Limit {
		p.Items = items[:opt.Limit]
		us, id := key(&p.Items[opt.Limit-1])
		p.Next = store.TimeCursor(timeOfMicro(us), id)
	}
	return p, nil
}

type cdrRepo struct{ r *records }

func (c cdrRepo) Put(ctx context.Context, cdrs ...store.CDR) error {
	if err := c.r.s.check(ctx); err != nil {
		return err
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	for _, v := range cdrs {
		v.Start, v.End, v.Answer, v.EnqueuedAt = norm(v.Start), norm(v.End), normPtr(v.Answer), normPtr(v.EnqueuedAt)
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("memstore: encode cdr: %w", err)
		}
		c.r.cdrs[v.ID] = b
	}
	return nil
}

func (c cdrRepo) Get(ctx context.Context, id string) (store.CDR, error) {
	if err := c.r.s.check(ctx); err != nil {
		return store.CDR{}, err
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	b, ok := c.r.cdrs[id]
	if !ok {
		return store.CDR{}, fmt.Errorf("%w: cdr %q", store.ErrNotFound, id)
	}
	return decode[store.CDR](b), nil
}

func (c cdrRepo) Search(ctx context.Context, f store.CDRFilter, opt store.ListOptions) (store.Page[store.CDR], error) {
	if err := c.r.s.check(ctx); err != nil {
		return store.Page[store.CDR]{}, err
	}
	c.r.mu.Lock()
	var items []store.CDR
	for _, b := range c.r.cdrs {
		v := decode[store.CDR](b)
		if inRange(v.Start, f.Since, f.Until) && eq(f.Caller, v.Caller) && eq(f.Called, v.Called) && eq(f.Queue, v.Queue) &&
			eq(f.AgentID, v.AgentID) && eq(string(f.Outcome), string(v.Outcome)) {
			items = append(items, v)
		}
	}
	c.r.mu.Unlock()
	return timePage(items, opt, func(v *store.CDR) (int64, string) { return v.Start.UnixMicro(), v.ID })
}

type queueEventRepo struct{ r *records }

func (q queueEventRepo) Put(ctx context.Context, evs ...store.QueueEvent) error {
	if err := q.r.s.check(ctx); err != nil {
		return err
	}
	q.r.mu.Lock()
	defer q.r.mu.Unlock()
	for _, e := range evs {
		key := fmt.Sprintf("%s\x00%d", e.Source, e.Pos)
		if e.Source != "" && q.r.keys[key] {
			continue
		}
		e.At = norm(e.At)
		q.r.seq++
		e.Seq = q.r.seq
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("memstore: encode queue event: %w", err)
		}
		q.r.events[e.Seq] = b
		if e.Source != "" {
			q.r.keys[key] = true
		}
	}
	return nil
}

func (q queueEventRepo) Search(ctx context.Context, f store.QueueEventFilter, limit int) ([]store.QueueEvent, error) {
	if err := q.r.s.check(ctx); err != nil {
		return nil, err
	}
	limit = store.ListOptions{Limit: limit}.Normalize().Limit
	q.r.mu.Lock()
	out := []store.QueueEvent{}
	for seq, b := range q.r.events {
		if seq <= f.AfterSeq {
			continue
		}
		v := decode[store.QueueEvent](b)
		if inRange(v.At, f.Since, f.Until) && eq(f.Queue, v.Queue) && eq(f.AgentID, v.AgentID) && eq(f.CallID, v.CallID) {
			out = append(out, v)
		}
	}
	q.r.mu.Unlock()
	slices.SortFunc(out, func(a, b store.QueueEvent) int { return cmp.Compare(a.Seq, b.Seq) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

type recordingRepo struct{ r *records }

func (rr recordingRepo) Put(ctx context.Context, recs ...store.Recording) error {
	if err := rr.r.s.check(ctx); err != nil {
		return err
	}
	rr.r.mu.Lock()
	defer rr.r.mu.Unlock()
	for _, v := range recs {
		v.Start, v.End = norm(v.Start), norm(v.End)
		for i := range v.Pauses {
			v.Pauses[i].From, v.Pauses[i].To = norm(v.Pauses[i].From), norm(v.Pauses[i].To)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("memstore: encode recording: %w", err)
		}
		rr.r.recs[v.ID] = b
		rr.r.paths[v.ID] = v.Path
	}
	return nil
}

func (rr recordingRepo) getLocked(id string) store.Recording {
	v := decode[store.Recording](rr.r.recs[id])
	v.Path = rr.r.paths[id]
	return v
}

func (rr recordingRepo) Get(ctx context.Context, id string) (store.Recording, error) {
	if err := rr.r.s.check(ctx); err != nil {
		return store.Recording{}, err
	}
	rr.r.mu.Lock()
	defer rr.r.mu.Unlock()
	if _, ok := rr.r.recs[id]; !ok {
		return store.Recording{}, fmt.Errorf("%w: recording %q", store.ErrNotFound, id)
	}
	return rr.getLocked(id), nil
}

func (rr recordingRepo) Search(ctx context.Context, f store.RecordingFilter, opt store.ListOptions) (store.Page[store.Recording], error) {
	if err := rr.r.s.check(ctx); err != nil {
		return store.Page[store.Recording]{}, err
	}
	rr.r.mu.Lock()
	var items []store.Recording
	for id := range rr.r.recs {
		v := rr.getLocked(id)
		if inRange(v.Start, f.Since, f.Until) && eq(f.Caller, v.Caller) && eq(f.Called, v.Called) && eq(f.Queue, v.Queue) &&
			eq(f.AgentID, v.AgentID) && (f.MinDuration <= 0 || v.Duration >= f.MinDuration) &&
			(f.MaxDuration <= 0 || v.Duration <= f.MaxDuration) {
			items = append(items, v)
		}
	}
	rr.r.mu.Unlock()
	return timePage(items, opt, func(v *store.Recording) (int64, string) { return v.Start.UnixMicro(), v.ID })
}

// eq: an empty filter value matches anything.
func eq(filter, v string) bool { return filter == "" || filter == v }

// inRange: since inclusive, until exclusive, zero bounds open.
func inRange(t, since, until time.Time) bool {
	return (since.IsZero() || !t.Before(since)) && (until.IsZero() || t.Before(until))
}

func timeOfMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }
