package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"hotline/controller"
	"hotline/controller/reports"
)

// RealtimeSource is what GET /api/v1/stats/realtime reads (R5.1, R8.4):
// *controller.Realtime. Stats must return when ctx is done; a role that
// may not read the figures is controller.ErrForbidden, a window it
// refuses reports.ErrInvalidQuery.
type RealtimeSource interface {
	Stats(ctx context.Context, by controller.Actor, q controller.RealtimeQuery) (controller.RealtimeStats, error)
}

// realtimeMinWindow is the shortest sliding window asked for: shorter
// than a second says nothing a wallboard can show.
const realtimeMinWindow = time.Second

var realtimeParams = []param{
	{name: "tz", in: "query", desc: "IANA time zone whose midnight starts today's figures, e.g. Europe/Paris (default: the node's)",
		schema: strSchema(nil)},
	{name: "window", in: "query", desc: "sliding window: a duration such as 15m, 90s or 1h, or seconds; 1s to 4h (default 15m)",
		schema: strSchema(nil)},
}

// realtimeRoutes is the real-time statistics route; its figures are
// defined in docs/METRICS.md ("Real-time statistics").
func (s *Server) realtimeRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/api/v1/stats/realtime",
			summary: "Real-time statistics: per queue waiting calls, longest wait, agents by state, today's and a sliding window's figures; per agent state, time in state, calls today (a supervisor: its team's)",
			tag:     "reports", access: readReports, query: realtimeParams, resp: reflect.TypeFor[controller.RealtimeStats](),
			status: http.StatusOK, handler: s.handleRealtime},
	}
}

// parseWindow reads ?window=: a Go duration or whole seconds.
func parseWindow(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.ParseInt(v, 10, 64)
		if nerr != nil || n > int64(reports.MaxWindow/time.Second) {
			return 0, invalidValue("window", "must be a duration such as 15m or 90s, or seconds, from 1s to 4h")
		}
		d = time.Duration(n) * time.Second
	}
	if d < realtimeMinWindow || d > reports.MaxWindow {
		return 0, invalidValue("window", "must be from 1s to 4h")
	}
	return d, nil
}

// parseZone reads an IANA zone name (and nothing that opens a file).
func parseZone(field, tz string) (*time.Location, error) {
	if tz == "" {
		return nil, nil
	}
	if len(tz) > 64 || strings.Contains(tz, "..") || strings.HasPrefix(tz, "/") || strings.ContainsAny(tz, "\\\x00") {
		return nil, invalidValue(field, "must be an IANA time zone such as Europe/Paris")
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		return nil, invalidValue(field, "must be an IANA time zone such as Europe/Paris")
	}
	return loc, nil
}

func (s *Server) handleRealtime(c *gin.Context) {
	if s.realtime == nil {
		s.abortWith(c, errLiveUnavailable("real-time statistics are not running on this node"))
		return
	}
	win, err := parseWindow(c.Query("window"))
	if err != nil {
		s.abortWith(c, err)
		return
	}
	loc, err := parseZone("tz", c.Query("tz"))
	if err != nil {
		s.abortWith(c, err)
		return
	}
	st, err := s.realtime.Stats(c.Request.Context(), actorOf(c), controller.RealtimeQuery{Location: loc, Window: win})
	if err != nil {
		if errors.Is(err, reports.ErrInvalidQuery) {
			s.abortWith(c, invalidValue("window", "%s", strings.TrimPrefix(err.Error(), reports.ErrInvalidQuery.Error()+": ")))
			return
		}
		s.abortWith(c, liveError(err))
		return
	}
	c.JSON(http.StatusOK, st)
}
