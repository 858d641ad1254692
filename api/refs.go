package api

import (
	"context"
	"net/http"
	"slices"

	"hotline/controller/store"
)

// Records refer to each other by id (queue members, number routes, user
// agent links) or by name (skills). Deleting a referenced record, or
// renaming a referenced skill, would leave the configuration dangling, so
// the API refuses it with 409 naming the first referrer. The check and the
// write are not one transaction: two admins racing can still create a
// dangling reference, which the controller treats as a missing target.

// eachRecord calls fn for every record of repo, page by page, until fn
// returns false.
func eachRecord[T any](ctx context.Context, repo store.Repo[T], fn func(T) bool) error {
	opt := store.ListOptions{Limit: store.MaxLimit}
	for {
		p, err := repo.List(ctx, opt)
		if err != nil {
			return err
		}
		for _, v := range p.Items {
			if !fn(v) {
				return nil
			}
		}
		if p.Next == "" {
			return nil
		}
		opt.After = p.Next
	}
}

func inUse(what, id string) *apiError {
	return &apiError{Status: http.StatusConflict, Code: codeConflict, Message: "in use by " + what + " " + id}
}

func targets(t *store.Target, kind store.TargetKind, value string) bool {
	return t != nil && t.Kind == kind && t.Value == value
}

// firstUse runs finders in order and returns the first reference found.
func firstUse(finders ...func() (*apiError, error)) error {
	for _, f := range finders {
		ae, err := f()
		if err != nil {
			return err
		}
		if ae != nil {
			return ae
		}
	}
	return nil
}

// find scans repo for a record matching hit and names it.
func find[T any](ctx context.Context, repo store.Repo[T], what string, hit func(T) bool) func() (*apiError, error) {
	return func() (*apiError, error) {
		var found *apiError
		err := eachRecord(ctx, repo, func(v T) bool {
			if hit(v) {
				found = inUse(what, metaOfPtr(&v).ID)
				return false
			}
			return true
		})
		return found, err
	}
}

func (s *Server) guardAgent(ctx context.Context, old store.Agent, next *store.Agent) error {
	if next != nil {
		return nil
	}
	return firstUse(
		find(ctx, store.Repo[store.Queue](s.st.Queues()), "queue", func(q store.Queue) bool {
			return slices.ContainsFunc(q.Members, func(m store.QueueMember) bool { return m.AgentID == old.ID })
		}),
		find(ctx, store.Repo[store.User](s.st.Users()), "user", func(u store.User) bool { return u.AgentID == old.ID }),
	)
}

func (s *Server) guardSkill(ctx context.Context, old store.Skill, next *store.Skill) error {
	if next != nil && next.Name == old.Name {
		return nil
	}
	has := func(sk []store.SkillLevel) bool {
		return slices.ContainsFunc(sk, func(l store.SkillLevel) bool { return l.Skill == old.Name })
	}
	return firstUse(
		find(ctx, store.Repo[store.Agent](s.st.Agents()), "agent", func(a store.Agent) bool { return has(a.Skills) }),
		find(ctx, store.Repo[store.Queue](s.st.Queues()), "queue", func(q store.Queue) bool { return has(q.RequiredSkills) }),
	)
}

func (s *Server) guardQueue(ctx context.Context, old store.Queue, next *store.Queue) error {
	if next != nil {
		return nil
	}
	return firstUse(
		find(ctx, store.Repo[store.Queue](s.st.Queues()), "queue", func(q store.Queue) bool {
			return targets(q.Overflow, store.TargetQueue, old.ID)
		}),
		find(ctx, store.Repo[store.Number](s.st.Numbers()), "number", func(n store.Number) bool {
			return targets(&n.Route, store.TargetQueue, old.ID) || targets(n.AfterHours, store.TargetQueue, old.ID)
		}),
		find(ctx, store.Repo[store.ListEntry](s.st.Lists()), "list entry", func(e store.ListEntry) bool {
			return targets(e.Target, store.TargetQueue, old.ID)
		}),
	)
}

func (s *Server) guardSchedule(ctx context.Context, old store.Schedule, next *store.Schedule) error {
	if next != nil {
		return nil
	}
	return firstUse(find(ctx, store.Repo[store.Number](s.st.Numbers()), "number", func(n store.Number) bool {
		return n.ScheduleID == old.ID
	}))
}
