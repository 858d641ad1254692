package controller

import (
	"context"

	"hotline/controller/store"
)

// The repositories of the customer directory and the IVR flows
// (configuration: their writes are committed with a change in the feed and
// applied before they return, like config.go's), and read access to what
// the call path wrote through the Journal (CDRs, the queue and agent event
// log, recordings' metadata), for the API.

type contactsRepo struct {
	store.ContactRepo
	c *Controller
}

// Contacts returns the customer directory; its writes go through the
// change feed before they return.
func (c *Controller) Contacts() store.ContactRepo { return contactsRepo{c.st.Contacts(), c} }

func (r contactsRepo) Create(ctx context.Context, v *store.Contact) error {
	return r.c.wrote(ctx, r.ContactRepo.Create(ctx, v))
}

func (r contactsRepo) Update(ctx context.Context, v *store.Contact) error {
	return r.c.wrote(ctx, r.ContactRepo.Update(ctx, v))
}

func (r contactsRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.ContactRepo.Delete(ctx, id, version))
}

type ivrFlowsRepo struct {
	store.IVRFlowRepo
	c *Controller
}

// IVRFlows returns the IVR flows; its writes go through the change feed
// before they return. A call keeps the flow version it started on
// (FlowSource caches by id and version).
func (c *Controller) IVRFlows() store.IVRFlowRepo { return ivrFlowsRepo{c.st.IVRFlows(), c} }

func (r ivrFlowsRepo) Create(ctx context.Context, v *store.IVRFlow) error {
	return r.c.wrote(ctx, r.IVRFlowRepo.Create(ctx, v))
}

func (r ivrFlowsRepo) Update(ctx context.Context, v *store.IVRFlow) error {
	return r.c.wrote(ctx, r.IVRFlowRepo.Update(ctx, v))
}

func (r ivrFlowsRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.IVRFlowRepo.Delete(ctx, id, version))
}

// CDRs returns the call detail records (written by the Journal).
func (c *Controller) CDRs() store.CDRRepo { return c.st.CDRs() }

// QueueEvents returns the queue and agent event log (written by the
// Journal).
func (c *Controller) QueueEvents() store.QueueEventRepo { return c.st.QueueEvents() }

// Recordings returns recordings' metadata (written by the Journal).
func (c *Controller) Recordings() store.RecordingRepo { return c.st.Recordings() }
