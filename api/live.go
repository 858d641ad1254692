package api

import (
	"errors"
	"net/http"
	"reflect"

	"github.com/gin-gonic/gin"

	"hotline/controller"
	"hotline/controller/store"
)

// The live surface: agent states, live calls and recording control,
// through the call path's controller.LiveControl (Options.Live). Without
// one (a daemon without a media core, or tests) these routes answer 503.
// Permission checks on the agent or call are the LiveControl's: the API
// passes who asks as a controller.Actor and maps its errors.

func errLiveUnavailable(msg string) *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Message: msg}
}

// liveError maps the call path's sentinels to statuses.
func liveError(err error) error {
	switch {
	case errors.Is(err, controller.ErrIllegalTransition):
		return &apiError{Status: http.StatusConflict, Code: "illegal_transition", Message: err.Error(), Field: "state"}
	case errors.Is(err, controller.ErrInvalidDevice):
		return invalidValue("device", "%s", err.Error())
	case errors.Is(err, controller.ErrInvalidState):
		return invalidValue("state", "%s", err.Error())
	case errors.Is(err, controller.ErrNotRecording):
		return &apiError{Status: http.StatusConflict, Code: "not_recording", Message: "the call is not being recorded"}
	case errors.Is(err, controller.ErrForbidden):
		return errForbidden()
	case errors.Is(err, controller.ErrNoSuchCall):
		return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "no such live call"}
	case errors.Is(err, controller.ErrClosed):
		return errLiveUnavailable("the call path is shutting down")
	}
	return err
}

// actorOf is who asks, for the LiveControl.
func actorOf(c *gin.Context) controller.Actor {
	p, _ := principalOf(c)
	return controller.Actor{UserID: p.User.ID, Role: p.User.Role, AgentID: p.User.AgentID, Team: p.User.Team}
}

// liveOr503 returns the LiveControl or answers 503.
func (s *Server) liveOr503(c *gin.Context) (controller.LiveControl, bool) {
	if s.live == nil {
		s.abortWith(c, errLiveUnavailable("live call control is not running on this node"))
		return nil, false
	}
	return s.live, true
}

// selfOrFloor lets an agent act only on its own agent record; supervisors
// and admins on anyone (the LiveControl may narrow it further, e.g. to a
// supervisor's team).
func selfOrFloor(c *gin.Context, agentID string) error {
	p, _ := principalOf(c)
	if p.User.Role == store.RoleAgent && (p.User.AgentID == "" || p.User.AgentID != agentID) {
		return errForbidden()
	}
	return nil
}

var agentStates = []string{"ready", "not-ready", "logged-out"}

func (s *Server) handleAgentStatePut(c *gin.Context) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return
	}
	id, ok := pathID(c)
	if !ok {
		s.abortWith(c, errNotFound())
		return
	}
	if err := selfOrFloor(c, id); err != nil {
		s.abortWith(c, err)
		return
	}
	data, err := readBody(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	var b controller.AgentStateRequest
	if err := decodeStrict(data, &b); err != nil {
		s.abortWith(c, err)
		return
	}
	if err := oneOf("state", b.State, agentStates); err != nil {
		s.abortWith(c, err)
		return
	}
	if err := checkText("reason", b.Reason, maxName); err != nil {
		s.abortWith(c, err)
		return
	}
	if b.Reason != "" && b.State != "not-ready" {
		s.abortWith(c, invalidValue("reason", "only with state not-ready"))
		return
	}
	if err := checkDevice("device", b.Device); err != nil {
		s.abortWith(c, err)
		return
	}
	v, err := lc.SetAgentState(c.Request.Context(), actorOf(c), id, b)
	if err != nil {
		s.abortWith(c, liveError(err))
		return
	}
	c.Set(ctxAuditDetail, "state="+b.State) // a supervisor's forced change reads as such in the audit log
	c.JSON(http.StatusOK, v)
}

// checkDevice: empty, user/<extension>, tel/<number> or a sip: URI
// without characters that could reach a dial string unescaped.
func checkDevice(field, d string) error {
	switch {
	case d == "":
		return nil
	case len(d) > 256 || hasControl(d):
		return invalidValue(field, "must be at most 256 characters without control characters")
	case len(d) > 5 && d[:5] == "user/":
		return checkExtension(field, d[5:])
	case len(d) > 4 && d[:4] == "tel/":
		return checkPhone(field, d[4:])
	case len(d) > 4 && (d[:4] == "sip:"):
		for _, r := range d {
			if r == ' ' || r == ',' || r == '&' || r == '$' || r == '{' || r == '}' || r == '<' || r == '>' || r == '"' || r == '\'' {
				return invalidValue(field, "a sip: device must not contain spaces, quotes or , & $ { } < >")
			}
		}
		return nil
	}
	return invalidValue(field, "must be user/<extension>, sip:<user>@<host>[:port] or tel/<number>")
}

func (s *Server) handleAgentStateGet(c *gin.Context) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return
	}
	id, ok := pathID(c)
	if !ok {
		s.abortWith(c, errNotFound())
		return
	}
	if err := selfOrFloor(c, id); err != nil {
		s.abortWith(c, err)
		return
	}
	v, err := lc.AgentState(c.Request.Context(), actorOf(c), id)
	if err != nil {
		s.abortWith(c, liveError(err))
		return
	}
	c.JSON(http.StatusOK, v)
}

// The answers of the live listings (no paging: live state is bounded by
// the center's size).
type (
	agentStateList struct {
		Items []controller.AgentStateView `json:"items"`
	}
	liveCallList struct {
		Items []controller.LiveCall `json:"items"`
	}
	webhookList struct {
		Items []webhookView `json:"items"`
	}
)

func (s *Server) handleAgentStates(c *gin.Context) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return
	}
	v, err := lc.AgentStates(c.Request.Context(), actorOf(c))
	if err != nil {
		s.abortWith(c, liveError(err))
		return
	}
	c.JSON(http.StatusOK, agentStateList{Items: nonNil(v)})
}

func (s *Server) handleCalls(c *gin.Context) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return
	}
	v, err := lc.Calls(c.Request.Context(), actorOf(c))
	if err != nil {
		s.abortWith(c, liveError(err))
		return
	}
	c.JSON(http.StatusOK, liveCallList{Items: nonNil(v)})
}

func (s *Server) handleRecordingControl(pause bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		lc, ok := s.liveOr503(c)
		if !ok {
			return
		}
		id := c.Param("id")
		if !validRecordID(id) {
			s.abortWith(c, liveError(controller.ErrNoSuchCall))
			return
		}
		var err error
		if pause {
			err = lc.PauseRecording(c.Request.Context(), actorOf(c), id)
		} else {
			err = lc.ResumeRecording(c.Request.Context(), actorOf(c), id)
		}
		if err != nil {
			s.abortWith(c, liveError(err))
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// webhookView is one configured webhook endpoint (never its secret) with
// its delivery counts.
type webhookView struct {
	ID    string        `json:"id"`
	URL   string        `json:"url"`
	Types []string      `json:"types"`
	Stats *webhookStats `json:"stats,omitempty"`
}

// webhookStats are an endpoint's delivery counts since the start.
type webhookStats struct {
	Delivered uint64 `json:"delivered"`
	Failed    uint64 `json:"failed"`
	Dropped   uint64 `json:"dropped"`
	Attempts  uint64 `json:"attempts"`
	Queued    int    `json:"queued"`
}

func (s *Server) handleWebhooks(c *gin.Context) {
	out := make([]webhookView, 0, len(s.webhooks))
	for _, ep := range s.webhooks {
		v := webhookView{ID: ep.ID, URL: ep.URL, Types: nonNil(ep.Types)}
		if s.whStats != nil {
			st := s.whStats.Stats(ep.ID)
			v.Stats = &webhookStats{Delivered: st.Delivered, Failed: st.Failed, Dropped: st.Dropped, Attempts: st.Attempts, Queued: st.Queued}
		}
		out = append(out, v)
	}
	c.JSON(http.StatusOK, webhookList{Items: out})
}

func (s *Server) liveRoutes() []route {
	floor := rolesOf(store.RoleAdmin, store.RoleSupervisor)
	floorAndAgents := rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleAgent)
	recCtl := rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleAgent)
	return []route{
		{method: http.MethodPut, path: "/api/v1/agents/:id/state",
			summary: "Set an agent's live state (an agent: itself; 409 with the reason on an illegal transition)",
			tag:     "live", access: floorAndAgents, resource: "agent-state", action: "set",
			req: reflect.TypeFor[controller.AgentStateRequest](), resp: reflect.TypeFor[controller.AgentStateView](),
			status: http.StatusOK, handler: s.handleAgentStatePut},
		{method: http.MethodGet, path: "/api/v1/agents/:id/state", summary: "An agent's live state (an agent: itself)",
			tag: "live", access: floorAndAgents, resp: reflect.TypeFor[controller.AgentStateView](),
			status: http.StatusOK, handler: s.handleAgentStateGet},
		{method: http.MethodGet, path: "/api/v1/agent-states", summary: "Every agent's live state", tag: "live",
			access: floor, resp: reflect.TypeFor[agentStateList](), status: http.StatusOK,
			handler: s.handleAgentStates},
		{method: http.MethodGet, path: "/api/v1/calls", summary: "Live calls", tag: "live",
			access: floor, resp: reflect.TypeFor[liveCallList](), status: http.StatusOK,
			handler: s.handleCalls},
		{method: http.MethodPost, path: "/api/v1/calls/:id/recording/pause",
			summary: "Pause a call's recording (silence is written; 409 when not recording)", tag: "live",
			access: recCtl, resource: "calls", action: "recording-pause", respKind: respNone,
			status: http.StatusNoContent, handler: s.handleRecordingControl(true)},
		{method: http.MethodPost, path: "/api/v1/calls/:id/recording/resume", summary: "Resume a call's recording",
			tag: "live", access: recCtl, resource: "calls", action: "recording-resume", respKind: respNone,
			status: http.StatusNoContent, handler: s.handleRecordingControl(false)},
		{method: http.MethodGet, path: "/api/v1/webhooks",
			summary: "The configured webhook endpoints (from the configuration file) and their delivery counts",
			tag:     "live", access: adminOnly, resp: reflect.TypeFor[webhookList](), status: http.StatusOK,
			handler: s.handleWebhooks},
	}
}
