package api

import (
	"net/http"
	"strings"
	"testing"

	"hotline/controller/store"
)

func TestReferencedRecordsAreKept(t *testing.T) {
	e := newEnv(t)
	agentID, queueID := e.seed()
	var sched store.Schedule
	e.admin("POST", "/api/v1/schedules", map[string]any{"name": "office"}, http.StatusCreated, &sched)
	var num store.Number
	e.admin("POST", "/api/v1/numbers", map[string]any{"number": "800", "route": map[string]any{"kind": "queue", "value": queueID},
		"schedule_id": sched.ID}, http.StatusCreated, &num)
	english, err := e.st.Skills().GetByName(t.Context(), "english")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, method, path string
		body               any
		referrer           string
	}{
		{"agent in a queue", "DELETE", "/api/v1/agents/" + agentID + "?version=1", nil, "queue " + queueID},
		{"queue routed from a number", "DELETE", "/api/v1/queues/" + queueID + "?version=1", nil, "number " + num.ID},
		{"schedule of a number", "DELETE", "/api/v1/schedules/" + sched.ID + "?version=1", nil, "number " + num.ID},
		{"skill held by an agent", "DELETE", "/api/v1/skills/" + english.ID + "?version=1", nil, "agent " + agentID},
		{"skill renamed", "PUT", "/api/v1/skills/" + english.ID, map[string]any{"name": "anglais", "version": 1}, "agent " + agentID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.must(req{method: tc.method, path: tc.path, token: adminSecret, body: tc.body}, http.StatusConflict, nil)
			if ae := r.err(t); ae.Code != codeConflict || !strings.HasSuffix(ae.Message, tc.referrer) {
				t.Fatalf("error %+v, want a conflict naming %s", ae, tc.referrer)
			}
		})
	}
	// Once the references are gone the deletes go through.
	e.admin("DELETE", "/api/v1/numbers/"+num.ID+"?version=1", nil, http.StatusNoContent, nil)
	e.admin("DELETE", "/api/v1/schedules/"+sched.ID+"?version=1", nil, http.StatusNoContent, nil)
	e.admin("DELETE", "/api/v1/queues/"+queueID+"?version=1", nil, http.StatusNoContent, nil)
	e.admin("DELETE", "/api/v1/agents/"+agentID+"?version=1", nil, http.StatusNoContent, nil)
	e.admin("DELETE", "/api/v1/skills/"+english.ID+"?version=1", nil, http.StatusNoContent, nil)
}
