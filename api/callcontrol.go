package api

import (
	"errors"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"hotline/controller"
	"hotline/controller/store"
)

// Agent call control (R4.3, R4.5) on /api/v1/calls/{id}/...: answer (an
// agent's own ringing offer only), hangup,
// hold, retrieve, DTMF, mute, blind transfer, consultation (complete,
// cancel, conference), disposition; and click-to-dial on POST
// /api/v1/calls. The LiveControl carries out each action on the call's
// actor and checks who may: an agent acts on its own calls only (403 on
// another agent's), supervisors on their team's calls, admins on any. Every action answers
// the call's live view (the disposition, which may come after the call
// ended, answers 204).

// callControlError maps call control's sentinels, then the live ones.
func callControlError(err error) error {
	switch {
	case errors.Is(err, controller.ErrCallState):
		return &apiError{Status: http.StatusConflict, Code: "call_state", Message: err.Error()}
	case errors.Is(err, controller.ErrTargetUnavailable):
		return &apiError{Status: http.StatusConflict, Code: "target_unavailable", Message: err.Error(), Field: "value"}
	case errors.Is(err, controller.ErrInvalidTarget):
		return invalidValue("value", "%s", err.Error())
	case errors.Is(err, controller.ErrInvalidDigits):
		return invalidValue("digits", "%s", err.Error())
	case errors.Is(err, controller.ErrInvalidNumber):
		return invalidValue("number", "%s", err.Error())
	}
	return liveError(err)
}

var (
	transferKinds = []string{controller.TransferAgent, controller.TransferQueue, controller.TransferIVR,
		controller.TransferExtension, controller.TransferExternal}
	consultKinds = []string{controller.TransferAgent, controller.TransferExtension, controller.TransferExternal}
)

// checkTransferTarget validates a transfer or consult body.
func checkTransferTarget(t controller.TransferTarget, kinds []string) error {
	if err := oneOf("kind", t.Kind, kinds); err != nil {
		return err
	}
	switch t.Kind {
	case controller.TransferExtension:
		return checkExtension("value", strings.TrimPrefix(t.Value, "user/"))
	case controller.TransferExternal:
		return checkPhone("value", strings.TrimPrefix(t.Value, "tel/"))
	}
	if !validRecordID(t.Value) {
		return invalidValue("value", "must be the target's id (or a queue's name)")
	}
	return nil
}

// callAction answers one action route. body, when set, reads and checks
// the request body into req.
func (s *Server) callAction(action string, body func(data []byte, req *controller.CallControlRequest) error) gin.HandlerFunc {
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
		req := controller.CallControlRequest{Action: action}
		if body != nil {
			data, err := readBody(c)
			if err != nil {
				s.abortWith(c, err)
				return
			}
			if err := body(data, &req); err != nil {
				s.abortWith(c, err)
				return
			}
		}
		v, err := lc.ControlCall(c.Request.Context(), actorOf(c), id, req)
		if err != nil {
			s.abortWith(c, callControlError(err))
			return
		}
		if action == controller.ActionDisposition {
			c.Status(http.StatusNoContent)
			return
		}
		c.JSON(http.StatusOK, v)
	}
}

func dtmfBody(data []byte, req *controller.CallControlRequest) error {
	var b controller.DTMFRequest
	if err := decodeStrict(data, &b); err != nil {
		return err
	}
	if b.Digits == "" || len(b.Digits) > 32 || strings.Trim(b.Digits, "0123456789*#ABCD") != "" {
		return invalidValue("digits", "must be 1 to 32 of 0-9 * # A-D")
	}
	req.Digits = b.Digits
	return nil
}

func targetBody(kinds []string) func([]byte, *controller.CallControlRequest) error {
	return func(data []byte, req *controller.CallControlRequest) error {
		var b controller.TransferTarget
		if err := decodeStrict(data, &b); err != nil {
			return err
		}
		if err := checkTransferTarget(b, kinds); err != nil {
			return err
		}
		req.Target = b
		return nil
	}
}

func dispositionBody(data []byte, req *controller.CallControlRequest) error {
	var b controller.DispositionRequest
	if err := decodeStrict(data, &b); err != nil {
		return err
	}
	if err := checkName("disposition", b.Disposition); err != nil {
		return err
	}
	if err := checkText("notes", strings.ReplaceAll(strings.ReplaceAll(b.Notes, "\n", " "), "\r", " "), maxNotes); err != nil {
		return err
	}
	req.Disposition = b
	return nil
}

func (s *Server) handleClickToDial(c *gin.Context) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return
	}
	data, err := readBody(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	var b controller.ClickToDialRequest
	if err := decodeStrict(data, &b); err != nil {
		s.abortWith(c, err)
		return
	}
	p, _ := principalOf(c)
	if b.Device != "" {
		// A supervisor or admin calls an agent from its own phone.
		if p.User.Role != store.RoleAdmin && p.User.Role != store.RoleSupervisor {
			s.abortWith(c, errForbidden())
			return
		}
		if b.Number != "" {
			s.abortWith(c, invalidValue("number", "not with device: the agent's phone is the one dialled"))
			return
		}
		if err := checkDevice("device", b.Device); err != nil {
			s.abortWith(c, err)
			return
		}
	} else if err := checkPhone("number", b.Number); err != nil {
		s.abortWith(c, err)
		return
	}
	switch {
	case b.AgentID == "" && p.User.Role != store.RoleAgent:
		s.abortWith(c, invalidValue("agent_id", "is required"))
		return
	case b.AgentID != "" && !validID(b.AgentID):
		s.abortWith(c, invalidValue("agent_id", "must be an agent id"))
		return
	}
	if b.AgentID != "" {
		if err := selfOrFloor(c, b.AgentID); err != nil {
			s.abortWith(c, err)
			return
		}
	}
	v, err := lc.ClickToDial(c.Request.Context(), actorOf(c), b)
	if err != nil {
		switch {
		case errors.Is(err, store.ErrNotFound):
			err = invalidValue("agent_id", "no such agent")
		case errors.Is(err, controller.ErrTargetUnavailable):
			err = &apiError{Status: http.StatusConflict, Code: "agent_unavailable", Message: err.Error(), Field: "agent_id"}
		}
		s.abortWith(c, callControlError(err))
		return
	}
	c.JSON(http.StatusCreated, v)
}

// callControlRoutes are appended to the live routes.
func (s *Server) callControlRoutes() []route {
	who := rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleAgent)
	call := reflect.TypeFor[controller.LiveCall]()
	act := func(path, action, summary string, req reflect.Type, body func([]byte, *controller.CallControlRequest) error) route {
		r := route{method: http.MethodPost, path: "/api/v1/calls/:id/" + path, summary: summary, tag: "live",
			access: who, resource: "calls", action: action, req: req, resp: call, status: http.StatusOK,
			handler: s.callAction(action, body)}
		return r
	}
	target := reflect.TypeFor[controller.TransferTarget]()
	disp := act("disposition", controller.ActionDisposition,
		"Set the call's disposition and notes (R4.5), also during wrap-up after the call ended; end_wrap_up makes the agent ready",
		reflect.TypeFor[controller.DispositionRequest](), dispositionBody)
	disp.resp, disp.respKind, disp.status = nil, respNone, http.StatusNoContent
	answer := act("answer", controller.ActionAnswer,
		"Click-to-answer: the agent's ringing queue offer is replaced by a leg its device answers by itself "+
			"(Answer-Mode: Auto); the offer stays the agent's. 403 unless the offer rings this agent, 409 when it rings nobody now or the device cannot be rung again",
		nil, nil)
	// Only the agent an offer rings answers it (a supervisor barges or
	// picks up instead).
	answer.access = rolesOf(store.RoleAgent)
	return []route{
		{method: http.MethodPost, path: "/api/v1/calls",
			summary: "Click-to-dial: ring the agent's device, then the number (through a trunk, with its caller id); with device instead of number, a supervisor or admin calls the agent (device rings first, then the agent)",
			tag:     "live", access: who, resource: "calls", action: "dial",
			req: reflect.TypeFor[controller.ClickToDialRequest](), resp: call, status: http.StatusCreated,
			handler: s.handleClickToDial},
		answer,
		act("hangup", controller.ActionHangup, "Hang up the call (an agent: its own)", nil, nil),
		act("hold", controller.ActionHold, "Hold the caller (music to the caller; 409 when not in conversation)", nil, nil),
		act("retrieve", controller.ActionRetrieve, "Retrieve the held caller", nil, nil),
		act("dtmf", controller.ActionDTMF, "Send DTMF digits to the far end", reflect.TypeFor[controller.DTMFRequest](), dtmfBody),
		act("mute", controller.ActionMute, "Mute the agent (the caller no longer hears it)", nil, nil),
		act("unmute", controller.ActionUnmute, "Unmute the agent", nil, nil),
		act("transfer", controller.ActionTransfer,
			"Blind transfer to an agent, a queue, an IVR flow, an extension or an external number (409 when the agent is unavailable)",
			target, targetBody(transferKinds)),
		act("consult", controller.ActionConsult,
			"Consult an agent, an extension or an external number (the caller is held with music)",
			target, targetBody(consultKinds)),
		act("consult/complete", controller.ActionConsultComplete,
			"Complete the consultation: the agent leaves, the caller talks with the target", nil, nil),
		act("consult/cancel", controller.ActionConsultCancel,
			"Cancel the consultation: the target is hung up, the caller retrieved", nil, nil),
		act("conference", controller.ActionConference,
			"Join the consultation with the caller: a three-way conference", nil, nil),
		disp,
	}
}
