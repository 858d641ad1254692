package api

import (
	"net/http"
	"net/netip"
	"reflect"
	"time"

	"github.com/gin-gonic/gin"
)

// SIPBlock is a refusal in force at the SIP registrar: digest answers from
// Source are refused (of User only for Kind "user") until Until, because
// of repeated authentication failures. The api package does not import the
// media core; the daemon adapts the registrar's blocks to this type.
type SIPBlock struct {
	// Kind is "burst" (many failures within seconds), "user" (one user's
	// failure budget from one source) or "source" (a source's budget over
	// all users).
	Kind   string    `json:"kind"`
	User   string    `json:"user,omitempty"`
	Source string    `json:"source"`
	Until  time.Time `json:"until"`
	// Count is how many blocks in a row this key earned; each doubles the
	// period.
	Count int `json:"count"`
}

// SIPBlocker is what the API needs from the SIP registrar to let
// administrators see and lift blocks.
type SIPBlocker interface {
	// SIPBlocks returns the blocks in force.
	SIPBlocks() []SIPBlock
	// ClearSIPBlocks lifts the blocks of source: of user only, or all of
	// them when user is "". It returns how many were in force.
	ClearSIPBlocks(source, user string) int
}

// sipBlockList is the answer of GET /api/v1/sip/blocks.
type sipBlockList struct {
	Items []SIPBlock `json:"items"`
}

// sipBlockRoutes are the admin routes over the registrar's blocks.
func (s *Server) sipBlockRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/api/v1/sip/blocks", summary: "SIP sources and users refused after repeated authentication failures", tag: "sip",
			access: adminOnly, resp: reflect.TypeFor[sipBlockList](), status: http.StatusOK, handler: s.handleSIPBlocks},
		{method: http.MethodDelete, path: "/api/v1/sip/blocks/:source", summary: "Lift the blocks of a source (of one user with ?user=)", tag: "sip",
			access: adminOnly, resource: "sip_blocks", action: "delete",
			query:    []param{{name: "user", in: "query", desc: "lift only this user's block from the source", schema: map[string]any{"type": "string", "maxLength": 128}}},
			respKind: respNone, status: http.StatusNoContent, handler: s.handleSIPUnblock},
	}
}

func (s *Server) handleSIPBlocks(c *gin.Context) {
	out := sipBlockList{Items: []SIPBlock{}}
	if s.blocks != nil {
		out.Items = append(out.Items, s.blocks.SIPBlocks()...)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) handleSIPUnblock(c *gin.Context) {
	ip, err := netip.ParseAddr(c.Param("source"))
	if err != nil {
		s.abortWith(c, invalidValue("source", "must be an IP address"))
		return
	}
	if s.blocks == nil || s.blocks.ClearSIPBlocks(ip.Unmap().String(), c.Query("user")) == 0 {
		s.abortWith(c, errNotFound())
		return
	}
	c.Status(http.StatusNoContent)
}
