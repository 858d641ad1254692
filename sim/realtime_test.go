package sim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The end-of-run real-time check: what Hotline says against the ground
// truth of the run (3 answered, 1 abandoned).
func TestReconcileRealtime(t *testing.T) {
	exp := Expected{"queue sales": {"offered": exact(4), "answered": exact(3), "abandoned": exact(1),
		"short_abandoned": exact(0), "answered_in_sl": Range{2, 3}}}
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	res := LiveResult{Truth: Truth{Queue: "sales"}, QueueID: "q1", From: now.Add(-time.Minute)}
	for _, tc := range []struct {
		name, body string
		status     int
		want       []string // scope/figure of each difference
	}{
		{"agrees", `{"queues":[{"queue_id":"q1","waiting":0,
			"today":{"offered":9,"answered":7,"abandoned":2,"answered_in_sl":6},
			"window":{"offered":4,"answered":3,"abandoned":1,"answered_in_sl":3}}]}`, 200, nil},
		{"still waiting, a call missing", `{"queues":[{"queue_id":"q1","waiting":1,
			"today":{"offered":4,"answered":2,"abandoned":1,"answered_in_sl":2},
			"window":{"offered":4,"answered":2,"abandoned":1,"answered_in_sl":2}}]}`, 200,
			[]string{"real-time queue sales/waiting", "real-time window queue sales/answered", "real-time today queue sales/answered"}},
		{"queue unknown", `{"queues":[]}`, 200, []string{"real-time queue sales/waiting"}},
		{"no such route", `{"error":{}}`, 404, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked = r.URL.RequestURI()
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := &client{base: srv.URL, token: "tok", http: srv.Client()}
			diffs, err := reconcileRealtime(context.Background(), c, res, exp, now)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range diffs {
				got = append(got, d.Scope+"/"+d.Figure)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("differences %v, want %v", diffs, tc.want)
			}
			if !strings.HasPrefix(asked, "/api/v1/stats/realtime?tz=UTC&window=6") { // 60 s + the margin
				t.Errorf("asked %s", asked)
			}
		})
	}
}
