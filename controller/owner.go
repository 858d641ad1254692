package controller

import (
	"context"
	"slices"

	"hotline/acd"
	"hotline/controller/store"
)

// The call path reads the configuration the ACD owner holds (queues and
// agents as stored, already loaded and kept in step with the change feed)
// instead of the database: a call never waits for a database read to
// queue or to offer.

// storedQueue returns the stored queue whose id (or, failing that, name)
// is idOrName, and the teams of its members (for CTI audiences).
func (c *Controller) storedQueue(ctx context.Context, idOrName string) (q store.Queue, teams []string, ok bool, err error) {
	err = c.acd.Do(ctx, func(*acd.Engine) ([]acd.Event, error) {
		q, ok = c.acdCfg.queues[idOrName]
		if !ok {
			for _, v := range c.acdCfg.queues {
				if v.Name == idOrName {
					q, ok = v, true
					break
				}
			}
		}
		if ok {
			teams = c.acdCfg.queueTeams(q.ID)
		}
		return nil, nil
	})
	return q, teams, ok, err
}

// storedAgent returns the stored agent id.
func (c *Controller) storedAgent(ctx context.Context, id string) (a store.Agent, ok bool, err error) {
	err = c.acd.Do(ctx, func(*acd.Engine) ([]acd.Event, error) {
		a, ok = c.acdCfg.agents[id]
		return nil, nil
	})
	return a, ok, err
}

// queueTeams returns the teams of a queue's members, sorted (owner
// goroutine only). The slice is shared (memoized in c.teams): callers
// must not modify it; it is clipped, so an append copies.
func (c *acdConfig) queueTeams(id string) []string {
	if teams, ok := c.teams[id]; ok {
		return teams
	}
	q, ok := c.queues[id]
	if !ok {
		return nil
	}
	var teams []string
	for _, m := range q.Members {
		if a, ok := c.agents[m.AgentID]; ok && a.Team != "" && !slices.Contains(teams, a.Team) {
			teams = append(teams, a.Team)
		}
	}
	slices.Sort(teams)
	teams = slices.Clip(teams)
	if c.teams == nil {
		c.teams = make(map[string][]string)
	}
	c.teams[id] = teams
	return teams
}
