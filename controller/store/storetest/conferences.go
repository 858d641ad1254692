package storetest

import (
	"context"
	"fmt"

	"hotline/controller/store"
)

var conferenceSuite = repoSuite[store.Conference]{
	repo: func(s store.Store) store.Repo[store.Conference] { return s.Conferences() },
	make: func(i int) store.Conference {
		c := store.Conference{Name: fmt.Sprintf("room %d", i), Number: fmt.Sprintf("88%03d", i), MaxParties: 10}
		if i%2 == 0 {
			c.PIN, c.ModeratorPIN, c.Record = "1234", "9999", true
		}
		return c
	},
	mutate: func(v *store.Conference) {
		v.Name, v.PIN, v.ModeratorPIN, v.MaxParties, v.Record = v.Name+"!", "4321", "", 50, !v.Record
	},
	setKey: func(v *store.Conference, from store.Conference) { v.Number = from.Number },
	getByKey: func(ctx context.Context, s store.Store, like store.Conference) (store.Conference, error) {
		return s.Conferences().GetByNumber(ctx, like.Number)
	},
}
