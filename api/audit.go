package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"hotline/controller/store"
)

// Context keys handlers set to complete the audit entry.
const (
	ctxAuditResourceID = "hotline.audit.resource_id"
	ctxAuditUserID     = "hotline.audit.user_id"
	ctxAuditUsername   = "hotline.audit.username"
	ctxAuditDetail     = "hotline.audit.detail"
)

// auditTimeout bounds the audit write, which runs even when the client has
// gone away (a change that happened must be recorded).
const auditTimeout = 5 * time.Second

// auditMiddleware records the outcome of r once the handler has run: every
// change by an authenticated user (whatever the result, 403s included) and
// every login attempt (r.alwaysAudit), with who, what, from where and the
// resulting status.
func (s *Server) auditMiddleware(r route) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		e := store.AuditEntry{
			At:        s.now().UTC(),
			Action:    r.action,
			Resource:  r.resource,
			Remote:    c.ClientIP(),
			Result:    c.Writer.Status(),
			RequestID: requestID(c),
		}
		if p, ok := principalOf(c); ok {
			e.UserID, e.Username = p.User.ID, p.User.Username
		} else if !r.alwaysAudit {
			return // unauthenticated writes were refused before reaching anything
		}
		if v := c.GetString(ctxAuditUserID); v != "" {
			e.UserID = v
		}
		if v := c.GetString(ctxAuditUsername); v != "" && e.Username == "" {
			e.Username = v
		}
		e.ResourceID = c.Param("id")
		if v := c.GetString(ctxAuditResourceID); v != "" {
			e.ResourceID = v
		}
		e.Detail = c.GetString(ctxAuditDetail)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), auditTimeout)
		defer cancel()
		if err := s.st.Audit().Append(ctx, &e); err != nil {
			s.log.ErrorContext(ctx, "audit write failed", "request_id", e.RequestID, "action", e.Action,
				"resource", e.Resource, "resource_id", e.ResourceID, "user", e.Username, "err", err)
		}
	}
}

// auditFilter reads the filter of GET /api/v1/audit from the query.
func auditFilter(c *gin.Context) (store.AuditFilter, error) {
	f := store.AuditFilter{UserID: c.Query("user_id"), Resource: c.Query("resource")}
	for _, q := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		v := c.Query(q.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, invalidValue(q.name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
		*q.dst = t
	}
	if f.UserID != "" && !validID(f.UserID) {
		return f, invalidValue("user_id", "must be a user id")
	}
	if f.Resource != "" && !validID(f.Resource) {
		return f, invalidValue("resource", "must be a resource name such as queues")
	}
	return f, nil
}

func (s *Server) handleAuditList(c *gin.Context) {
	f, err := auditFilter(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	opt, err := listOptions(c)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	pg, err := s.st.Audit().List(c.Request.Context(), f, opt)
	if err != nil {
		s.abortWith(c, err)
		return
	}
	c.JSON(http.StatusOK, page[store.AuditEntry]{Items: nonNil(pg.Items), Next: pg.Next})
}
