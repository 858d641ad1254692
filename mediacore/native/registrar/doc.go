// Package registrar is the SIP registrar of the native media core: it
// authenticates REGISTER requests with digest (MD5 and SHA-256, through
// internal/sipdigest), keeps the bindings of each address-of-record (agent
// phones, softphones) in memory, and answers the lookups the core uses to
// route calls to those phones.
//
// It owns:
//   - HandleRegister, the sipgo handler the native core mounts with
//     srv.OnRegister; one REGISTER is handled per call, in the caller's
//     goroutine (sipgo runs one goroutine per request, so all state here is
//     guarded by mutexes);
//   - the bindings store and its rules (RFC 3261 §10.3): Expires header or
//     per-contact expires, 423 with Min-Expires, clamping to a maximum,
//     "Contact: *" with Expires: 0, CSeq ordering per Call-ID, expiry through
//     an injected clock and Sweep;
//   - Lookup(user) for routing, and OnChange events (Registered,
//     Unregistered) delivered outside any lock;
//   - guards against password guessing, each answering 403 without digest
//     work: a burst guard per source IP (WithBlocking), a failure budget
//     per user and source over a long window and one per source over all
//     users (WithUserBudget, WithSourceBudget; blocks double while the
//     guessing goes on), with Blocks and Unblock for administrators. The
//     user budget is keyed by source, so a guesser never locks the real
//     user out of other addresses.
//
// Security choices, and why:
//   - The same 401 (same headers, same algorithms, a fresh nonce) answers an
//     unknown user and a wrong password, and an unknown user costs the same
//     digest computation (sipdigest's dummy HA1), so the registrar does not
//     tell scanners which extensions exist.
//   - The authenticated username must equal the user part of both To and
//     From: one phone's credentials cannot bind another extension
//     (third-party registration is not offered); a mismatch gets 403.
//   - A blocked source gets 403 Forbidden without any digest work rather
//     than silence: 403 is no larger than the request (no amplification),
//     a legitimate phone behind the same NAT sees a clear error instead of
//     retransmitting into a black hole for 32 s per attempt, and scanners
//     gain nothing they did not already know (that a SIP server is there).
//   - Only judged guesses count towards blocking: a wrong password, an
//     unknown user, replayed or malformed credentials. A nonce the
//     registrar never issued (what every phone sends after a restart) is
//     re-challenged without counting, or one restart would block a whole
//     office behind one NAT address. Sources are keyed by full IP address,
//     IPv6 included.
//   - A request whose echoed headers (Via, From, To, Call-ID, CSeq) hold
//     control characters is dropped unanswered: sipgo v1.7.2 keeps a bare
//     LF inside a header value and would copy it into the response.
//   - Bindings, tracked sources and nonce records are all capped, so memory
//     does not grow with what clients send.
//
// Interoperability: by default challenges offer SHA-256 first, then MD5
// (RFC 8760 §2.4). Clients that know only MD5 do not all cope: SIPp 3.6
// answers the first challenge and gives up on SHA-256, and baresip 1.0
// (libre 1.1) fails registration as soon as any challenge names SHA-256,
// in whichever position. Deployments with such phones pass
// WithDigestOptions(sipdigest.WithAlgorithms(sipdigest.MD5)); the SIPp and
// baresip tests run that way.
//
// Credentials come from the Credentials interface: the controller backs it
// with its store of HA1 values (never passwords).
//
// It may import sipgo, internal/sipdigest and the standard library. It must
// not import the controller, the API, the stores or other native-core
// packages: the core depends on it, not the other way round.
package registrar
