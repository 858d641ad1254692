// Package sippeer is a small SIP phone for tests: a sipgo user agent with a
// real RTP stream per call. It calls and answers (auto-answer or reject with
// a status), registers with digest, streams a tone (G.711 µ-law), sends RFC
// 4733 digits, keeps what it heard for sample-level checks (Goertzel), and
// answers hold re-INVITEs noting the direction asked. For the contract's
// version 2 it receives early media (DialEarly: audio after a 183 with
// SDP, before the answer), sends it (Config.EarlyMedia), sends REFER in a
// dialog (Refer, ReplacesParam) and keeps the NOTIFYs it gets
// (WaitNotify).
//
// It is a peer for the conformance suite against any backend (native,
// FreeSWITCH, Asterisk), so it speaks plain SIP and RTP and must not import
// any backend package; it may import mediacore/audio for G.711 and tones.
// It is not for production use: no retransmission tuning, no NAT, loopback
// only.
package sippeer
