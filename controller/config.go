package controller

import (
	"context"

	"hotline/controller/store"
)

// The configuration repositories of the Controller: reads go to the
// store; Create, Update and Delete write the store and then apply the
// change to the live parts before they return (see Controller). The
// method set is store.Store's without Close, so the API (or a test)
// depends on one small interface that both satisfy.

type usersRepo struct {
	store.UserRepo
	c *Controller
}

// Users returns the users repository; its writes go live before they return.
func (c *Controller) Users() store.UserRepo { return usersRepo{c.st.Users(), c} }

func (r usersRepo) Create(ctx context.Context, v *store.User) error {
	return r.c.wrote(ctx, r.UserRepo.Create(ctx, v))
}

func (r usersRepo) Update(ctx context.Context, v *store.User) error {
	return r.c.wrote(ctx, r.UserRepo.Update(ctx, v))
}

func (r usersRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.UserRepo.Delete(ctx, id, version))
}

type agentsRepo struct {
	store.AgentRepo
	c *Controller
}

// Agents returns the agents repository; its writes go live before they return.
func (c *Controller) Agents() store.AgentRepo { return agentsRepo{c.st.Agents(), c} }

func (r agentsRepo) Create(ctx context.Context, v *store.Agent) error {
	return r.c.wrote(ctx, r.AgentRepo.Create(ctx, v))
}

func (r agentsRepo) Update(ctx context.Context, v *store.Agent) error {
	return r.c.wrote(ctx, r.AgentRepo.Update(ctx, v))
}

func (r agentsRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.AgentRepo.Delete(ctx, id, version))
}

type skillsRepo struct {
	store.SkillRepo
	c *Controller
}

// Skills returns the skills repository; its writes go live before they return.
func (c *Controller) Skills() store.SkillRepo { return skillsRepo{c.st.Skills(), c} }

func (r skillsRepo) Create(ctx context.Context, v *store.Skill) error {
	return r.c.wrote(ctx, r.SkillRepo.Create(ctx, v))
}

func (r skillsRepo) Update(ctx context.Context, v *store.Skill) error {
	return r.c.wrote(ctx, r.SkillRepo.Update(ctx, v))
}

func (r skillsRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.SkillRepo.Delete(ctx, id, version))
}

type queuesRepo struct {
	store.QueueRepo
	c *Controller
}

// Queues returns the queues repository; its writes go live before they return.
func (c *Controller) Queues() store.QueueRepo { return queuesRepo{c.st.Queues(), c} }

func (r queuesRepo) Create(ctx context.Context, v *store.Queue) error {
	return r.c.wrote(ctx, r.QueueRepo.Create(ctx, v))
}

func (r queuesRepo) Update(ctx context.Context, v *store.Queue) error {
	return r.c.wrote(ctx, r.QueueRepo.Update(ctx, v))
}

func (r queuesRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.QueueRepo.Delete(ctx, id, version))
}

type numbersRepo struct {
	store.NumberRepo
	c *Controller
}

// Numbers returns the numbers repository; its writes go live before they return.
func (c *Controller) Numbers() store.NumberRepo { return numbersRepo{c.st.Numbers(), c} }

func (r numbersRepo) Create(ctx context.Context, v *store.Number) error {
	return r.c.wrote(ctx, r.NumberRepo.Create(ctx, v))
}

func (r numbersRepo) Update(ctx context.Context, v *store.Number) error {
	return r.c.wrote(ctx, r.NumberRepo.Update(ctx, v))
}

func (r numbersRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.NumberRepo.Delete(ctx, id, version))
}

type trunksRepo struct {
	store.TrunkRepo
	c *Controller
}

// Trunks returns the trunks repository; its writes go live before they return.
func (c *Controller) Trunks() store.TrunkRepo { return trunksRepo{c.st.Trunks(), c} }

func (r trunksRepo) Create(ctx context.Context, v *store.Trunk) error {
	return r.c.wrote(ctx, r.TrunkRepo.Create(ctx, v))
}

func (r trunksRepo) Update(ctx context.Context, v *store.Trunk) error {
	return r.c.wrote(ctx, r.TrunkRepo.Update(ctx, v))
}

func (r trunksRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.TrunkRepo.Delete(ctx, id, version))
}

type schedulesRepo struct {
	store.ScheduleRepo
	c *Controller
}

// Schedules returns the schedules repository; its writes go live before they return.
func (c *Controller) Schedules() store.ScheduleRepo { return schedulesRepo{c.st.Schedules(), c} }

func (r schedulesRepo) Create(ctx context.Context, v *store.Schedule) error {
	return r.c.wrote(ctx, r.ScheduleRepo.Create(ctx, v))
}

func (r schedulesRepo) Update(ctx context.Context, v *store.Schedule) error {
	return r.c.wrote(ctx, r.ScheduleRepo.Update(ctx, v))
}

func (r schedulesRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.ScheduleRepo.Delete(ctx, id, version))
}

type listsRepo struct {
	store.ListRepo
	c *Controller
}

// Lists returns the lists repository; its writes go live before they return.
func (c *Controller) Lists() store.ListRepo { return listsRepo{c.st.Lists(), c} }

func (r listsRepo) Create(ctx context.Context, v *store.ListEntry) error {
	return r.c.wrote(ctx, r.ListRepo.Create(ctx, v))
}

func (r listsRepo) Update(ctx context.Context, v *store.ListEntry) error {
	return r.c.wrote(ctx, r.ListRepo.Update(ctx, v))
}

func (r listsRepo) Delete(ctx context.Context, id string, version int64) error {
	return r.c.wrote(ctx, r.ListRepo.Delete(ctx, id, version))
}

// Tokens returns the token repository (not configuration: no live part).
func (c *Controller) Tokens() store.TokenRepo { return c.st.Tokens() }

// Audit returns the audit log (not configuration: no live part).
func (c *Controller) Audit() store.AuditRepo { return c.st.Audit() }

// Ping reports whether the store answers.
func (c *Controller) Ping(ctx context.Context) error { return c.st.Ping(ctx) }
