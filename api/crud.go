package api

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"hotline/controller/store"
)

// page is the JSON shape of every list answer.
type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// listOptions reads ?limit= and ?after=.
func listOptions(c *gin.Context) (store.ListOptions, error) {
	var opt store.ListOptions
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			return opt, invalidValue("limit", "must be an integer from 1 to %d", store.MaxLimit)
		}
		opt.Limit = n
	}
	opt.After = c.Query("after")
	if opt.After != "" && !validID(opt.After) {
		return opt, invalidValue("after", "not a cursor")
	}
	return opt.Normalize(), nil
}

// pathID returns the :id path parameter when it can be an id at all; a
// malformed one names no record (404).
func pathID(c *gin.Context) (string, bool) {
	id := c.Param("id")
	return id, validID(id)
}

// etag formats a version as a strong entity tag (RFC 9110 §8.8.3).
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// expectedVersion returns the version the client claims to have read, from
// If-Match (RFC 9110 §13.1.1, preferred) or from fallback (the body's or the
// query's version). Neither gives 428 (RFC 6585 §3).
func expectedVersion(c *gin.Context, fallback int64) (int64, error) {
	if h := strings.TrimSpace(c.GetHeader("If-Match")); h != "" {
		// A strong tag "N"; a bare N is tolerated. Weak tags (W/"N") never
		// match under If-Match's strong comparison, so they are refused.
		if len(h) >= 2 && h[0] == '"' && h[len(h)-1] == '"' {
			h = h[1 : len(h)-1]
		}
		v, err := strconv.ParseInt(h, 10, 64)
		if err != nil || v < 1 {
			return 0, invalidValue("If-Match", `must be the ETag of the record, e.g. "3"`)
		}
		return v, nil
	}
	if fallback > 0 {
		return fallback, nil
	}
	return 0, &apiError{Status: http.StatusPreconditionRequired, Code: codePreconditionRequired,
		Message: "send If-Match with the record's ETag, or its version", Field: "version"}
}

// crud serves list/get/create/replace/delete of one configuration
// aggregate T, whose request body is B (T embedded, plus write-only
// secrets).
type crud[T any, B any] struct {
	name string // resource name in paths and the audit log, e.g. "agents"
	key  string // JSON field of the unique key, named on 409
	repo func(Controller) store.Repo[T]
	body func() B // a body pre-filled with the defaults
	// build validates b and returns the record to store; old is nil on
	// create. Errors name the field. It is a method expression of Server,
	// hence the receiver before ctx.
	build func(s *Server, ctx context.Context, b *B, old *T) (T, error)
	// guard, when set, refuses to delete (next nil) or replace a record
	// that others refer to (see refs.go).
	guard func(s *Server, ctx context.Context, old T, next *T) error
	// afterDelete, when set, cleans up after a successful delete.
	afterDelete func(ctx context.Context, id string)
	// canRead, when set, further restricts GET of one record.
	canRead func(p principal, id string) bool
	// decodeBody, when set, replaces decodeStrict for bodies with fields
	// that it does not handle (free-form maps, raw JSON documents).
	decodeBody func(data []byte, b *B) error
}

func metaOfPtr(v any) *store.Meta { return v.(interface{ GetMeta() *store.Meta }).GetMeta() }

func (r *crud[T, B]) conflict(err error) error {
	if errors.Is(err, store.ErrConflict) {
		ae := toAPIError(err)
		ae.Field = r.key
		ae.Message = "another record already has this " + r.key
		return ae
	}
	return err
}

func (r *crud[T, B]) list(s *Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		opt, err := listOptions(c)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		pg, err := r.repo(s.st).List(c.Request.Context(), opt)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		c.JSON(http.StatusOK, page[T]{Items: nonNil(pg.Items), Next: pg.Next})
	}
}

func (r *crud[T, B]) get(s *Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := pathID(c)
		if !ok {
			s.abortWith(c, errNotFound())
			return
		}
		if r.canRead != nil {
			if p, _ := principalOf(c); !r.canRead(p, id) {
				s.abortWith(c, errForbidden())
				return
			}
		}
		v, err := r.repo(s.st).Get(c.Request.Context(), id)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		c.Header("ETag", etag(metaOfPtr(&v).Version))
		c.JSON(http.StatusOK, v)
	}
}

// decode reads and validates the body; old is the stored record on replace.
func (r *crud[T, B]) decode(c *gin.Context, s *Server, old *T) (T, int64, error) {
	var zero T
	data, err := readBody(c)
	if err != nil {
		return zero, 0, err
	}
	b := r.body()
	decode := func(data []byte, b *B) error { return decodeStrict(data, b) }
	if r.decodeBody != nil {
		decode = r.decodeBody
	}
	if err := decode(data, &b); err != nil {
		return zero, 0, err
	}
	bodyVersion := metaOfPtr(&b).Version
	v, err := r.build(s, c.Request.Context(), &b, old)
	return v, bodyVersion, err
}

func (r *crud[T, B]) create(s *Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		v, _, err := r.decode(c, s, nil)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		*metaOfPtr(&v) = store.Meta{}
		if err := r.repo(s.st).Create(c.Request.Context(), &v); err != nil {
			s.abortWith(c, r.conflict(err))
			return
		}
		m := metaOfPtr(&v)
		c.Set(ctxAuditResourceID, m.ID)
		c.Header("ETag", etag(m.Version))
		c.Header("Location", "/api/v1/"+r.name+"/"+m.ID)
		c.JSON(http.StatusCreated, v)
	}
}

// replace is PUT: a full replacement of the record at the version the
// client read.
func (r *crud[T, B]) replace(s *Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := pathID(c)
		if !ok {
			s.abortWith(c, errNotFound())
			return
		}
		ctx := c.Request.Context()
		old, err := r.repo(s.st).Get(ctx, id)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		v, bodyVersion, err := r.decode(c, s, &old)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		want, err := expectedVersion(c, bodyVersion)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		om := metaOfPtr(&old)
		if want != om.Version {
			s.abortWith(c, store.ErrVersionMismatch)
			return
		}
		if r.guard != nil {
			if err := r.guard(s, ctx, old, &v); err != nil {
				s.abortWith(c, err)
				return
			}
		}
		m := metaOfPtr(&v)
		*m = store.Meta{ID: id, Version: want, CreatedAt: om.CreatedAt}
		if err := r.repo(s.st).Update(ctx, &v); err != nil {
			s.abortWith(c, r.conflict(err))
			return
		}
		c.Header("ETag", etag(m.Version))
		c.JSON(http.StatusOK, v)
	}
}

func (r *crud[T, B]) remove(s *Server) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := pathID(c)
		if !ok {
			s.abortWith(c, errNotFound())
			return
		}
		var q int64
		if v := c.Query("version"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 {
				s.abortWith(c, invalidValue("version", "must be a positive integer"))
				return
			}
			q = n
		}
		want, err := expectedVersion(c, q)
		if err != nil {
			s.abortWith(c, err)
			return
		}
		ctx := c.Request.Context()
		if r.guard != nil {
			old, err := r.repo(s.st).Get(ctx, id)
			if err != nil {
				s.abortWith(c, err)
				return
			}
			if err := r.guard(s, ctx, old, nil); err != nil {
				s.abortWith(c, err)
				return
			}
		}
		if err := r.repo(s.st).Delete(ctx, id, want); err != nil {
			s.abortWith(c, err)
			return
		}
		if r.afterDelete != nil {
			r.afterDelete(ctx, id)
		}
		c.Status(http.StatusNoContent)
	}
}

// routes returns the five routes of the resource. read and write say who
// may read and who may change it.
func (r *crud[T, B]) routes(s *Server, tag string, read, write access) []route {
	base := "/api/v1/" + r.name
	item := base + "/:id"
	model := reflect.TypeFor[T]()
	body := reflect.TypeFor[B]()
	return []route{
		{method: http.MethodGet, path: base, summary: "List " + r.name, tag: tag, access: read, resource: r.name,
			query: pageParams, resp: model, respKind: respPage, status: http.StatusOK, handler: r.list(s)},
		{method: http.MethodPost, path: base, summary: "Create one of " + r.name, tag: tag, access: write,
			resource: r.name, action: "create", req: body, resp: model, status: http.StatusCreated, handler: r.create(s)},
		{method: http.MethodGet, path: item, summary: "Get one of " + r.name, tag: tag, access: read,
			resource: r.name, resp: model, status: http.StatusOK, handler: r.get(s)},
		{method: http.MethodPut, path: item, summary: "Replace one of " + r.name + " (If-Match or version required)",
			tag: tag, access: write, resource: r.name, action: "update", req: body, resp: model, ifMatch: true,
			status: http.StatusOK, handler: r.replace(s)},
		{method: http.MethodDelete, path: item, summary: "Delete one of " + r.name + " (If-Match or ?version= required)",
			tag: tag, access: write, resource: r.name, action: "delete", query: []param{versionParam}, ifMatch: true,
			status: http.StatusNoContent, handler: r.remove(s)},
	}
}
