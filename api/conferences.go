package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"

	"github.com/gin-gonic/gin"

	"hotline/controller"
	"hotline/controller/store"
	"hotline/mediacore"
)

// Conference rooms (R9.2): the rooms are configuration (CRUD, admins
// write, supervisors read); their live members are controlled through the
// LiveControl by admins and supervisors: list, dial out to add one, mute,
// unmute, kick. Agents take part as members only (403 on every route).

// conferenceBody is the body of POST/PUT /api/v1/conferences.
type conferenceBody struct{ store.Conference }

// Bounds of a room's fields.
const (
	minPIN          = 3
	maxPIN          = 12 // the PIN prompt collects at most this many digits
	minParties      = 2
	defaultParties  = 10
	conferenceRoute = "/api/v1/conferences/:id/members"
)

func defaultConference() store.Conference { return store.Conference{MaxParties: defaultParties} }

// checkPIN: empty (none) or 3-12 digits (entered by DTMF).
func checkPIN(field, s string) error {
	if s != "" && (len(s) < minPIN || len(s) > maxPIN || !allDigits(s)) {
		return invalidValue(field, "must be empty or %d to %d digits", minPIN, maxPIN)
	}
	return nil
}

func (s *Server) buildConference(ctx context.Context, b *conferenceBody, _ *store.Conference) (store.Conference, error) {
	r := b.Conference
	if err := checkName("name", r.Name); err != nil {
		return r, err
	}
	if err := checkPhone("number", r.Number); err != nil {
		return r, err
	}
	if err := checkPIN("pin", r.PIN); err != nil {
		return r, err
	}
	if err := checkPIN("moderator_pin", r.ModeratorPIN); err != nil {
		return r, err
	}
	if r.ModeratorPIN != "" && r.ModeratorPIN == r.PIN {
		return r, invalidValue("moderator_pin", "must differ from pin")
	}
	return r, checkRange("max_parties", r.MaxParties, minParties, store.MaxConferenceParties)
}

// guardConference refuses to delete a room that a number, a queue's
// overflow or a list entry routes callers to.
func (s *Server) guardConference(ctx context.Context, old store.Conference, next *store.Conference) error {
	if next != nil {
		return nil
	}
	return firstUse(
		find(ctx, s.st.Numbers(), "number", func(n store.Number) bool {
			return targets(&n.Route, store.TargetConference, old.ID) || targets(n.AfterHours, store.TargetConference, old.ID)
		}),
		find(ctx, s.st.Queues(), "queue", func(q store.Queue) bool { return targets(q.Overflow, store.TargetConference, old.ID) }),
		find(ctx, s.st.Lists(), "list entry", func(e store.ListEntry) bool { return targets(e.Target, store.TargetConference, old.ID) }),
	)
}

// conferenceError maps the conference sentinels, then the live ones.
func conferenceError(err error) error {
	switch {
	case errors.Is(err, controller.ErrNoSuchConference):
		return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "no such conference room"}
	case errors.Is(err, controller.ErrNoSuchMember):
		return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "no such member in the room"}
	case errors.Is(err, controller.ErrConferenceFull):
		return &apiError{Status: http.StatusConflict, Code: "conference_full", Message: "the room is full"}
	case errors.Is(err, controller.ErrInvalidDevice):
		return invalidValue("endpoint", "%s", err.Error())
	}
	return liveError(err)
}

// conferenceMemberList is the answer of GET .../members.
type conferenceMemberList struct {
	Items []controller.ConferenceMember `json:"items"`
}

// roomAndMember reads :id and, when member is set, :member.
func roomAndMember(c *gin.Context, member bool) (room, m string, ok bool) {
	room, ok = pathID(c)
	if !ok {
		return "", "", false
	}
	if member {
		m = c.Param("member")
		if mediacore.ValidateID(m) != nil {
			return "", "", false
		}
	}
	return room, m, true
}

func (s *Server) handleConferenceMembers(c *gin.Context) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return
	}
	id, _, ok := roomAndMember(c, false)
	if !ok {
		s.abortWith(c, errNotFound())
		return
	}
	v, err := lc.ConferenceMembers(c.Request.Context(), actorOf(c), id)
	if err != nil {
		s.abortWith(c, conferenceError(err))
		return
	}
	c.JSON(http.StatusOK, conferenceMemberList{Items: nonNil(v)})
}

func (s *Server) handleConferenceDial(c *gin.Context) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return
	}
	id, _, ok := roomAndMember(c, false)
	if !ok {
		s.abortWith(c, errNotFound())
		return
	}
	data, err := readBody(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	var b controller.ConferenceDialRequest
	if err := decodeStrict(data, &b); err != nil {
		s.abortWith(c, err)
		return
	}
	if b.Endpoint == "" {
		s.abortWith(c, invalidValue("endpoint", "is required: user/<extension>, tel/<number> or sip:<user>@<host>"))
		return
	}
	if err := checkDevice("endpoint", b.Endpoint); err != nil {
		s.abortWith(c, err)
		return
	}
	if b.CallerID != "" {
		if err := checkPhone("caller_id", b.CallerID); err != nil {
			s.abortWith(c, err)
			return
		}
	}
	v, err := lc.DialConference(c.Request.Context(), actorOf(c), id, b)
	if err != nil {
		s.abortWith(c, conferenceError(err))
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (s *Server) handleConferenceMute(mute bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		lc, ok := s.liveOr503(c)
		if !ok {
			return
		}
		id, m, ok := roomAndMember(c, true)
		if !ok {
			s.abortWith(c, errNotFound())
			return
		}
		v, err := lc.MuteConferenceMember(c.Request.Context(), actorOf(c), id, m, mute)
		if err != nil {
			s.abortWith(c, conferenceError(err))
			return
		}
		c.JSON(http.StatusOK, v)
	}
}

func (s *Server) handleConferenceKick(c *gin.Context) {
	lc, ok := s.liveOr503(c)
	if !ok {
		return
	}
	id, m, ok := roomAndMember(c, true)
	if !ok {
		s.abortWith(c, errNotFound())
		return
	}
	if err := lc.KickConferenceMember(c.Request.Context(), actorOf(c), id, m); err != nil {
		s.abortWith(c, conferenceError(err))
		return
	}
	c.Status(http.StatusNoContent)
}

// conferenceRoutes are the routes of this file.
func (s *Server) conferenceRoutes() []route {
	rooms := &crud[store.Conference, conferenceBody]{name: "conferences", key: "number",
		repo: func(st Controller) store.Repo[store.Conference] { return st.Conferences() },
		body: func() conferenceBody { return conferenceBody{defaultConference()} }, build: (*Server).buildConference,
		guard: (*Server).guardConference}
	rs := crudRoutes(s, rooms, "conferences", readFloorSetup, readFloorSetup, adminOnly)
	member := conferenceRoute + "/:member"
	memberType := reflect.TypeFor[controller.ConferenceMember]()
	return append(rs,
		route{method: http.MethodGet, path: conferenceRoute, summary: "The members of a conference room now",
			tag: "conferences", access: readFloorSetup, resp: reflect.TypeFor[conferenceMemberList](),
			status: http.StatusOK, handler: s.handleConferenceMembers},
		route{method: http.MethodPost, path: conferenceRoute,
			summary: "Dial out to add a member (user/<extension>, tel/<number> through a trunk, sip: URI); it joins on answer",
			tag:     "conferences", access: readFloorSetup, resource: "conferences", action: "dial",
			req: reflect.TypeFor[controller.ConferenceDialRequest](), resp: memberType,
			status: http.StatusCreated, handler: s.handleConferenceDial},
		route{method: http.MethodPost, path: member + "/mute", summary: "Mute a member (it still hears the room)",
			tag: "conferences", access: readFloorSetup, resource: "conferences", action: "mute", resp: memberType,
			status: http.StatusOK, handler: s.handleConferenceMute(true)},
		route{method: http.MethodPost, path: member + "/unmute", summary: "Unmute a member",
			tag: "conferences", access: readFloorSetup, resource: "conferences", action: "unmute", resp: memberType,
			status: http.StatusOK, handler: s.handleConferenceMute(false)},
		route{method: http.MethodDelete, path: member, summary: "Kick a member: it leaves the room and its call ends",
			tag: "conferences", access: readFloorSetup, resource: "conferences", action: "kick", respKind: respNone,
			status: http.StatusNoContent, handler: s.handleConferenceKick},
	)
}
