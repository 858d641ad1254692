package webhook

import "errors"

// ErrInvalidEndpoint is returned by New for an endpoint without an id, an
// http(s) URL with a host, or a secret, and for a duplicate id.
var ErrInvalidEndpoint = errors.New("webhook: invalid endpoint")

// ErrBadSignature is returned by Verify when the signature is missing,
// malformed or wrong.
var ErrBadSignature = errors.New("webhook: bad signature")

// ErrStaleTimestamp is returned by Verify when the timestamp is missing,
// malformed or outside the tolerance.
var ErrStaleTimestamp = errors.New("webhook: timestamp outside tolerance")

// ErrClosed is returned by Close when called twice.
var ErrClosed = errors.New("webhook: dispatcher closed")
