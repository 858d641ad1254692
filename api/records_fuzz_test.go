package api

import (
	"net/http"
	"strings"
	"testing"
)

// fuzzCreate posts arbitrary bodies to resource through the real handler
// and memstore and fails on any 5xx (a panic is recovered as a 500) or a
// 2xx whose record does not read back.
func fuzzCreate(f *testing.F, resource string, seeds []string) {
	fuzzCreateOn(f, newEnv(f), resource, seeds)
}

// fuzzCreateOn is fuzzCreate on e's store: the SQLite and PostgreSQL
// variants find what only a real database refuses (PostgreSQL's text and
// jsonb refuse NUL, which the in-memory fake stores).
func fuzzCreateOn(f *testing.F, e *env, resource string, seeds []string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		te := *e
		te.t = t
		r := te.do(req{method: "POST", path: "/api/v1/" + resource, token: adminSecret, body: body})
		if r.Code >= http.StatusInternalServerError {
			t.Fatalf("status %d for %q: %s", r.Code, body, r.Body)
		}
		if r.Code == http.StatusCreated {
			var v struct {
				ID string `json:"id"`
			}
			r.json(t, &v)
			te.must(req{method: "GET", path: "/api/v1/" + resource + "/" + v.ID, token: adminSecret}, http.StatusOK, nil)
			te.must(req{method: "DELETE", path: "/api/v1/" + resource + "/" + v.ID + "?version=1", token: adminSecret}, http.StatusNoContent, nil)
		}
	})
}

// contactSeeds are contact bodies, valid and broken; the NUL ones reach a
// JSON object of free fields (jsonb on PostgreSQL) and a text column.
var contactSeeds = []string{
	`{"name":"Li","numbers":["+8613800000000"],"fields":{"tier":"gold"}}`,
	`{"name":"Li","numbers":["+1","+1"]}`,
	`{"name":"Li","numbers":["+1"],"fields":{"a":1}}`,
	`{"name":"Li","numbers":["+1"],"fields":null}`,
	`{"name":"Li","numbers":["+1"],"fields":{"a":"b","a":"c"}}`,
	`{"fields":{"` + strings.Repeat("k", 70) + `":"v"},"name":"x","numbers":["1"]}`,
	`{"name":"Li","numbers":["+1"],"fields":{"a":"\u0000"}}`,
	`{"name":"Li","numbers":["+1"],"fields":{"a":{"b":["\u0000"]}}}`,
	`{"name":"Li\u0000","numbers":["+1"]}`,
	`{"name":"Li","numbers":["+1\u0000"]}`,
	`[]`, `{`, ``, "\xff",
}

func FuzzContactBody(f *testing.F) { fuzzCreate(f, "contacts", contactSeeds) }
func FuzzContactBodySQLite(f *testing.F) {
	fuzzCreateOn(f, sqliteEnv(f), "contacts", contactSeeds)
}
func FuzzContactBodyPostgres(f *testing.F) {
	fuzzCreateOn(f, postgresEnv(f), "contacts", contactSeeds)
}

// ivrFlowSeeds are IVR flow bodies; the NUL ones put it in prompt text
// and a node name inside the flow document (jsonb on PostgreSQL).
var ivrFlowSeeds = []string{
	`{"name":"main","flow":` + apiFlow + `}`,
	`{"name":"x","flow":{"start":"a","nodes":{"a":{"type":"goto","target":"a"}}}}`,
	`{"name":"x","flow":{"start":"a","nodes":{}}}`,
	`{"name":"x","flow":null}`,
	`{"name":"x","flow":"text"}`,
	`{"name":"x","flow":{"nodes":{"a":{"type":"menu","choices":{"11":"a"}}}}}`,
	`{"name":"x","flow":{},"flow":{}}`,
	`{"name":"x","flow":` + strings.Replace(apiFlow, "press 1", `press\u00001`, 1) + `}`,
	`{"name":"x","flow":` + strings.ReplaceAll(apiFlow, `"bye"`, `"by\u0000e"`) + `}`,
	`{`, ``,
}

func FuzzIVRFlowBody(f *testing.F) { fuzzCreate(f, "ivr-flows", ivrFlowSeeds) }
func FuzzIVRFlowBodySQLite(f *testing.F) {
	fuzzCreateOn(f, sqliteEnv(f), "ivr-flows", ivrFlowSeeds)
}
func FuzzIVRFlowBodyPostgres(f *testing.F) {
	fuzzCreateOn(f, postgresEnv(f), "ivr-flows", ivrFlowSeeds)
}
