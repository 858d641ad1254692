package erlang

import "errors"

// ErrUnstable is returned when the offered traffic needs at least as many
// agents as there are: the queue grows without bound.
var ErrUnstable = errors.New("erlang: traffic >= agents (queue unstable)")

// ErrInvalid is returned for negative or non-finite inputs.
var ErrInvalid = errors.New("erlang: invalid input")
