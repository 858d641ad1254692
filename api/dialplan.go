package api

import (
	"context"
	"errors"
	"net/http"

	"hotline/controller/store"
)

// checkDialClash refuses a dialable key already taken by the other kind:
// an agent extension equal to an access number, or an access number equal
// to an agent extension. Both are dialled the same way, so one would
// shadow the other. field is the body's field ("extension" or "number").
func (s *Server) checkDialClash(ctx context.Context, field, value string) error {
	var err error
	var other string
	switch field {
	case "extension":
		_, err = s.st.Numbers().GetByNumber(ctx, value)
		other = "an access number"
	case "number":
		_, err = s.st.Agents().GetByExtension(ctx, value)
		other = "an agent's extension"
	}
	switch {
	case err == nil:
		return &apiError{Status: http.StatusConflict, Code: codeConflict, Field: field, Message: value + " is already " + other}
	case errors.Is(err, store.ErrNotFound):
		return nil
	}
	return err
}
