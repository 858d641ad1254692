package ivrhttp

import "errors"

// ErrBodyTooLarge: the response body exceeded the Client's limit.
var ErrBodyTooLarge = errors.New("ivrhttp: response body too large")
