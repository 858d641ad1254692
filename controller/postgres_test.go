package controller

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"hotline/acd"
	"hotline/controller/store"
	"hotline/controller/store/postgres"
	"hotline/internal/clock"
	"hotline/internal/testenv"
)

// pgSchema creates an empty schema on the test server, dropped when the
// test ends, and returns a pool configuration whose search_path is it (as
// storetest's PostgreSQL runs do).
func pgSchema(t *testing.T) *pgxpool.Config {
	t.Helper()
	return testenv.PostgresSchema(t, "hotline_ctl")
}

// TestTwoNodesOnePostgres: two controllers on one PostgreSQL database,
// each with its own pool, see each other's changes in their live parts
// (the change feed woken by LISTEN/NOTIFY; the catch-up period is an hour,
// so only the notification can deliver them in time).
func TestTwoNodesOnePostgres(t *testing.T) {
	cfg := pgSchema(t)
	ctx := t.Context()
	node := func(name string) (*Controller, *fakeMedia) {
		st, err := postgres.OpenConfig(ctx, cfg.Copy(), nil)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		t.Cleanup(func() { _ = st.Close() })
		m := &fakeMedia{}
		c, err := New(ctx, Options{Store: st, Media: m, Clock: clock.NewFake(time.Time{}), CatchUp: time.Hour})
		if err != nil {
			t.Fatalf("controller %s: %v", name, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c, m
	}
	a, _ := node("a")
	b, mediaB := node("b")

	agent := store.Agent{Name: "x", Extension: "1001", Skills: []store.SkillLevel{}}
	must(t, a.Agents().Create(ctx, &agent))
	q := store.Queue{Name: "sales", Strategy: store.StrategyTopDown, RingTimeout: 20, Members: []store.QueueMember{{AgentID: agent.ID}}}
	must(t, a.Queues().Create(ctx, &q))
	live := func(c *Controller, strategy acd.Strategy, members int) func() bool {
		return func() bool {
			cfg, ok, err := c.QueueConfig(ctx, q.ID)
			return err == nil && ok && cfg.Strategy == strategy && len(cfg.Members) == members
		}
	}
	waitUntil(t, "a's queue in b's ACD", live(b, acd.StrategyTopDown, 1))

	// And back: b updates, a sees it.
	bq, err := b.Queues().Get(ctx, q.ID)
	must(t, err)
	bq.Strategy = store.StrategyRingAll
	must(t, b.Queues().Update(ctx, &bq))
	waitUntil(t, "b's update in a's ACD", live(a, acd.StrategyRingAll, 1))

	tr := store.Trunk{Name: "carrier", Host: "127.0.0.1", Port: 5060, Transport: store.TransportUDP, Enabled: true}
	must(t, a.Trunks().Create(ctx, &tr))
	waitUntil(t, "a's trunk in b's media", func() bool { got, _ := mediaB.last(); return len(got) == 1 && got[0].Name == "carrier" })

	n := store.Number{Number: "+864000001", Route: store.Target{Kind: store.TargetQueue, Value: q.ID}}
	must(t, a.Numbers().Create(ctx, &n))
	waitUntil(t, "a's number in b's routes", func() bool { _, ok := b.Routes().Lookup("+864000001"); return ok })

	must(t, a.Queues().Delete(ctx, q.ID, 0))
	waitUntil(t, "a's delete in b's ACD", func() bool { _, ok, err := b.QueueConfig(ctx, q.ID); return err == nil && !ok })
	rev, err := a.st.Revision(ctx)
	must(t, err)
	waitUntil(t, "both at the same revision", func() bool { return a.Revision() == rev && b.Revision() == rev })
}
