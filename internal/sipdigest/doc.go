// Package sipdigest implements the server side of HTTP Digest access
// authentication as SIP uses it (RFC 3261 §22.4, RFC 8760, RFC 7616): HA1
// derivation for MD5 and SHA-256, parsing of Authorization and
// Proxy-Authorization credentials, formatting of WWW-Authenticate challenges,
// and a Verifier that issues stateless nonces and checks responses.
//
// It owns:
//   - the Algorithm type and HA1/Response computation (RFC 7616 §3.4.1, §3.4.2);
//   - ParseCredentials, the only parser of client-supplied digest parameters;
//   - Challenge formatting, one challenge per algorithm, SHA-256 first
//     (RFC 8760 §2.4: the server lists its preferred algorithm first);
//   - Verifier: HMAC-signed nonces with expiry and stale=true answers,
//     qop=auth only, nonce-count replay protection in a bounded table,
//     constant-time response comparison and a dummy HA1 for unknown users so
//     that the work done and the answer given do not reveal which users exist.
//
// Administrators store HA1 values, never passwords: HA1 is all the verifier
// needs, and it is bound to the realm, so a leaked table is useless elsewhere.
//
// What it deliberately does not do: qop=auth-int (no SIP phone in the field
// needs it and it would require the body here), the "-sess" algorithms,
// userhash (RFC 7616 §3.4.4), and requests without qop (RFC 2069 style),
// which would leave no nonce count to protect against replay.
//
// It must not import sipgo or any other SIP stack, nor anything outside the
// standard library: the registrar (mediacore/native/registrar) and the
// outbound trunk code adapt their SIP messages to it.
package sipdigest
