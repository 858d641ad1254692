package ivr

import "errors"

// Sentinel errors. Validation and decoding failures are *ValidationError
// values that wrap one of the validation sentinels below and ErrInvalidFlow;
// check them with errors.Is.
var (
	// ErrInvalidFlow is wrapped by every decoding and validation error.
	ErrInvalidFlow = errors.New("ivr: invalid flow")
	// ErrSyntax: the document is not JSON of the expected shape (a wrong
	// type, trailing data, too large).
	ErrSyntax = errors.New("ivr: malformed flow document")
	// ErrUnknownField: an object holds a field the flow format does not
	// define.
	ErrUnknownField = errors.New("ivr: unknown field")
	// ErrUnknownNodeType: a node's "type" is missing or not one of the
	// node types.
	ErrUnknownNodeType = errors.New("ivr: unknown node type")
	// ErrMissingTarget: a required target (next, on_failure, a branch) is
	// empty.
	ErrMissingTarget = errors.New("ivr: missing target")
	// ErrDanglingTarget: a target names a node that does not exist.
	ErrDanglingTarget = errors.New("ivr: target names no node")
	// ErrUnreachable: a node cannot be reached from the start node.
	ErrUnreachable = errors.New("ivr: unreachable node")
	// ErrBusyLoop: a cycle of nodes that execution can go round without
	// ever collecting DTMF (no menu or gather on it).
	ErrBusyLoop = errors.New("ivr: loop that never waits for input")
	// ErrBadRegex: a pattern does not compile or is too long.
	ErrBadRegex = errors.New("ivr: bad regular expression")
	// ErrBadURL: an http node's URL template is not an absolute http(s)
	// URL with a fixed host.
	ErrBadURL = errors.New("ivr: bad URL template")
	// ErrBadTemplate: a ${var} placeholder is malformed.
	ErrBadTemplate = errors.New("ivr: bad template")
	// ErrTooLong: a text, list or value exceeds its bound.
	ErrTooLong = errors.New("ivr: too long")
	// ErrEmptyChoices: a menu has no choices.
	ErrEmptyChoices = errors.New("ivr: menu without choices")
	// ErrBadDigit: a DTMF key is not one of 0-9, * and #, or is used twice.
	ErrBadDigit = errors.New("ivr: invalid DTMF key")
	// ErrTooManyNodes: the flow has more than MaxNodes nodes.
	ErrTooManyNodes = errors.New("ivr: too many nodes")
	// ErrInvalidValue: any other field value outside its domain.
	ErrInvalidValue = errors.New("ivr: invalid value")
)

// Execution errors returned by Run.
var (
	// ErrHangup is returned by a Session when the caller hung up; Run
	// returns it (wrapped) and stops.
	ErrHangup = errors.New("ivr: caller hung up")
	// ErrTooManySteps: Run executed Env.MaxSteps nodes without reaching a
	// terminal node.
	ErrTooManySteps = errors.New("ivr: too many steps")
	// ErrLookupTimeout is returned (wrapped) by a Lookuper whose request
	// ran out of time; Run takes the http node's failure branch either way.
	ErrLookupTimeout = errors.New("ivr: lookup timed out")
)
