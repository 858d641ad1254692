package sim

import "errors"

// Sentinel errors.
var (
	// ErrInvalidTraffic means a traffic or definitions setting is unusable.
	ErrInvalidTraffic = errors.New("sim: invalid traffic settings")
	// ErrMismatch means Hotline's figures differ from the ground truth.
	ErrMismatch = errors.New("sim: reports do not reconcile with the ground truth")
	// ErrTarget means the Hotline instance refused or failed a request.
	ErrTarget = errors.New("sim: target request failed")
)
