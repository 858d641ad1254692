package registrar

// The registrar's errors never leave the package: each maps to the SIP
// response HandleRegister sends (see the comment of each).

import "errors"

// errIntervalTooBrief reports a requested expiry below the minimum; the
// REGISTER is answered 423 Interval Too Brief with Min-Expires (RFC 3261
// §10.3 step 5).
var errIntervalTooBrief = errors.New("registrar: interval too brief")

// errOutOfOrder reports a REGISTER whose CSeq is not higher than the one
// stored for a binding with the same Call-ID; the whole update is aborted
// and answered 500 (RFC 3261 §10.3 steps 6 and 7).
var errOutOfOrder = errors.New("registrar: CSeq out of order for Call-ID")

// errBadRequest reports a REGISTER the registrar cannot process: a wildcard
// Contact with other contacts or a non-zero Expires, an invalid Expires
// value, a non-SIP contact, missing headers. Answered 400.
var errBadRequest = errors.New("registrar: bad REGISTER request")

// errTooManyContacts reports a single REGISTER carrying more contacts than
// one user may hold. Answered 403.
var errTooManyContacts = errors.New("registrar: too many contacts")
