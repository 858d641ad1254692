package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"hotline/controller/ivr"
	"hotline/controller/store"
)

// StoreFlows is the FlowSource over the stored IVR flows: each Flow call
// reads the stored record (so a saved version counts from the next call
// that starts) and parses and validates its document once per id and
// version. The *ivr.Flow returned is shared and must not be modified; a
// call that holds it keeps that version however the flow changes after.
//
// A database that fails or is slow does not stop calls: when the read
// fails (anything but ErrNotFound, the caller's deadline included) and a
// version of the flow was loaded before, that version is returned. Preload
// fills the cache at start so that this holds from the first call.
type StoreFlows struct {
	repo store.IVRFlowRepo
	// mu guards cache.
	mu    sync.Mutex
	cache map[string]cachedFlow
}

type cachedFlow struct {
	version int64
	flow    *ivr.Flow
}

var _ FlowSource = (*StoreFlows)(nil)

// NewStoreFlows returns a FlowSource over repo (Controller.IVRFlows() or a
// store's).
func NewStoreFlows(repo store.IVRFlowRepo) *StoreFlows {
	return &StoreFlows{repo: repo, cache: map[string]cachedFlow{}}
}

// Flow implements FlowSource. The flow's ID, Version and (when empty)
// Name are the stored record's. A stored document that no longer
// validates (saved by an older version of the rules) gives its
// *ivr.ValidationError.
func (s *StoreFlows) Flow(ctx context.Context, id string) (*ivr.Flow, int64, error) {
	rec, err := s.repo.Get(ctx, id)
	s.mu.Lock()
	c, ok := s.cache[id]
	s.mu.Unlock()
	if err != nil {
		if ok && !errors.Is(err, store.ErrNotFound) {
			return c.flow, c.version, nil // the last version loaded, while the store fails
		}
		if errors.Is(err, store.ErrNotFound) {
			s.mu.Lock()
			delete(s.cache, id)
			s.mu.Unlock()
		}
		return nil, 0, err
	}
	if ok && c.version == rec.Version {
		return c.flow, c.version, nil
	}
	f, err := ParseFlow(rec)
	if err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	if old, ok := s.cache[id]; !ok || old.version < rec.Version {
		s.cache[id] = cachedFlow{version: rec.Version, flow: f}
	}
	s.mu.Unlock()
	return f, rec.Version, nil
}

// Preload parses every stored flow into the cache; flows that do not
// validate are skipped (Flow reports them when asked) and counted in
// skipped.
func (s *StoreFlows) Preload(ctx context.Context) (loaded, skipped int, err error) {
	opt := store.ListOptions{Limit: store.MaxLimit}
	for {
		p, err := s.repo.List(ctx, opt)
		if err != nil {
			return loaded, skipped, err
		}
		for _, rec := range p.Items {
			f, err := ParseFlow(rec)
			if err != nil {
				skipped++
				continue
			}
			s.mu.Lock()
			s.cache[rec.ID] = cachedFlow{version: rec.Version, flow: f}
			s.mu.Unlock()
			loaded++
		}
		if p.Next == "" {
			return loaded, skipped, nil
		}
		opt.After = p.Next
	}
}

// ParseFlow parses and validates a stored flow's document, stamped with
// the record's id, version and name.
func ParseFlow(rec store.IVRFlow) (*ivr.Flow, error) {
	f, err := ivr.Parse(rec.Flow)
	if err != nil {
		return nil, fmt.Errorf("controller: flow %s v%d: %w", rec.ID, rec.Version, err)
	}
	f.ID, f.Version = rec.ID, int(rec.Version)
	if f.Name == "" {
		f.Name = rec.Name
	}
	if err := ivr.Validate(f); err != nil {
		return nil, fmt.Errorf("controller: flow %s v%d: %w", rec.ID, rec.Version, err)
	}
	return f, nil
}
