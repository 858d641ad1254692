package api

import (
	"fmt"
	"net/http"
	"testing"

	"hotline/controller/store"
)

// TestStoreErrorStatus: each store sentinel maps to its status; a value
// the database refuses (PostgreSQL and NUL) is the client's fault: 400.
func TestStoreErrorStatus(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{store.ErrNotFound, http.StatusNotFound},
		{store.ErrConflict, http.StatusConflict},
		{store.ErrVersionMismatch, http.StatusPreconditionFailed},
		{store.ErrUnavailable, http.StatusServiceUnavailable},
		{store.ErrInvalidValue, http.StatusBadRequest},
	} {
		if got := toAPIError(fmt.Errorf("wrapped: %w", tt.err)).Status; got != tt.want {
			t.Errorf("%v: status %d, want %d", tt.err, got, tt.want)
		}
	}
}
