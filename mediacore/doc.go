// Package mediacore is the contract between the Hotline controller and the
// media core that carries audio, plus the concrete *Core the controller uses.
//
// It owns:
//   - Backend: the interface a media backend implements (the native Go SIP/RTP
//     core in mediacore/native, FreeSWITCH over ESL, Asterisk over ARI). It is
//     modelled on ARI's resources: channels, bridges, playbacks, recordings.
//   - Snooper: an optional capability found by type assertion. A backend
//     without it is driven through bridge roles (see Core.Snoop).
//   - Event and Cause: the neutral event stream and hangup causes, mapped from
//     SIP status codes (RFC 3261 §21) and Q.850 cause values (RFC 3398 §7.2.4).
//   - Endpoint: neutral addressing ("user/1001", "tel/+8610...", "sip:...") and
//     the validation of everything that can reach a dial string.
//   - the backend registry: backends call Register from an init function and
//     the configuration picks one with Open.
//   - Core: what the controller calls. It validates input, applies per-call
//     timeouts, counts metrics and delivers events in order per channel
//     through one unbounded mailbox per channel, so a slow consumer delays its
//     own channel's events but never loses any and never blocks the backend.
//
// It must NOT import any backend (mediacore/native, adapters/*), the
// controller, the API, the store, or any SIP/ESL/ARI library: backends import
// this package, never the reverse.
package mediacore
