package sim

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"hotline/controller/reports"
)

// realtimeMargin widens the sliding window asked for before the run's
// start: Hotline stamps a queue entry a little after the simulator saw
// the call arrive, never before, but the two clocks may differ slightly.
const realtimeMargin = 2 * time.Second

// realtimeQueue is the part of GET /api/v1/stats/realtime the
// simulator reads (docs/METRICS.md, "Real-time statistics").
type realtimeQueue struct {
	QueueID string               `json:"queue_id"`
	Waiting int                  `json:"waiting"`
	Today   reports.QueueFigures `json:"today"`
	Window  reports.QueueFigures `json:"window"`
}

// reconcileRealtime checks Hotline's real-time figures at the end of a
// run against the ground truth exp of the run: nobody waits in the run's
// queue; a sliding window covering the run (when it is at most
// reports.MaxWindow long) counts exactly the run's calls; today (UTC)
// counts at least them. An instance without the route (404, 503) is not
// checked. now is the end of the run.
func reconcileRealtime(ctx context.Context, c *client, res LiveResult, exp Expected, now time.Time) ([]Difference, error) {
	win := now.Sub(res.From) + realtimeMargin
	withWindow := win <= reports.MaxWindow
	path := "/api/v1/stats/realtime?tz=UTC"
	if withWindow {
		path += "&window=" + strconv.FormatInt(int64(math.Ceil(win.Seconds())), 10)
	}
	var st struct {
		Queues []realtimeQueue `json:"queues"`
	}
	if err := c.do(ctx, http.MethodGet, path, nil, &st); err != nil {
		var se *statusError
		if errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusServiceUnavailable) {
			return nil, nil
		}
		return nil, err
	}
	scope := "queue " + res.Truth.Queue
	var q *realtimeQueue
	for i := range st.Queues {
		if st.Queues[i].QueueID == res.QueueID {
			q = &st.Queues[i]
		}
	}
	if q == nil {
		return []Difference{{Scope: "real-time " + scope, Figure: "waiting", Want: exact(0), Missing: true}}, nil
	}
	var out []Difference
	if q.Waiting != 0 {
		out = append(out, Difference{Scope: "real-time " + scope, Figure: "waiting", Want: exact(0), Got: float64(q.Waiting)})
	}
	want := exp[scope]
	got := func(f reports.QueueFigures) map[string]float64 {
		return map[string]float64{"offered": float64(f.Offered), "answered": float64(f.Answered), "abandoned": float64(f.Abandoned),
			"short_abandoned": float64(f.ShortAbandoned), "answered_in_sl": float64(f.AnsweredInSL)}
	}
	names := []string{"abandoned", "answered", "answered_in_sl", "offered", "short_abandoned"}
	if withWindow {
		w := got(q.Window)
		for _, n := range names {
			if r, ok := want[n]; ok && !r.Contains(w[n]) {
				out = append(out, Difference{Scope: "real-time window " + scope, Figure: n, Want: r, Got: w[n]})
			}
		}
	}
	if y, m, d := now.UTC().Date(); !res.From.Before(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
		// Today may hold earlier runs on the same queue: at least the run.
		t := got(q.Today)
		for _, n := range []string{"answered", "abandoned"} {
			if r, ok := want[n]; ok && t[n] < r.Lo {
				out = append(out, Difference{Scope: "real-time today " + scope, Figure: n, Want: Range{r.Lo, math.Inf(1)}, Got: t[n]})
			}
		}
	}
	return out, nil
}
