package sqlstore

import (
	"context"

	"hotline/controller/store"
)

// ringGroupTable must match migrations 0004_pbx.sql of both dialects.
var ringGroupTable = table[store.RingGroup]{
	name: "ring_groups", what: "ring group", kind: store.KindRingGroup,
	cols: []string{"name", "number", "strategy", "members", "ring_timeout", "no_answer"},
	args: func(_ *Store, v *store.RingGroup) ([]any, error) {
		j, err := jsonArgs(v.Members, v.NoAnswer)
		if err != nil {
			return nil, err
		}
		return []any{v.Name, v.Number, v.Strategy, j[0], v.RingTimeout, j[1]}, nil
	},
	dest: func(v *store.RingGroup) []any {
		return []any{&v.Name, &v.Number, &v.Strategy, jsonCol{&v.Members}, &v.RingTimeout, jsonCol{&v.NoAnswer}}
	},
}

type ringGroupRepo struct {
	*repo[store.RingGroup, *store.RingGroup]
}

// GetByNumber implements store.RingGroupRepo.
func (r *ringGroupRepo) GetByNumber(ctx context.Context, number string) (store.RingGroup, error) {
	return r.getBy(ctx, "number", number)
}

// RingGroups implements store.Store.
func (s *Store) RingGroups() store.RingGroupRepo { return s.rings }
