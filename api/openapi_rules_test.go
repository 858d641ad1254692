package api

import (
	"fmt"
	"net/http"
	"testing"
)

func openAPIComponents(t *testing.T, e *env) map[string]map[string]any {
	t.Helper()
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	e.must(req{method: "GET", path: "/api/v1/openapi.json"}, http.StatusOK, &doc)
	return doc.Components.Schemas
}

// TestOpenAPIInputRules: every request schema named in the rules exists
// with every field the rules name, carries its required list, and the
// bounds it states are the server's: the queue's integer bounds are each
// accepted at the edge and refused one past it, naming the field, and a
// body without a required field is refused naming it.
func TestOpenAPIInputRules(t *testing.T) {
	e := newEnv(t)
	comps := openAPIComponents(t, e)
	for name, req := range inputRequired {
		c, ok := comps[name]
		if !ok {
			t.Errorf("no schema %s", name)
			continue
		}
		props, _ := c["properties"].(map[string]any)
		got, _ := c["required"].([]any)
		if len(got) != len(req) {
			t.Errorf("%s.required = %v, want %v", name, got, req)
		}
		for _, f := range req {
			if _, ok := props[f]; !ok {
				t.Errorf("%s requires %s, which it does not have", name, f)
			}
		}
	}
	for name, fields := range inputRules {
		props, _ := comps[name]["properties"].(map[string]any)
		for f := range fields {
			if _, ok := props[f]; !ok {
				t.Errorf("%s has a rule for %s, which it does not have", name, f)
			}
		}
	}

	props := comps["QueueInput"]["properties"].(map[string]any)
	for field := range inputRules["QueueInput"] {
		p := props[field].(map[string]any)
		lo, okLo := p["minimum"].(float64)
		hi, okHi := p["maximum"].(float64)
		if !okLo || !okHi {
			continue
		}
		for _, tt := range []struct {
			v    float64
			want int
		}{{lo, http.StatusCreated}, {hi, http.StatusCreated}, {lo - 1, http.StatusBadRequest}, {hi + 1, http.StatusBadRequest}} {
			body := map[string]any{"name": fmt.Sprintf("q-%s-%v", field, tt.v), field: tt.v}
			got := e.do(req{method: "POST", path: "/api/v1/queues", token: adminSecret, body: body})
			if got.Code != tt.want {
				t.Errorf("queue %s=%v: %d %s, want %d", field, tt.v, got.Code, got.Body, tt.want)
				continue
			}
			if tt.want == http.StatusBadRequest {
				if ae := got.err(t); ae.Field != field {
					t.Errorf("queue %s=%v refused naming %q", field, tt.v, ae.Field)
				}
			}
		}
	}

	// A missing required field is refused naming it.
	for path, tt := range map[string]struct {
		body  map[string]any
		field string
	}{
		"/api/v1/agents":  {map[string]any{"name": "Ann"}, "extension"},
		"/api/v1/skills":  {map[string]any{"description": "x"}, "name"},
		"/api/v1/queues":  {map[string]any{"strategy": "ring-all"}, "name"},
		"/api/v1/numbers": {map[string]any{"route": map[string]any{"kind": "hangup"}}, "number"},
	} {
		got := e.do(req{method: "POST", path: path, token: adminSecret, body: tt.body})
		if got.Code != http.StatusBadRequest {
			t.Errorf("%s without %s: %d", path, tt.field, got.Code)
			continue
		}
		if ae := got.err(t); ae.Field != tt.field {
			t.Errorf("%s without %s: refused naming %q", path, tt.field, ae.Field)
		}
	}
}
