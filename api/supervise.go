package api

import (
	"errors"
	"net/http"
	"reflect"

	"github.com/gin-gonic/gin"

	"hotline/controller"
	"hotline/controller/store"
)

// The supervisor actions on live calls (R5.2): listen, whisper and barge
// (POST to start, PUT to switch mode live, DELETE to stop), force hangup
// and recording on demand. Forcing an agent ready, not-ready or logged out
// is PUT /api/v1/agents/{id}/state (live.go). Only admins and supervisors
// reach these routes; the call path narrows a supervisor to the calls of
// its team (403 otherwise). Each is a write route, so the audit log keeps
// who, which call, when, from which address and the result; the detail
// names the mode and device.

// superviseModeBody is the body of PUT /api/v1/calls/{id}/supervise.
type superviseModeBody struct {
	// Mode is listen, whisper or barge.
	Mode string `json:"mode"`
}

// superviseError maps the supervisor actions' sentinels, then the live
// surface's.
func superviseError(err error) error {
	switch {
	case errors.Is(err, controller.ErrInvalidMode):
		return invalidValue("mode", "%s", err.Error())
	case errors.Is(err, controller.ErrNotConnected):
		return &apiError{Status: http.StatusConflict, Code: "not_connected", Message: "the call is not connected to an agent"}
	case errors.Is(err, controller.ErrAlreadySupervising):
		return &apiError{Status: http.StatusConflict, Code: codeConflict,
			Message: "you already supervise this call; switch modes with PUT"}
	case errors.Is(err, controller.ErrNotSupervising):
		return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "you do not supervise this call"}
	case errors.Is(err, controller.ErrModeNotSupported):
		return &apiError{Status: http.StatusConflict, Code: "not_supported", Field: "mode", Message: err.Error()}
	case errors.Is(err, controller.ErrDeviceUnreachable):
		return &apiError{Status: http.StatusConflict, Code: "device_unreachable", Field: "device", Message: err.Error()}
	}
	return liveError(err)
}

// superviseCallID reads the call id of the path (404 for one that cannot
// be a call's).
func (s *Server) superviseCallID(c *gin.Context) (controller.LiveControl, string, bool) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return nil, "", false
	}
	id := c.Param("id")
	if !validRecordID(id) {
		s.abortWith(c, liveError(controller.ErrNoSuchCall))
		return nil, "", false
	}
	return lc, id, true
}

func (s *Server) handleSuperviseStart(c *gin.Context) {
	lc, id, ok := s.superviseCallID(c)
	if !ok {
		return
	}
	data, err := readBody(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	var b controller.SuperviseRequest
	if err := decodeStrict(data, &b); err != nil {
		s.abortWith(c, err)
		return
	}
	if err := oneOf("mode", b.Mode, controller.SuperviseModes); err != nil {
		s.abortWith(c, err)
		return
	}
	if b.Device == "" {
		s.abortWith(c, invalidValue("device", "is required: user/<extension>, sip:<user>@<host>[:port] or tel/<number>"))
		return
	}
	if err := checkDevice("device", b.Device); err != nil {
		s.abortWith(c, err)
		return
	}
	v, err := lc.Supervise(c.Request.Context(), actorOf(c), id, b)
	if err != nil {
		s.abortWith(c, superviseError(err))
		return
	}
	c.Set(ctxAuditDetail, "mode="+b.Mode+" device="+b.Device)
	c.JSON(http.StatusCreated, v)
}

func (s *Server) handleSuperviseMode(c *gin.Context) {
	lc, id, ok := s.superviseCallID(c)
	if !ok {
		return
	}
	data, err := readBody(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	var b superviseModeBody
	if err := decodeStrict(data, &b); err != nil {
		s.abortWith(c, err)
		return
	}
	if err := oneOf("mode", b.Mode, controller.SuperviseModes); err != nil {
		s.abortWith(c, err)
		return
	}
	v, err := lc.SetSuperviseMode(c.Request.Context(), actorOf(c), id, b.Mode)
	if err != nil {
		s.abortWith(c, superviseError(err))
		return
	}
	c.Set(ctxAuditDetail, "mode="+b.Mode)
	c.JSON(http.StatusOK, v)
}

func (s *Server) handleSupervision(c *gin.Context) {
	lc, id, ok := s.superviseCallID(c)
	if !ok {
		return
	}
	v, err := lc.Supervision(c.Request.Context(), actorOf(c), id)
	if err != nil {
		s.abortWith(c, superviseError(err))
		return
	}
	c.JSON(http.StatusOK, v)
}

// supervisorAction answers 204 after one of the bodiless actions.
func (s *Server) supervisorAction(f func(lc controller.LiveControl, c *gin.Context, id string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		lc, id, ok := s.superviseCallID(c)
		if !ok {
			return
		}
		if err := f(lc, c, id); err != nil {
			s.abortWith(c, superviseError(err))
			return
		}
		c.Status(http.StatusNoContent)
	}
}

func (s *Server) superviseRoutes() []route {
	floor := rolesOf(store.RoleAdmin, store.RoleSupervisor)
	return []route{
		{method: http.MethodPost, path: "/api/v1/calls/:id/supervise",
			summary: "Supervise a call: ring the device, then listen (nobody hears you), whisper (only the agent does) or barge (all do); a supervisor: calls of its team",
			tag:     "live", access: floor, resource: "calls", action: "supervise",
			req: reflect.TypeFor[controller.SuperviseRequest](), resp: reflect.TypeFor[controller.SupervisionView](),
			status: http.StatusCreated, handler: s.handleSuperviseStart},
		{method: http.MethodGet, path: "/api/v1/calls/:id/supervise",
			summary: "Your supervision of a call (state ringing or active, mode); 404 when you do not supervise it",
			tag:     "live", access: floor, resp: reflect.TypeFor[controller.SupervisionView](), status: http.StatusOK,
			handler: s.handleSupervision},
		{method: http.MethodPut, path: "/api/v1/calls/:id/supervise",
			summary: "Switch your supervision of a call to another mode, live", tag: "live", access: floor,
			resource: "calls", action: "supervise-mode", req: reflect.TypeFor[superviseModeBody](),
			resp: reflect.TypeFor[controller.SupervisionView](), status: http.StatusOK, handler: s.handleSuperviseMode},
		{method: http.MethodDelete, path: "/api/v1/calls/:id/supervise",
			summary: "Stop supervising a call (your device is hung up)", tag: "live", access: floor,
			resource: "calls", action: "supervise-stop", respKind: respNone, status: http.StatusNoContent,
			handler: s.supervisorAction(func(lc controller.LiveControl, c *gin.Context, id string) error {
				return lc.StopSupervise(c.Request.Context(), actorOf(c), id)
			})},
		{method: http.MethodPost, path: "/api/v1/calls/:id/force-hangup",
			summary: "End a call whatever its state (a supervisor: calls of its team)", tag: "live", access: floor,
			resource: "calls", action: "force-hangup", respKind: respNone, status: http.StatusNoContent,
			handler: s.supervisorAction(func(lc controller.LiveControl, c *gin.Context, id string) error {
				return lc.ForceHangup(c.Request.Context(), actorOf(c), id)
			})},
		{method: http.MethodPost, path: "/api/v1/calls/:id/recording/start",
			summary: "Record a conversation on demand (resumes an on-demand recording or starts one; 409 when not connected)",
			tag:     "live", access: floor, resource: "calls", action: "recording-start", respKind: respNone,
			status: http.StatusNoContent,
			handler: s.supervisorAction(func(lc controller.LiveControl, c *gin.Context, id string) error {
				return lc.StartRecording(c.Request.Context(), actorOf(c), id)
			})},
	}
}
