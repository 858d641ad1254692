package api

import (
	"net/http"
	"testing"
)

// TestDialClash: an agent extension and an access number are dialled the
// same way, so neither may take the other's value; the 409 names the
// field.
func TestDialClash(t *testing.T) {
	e := newEnv(t)
	e.seed() // agent extension 1001
	hangup := map[string]any{"kind": "hangup"}
	if ae := e.admin("POST", "/api/v1/numbers", map[string]any{"number": "1001", "route": hangup}, http.StatusConflict, nil).err(t); ae.Field != "number" {
		t.Errorf("number equal to an extension: field %q, want number", ae.Field)
	}
	e.admin("POST", "/api/v1/numbers", map[string]any{"number": "800", "route": hangup}, http.StatusCreated, nil)
	body := map[string]any{"name": "Bob", "extension": "800", "sip_password": "sip-secret-2"}
	if ae := e.admin("POST", "/api/v1/agents", body, http.StatusConflict, nil).err(t); ae.Field != "extension" {
		t.Errorf("extension equal to an access number: field %q, want extension", ae.Field)
	}
	body["extension"] = "801"
	e.admin("POST", "/api/v1/agents", body, http.StatusCreated, nil)
}
