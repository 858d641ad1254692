package api

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"reflect"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"hotline/controller/store"
)

// Voicemail (R2.5, R9.1): boxes are configuration (admins write them,
// admins and supervisors read them); messages are read, marked, listened
// to and deleted by admins, supervisors and the agent who owns the box
// (an agent reaches only its own box: another box is 403, a missing
// message 404).

// voicemailBoxBody is a box with its write-only PIN.
type voicemailBoxBody struct {
	store.VoicemailBox
	// PIN opens the box at the phone menu: 4 to 12 digits. Required on
	// create; omitted on replace keeps the stored one.
	PIN *string `json:"pin,omitempty" openapi:"writeOnly"`
}

// voicemailPatch changes a message's state.
type voicemailPatch struct {
	State store.VoicemailState `json:"state"`
}

var (
	readVoicemail  = rolesOf(store.RoleAdmin, store.RoleSupervisor, store.RoleAgent)
	boxIDParam     = param{name: "box_id", in: "query", desc: "the box (an agent: its own box by default)", schema: map[string]any{"type": "string"}}
	voicemailLangs = []string{"", "zh", "en"}
)

func (s *Server) buildVoicemailBox(ctx context.Context, b *voicemailBoxBody, old *store.VoicemailBox) (store.VoicemailBox, error) {
	v := b.VoicemailBox
	if err := checkID("name", v.Name); err != nil {
		return v, err
	}
	if err := oneOf("owner_kind", v.OwnerKind, store.VoicemailOwnerKinds); err != nil {
		return v, err
	}
	if err := checkID("owner_id", v.OwnerID); err != nil {
		return v, err
	}
	var err error
	switch v.OwnerKind {
	case store.VoicemailOwnerAgent:
		_, err = s.st.Agents().Get(ctx, v.OwnerID)
	case store.VoicemailOwnerQueue:
		_, err = s.st.Queues().Get(ctx, v.OwnerID)
	}
	if err != nil {
		return v, refErr("owner_id", err)
	}
	if v.Email != "" {
		if a, err := mail.ParseAddress(v.Email); err != nil || a.Address != v.Email {
			return v, invalidValue("email", "must be a plain e-mail address")
		}
	}
	if !slices.Contains(voicemailLangs, v.Language) {
		return v, invalidValue("language", "must be zh or en")
	}
	if f := v.Greeting.File; f != "" {
		if strings.HasPrefix(f, "/") || strings.Contains(f, "..") || !strings.HasSuffix(f, ".wav") || hasControl(f) {
			return v, invalidValue("greeting.file", "must be a relative .wav path without ..")
		}
	}
	if err := checkText("greeting.text", v.Greeting.Text, 500); err != nil {
		return v, err
	}
	switch {
	case b.PIN != nil:
		if p := *b.PIN; len(p) < 4 || len(p) > 12 || !allDigits(p) {
			return v, invalidValue("pin", "must be 4 to 12 digits")
		}
		v.PIN = *b.PIN
	case old != nil:
		v.PIN = old.PIN
	default:
		return v, invalidValue("pin", "is required")
	}
	return v, nil
}

// mayOpenBox: admins and supervisors open every box, an agent only its own.
func mayOpenBox(p principal, b store.VoicemailBox) bool {
	switch p.User.Role {
	case store.RoleAdmin, store.RoleSupervisor:
		return true
	case store.RoleAgent:
		return p.User.AgentID != "" && b.OwnerKind == store.VoicemailOwnerAgent && b.OwnerID == p.User.AgentID
	}
	return false
}

// messageFor loads the message of the path and checks the caller may open
// its box.
func (s *Server) messageFor(c *gin.Context) (store.VoicemailMessage, error) {
	id, ok := pathID(c)
	if !ok {
		return store.VoicemailMessage{}, errNotFound()
	}
	ctx := c.Request.Context()
	m, err := s.st.VoicemailMessages().Get(ctx, id)
	if err != nil {
		return m, err
	}
	b, err := s.st.VoicemailBoxes().Get(ctx, m.BoxID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return m, err
	}
	p, _ := principalOf(c)
	if err != nil || !mayOpenBox(p, b) {
		// A message of a deleted box is for admins and supervisors.
		if p.User.Role == store.RoleAdmin || p.User.Role == store.RoleSupervisor {
			return m, nil
		}
		return m, errForbidden()
	}
	return m, nil
}

func (s *Server) handleVoicemailList(c *gin.Context) {
	opt, err := listOptions(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	ctx := c.Request.Context()
	p, _ := principalOf(c)
	boxID := c.Query("box_id")
	if boxID == "" && p.User.Role == store.RoleAgent {
		b, err := s.ownBox(ctx, p.User.AgentID)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		boxID = b.ID
	}
	var pg store.Page[store.VoicemailMessage]
	if boxID == "" {
		pg, err = s.st.VoicemailMessages().List(ctx, opt)
	} else {
		if !validID(boxID) {
			s.abortWith(c, invalidValue("box_id", "must be a record id"))
			return
		}
		b, berr := s.st.VoicemailBoxes().Get(ctx, boxID)
		if berr != nil {
			s.abortWith(c, refErr("box_id", berr))
			return
		}
		if !mayOpenBox(p, b) {
			s.abortWith(c, errForbidden())
			return
		}
		pg, err = s.st.VoicemailMessages().ListByBox(ctx, boxID, opt)
	}
	if err != nil {
		s.abortWith(c, err)
		return
	}
	c.JSON(http.StatusOK, page[store.VoicemailMessage]{Items: nonNil(pg.Items), Next: pg.Next})
}

// ownBox is an agent's box (404 when it has none).
func (s *Server) ownBox(ctx context.Context, agentID string) (store.VoicemailBox, error) {
	opt := store.ListOptions{Limit: store.MaxLimit}
	for agentID != "" {
		pg, err := s.st.VoicemailBoxes().List(ctx, opt)
		if err != nil {
			return store.VoicemailBox{}, err
		}
		for _, b := range pg.Items {
			if b.OwnerKind == store.VoicemailOwnerAgent && b.OwnerID == agentID {
				return b, nil
			}
		}
		if pg.Next == "" {
			break
		}
		opt.After = pg.Next
	}
	return store.VoicemailBox{}, &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "you have no voicemail box"}
}

func (s *Server) handleVoicemailGet(c *gin.Context) {
	m, err := s.messageFor(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	c.Header("ETag", etag(m.Version))
	c.JSON(http.StatusOK, m)
}

// handleVoicemailAudio serves the message's WAV with range requests (RFC
// 9110 §14, http.ServeContent).
func (s *Server) handleVoicemailAudio(c *gin.Context) {
	m, err := s.messageFor(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	if s.recStore == nil {
		s.abortWith(c, errLiveUnavailable("no recording store is configured"))
		return
	}
	f, err := s.recStore.Open(m.Path)
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "voicemail audio missing", "request_id", requestID(c), "message", m.ID, "err", err)
		s.abortWith(c, &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "the message's audio is missing"})
		return
	}
	defer f.Close()
	c.Header("Content-Type", "audio/wav")
	c.Header("Accept-Ranges", "bytes")
	http.ServeContent(c.Writer, c.Request, m.ID+".wav", m.At, f)
}

func (s *Server) handleVoicemailPatch(c *gin.Context) {
	m, err := s.messageFor(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	data, err := readBody(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	var b voicemailPatch
	if err := decodeStrict(data, &b); err != nil {
		s.abortWith(c, err)
		return
	}
	if err := oneOf("state", b.State, store.VoicemailStates); err != nil {
		s.abortWith(c, err)
		return
	}
	if c.GetHeader("If-Match") != "" {
		want, err := expectedVersion(c, 0)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		if want != m.Version {
			s.abortWith(c, store.ErrVersionMismatch)
			return
		}
	}
	m.State = b.State
	if err := s.st.VoicemailMessages().Update(c.Request.Context(), &m); err != nil {
		s.abortWith(c, err)
		return
	}
	c.Set(ctxAuditResourceID, m.ID)
	c.Header("ETag", etag(m.Version))
	c.JSON(http.StatusOK, m)
}

func (s *Server) handleVoicemailDelete(c *gin.Context) {
	m, err := s.messageFor(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	if err := s.st.VoicemailMessages().Delete(c.Request.Context(), m.ID, 0); err != nil {
		s.abortWith(c, err)
		return
	}
	c.Set(ctxAuditResourceID, m.ID)
	c.Status(http.StatusNoContent)
}

// voicemailRoutes are the routes of this file.
func (s *Server) voicemailRoutes() []route {
	boxes := &crud[store.VoicemailBox, voicemailBoxBody]{name: "voicemail/boxes", key: "name",
		repo: func(st Controller) store.Repo[store.VoicemailBox] { return st.VoicemailBoxes() },
		body: func() voicemailBoxBody { return voicemailBoxBody{} }, build: (*Server).buildVoicemailBox}
	msg := reflect.TypeFor[store.VoicemailMessage]()
	rs := crudRoutes(s, boxes, "voicemail", readFloorSetup, readFloorSetup, adminOnly)
	return append(rs,
		route{method: http.MethodGet, path: "/api/v1/voicemail", summary: "List voicemail messages (an agent: its own box)",
			tag: "voicemail", access: readVoicemail, query: append([]param{boxIDParam}, pageParams...),
			resp: msg, respKind: respPage, status: http.StatusOK, handler: s.handleVoicemailList},
		route{method: http.MethodGet, path: "/api/v1/voicemail/:id", summary: "Get a voicemail message",
			tag: "voicemail", access: readVoicemail, resp: msg, status: http.StatusOK, handler: s.handleVoicemailGet},
		route{method: http.MethodGet, path: "/api/v1/voicemail/:id/audio",
			summary: "The message's WAV (audio/wav, range requests: 206)", tag: "voicemail", access: readVoicemail,
			respKind: respNone, status: http.StatusOK, handler: s.handleVoicemailAudio},
		route{method: http.MethodPatch, path: "/api/v1/voicemail/:id", summary: "Mark a message new, read or saved",
			tag: "voicemail", access: readVoicemail, resource: "voicemail", action: "update",
			req: reflect.TypeFor[voicemailPatch](), resp: msg, ifMatch: true, status: http.StatusOK, handler: s.handleVoicemailPatch},
		route{method: http.MethodDelete, path: "/api/v1/voicemail/:id", summary: "Delete a message",
			tag: "voicemail", access: readVoicemail, resource: "voicemail", action: "delete",
			respKind: respNone, status: http.StatusNoContent, handler: s.handleVoicemailDelete},
	)
}
