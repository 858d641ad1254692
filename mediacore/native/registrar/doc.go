// Package registrar is the SIP registrar of the native media core: it
// authenticates REGISTER requests with digest (MD5 and SHA-256, through
// mediacore/sipdigest), keeps the bindings of each address-of-record (agent
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
//   - brute-force blocking per source IP.
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
//   - Bindings, tracked sources and nonce records are all capped, so memory
//     does not grow with what clients send.
//
// Credentials come from the Credentials interface: the controller backs it
// with its store of HA1 values (never passwords).
//
// It may import sipgo, mediacore/sipdigest and the standard library. It must
// not import the controller, the API, the stores or other native-core
// packages: the core depends on it, not the other way round.
package registrar
