package memstore

import (
	"context"
	"slices"

	"hotline/controller/store"
)

func cloneRingGroup(g store.RingGroup) store.RingGroup {
	g.Members = slices.Clone(g.Members)
	g.NoAnswer = clonePtr(g.NoAnswer)
	return g
}

type ringGroupRepo struct{ *repo[store.RingGroup] }

// GetByNumber implements store.RingGroupRepo.
func (r ringGroupRepo) GetByNumber(ctx context.Context, number string) (store.RingGroup, error) {
	return r.getBy(ctx, number)
}

// RingGroups implements store.Store.
func (s *Store) RingGroups() store.RingGroupRepo { return ringGroupRepo{s.rings} }
