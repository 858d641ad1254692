package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"hotline/controller/store"
)

// Sentinel errors returned by this package's exported functions.
var (
	// ErrInvalidOptions means New was given unusable Options.
	ErrInvalidOptions = errors.New("api: invalid options")
	// ErrRouteWithoutAccess means a route in the table has no access rule;
	// such a route is never registered (deny by default).
	ErrRouteWithoutAccess = errors.New("api: route without access rule")
	// ErrInvalidBootstrap means the bootstrap secret is unusable or the
	// "bootstrap" user exists with another role.
	ErrInvalidBootstrap = errors.New("api: invalid bootstrap token")
)

// Error codes of the JSON error body.
const (
	codeInvalidJSON          = "invalid_json"
	codeUnknownField         = "unknown_field"
	codeInvalidValue         = "invalid_value"
	codeUnauthorized         = "unauthorized"
	codeForbidden            = "forbidden"
	codeNotFound             = "not_found"
	codeMethodNotAllowed     = "method_not_allowed"
	codeConflict             = "conflict"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeVersionMismatch      = "version_mismatch"
	codePreconditionRequired = "precondition_required"
	codeTooLarge             = "too_large"
	codeTooManyAttempts      = "too_many_attempts"
	codeUnavailable          = "unavailable"
	codeInternal             = "internal"
)

// apiError is an error with its HTTP status and JSON body.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *apiError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

func invalidValue(field, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidValue, Field: field, Message: fmt.Sprintf(format, args...)}
}

func errUnauthorized() *apiError {
	return &apiError{Status: http.StatusUnauthorized, Code: codeUnauthorized, Message: "missing, unknown or expired credentials"}
}

func errForbidden() *apiError {
	return &apiError{Status: http.StatusForbidden, Code: codeForbidden, Message: "your role may not do this"}
}

func errNotFound() *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "no such resource"}
}

// errorResponse is the JSON shape of every error answer.
type errorResponse struct {
	Error apiError `json:"error"`
}

// toAPIError is the one place that maps an error to a status and body.
// Store errors map by sentinel; anything unknown is a 500 (and is logged by
// the caller, because it is a bug: no client input may cause one).
func toAPIError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrNotFound):
		return errNotFound()
	case errors.Is(err, store.ErrConflict):
		return &apiError{Status: http.StatusConflict, Code: codeConflict, Message: "a record with this key already exists"}
	case errors.Is(err, store.ErrInvalidValue):
		// The API refuses NUL and invalid UTF-8 itself; this catches
		// what a database refuses beyond that.
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalidValue, Message: "a value contains characters the database cannot store"}
	case errors.Is(err, store.ErrVersionMismatch):
		return &apiError{Status: http.StatusPreconditionFailed, Code: codeVersionMismatch, Message: "the record changed since you read it; read it again"}
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &apiError{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Message: "the database is unavailable; retry later"}
	default:
		return &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error"}
	}
}

// abortWith writes err as the answer and stops the handler chain.
func (s *Server) abortWith(c *gin.Context, err error) {
	ae := toAPIError(err)
	if ae.Status >= http.StatusInternalServerError {
		s.log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c), "err", err)
	}
	// The audit entry of a refused change says why, e.g.
	// "invalid_value: members[1].agent_id".
	detail := ae.Code
	if ae.Field != "" {
		detail += ": " + ae.Field
	}
	c.Set(ctxAuditDetail, detail)
	if ae.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="hotline"`) // RFC 6750 §3
	}
	c.AbortWithStatusJSON(ae.Status, errorResponse{Error: *ae})
}
