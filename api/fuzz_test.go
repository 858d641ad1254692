package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
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
	e := newEnv(f)
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
