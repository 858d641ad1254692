package api

import (
	"net/http"
	"testing"
)

// TestBodyContentType: a body declared as anything but JSON is 415; JSON
// with parameters or a +json type, and a body without Content-Type, are
// read.
func TestBodyContentType(t *testing.T) {
	e := newEnv(t)
	body := `{"name":"english"}`
	for _, tt := range []struct {
		ct   string
		want int
	}{
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"application/xml", http.StatusUnsupportedMediaType},
		{"not a media type;;", http.StatusUnsupportedMediaType},
		{"application/json; charset=utf-8", http.StatusCreated},
		{"application/merge-patch+json", http.StatusCreated},
		{"", http.StatusCreated},
	} {
		t.Run(tt.ct, func(t *testing.T) {
			e.t = t
			r := req{method: "POST", path: "/api/v1/skills", token: adminSecret, body: body, header: map[string]string{"Content-Type": tt.ct}}
			got := e.do(r)
			if got.Code != tt.want {
				t.Fatalf("Content-Type %q: %d %s, want %d", tt.ct, got.Code, got.Body, tt.want)
			}
			if tt.want == http.StatusUnsupportedMediaType {
				if ae := got.err(t); ae.Code != codeUnsupportedMediaType {
					t.Errorf("code %q", ae.Code)
				}
				return
			}
			var sk struct{ ID string }
			got.json(t, &sk)
			e.admin("DELETE", "/api/v1/skills/"+sk.ID+"?version=1", nil, http.StatusNoContent, nil)
		})
	}
}

// TestInvalidUTF8 is refused with 400 naming the field, not replaced with
// U+FFFD behind the client's back.
func TestInvalidUTF8(t *testing.T) {
	e := newEnv(t)
	e.seed()
	for _, tt := range []struct {
		path, body, field string
	}{
		{"/api/v1/skills", "{\"name\":\"bad\xff\"}", "name"},
		{"/api/v1/skills", "{\"name\":\"ok\",\"description\":\"\xc3\x28\"}", "description"},
		{"/api/v1/agents", "{\"name\":\"Ann\",\"extension\":\"1201\",\"sip_password\":\"sip-secret-1\",\"skills\":[{\"skill\":\"engl\xe9sh\",\"level\":1}]}", "skills[0].skill"},
	} {
		got := e.do(req{method: "POST", path: tt.path, token: adminSecret, body: tt.body})
		if got.Code != http.StatusBadRequest {
			t.Fatalf("%q: %d %s, want 400", tt.body, got.Code, got.Body)
		}
		if ae := got.err(t); ae.Field != tt.field || ae.Code != codeInvalidValue {
			t.Errorf("%q: %+v, want invalid_value on %s", tt.body, ae, tt.field)
		}
	}
}
