package memstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"hotline/controller/store"
)

// Store is an in-memory store.Store. The zero value is not usable; call New.
type Store struct {
	down atomic.Bool
	now  func() time.Time

	users     *repo[store.User]
	agents    *repo[store.Agent]
	skills    *repo[store.Skill]
	queues    *repo[store.Queue]
	numbers   *repo[store.Number]
	trunks    *repo[store.Trunk]
	schedules *repo[store.Schedule]
	lists     *repo[store.ListEntry]
	tokens    *tokenRepo
	audit     *auditRepo
	contacts  *repo[store.Contact]
	ivrFlows  *repo[store.IVRFlow]
	recs      *records
	rings     *repo[store.RingGroup]

	conferences *repo[store.Conference]
	vmBoxes     *repo[store.VoicemailBox]
	vmMessages  *repo[store.VoicemailMessage]

	// feedMu guards changes and watchers.
	feedMu   sync.Mutex
	changes  []store.Change
	watchers map[chan struct{}]struct{}
}

// New returns an empty store whose records are stamped with now (time.Now
// when nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{now: now}
	s.users = newRepo(s, store.KindUser, func(u store.User) string { return u.Username }, func(u store.User) store.User { return u })
	s.agents = newRepo(s, store.KindAgent, func(a store.Agent) string { return a.Extension }, func(a store.Agent) store.Agent {
		a.Skills = slices.Clone(a.Skills)
		a.PBX = clonePtr(a.PBX)
		return a
	})
	s.skills = newRepo(s, store.KindSkill, func(k store.Skill) string { return k.Name }, func(k store.Skill) store.Skill { return k })
	s.queues = newRepo(s, store.KindQueue, func(q store.Queue) string { return q.Name }, func(q store.Queue) store.Queue {
		q.Members = slices.Clone(q.Members)
		q.RequiredSkills = slices.Clone(q.RequiredSkills)
		q.Overflow = clonePtr(q.Overflow)
		return q
	})
	s.numbers = newRepo(s, store.KindNumber, func(n store.Number) string { return n.Number }, func(n store.Number) store.Number {
		n.AfterHours = clonePtr(n.AfterHours)
		return n
	})
	s.trunks = newRepo(s, store.KindTrunk, func(t store.Trunk) string { return t.Name }, func(t store.Trunk) store.Trunk {
		t.InboundAddresses = slices.Clone(t.InboundAddresses)
		return t
	})
	s.schedules = newRepo(s, store.KindSchedule, func(c store.Schedule) string { return c.Name }, func(c store.Schedule) store.Schedule {
		c.Weekly = slices.Clone(c.Weekly)
		c.Holidays = slices.Clone(c.Holidays)
		c.ExtraWorkdays = slices.Clone(c.ExtraWorkdays)
		return c
	})
	s.lists = newRepo(s, store.KindList, func(e store.ListEntry) string {
		return string(e.List) + "\x00" + e.Pattern + "\x00" + string(e.Match)
	}, func(e store.ListEntry) store.ListEntry {
		e.Target = clonePtr(e.Target)
		e.ExpiresAt = normPtr(e.ExpiresAt)
		return e
	})
	s.tokens = &tokenRepo{s: s, byID: map[string]store.Token{}}
	s.audit = &auditRepo{s: s}
	s.contacts = newRepo(s, store.KindContact, func(c store.Contact) string { return strings.Join(c.Numbers, ",") },
		func(c store.Contact) store.Contact {
			c.Numbers = slices.Clone(c.Numbers)
			c.Fields = maps.Clone(c.Fields)
			return c
		})
	s.contacts.keys = func(c store.Contact) []string { return c.Numbers }
	s.ivrFlows = newRepo(s, store.KindIVRFlow, func(f store.IVRFlow) string { return f.Name }, func(f store.IVRFlow) store.IVRFlow {
		f.Flow = slices.Clone(f.Flow)
		return f
	})
	s.recs = newRecords(s)
	s.conferences = newRepo(s, store.KindConference, func(c store.Conference) string { return c.Number },
		func(c store.Conference) store.Conference { return c })
	newVoicemailRepos(s)
	s.rings = newRepo(s, store.KindRingGroup, func(g store.RingGroup) string { return g.Number }, cloneRingGroup)
	return s
}

// norm is how the real stores keep times: UTC, microsecond precision.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func normPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := norm(*t)
	return &v
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// SetDown makes every later call fail with store.ErrUnavailable (true) or
// work again (false).
func (s *Store) SetDown(down bool) { s.down.Store(down) }

// stamp is the store's current time, normalised.
func (s *Store) stamp() time.Time { return norm(s.now()) }

func (s *Store) check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	if s.down.Load() {
		return store.ErrUnavailable
	}
	return nil
}

// Users implements store.Store.
func (s *Store) Users() store.UserRepo { return userRepo{s.users} }

// Tokens implements store.Store.
func (s *Store) Tokens() store.TokenRepo { return s.tokens }

// Agents implements store.Store.
func (s *Store) Agents() store.AgentRepo { return agentRepo{s.agents} }

// Skills implements store.Store.
func (s *Store) Skills() store.SkillRepo { return skillRepo{s.skills} }

// Queues implements store.Store.
func (s *Store) Queues() store.QueueRepo { return queueRepo{s.queues} }

// Numbers implements store.Store.
func (s *Store) Numbers() store.NumberRepo { return numberRepo{s.numbers} }

// Trunks implements store.Store.
func (s *Store) Trunks() store.TrunkRepo { return s.trunks }

// Schedules implements store.Store.
func (s *Store) Schedules() store.ScheduleRepo { return s.schedules }

// Lists implements store.Store.
func (s *Store) Lists() store.ListRepo { return listRepo{s.lists} }

// Audit implements store.Store.
func (s *Store) Audit() store.AuditRepo { return s.audit }

// Ping implements store.Store.
func (s *Store) Ping(ctx context.Context) error { return s.check(ctx) }

// Close implements store.Store: like a closed database, every later call
// fails with store.ErrUnavailable.
func (s *Store) Close() error {
	s.down.Store(true)
	return nil
}

// metaOf reaches the Meta of any aggregate through its pointer.
type metaOf interface{ GetMeta() *store.Meta }

// repo is a generic configuration repository. mu guards byID.
type repo[T any] struct {
	s    *Store
	kind store.Kind
	key  func(T) string // unique key
	// keys, when set, replaces key for the uniqueness check: a record
	// holds several unique keys (a contact's numbers).
	keys  func(T) []string
	clone func(T) T // deep copy, so callers never share slices with the store
	mu    sync.Mutex
	byID  map[string]T
}

func newRepo[T any](s *Store, kind store.Kind, key func(T) string, clone func(T) T) *repo[T] {
	return &repo[T]{s: s, kind: kind, key: key, clone: clone, byID: map[string]T{}}
}

func meta[T any](v *T) *store.Meta { return any(v).(metaOf).GetMeta() }

// conflictLocked reports whether another record than id holds v's key.
func (r *repo[T]) conflictLocked(v T, id string) bool {
	mine := r.keysOf(v)
	for oid, o := range r.byID {
		if oid == id {
			continue
		}
		for _, k := range r.keysOf(o) {
			if slices.Contains(mine, k) {
				return true
			}
		}
	}
	return false
}

func (r *repo[T]) keysOf(v T) []string {
	if r.keys != nil {
		return r.keys(v)
	}
	return []string{r.key(v)}
}

func (r *repo[T]) Create(ctx context.Context, v *T) error {
	if err := r.s.check(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conflictLocked(*v, "") {
		return fmt.Errorf("%w: %q", store.ErrConflict, r.key(*v))
	}
	m := meta(v)
	now := r.s.stamp()
	m.ID = store.NewID()
	m.Version = 1
	m.CreatedAt, m.UpdatedAt = now, now
	r.byID[m.ID] = r.clone(*v)
	r.s.record(r.kind, m.ID, store.OpCreate)
	return nil
}

func (r *repo[T]) Get(ctx context.Context, id string) (T, error) {
	var zero T
	if err := r.s.check(ctx); err != nil {
		return zero, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.byID[id]
	if !ok {
		return zero, fmt.Errorf("%w: %q", store.ErrNotFound, id)
	}
	return r.clone(v), nil
}

// getBy returns the record whose key is k.
func (r *repo[T]) getBy(ctx context.Context, k string) (T, error) {
	var zero T
	if err := r.s.check(ctx); err != nil {
		return zero, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.byID {
		if r.key(v) == k {
			return r.clone(v), nil
		}
	}
	return zero, fmt.Errorf("%w: %q", store.ErrNotFound, k)
}

func (r *repo[T]) Update(ctx context.Context, v *T) error {
	if err := r.s.check(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := meta(v)
	old, ok := r.byID[m.ID]
	if !ok {
		return fmt.Errorf("%w: %q", store.ErrNotFound, m.ID)
	}
	om := meta(&old)
	if om.Version != m.Version {
		return fmt.Errorf("%w: have %d, stored %d", store.ErrVersionMismatch, m.Version, om.Version)
	}
	if r.conflictLocked(*v, m.ID) {
		return fmt.Errorf("%w: %q", store.ErrConflict, r.key(*v))
	}
	m.Version++
	m.CreatedAt = om.CreatedAt
	m.UpdatedAt = r.s.stamp()
	r.byID[m.ID] = r.clone(*v)
	r.s.record(r.kind, m.ID, store.OpUpdate)
	return nil
}

func (r *repo[T]) Delete(ctx context.Context, id string, version int64) error {
	if err := r.s.check(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.byID[id]
	if !ok {
		return fmt.Errorf("%w: %q", store.ErrNotFound, id)
	}
	if version != 0 && meta(&old).Version != version {
		return fmt.Errorf("%w: have %d, stored %d", store.ErrVersionMismatch, version, meta(&old).Version)
	}
	delete(r.byID, id)
	r.s.record(r.kind, id, store.OpDelete)
	return nil
}

func (r *repo[T]) List(ctx context.Context, opt store.ListOptions) (store.Page[T], error) {
	if err := r.s.check(ctx); err != nil {
		return store.Page[T]{}, err
	}
	opt = opt.Normalize()
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.byID))
	for id := range r.byID {
		if id > opt.After {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var p store.Page[T]
	p.Items = []T{}
	for i, id := range ids {
		if i == opt.Limit {
			p.Next = ids[i-1]
			break
		}
		p.Items = append(p.Items, r.clone(r.byID[id]))
	}
	return p, nil
}

type userRepo struct{ *repo[store.User] }

func (r userRepo) GetByUsername(ctx context.Context, username string) (store.User, error) {
	return r.getBy(ctx, username)
}

func (r userRepo) Count(ctx context.Context) (int, error) {
	if err := r.s.check(ctx); err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID), nil
}

type agentRepo struct{ *repo[store.Agent] }

func (r agentRepo) GetByExtension(ctx context.Context, ext string) (store.Agent, error) {
	return r.getBy(ctx, ext)
}

type skillRepo struct{ *repo[store.Skill] }

func (r skillRepo) GetByName(ctx context.Context, name string) (store.Skill, error) {
	return r.getBy(ctx, name)
}

type queueRepo struct{ *repo[store.Queue] }

func (r queueRepo) GetByName(ctx context.Context, name string) (store.Queue, error) {
	return r.getBy(ctx, name)
}

type numberRepo struct{ *repo[store.Number] }

func (r numberRepo) GetByNumber(ctx context.Context, number string) (store.Number, error) {
	return r.getBy(ctx, number)
}

type listRepo struct{ *repo[store.ListEntry] }

func (r listRepo) Match(ctx context.Context, list store.ListKind, number string, now time.Time) ([]store.ListEntry, error) {
	if err := r.s.check(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []store.ListEntry
	for _, e := range r.byID {
		if e.List != list || expired(e.ExpiresAt, now) {
			continue
		}
		if (e.Match == store.MatchExact && e.Pattern == number) ||
			(e.Match == store.MatchPrefix && strings.HasPrefix(number, e.Pattern)) {
			out = append(out, r.clone(e))
		}
	}
	// Longest pattern first; on a tie exact before prefix, then by ID, so
	// the order never depends on map iteration.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if len(a.Pattern) != len(b.Pattern) {
			return len(a.Pattern) > len(b.Pattern)
		}
		if a.Match != b.Match {
			return a.Match == store.MatchExact
		}
		return a.ID < b.ID
	})
	return out, nil
}

// tokenRepo stores tokens; mu guards byID.
type tokenRepo struct {
	s    *Store
	mu   sync.Mutex
	byID map[string]store.Token
}

func cloneToken(t store.Token) store.Token {
	t.CreatedAt = norm(t.CreatedAt)
	t.ExpiresAt = normPtr(t.ExpiresAt)
	t.LastUsedAt = normPtr(t.LastUsedAt)
	return t
}

// expired: a record is dead from the instant it expires on.
func expired(exp *time.Time, now time.Time) bool { return exp != nil && !now.Before(*exp) }

func (r *tokenRepo) Create(ctx context.Context, t *store.Token) error {
	if err := r.s.check(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.byID {
		if o.Hash == t.Hash {
			return fmt.Errorf("%w: token hash", store.ErrConflict)
		}
	}
	t.ID = store.NewID()
	t.CreatedAt = r.s.stamp()
	r.byID[t.ID] = cloneToken(*t)
	return nil
}

func (r *tokenRepo) GetByHash(ctx context.Context, hash string, now time.Time) (store.Token, error) {
	if err := r.s.check(ctx); err != nil {
		return store.Token{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.byID {
		if t.Hash == hash && !expired(t.ExpiresAt, now) {
			return cloneToken(t), nil
		}
	}
	return store.Token{}, store.ErrNotFound
}

func (r *tokenRepo) Touch(ctx context.Context, id string, at time.Time) error {
	if err := r.s.check(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.byID[id]
	if !ok {
		return fmt.Errorf("%w: %q", store.ErrNotFound, id)
	}
	t.LastUsedAt = normPtr(&at)
	r.byID[id] = t
	return nil
}

func (r *tokenRepo) ListByUser(ctx context.Context, userID string) ([]store.Token, error) {
	if err := r.s.check(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []store.Token{}
	for _, t := range r.byID {
		if t.UserID == userID {
			out = append(out, cloneToken(t))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (r *tokenRepo) List(ctx context.Context, opt store.ListOptions) (store.Page[store.Token], error) {
	if err := r.s.check(ctx); err != nil {
		return store.Page[store.Token]{}, err
	}
	opt = opt.Normalize()
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := []string{}
	for id := range r.byID {
		if id > opt.After {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	p := store.Page[store.Token]{Items: []store.Token{}}
	for i, id := range ids {
		if i == opt.Limit {
			p.Next = ids[i-1]
			break
		}
		p.Items = append(p.Items, cloneToken(r.byID[id]))
	}
	return p, nil
}

func (r *tokenRepo) Delete(ctx context.Context, id string) error {
	if err := r.s.check(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byID[id]; !ok {
		return fmt.Errorf("%w: %q", store.ErrNotFound, id)
	}
	delete(r.byID, id)
	return nil
}

func (r *tokenRepo) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	if err := r.s.check(ctx); err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id, t := range r.byID {
		if expired(t.ExpiresAt, now) {
			delete(r.byID, id)
			n++
		}
	}
	return n, nil
}

// auditRepo is the append-only log; mu guards entries (in append order).
type auditRepo struct {
	s       *Store
	mu      sync.Mutex
	entries []store.AuditEntry
}

func (r *auditRepo) Append(ctx context.Context, e *store.AuditEntry) error {
	if err := r.s.check(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e.ID = store.NewID()
	if e.At.IsZero() {
		e.At = r.s.now()
	}
	e.At = norm(e.At)
	r.entries = append(r.entries, *e)
	return nil
}

func (r *auditRepo) List(ctx context.Context, f store.AuditFilter, opt store.ListOptions) (store.Page[store.AuditEntry], error) {
	if err := r.s.check(ctx); err != nil {
		return store.Page[store.AuditEntry]{}, err
	}
	opt = opt.Normalize()
	r.mu.Lock()
	defer r.mu.Unlock()
	p := store.Page[store.AuditEntry]{Items: []store.AuditEntry{}}
	// Newest first: IDs grow with time, so walk backwards from the cursor.
	for i := len(r.entries) - 1; i >= 0; i-- {
		e := r.entries[i]
		if opt.After != "" && e.ID >= opt.After {
			continue
		}
		if (f.UserID != "" && e.UserID != f.UserID) || (f.Resource != "" && e.Resource != f.Resource) ||
			(!f.Since.IsZero() && e.At.Before(f.Since)) || (!f.Until.IsZero() && !e.At.Before(f.Until)) {
			continue
		}
		if len(p.Items) == opt.Limit {
			p.Next = p.Items[len(p.Items)-1].ID
			break
		}
		p.Items = append(p.Items, e)
	}
	return p, nil
}

var _ store.Store = (*Store)(nil)

// record appends a change with the next revision and wakes the watchers.
func (s *Store) record(kind store.Kind, id string, op store.Op) {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	s.changes = append(s.changes, store.Change{Revision: int64(len(s.changes)) + 1, Kind: kind, ID: id, Op: op, At: s.stamp()})
	for ch := range s.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Changes implements store.ChangeFeed.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]store.Change, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	limit = store.ListOptions{Limit: limit}.Normalize().Limit
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	out := []store.Change{}
	for i := max(after, 0); i < int64(len(s.changes)) && len(out) < limit; i++ {
		out = append(out, s.changes[i])
	}
	return out, nil
}

// Revision implements store.ChangeFeed.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	return int64(len(s.changes)), nil
}

// Watch implements store.ChangeFeed.
func (s *Store) Watch(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.feedMu.Lock()
	if s.watchers == nil {
		s.watchers = make(map[chan struct{}]struct{})
	}
	s.watchers[ch] = struct{}{}
	s.feedMu.Unlock()
	context.AfterFunc(ctx, func() {
		s.feedMu.Lock()
		delete(s.watchers, ch)
		close(ch)
		s.feedMu.Unlock()
	})
	return ch
}
