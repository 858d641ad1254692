package sqlstore

import (
	"context"

	"hotline/controller/store"
)

// The column list must match the 0005_conferences migrations of both
// dialects.
var conferenceTable = table[store.Conference]{
	name: "conferences", what: "conference", kind: store.KindConference,
	cols: []string{"name", "number", "pin", "moderator_pin", "max_parties", "record"},
	args: func(_ *Store, v *store.Conference) ([]any, error) {
		return []any{v.Name, v.Number, v.PIN, v.ModeratorPIN, v.MaxParties, v.Record}, nil
	},
	dest: func(v *store.Conference) []any {
		return []any{&v.Name, &v.Number, &v.PIN, &v.ModeratorPIN, &v.MaxParties, &v.Record}
	},
}

type conferenceRepo struct {
	*repo[store.Conference, *store.Conference]
}

// GetByNumber implements store.ConferenceRepo.
func (r *conferenceRepo) GetByNumber(ctx context.Context, number string) (store.Conference, error) {
	return r.getBy(ctx, "number", number)
}

// Conferences implements store.Store.
func (s *Store) Conferences() store.ConferenceRepo { return s.conferences }
