package api

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"hotline/controller/store"
	"hotline/controller/store/sqlite"
	hclock "hotline/internal/clock"
)

// BenchmarkReplaceQueue measures one PUT /api/v1/queues/{id} through the
// whole stack (request id, auth, audit, strict decode, validation with a
// member and a skill lookup, versioned write) over the in-memory store, so
// the figure is the API's own cost. (A create benchmark would mostly
// measure the fake's linear unique-key scan as the table grows.)
func BenchmarkReplaceQueue(b *testing.B) {
	benchStores(b, benchReplaceQueue)
}

// benchStores runs fn over the in-memory fake (the API's own cost) and
// over the embedded SQLite store (what a one-node deployment sees).
func benchStores(b *testing.B, fn func(b *testing.B, e *env)) {
	b.Run("memstore", func(b *testing.B) { fn(b, newEnv(b)) })
	b.Run("sqlite", func(b *testing.B) {
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		clock := hclock.NewFake(time.Now().UTC())
		fn(b, newEnvWith(b, st, clock))
	})
}

func benchReplaceQueue(b *testing.B, e *env) {
	agentID, queueID := e.seed()
	b.ReportAllocs()
	version := 1
	for b.Loop() {
		e.admin("PUT", "/api/v1/queues/"+queueID, map[string]any{"name": "support", "version": version,
			"members":         []map[string]any{{"agent_id": agentID, "penalty": 1}},
			"required_skills": []map[string]any{{"skill": "english", "level": 2}}}, http.StatusOK, nil)
		version++
	}
}

// BenchmarkGetAgent measures an authenticated GET of one record.
func BenchmarkGetAgent(b *testing.B) { benchStores(b, benchGetAgent) }

func benchGetAgent(b *testing.B, e *env) {
	agentID, _ := e.seed()
	b.ReportAllocs()
	for b.Loop() {
		e.admin("GET", "/api/v1/agents/"+agentID, nil, http.StatusOK, nil)
	}
}

// BenchmarkListAgents measures a page of 50 agents.
func BenchmarkListAgents(b *testing.B) {
	e := newEnv(b)
	for i := range 50 {
		a := store.Agent{Name: "A", Extension: fmt.Sprintf("%04d", 1000+i), Skills: []store.SkillLevel{}}
		if err := e.st.Agents().Create(b.Context(), &a); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		e.admin("GET", "/api/v1/agents?limit=50", nil, http.StatusOK, nil)
	}
}
