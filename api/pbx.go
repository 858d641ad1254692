package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"

	"github.com/gin-gonic/gin"

	"hotline/controller"
	"hotline/controller/store"
)

// The PBX surface (R1.6, R1.7): ring groups (CRUD), an extension's PBX
// settings (forward, do-not-disturb, follow-me, work number announcement)
// and the pickup of a ringing call.

type ringGroupBody struct{ store.RingGroup }

var ringStrategies = []string{store.RingSimultaneous, store.RingSequential}

var followMeModes = []string{store.FollowMeOff, store.FollowMeSimultaneous, store.FollowMeSequential}

// maxRingTime bounds ring and no-answer times, in seconds.
const maxRingTime = 300

func defaultRingGroup() store.RingGroup {
	return store.RingGroup{Strategy: store.RingSimultaneous, Members: []string{}, RingTimeout: 20}
}

func (s *Server) buildRingGroup(ctx context.Context, b *ringGroupBody, old *store.RingGroup) (store.RingGroup, error) {
	g := b.RingGroup
	if err := checkName("name", g.Name); err != nil {
		return g, err
	}
	if err := checkExtension("number", g.Number); err != nil {
		return g, err
	}
	if old == nil || old.Number != g.Number {
		if err := s.checkDialClash(ctx, "number", g.Number); err != nil {
			return g, err
		}
		if _, err := s.st.Numbers().GetByNumber(ctx, g.Number); err == nil {
			return g, &apiError{Status: http.StatusConflict, Code: codeConflict, Field: "number",
				Message: g.Number + " is already an access number"}
		} else if !errors.Is(err, store.ErrNotFound) {
			return g, err
		}
	}
	if !slices.Contains(ringStrategies, g.Strategy) {
		return g, invalidValue("strategy", "must be one of simultaneous, sequential")
	}
	if len(g.Members) == 0 || len(g.Members) > 50 {
		return g, invalidValue("members", "must list 1 to 50 extensions")
	}
	seen := map[string]bool{}
	for i, m := range g.Members {
		f := idx("members", i)
		if err := checkExtension(f, m); err != nil {
			return g, err
		}
		if seen[m] {
			return g, invalidValue(f, "is listed twice")
		}
		seen[m] = true
		if _, err := s.st.Agents().GetByExtension(ctx, m); err != nil {
			return g, refErr(f, err)
		}
	}
	if err := checkRange("ring_timeout", g.RingTimeout, 0, maxRingTime); err != nil {
		return g, err
	}
	if g.NoAnswer != nil {
		if g.NoAnswer.Kind == store.TargetRingGroup && old != nil && g.NoAnswer.Value == old.ID {
			return g, invalidValue("no_answer.value", "a ring group cannot overflow into itself")
		}
		if err := s.checkTarget(ctx, "no_answer", *g.NoAnswer, ""); err != nil {
			return g, err
		}
	}
	return g, nil
}

// checkPBX validates an extension's PBX settings; field is their path.
func (s *Server) checkPBX(ctx context.Context, field string, p *store.PBXSettings, self string) error {
	if p == nil {
		return nil
	}
	if field != "" {
		field += "."
	}
	for _, f := range []struct{ name, v string }{
		{"forward_always", p.ForwardAlways}, {"forward_busy", p.ForwardBusy}, {"forward_no_answer", p.ForwardNoAnswer},
	} {
		if f.v == "" {
			continue
		}
		if err := checkPhone(field+f.name, f.v); err != nil {
			return err
		}
		if f.v == self {
			return invalidValue(field+f.name, "cannot forward an extension to itself")
		}
	}
	if err := checkRange(field+"no_answer_timeout", p.NoAnswerTimeout, 0, maxRingTime); err != nil {
		return err
	}
	if err := checkRange(field+"follow_me_delay", p.FollowMeDelay, 0, maxRingTime); err != nil {
		return err
	}
	if !slices.Contains(followMeModes, p.FollowMe) {
		return invalidValue(field+"follow_me", "must be empty, simultaneous or sequential")
	}
	if p.WorkNumber != "" {
		if len(p.WorkNumber) > 16 || !allDigits(p.WorkNumber) {
			return invalidValue(field+"work_number", "must be 1 to 16 digits")
		}
	}
	return nil
}

// pbxSettingsView is an agent's PBX settings with what follow-me needs.
type pbxSettingsView struct {
	store.PBXSettings
	// MobileNumber is the agent's (set on the agent record).
	MobileNumber string `json:"mobile_number,omitempty" openapi:"readOnly"`
}

func (s *Server) handlePBXGet(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		s.abortWith(c, errNotFound())
		return
	}
	if err := selfOrFloor(c, id); err != nil {
		s.abortWith(c, err)
		return
	}
	a, err := s.st.Agents().Get(c.Request.Context(), id)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	v := pbxSettingsView{MobileNumber: a.MobileNumber}
	if a.PBX != nil {
		v.PBXSettings = *a.PBX
	}
	c.JSON(http.StatusOK, v)
}

// handlePBXPut replaces an agent's PBX settings (an agent: its own). The
// agent record is rewritten at its current version; a concurrent write
// is retried once.
func (s *Server) handlePBXPut(c *gin.Context) {
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
	var b store.PBXSettings
	if err := decodeStrict(data, &b); err != nil {
		s.abortWith(c, err)
		return
	}
	ctx := c.Request.Context()
	for attempt := 0; ; attempt++ {
		a, err := s.st.Agents().Get(ctx, id)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		if err := s.checkPBX(ctx, "", &b, a.Extension); err != nil {
			s.abortWith(c, err)
			return
		}
		p := b
		a.PBX = &p
		err = s.st.Agents().Update(ctx, &a)
		if errors.Is(err, store.ErrVersionMismatch) && attempt == 0 {
			continue
		}
		if err != nil {
			s.abortWith(c, err)
			return
		}
		c.Header("ETag", etag(a.Version))
		c.JSON(http.StatusOK, pbxSettingsView{PBXSettings: p, MobileNumber: a.MobileNumber})
		return
	}
}

// pickupBody is the body of POST /api/v1/calls/{id}/pickup.
type pickupBody struct {
	// AgentID picks up for this agent (supervisors and admins); an agent
	// picks up for itself and may leave it empty.
	AgentID string `json:"agent_id,omitempty"`
}

func (s *Server) handlePickup(c *gin.Context) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return
	}
	id := c.Param("id")
	if !validRecordID(id) {
		s.abortWith(c, liveError(controller.ErrNoSuchCall))
		return
	}
	data, err := readBody(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	var b pickupBody
	if len(data) > 0 {
		if err := decodeStrict(data, &b); err != nil {
			s.abortWith(c, err)
			return
		}
	}
	by := actorOf(c)
	if b.AgentID != "" {
		if err := checkID("agent_id", b.AgentID); err != nil {
			s.abortWith(c, err)
			return
		}
	} else if by.Role != store.RoleAgent {
		s.abortWith(c, invalidValue("agent_id", "is required (the agent who picks up)"))
		return
	}
	if err := lc.PickUp(c.Request.Context(), by, id, b.AgentID); err != nil {
		s.abortWith(c, pbxError(err))
		return
	}
	c.Status(http.StatusNoContent)
}

// parkBody is the body of POST /api/v1/calls/{id}/park.
type parkBody struct {
	// Slot is a park slot (701-719); empty parks on the first free one.
	Slot string `json:"slot,omitempty"`
}

// parkResult says where the call is parked: dialling the slot from any
// phone retrieves it.
type parkResult struct {
	Slot string `json:"slot"`
}

func (s *Server) handlePark(c *gin.Context) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return
	}
	id := c.Param("id")
	if !validRecordID(id) {
		s.abortWith(c, liveError(controller.ErrNoSuchCall))
		return
	}
	data, err := readBody(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	var b parkBody
	if len(data) > 0 {
		if err := decodeStrict(data, &b); err != nil {
			s.abortWith(c, err)
			return
		}
	}
	slot, err := lc.Park(c.Request.Context(), actorOf(c), id, b.Slot)
	if err != nil {
		s.abortWith(c, pbxError(err))
		return
	}
	c.JSON(http.StatusOK, parkResult{Slot: slot})
}

// pbxError maps the PBX sentinels, then the live ones.
func pbxError(err error) error {
	switch {
	case errors.Is(err, controller.ErrInvalidSlot):
		return invalidValue("slot", "%s", err.Error())
	case errors.Is(err, controller.ErrSlotTaken):
		return &apiError{Status: http.StatusConflict, Code: codeConflict, Field: "slot", Message: "the park slot is taken"}
	case errors.Is(err, controller.ErrNotTalking):
		return &apiError{Status: http.StatusConflict, Code: "not_talking", Message: "the call is in no conversation to park"}
	case errors.Is(err, controller.ErrNothingToPickUp):
		return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "the call is not ringing"}
	case errors.Is(err, store.ErrNotFound):
		return invalidValue("agent_id", "names no agent")
	}
	return liveError(err)
}

// pbxRoutes are the routes of this file.
func (s *Server) pbxRoutes() []route {
	groups := &crud[store.RingGroup, ringGroupBody]{name: "ring-groups", key: "number",
		repo: func(st Controller) store.Repo[store.RingGroup] { return st.RingGroups() },
		body: func() ringGroupBody { return ringGroupBody{defaultRingGroup()} }, build: (*Server).buildRingGroup}
	self := rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleAgent)
	rs := crudRoutes(s, groups, "pbx", readFloorSetup, readFloorSetup, adminOnly)
	return append(rs,
		route{method: http.MethodGet, path: "/api/v1/agents/:id/pbx",
			summary: "An extension's PBX settings: forward, do-not-disturb, follow-me, work number (an agent: its own)",
			tag:     "pbx", access: self, resp: reflect.TypeFor[pbxSettingsView](), status: http.StatusOK,
			handler: s.handlePBXGet},
		route{method: http.MethodPut, path: "/api/v1/agents/:id/pbx",
			summary: "Replace an extension's PBX settings (an agent: its own)", tag: "pbx", access: self,
			resource: "agents", action: "pbx-update", req: reflect.TypeFor[store.PBXSettings](),
			resp: reflect.TypeFor[pbxSettingsView](), status: http.StatusOK, handler: s.handlePBXPut},
		route{method: http.MethodPost, path: "/api/v1/calls/:id/pickup",
			summary: "Pick up a ringing extension call: the agent's device rings and takes the call on answer " +
				"(an agent: calls ringing its team)", tag: "pbx", access: self, resource: "calls", action: "pickup",
			req: reflect.TypeFor[pickupBody](), respKind: respNone, status: http.StatusNoContent, handler: s.handlePickup},
		route{method: http.MethodPost, path: "/api/v1/calls/:id/park",
			summary: "Park a talking call on a slot (any phone dialling the slot retrieves it; it rings back the " +
				"agent after the park timeout; an agent: its own call)", tag: "pbx", access: self, resource: "calls",
			action: "park", req: reflect.TypeFor[parkBody](), resp: reflect.TypeFor[parkResult](), status: http.StatusOK,
			handler: s.handlePark},
	)
}
