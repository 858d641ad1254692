package api

import (
	"context"
	"encoding/json"
	"fmt"
	hclock "hotline/internal/clock"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hotline/controller/store/postgres"
	"hotline/controller/store/sqlite"
)

// fuzzSeeds are valid and edge-case bodies shared by the fuzz targets.
func fuzzSeeds(agentID, queueID string) []string {
	return []string{
		`{"name":"Ann","extension":"1101","sip_password":"sip-secret-1","skills":[{"skill":"english","level":5}]}`,
		`{"name":"sales","strategy":"ring-all","members":[{"agent_id":"` + agentID + `","penalty":1}],"overflow":{"kind":"queue","value":"` + queueID + `"}}`,
		`{"name":"q2","required_skills":[{"skill":"english","level":10}],"recording":{"mode":"sample","sample_percent":100}}`,
		`{"name":"q3","overflow":{"kind":"external","value":"+8613800000000"},"announcements":{"position_every":30}}`,
		`{"name":"x","ring_timeout":1e99}`,
		`{"name":"x","wrap_up":-1}`,
		`{"name":"x","members":[null,{}]}`,
		`{"name":"x","skills":[{"skill":"","level":0}]}`,
		`{"name":null,"extension":null}`,
		`{"id":"x","version":-5,"created_at":"2026-01-01T00:00:00Z"}`,
		`{"version":9223372036854775807}`,
		`{"name":"\u0000"}`,
		`{"name":"` + strings.Repeat("é", 70) + `"}`,
		`{"a":{"b":{"c":[[[[[]]]]]}}}`,
		`[` + strings.Repeat("[", 100) + `]`,
		`{"name":"a","name":"b"}`,
		`{"extension":"12345678","mobile_number":"+"}`,
		`{"overflow":{"kind":"queue","value":"` + agentID + `"}}`,
		`"just a string"`,
		`null`,
		``,
		`{`,
		`{"name":"x"}garbage`,
		"\xff\xfe",
	}
}

// fuzzBodies posts or puts arbitrary bodies through the real handler and
// memstore and fails on any 5xx (a panic is recovered as a 500).
func fuzzBodies(f *testing.F, resource string, update bool) {
	fuzzBodiesOn(f, newEnv(f), resource, update)
}

// fuzzBodiesOn is fuzzBodies on e's store.
func fuzzBodiesOn(f *testing.F, e *env, resource string, update bool) {
	agentID, queueID := e.seed()
	for _, s := range fuzzSeeds(agentID, queueID) {
		f.Add([]byte(s))
	}
	target := "/api/v1/" + resource
	if update {
		if resource == "agents" {
			target += "/" + agentID
		} else {
			target += "/" + queueID
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		te := *e
		te.t = t
		r := req{method: "POST", path: target, token: adminSecret, body: body}
		if update {
			g := te.do(req{method: "GET", path: target, token: adminSecret})
			r.method = "PUT"
			r.header = map[string]string{"If-Match": g.Header.Get("ETag")}
		}
		got := te.do(r)
		if got.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", r.method, r.path, body, got.Code, got.Body)
		}
		if got.Code >= 400 {
			if ae := got.err(t); ae.Code == "" || ae.Message == "" {
				t.Fatalf("error answer without code/message: %s", got.Body)
			}
		}
	})
}

func FuzzAgentsCreate(f *testing.F) { fuzzBodies(f, "agents", false) }
func FuzzQueuesCreate(f *testing.F) { fuzzBodies(f, "queues", false) }
func FuzzAgentsUpdate(f *testing.F) { fuzzBodies(f, "agents", true) }
func FuzzQueuesUpdate(f *testing.F) { fuzzBodies(f, "queues", true) }

// The same targets against the real stores, where database-specific
// refusals (PostgreSQL rejects NUL in text) would surface as 500s.

func sqliteEnv(f *testing.F) *env {
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"), nil)
	if err != nil {
		f.Fatalf("sqlite.Open: %v", err)
	}
	f.Cleanup(func() { _ = st.Close() })
	clock := hclock.NewFake(time.Now().UTC())
	return newEnvWith(f, st, clock)
}

func postgresEnv(f *testing.F) *env {
	st, err := postgres.OpenConfig(context.Background(), freshSchema(f), nil)
	if err != nil {
		f.Fatalf("postgres.OpenConfig: %v", err)
	}
	f.Cleanup(func() { _ = st.Close() })
	clock := hclock.NewFake(time.Now().UTC())
	return newEnvWith(f, st, clock)
}

func FuzzAgentsCreateSQLite(f *testing.F)   { fuzzBodiesOn(f, sqliteEnv(f), "agents", false) }
func FuzzQueuesUpdateSQLite(f *testing.F)   { fuzzBodiesOn(f, sqliteEnv(f), "queues", true) }
func FuzzAgentsCreatePostgres(f *testing.F) { fuzzBodiesOn(f, postgresEnv(f), "agents", false) }
func FuzzAgentsUpdatePostgres(f *testing.F) { fuzzBodiesOn(f, postgresEnv(f), "agents", true) }
func FuzzQueuesCreatePostgres(f *testing.F) { fuzzBodiesOn(f, postgresEnv(f), "queues", false) }
func FuzzQueuesUpdatePostgres(f *testing.F) { fuzzBodiesOn(f, postgresEnv(f), "queues", true) }

// FuzzDecodeStrict holds the strict decoder to two properties on every
// body type: it fails only with a 4xx apiError, and whatever it accepts
// encoding/json accepts too (so the shape check never lets through a body
// the real decode would reject, nor panics on one).
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range fuzzSeeds("a", "b") {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"username":"u","password":"p"}`))
	f.Add([]byte(`{"name":"t","user_id":"x","expires_at":"2030-01-01T00:00:00+08:00"}`))
	f.Add([]byte(`{"list":"dnc","pattern":"1","expires_at":"2030-01-01T00:00:00.123456789Z"}`))
	f.Add([]byte(`{"weekly":[{"weekday":1,"start":"09:00","end":"18:00"}],"extra_workday_as":6}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		bodies := []func() any{
			func() any { return &userBody{} }, func() any { return &agentBody{} }, func() any { return &queueBody{} },
			func() any { return &numberBody{} }, func() any { return &trunkBody{} }, func() any { return &scheduleBody{} },
			func() any { return &listEntryBody{} }, func() any { return &loginBody{} }, func() any { return &tokenBody{} },
		}
		for _, mk := range bodies {
			b := mk()
			err := decodeStrict(data, b)
			if err != nil {
				if st := toAPIError(err).Status; st < 400 || st > 499 {
					t.Fatalf("%T %q: status %d (%v)", b, data, st, err)
				}
				continue
			}
			if err := json.Unmarshal(data, mk()); err != nil {
				t.Fatalf("%T %q: accepted, but encoding/json says %v", b, data, err)
			}
		}
	})
}

// TestDecodeStrictNeverPanics walks pathological shapes through every body
// type (the fuzz targets cover agents and queues in depth).
func TestDecodeStrictNeverPanics(t *testing.T) {
	bodies := []any{&userBody{}, &agentBody{}, &skillBody{}, &queueBody{}, &numberBody{}, &trunkBody{},
		&scheduleBody{}, &listEntryBody{}, &loginBody{}, &tokenBody{}}
	inputs := fuzzSeeds("a", "b")
	for _, in := range inputs {
		for _, b := range bodies {
			t.Run(fmt.Sprintf("%T", b), func(t *testing.T) {
				err := decodeStrict([]byte(in), b)
				if err != nil && toAPIError(err).Status != http.StatusBadRequest {
					t.Fatalf("%q: %v", in, err)
				}
			})
		}
	}
}
