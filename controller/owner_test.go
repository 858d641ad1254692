package controller

import (
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"hotline/acd"
	"hotline/controller/store"
)

// TestQueueTeamsFollowChanges checks that the memoized teams of a queue
// (the CTI audience of its events) follow every change of its members'
// agents and of the queue itself.
func TestQueueTeamsFollowChanges(t *testing.T) {
	e, err := acd.New(acd.NewVirtualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	c := newACDConfig(slog.New(slog.DiscardHandler))
	var out []acd.Event
	queue := func(members ...string) store.Queue {
		q := store.Queue{Meta: store.Meta{ID: "q1"}, Name: "support", Strategy: "longest-idle"}
		for _, m := range members {
			q.Members = append(q.Members, store.QueueMember{AgentID: m})
		}
		return q
	}
	c.setAgent(e, store.Agent{Meta: store.Meta{ID: "a1"}, Team: "red"}, &out)
	c.setAgent(e, store.Agent{Meta: store.Meta{ID: "a2"}, Team: "blue"}, &out)
	c.setQueue(e, queue("a1", "a2"), &out)
	steps := []struct {
		name   string
		change func()
		want   []string
	}{
		{"as configured", func() {}, []string{"blue", "red"}},
		{"an agent changes team", func() { c.setAgent(e, store.Agent{Meta: store.Meta{ID: "a2"}, Team: "green"}, &out) }, []string{"green", "red"}},
		{"an agent is deleted", func() { c.removeAgent(e, "a1", &out) }, []string{"green"}},
		{"a member is added", func() {
			c.setAgent(e, store.Agent{Meta: store.Meta{ID: "a3"}, Team: "gold"}, &out)
			c.setQueue(e, queue("a2", "a3"), &out)
		}, []string{"gold", "green"}},
		{"the queue is deleted", func() { c.removeQueue(e, "q1", &out) }, nil},
	}
	for _, s := range steps {
		s.change()
		// Twice: computed, then memoized.
		for range 2 {
			if got := c.queueTeams("q1"); !slices.Equal(got, s.want) {
				t.Fatalf("%s: teams %v, want %v", s.name, got, s.want)
			}
		}
	}
	// A caller appending to the shared slice does not change it.
	c.setQueue(e, queue("a2", "a3"), &out)
	_ = append(c.queueTeams("q1"), "intruder")
	if got := c.queueTeams("q1"); !slices.Equal(got, []string{"gold", "green"}) {
		t.Fatalf("after an append by a caller: %v", got)
	}
}

// BenchmarkQueueTeams900 is the CTI audience lookup that HandleACD does
// for every ACD event of a queue of 900 members (callpath.sh's largest).
func BenchmarkQueueTeams900(b *testing.B) {
	e, err := acd.New(acd.NewVirtualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		b.Fatal(err)
	}
	c := newACDConfig(slog.New(slog.DiscardHandler))
	var out []acd.Event
	q := store.Queue{Meta: store.Meta{ID: "q1"}, Name: "load", Strategy: "longest-idle"}
	for i := range 900 {
		id := fmt.Sprint("a", i)
		c.setAgent(e, store.Agent{Meta: store.Meta{ID: id}, Team: fmt.Sprint("team", i%3)}, &out)
		q.Members = append(q.Members, store.QueueMember{AgentID: id})
	}
	c.setQueue(e, q, &out)
	b.ReportAllocs()
	for b.Loop() {
		if len(c.queueTeams("q1")) != 3 {
			b.Fatal("teams")
		}
	}
}
