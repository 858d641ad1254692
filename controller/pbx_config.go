package controller

import (
	"context"

	"hotline/controller/store"
)

type ringGroupsRepo struct {
	store.RingGroupRepo
	c *Controller
}

// RingGroups returns the ring groups repository; its writes go live
// before they return (call actors read ring groups from the store when
// they ring one).
func (c *Controller) RingGroups() store.RingGroupRepo { return ringGroupsRepo{c.st.RingGroups(), c} }

func (r ringGroupsRepo) Create(ctx context.Context, v *store.RingGroup) error {
	return r.c.wrote(ctx, r.RingGroupRepo.Create(ctx, v))
}

func (r ringGroupsRepo) Update(ctx context.Context, v *store.RingGroup) error {
	return r.c.wrote(ctx, r.RingGroupRepo.Update(ctx, v))
}

func (r ringGroupsRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.RingGroupRepo.Delete(ctx, id, version))
}
