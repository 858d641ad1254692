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
	e := newEnv(f)
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

func FuzzContactBody(f *testing.F) {
	fuzzCreate(f, "contacts", []string{
		`{"name":"Li","numbers":["+8613800000000"],"fields":{"tier":"gold"}}`,
		`{"name":"Li","numbers":["+1","+1"]}`,
		`{"name":"Li","numbers":["+1"],"fields":{"a":1}}`,
		`{"name":"Li","numbers":["+1"],"fields":null}`,
		`{"name":"Li","numbers":["+1"],"fields":{"a":"b","a":"c"}}`,
		`{"fields":{"` + strings.Repeat("k", 70) + `":"v"},"name":"x","numbers":["1"]}`,
		`[]`, `{`, ``, "\xff",
	})
}

func FuzzIVRFlowBody(f *testing.F) {
	fuzzCreate(f, "ivr-flows", []string{
		`{"name":"main","flow":` + apiFlow + `}`,
		`{"name":"x","flow":{"start":"a","nodes":{"a":{"type":"goto","target":"a"}}}}`,
		`{"name":"x","flow":{"start":"a","nodes":{}}}`,
		`{"name":"x","flow":null}`,
		`{"name":"x","flow":"text"}`,
		`{"name":"x","flow":{"nodes":{"a":{"type":"menu","choices":{"11":"a"}}}}}`,
		`{"name":"x","flow":{},"flow":{}}`,
		`{`, ``,
	})
}
