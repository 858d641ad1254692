package sipdigest

import "errors"

// ErrMalformed reports credentials or parameters that do not follow the
// grammar of RFC 7616 §3.4 (or that this server does not accept: a missing qop,
// an unsupported algorithm). Answer 400 or a fresh 401 challenge.
var ErrMalformed = errors.New("sipdigest: malformed digest credentials")

// ErrUnsupportedAlgorithm reports an algorithm name this package does not
// implement or the verifier was not configured to accept. It is wrapped
// together with ErrMalformed by the parser and the verifier.
var ErrUnsupportedAlgorithm = errors.New("sipdigest: unsupported algorithm")

// ErrBadResponse reports a response that does not match: wrong password, an
// unknown user or a wrong realm. The caller answers with a fresh challenge
// and counts a failed attempt.
var ErrBadResponse = errors.New("sipdigest: digest response does not match")

// ErrBadNonce reports a nonce this verifier (or a node sharing its secret)
// never issued: forged, corrupted, or issued before a restart changed the
// secret. The response is not judged, so the answer says nothing about the
// password or the user; the caller answers with a fresh challenge and need
// not count it as a guess (every phone of an office behind one NAT sends
// one after a restart).
var ErrBadNonce = errors.New("sipdigest: nonce not issued here")

// ErrStale reports a correct response computed over an expired nonce (or one
// whose nonce-count record was evicted). The caller answers a fresh challenge
// with stale=true so the client retries without asking its user (RFC 7616 §3.3).
var ErrStale = errors.New("sipdigest: nonce is stale")

// ErrReplay reports a nonce count that is not greater than the highest one
// already accepted for the same nonce (RFC 7616 §3.4, "nc").
var ErrReplay = errors.New("sipdigest: nonce count replayed")
