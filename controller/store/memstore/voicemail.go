package memstore

import (
	"context"
	"sort"

	"hotline/controller/store"
)

// VoicemailBoxes implements store.Store.
func (s *Store) VoicemailBoxes() store.VoicemailBoxRepo { return voicemailBoxRepo{s.vmBoxes} }

// VoicemailMessages implements store.Store.
func (s *Store) VoicemailMessages() store.VoicemailMessageRepo {
	return voicemailMessageRepo{s.vmMessages}
}

func newVoicemailRepos(s *Store) {
	s.vmBoxes = newRepo(s, store.KindVoicemailBox, func(b store.VoicemailBox) string { return b.Name },
		func(b store.VoicemailBox) store.VoicemailBox { return b })
	// A call leaves at most one message: CallID is the unique key.
	s.vmMessages = newRepo(s, store.KindVoicemailMessage, func(m store.VoicemailMessage) string { return m.CallID },
		func(m store.VoicemailMessage) store.VoicemailMessage {
			m.At = norm(m.At)
			return m
		})
}

type voicemailBoxRepo struct{ *repo[store.VoicemailBox] }

func (r voicemailBoxRepo) GetByName(ctx context.Context, name string) (store.VoicemailBox, error) {
	return r.getBy(ctx, name)
}

type voicemailMessageRepo struct{ *repo[store.VoicemailMessage] }

func (r voicemailMessageRepo) ListByBox(ctx context.Context, boxID string, opt store.ListOptions) (store.Page[store.VoicemailMessage], error) {
	if err := r.s.check(ctx); err != nil {
		return store.Page[store.VoicemailMessage]{}, err
	}
	opt = opt.Normalize()
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id, m := range r.byID {
		if m.BoxID == boxID && id > opt.After {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	p := store.Page[store.VoicemailMessage]{Items: []store.VoicemailMessage{}}
	for i, id := range ids {
		if i == opt.Limit {
			p.Next = ids[i-1]
			break
		}
		p.Items = append(p.Items, r.clone(r.byID[id]))
	}
	return p, nil
}
