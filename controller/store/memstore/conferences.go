package memstore

import (
	"context"

	"hotline/controller/store"
)

// Conferences implements store.Store.
func (s *Store) Conferences() store.ConferenceRepo { return conferenceRepo{s.conferences} }

type conferenceRepo struct{ *repo[store.Conference] }

// GetByNumber implements store.ConferenceRepo.
func (r conferenceRepo) GetByNumber(ctx context.Context, number string) (store.Conference, error) {
	return r.getBy(ctx, number)
}
