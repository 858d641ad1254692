// Package native is Hotline's own media core: a SIP user agent on sipgo
// (UDP and TCP on one port) and the RTP engine of mediacore/native/rtpengine,
// registered with mediacore as the "native" backend.
//
// It owns:
//   - the UAS: INVITE -> 100 Trying, ChannelCreated; the controller rings
//     (180), answers (200 with an RFC 3264 SDP answer, then ACK) or rejects
//     with a cause; CANCEL -> 487; BYE both ways; OPTIONS -> 200; re-INVITE
//     for hold/unhold received and sent (RFC 3264 §8.4). Inbound calls are
//     admitted from a trunk's address, from the source of a registered
//     contact of the From user, or from anywhere when configured.
//   - the UAC: user/ (registrar lookup), sip: URIs, tel/ through trunks in
//     priority order with failover on 5xx, 408 or no response (R1.2); 180 and
//     183 -> Ringing; ring timeout -> CANCEL; digest answers to 401/407;
//     outbound REGISTER to trunks that need it.
//   - SDP offer/answer (pion/sdp): PCMU, PCMA and telephone-event/8000; the
//     first offered codec we support wins; no common codec -> 488.
//   - the edge (edge.go) in front of sipgo's parser: a request that does
//     not parse is answered 400 (505 for another version, 416 for an
//     unreadable scheme), built from its own headers and never larger than
//     it; broken responses and garbage are dropped; a TCP framing error
//     closes the connection; all are counted in
//     hotline_sip_dropped_total{reason} and logged a few times a minute,
//     truncated. Responses matching no transaction are counted too;
//   - INVITE limits (limits.go): a token bucket per source (trunks exempt)
//     and a bound on INVITEs in progress, refused with 503 and Retry-After
//     before any state exists; refusals of a call before answer return at
//     once (the transaction absorbs the ACK);
//   - request checks before any handler (RFC 3261 §8.2): unknown URI
//     scheme 416, Require 420, non-SDP body 415, Accept without SDP 406,
//     repeated single-value headers, CSeq method mismatch or escaped
//     headers in the Request-URI 400 (the RFC 4475 torture messages in
//     testdata/torture are sent over UDP and TCP by the tests);
//   - players (WAV files from the media dir, tones, silence, TTS through the
//     TTS interface with espeak-ng by default, cached by (voice, text)) and
//     recordings under the recordings dir.
//
// sipgo v1.7.2 defects designed around: its INVITE server transaction ends
// when the handler returns, so the handler blocks until the call is set up
// and receives the controller's decisions through a channel; Client.Do never
// sends CANCEL, so outbound INVITEs use the dialog client whose WaitAnswer
// does; nothing user-supplied reaches a header without mediacore's
// validation (CRLF injection).
//
// It must NOT import the controller, the API, the stores or any other
// backend; only mediacore, its own subpackages (rtpengine, registrar),
// mediacore/audio, internal/clock, internal/sipdigest, sipgo, pion and
// prometheus.
package native
