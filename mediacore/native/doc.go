// Package native is Hotline's own media core: a SIP user agent on sipgo
// (UDP and TCP on one port) and the RTP engine of mediacore/native/rtpengine,
// registered with mediacore as the "native" backend.
//
// It owns:
//   - the UAS: INVITE -> 100 Trying, ChannelCreated; the controller rings
//     (180), starts early media (183), answers (200 with an RFC 3264 SDP answer, then ACK) or rejects
//     with a cause; CANCEL -> 487; BYE both ways; OPTIONS -> 200; re-INVITE
//     for hold/unhold received and sent (RFC 3264 §8.4). Inbound calls are
//     admitted from a trunk's address, from the source of a registered
//     contact of the From user, or from anywhere when configured.
//   - the UAC: user/ (registrar lookup), sip: URIs, tel/ through enabled
//     trunks in priority order with failover on 5xx, 408 or no response (R1.2); 180 and
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
// Contract version 2 (mediacore's Backend and its optional capabilities):
//   - early media: Progress answers an unanswered inbound INVITE 183
//     Session Progress with our SDP (no reliable provisionals, RFC 3262 is
//     not supported); media flows from then on, so Play is heard before
//     Answer, and the 200 repeats the 183's SDP unchanged. A 183 with SDP
//     to an INVITE we sent applies the early answer's media and emits
//     Progress. Both emit Progress once.
//   - reconcile: Channels lists the live channels (ringing, early, up,
//     held: by us or by the far end) with their bridge; Bridges lists the
//     bridges and their members' roles.
//   - variables: names are case-insensitive and an "X-" prefix is ignored,
//     so the INVITE header "X-Account: 42" reads as Variable "X-Account",
//     "x-account" or "Account". Inbound channels start with the INVITE's
//     X- headers, originated ones with OriginateRequest.Variables;
//     SetVariable overrides (at most 256 variables of 4 KiB each).
//   - transfers: a REFER inside a confirmed dialog (RFC 3515) is held
//     while the controller decides: EventTransferRequested carries
//     ReferTo ("user/NAME" when the Refer-To URI names our listen address,
//     else the sip: URI without parameters, validated as an endpoint) and
//     Replaces (our channel whose dialog the RFC 3891 Replaces names, else
//     ""). AnswerTransfer(accept) sends 202 Accepted and a NOTIFY (Event:
//     refer;id=CSeq, Subscription-State: terminated, message/sipfrag
//     "SIP/2.0 200 OK"); refuse sends 603. No answer within
//     Config.TransferTimeout (30 s) gives 480; a bad Refer-To 400, a
//     REFER outside an answered dialog 481. Answering a transfer that timed
//     out or was answered gives ErrChannelState. The backend never
//     transfers on its own.
//   - bridge membership: BridgeJoined (with the role) on AddToBridge,
//     BridgeLeft on RemoveFromBridge, DestroyBridge, a move to another
//     bridge and a member's hangup (before its Hangup). SetMemberRole
//     emits nothing.
//   - recordings: one per channel or bridge at a time (a second Record is
//     ErrChannelState and leaves the first alone). A channel's mono
//     recording mixes both directions (RecordBoth) or holds one
//     (RecordRead: what the far end sends; RecordWrite: what is sent to
//     it); stereo puts them left and right. OpenRecording opens a finished
//     file (the last 65536 finished recordings are known by id).
//   - capabilities: Whisperer, TTSPlayer, StereoRecorder, ReinviteHolder
//     (markers), DTMFDetector (SetDTMFDetection switches the leg's in-band
//     Goertzel detector; RFC 4733 digits always count; until it is called
//     in-band detection runs exactly when no telephone-event was
//     negotiated), MediaUploader (PutMedia writes a checked WAV under
//     MediaDir through a temporary file, fsync and rename), and
//     TrunkConfigurer (SetTrunks replaces every trunk live: new Register
//     trunks register, removed or disabled ones unregister with Expires:
//     0, a trunk whose registration fields changed unregisters then
//     registers; calls in progress keep their trunk). No Snooper: Core
//     snoops through bridge roles.
//   - errors: every error of a Backend method wraps a mediacore sentinel
//     (errmap.go maps the RTP engine's, the file system's, TTS and SIP
//     transaction errors).
//   - registry: mediacore.Open("native", opts) decodes Config from
//     opts.Decode (its yaml keys), takes the registrar's HA1s from
//     opts.Services.Credentials and adds opts.Services.Trunks to the
//     configured trunks (a duplicate name is ErrConfig).
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
