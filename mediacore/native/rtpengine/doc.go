// Package rtpengine is the native media core's RTP engine: one Engine owns a
// UDP port range and a single 20 ms ticker; each Leg is one RTP session (an
// even RTP port and the RTCP port above it, RFC 3550 §11) created by the SIP
// layer after SDP negotiation; Bridges join legs.
//
// It owns:
//   - the receive path: one epoll reactor per engine on Linux (a reader
//     goroutine per socket elsewhere), preallocated buffers, no allocation
//     per packet; strict source learning (below);
//     RFC 4733 telephone-events reported once per digit; in-band (Goertzel)
//     DTMF detection only while armed (Leg.SetInbandDTMF; off by default,
//     whatever the SDP says); decoding into a jitter buffer keyed on RTP
//     timestamps only where media terminates;
//   - the send path: our own SSRC per leg, sequence +1 per packet, timestamps
//     +160 per 20 ms frame and advancing with the clock across pauses, marker
//     on talk-spurt starts (RFC 3550 §5.1, RFC 3551 §4.1);
//   - the two-party relay fast path: a bridge with exactly two Speak members
//     on the same codec and nothing that needs mixing or a leg's decoded
//     audio forwards each packet, as it is received, straight out of the
//     other leg's socket, rewriting SSRC, sequence number and timestamp so
//     each outbound stream stays continuous across mode changes (RFC 3550
//     §5.1, §7); the telephone-event negotiation does not matter. A
//     recording of such a bridge taps the relay (each packet is also queued
//     for the ticker to decode and write). Any other bridge is decoded and
//     mixed (mix-minus by role) by the ticker;
//   - playback of audio.Sources (queued, optional loop), RFC 4733 or in-band
//     DTMF sending, WAV recording (a leg: mono received, sent or mixed, or
//     stereo received/sent, RecordMode; a bridge: its mix or stereo; pause
//     writes silence), RTCP
//     SR/RR + SDES every 5 s on RTP port + 1 (no rtcp-mux), media timeouts,
//     hold (Direction, RFC 3264 §8.4).
//
// Limits: G.711 (PCMU/PCMA) at 8 kHz with 20 ms packets (the SIP side must
// offer a=ptime:20; the jitter buffer holds one 20 ms packet per slot);
// RFC 4733 digits are relayed between relayed legs that both negotiated
// telephone-event and are otherwise not regenerated across a mixing bridge.
//
// Strict source rule. A leg accepts RTP only after SetRemote, only with the
// negotiated audio or telephone-event payload type, and only from:
//  1. the negotiated remote address (ip:port) - always; the first such
//     packet locks the leg, ending learning; or
//  2. a learned address: while nothing has been accepted yet, a source that
//     sends Config.LearnPackets (default 3) consecutive valid packets (same
//     ip:port, same SSRC, sequence +1) is locked in as the remote's real
//     address (a NAT that rewrote it); our RTP and RTCP then go there
//     (symmetric RTP, RFC 4961). The learning packets before the lock are
//     dropped.
//
// Everything else is dropped silently. SetRemote with a new address starts
// learning again (re-INVITE). RTCP is accepted only from the remote's (or
// learned) IP address.
//
// While nothing plays on a leg outside any bridge, the leg sends nothing (no
// comfort noise): the remote's jitter buffer sees a pause and the next
// frame carries the marker bit. A leg in a mixing bridge sends a frame every
// tick (silence included), like any conference.
//
// Concurrency: on Linux one reactor goroutine per Engine receives RTP and
// RTCP for every leg (its own epoll set over non-blocking sockets; it
// parks in Go's netpoller until a socket is readable, and while packets
// come densely it polls the set every 2 ms instead, so one wake-up serves
// every socket; one recvmmsg per ready socket, one sendto per relayed
// packet, no goroutine wake-up per packet); elsewhere each leg has an RTP and an RTCP
// reader goroutine. One ticker goroutine per Engine does all frame work
// (relayed legs only get housekeeping: media timeouts every 200 ms, RTCP);
// per leg or bridge an event-delivery goroutine exists only while events
// are queued. Lock order: Bridge.mu, then Leg.mu, then the leaf locks (jitter
// buffer, stats, stream, recording); the reactor's table lock is never
// taken under them.
//
// Events (LegEvent) for one leg are delivered in order by one goroutine.
//
// It must NOT import the SIP side (mediacore/native, sipgo), the mediacore
// contract, the controller or any store: mediacore/native imports it, never
// the reverse. It imports mediacore/audio for DSP, pion/rtp and pion/rtcp.
package rtpengine
