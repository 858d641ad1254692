// Package mediatest is the conformance suite every media backend passes:
// the same scenarios run against the native core in every test run and
// against FreeSWITCH and Asterisk where one is reachable.
//
// A backend's tests call Run with a Harness. The suite wraps the backend in
// a *mediacore.Core, drives it as the controller would, and uses
// mediatest/sippeer phones (real SIP and RTP over loopback) as callers and
// agents. Audio checks are made on samples with Goertzel
// (mediacore/audio), never on file sizes or timings.
//
// Scenarios: inbound call answered, prompt played, DTMF collected;
// originate to a registered user and bridge; 3-party mix (each hears the
// others and never itself); whisper heard by one member only; listen-only
// member inaudible; stereo recording with a silent pause; hold with music
// (the held party hears it, the other side never does, two-way audio after
// Unhold; a=sendonly only from a ReinviteHolder, otherwise Core's local
// hold); hangup causes mapped; events in order per channel (checked after
// every scenario). Recordings are always read back through
// Core.OpenRecording (no shared disk), never by a path.
//
// Contract version 2 (v2.go): early media heard before answer (Progress)
// and 183 received on an originated leg; from a TransferReporter, REFER
// reported as TransferRequested, accepted (202 and a NOTIFY with a 200
// sipfrag) or refused (603), Replaces resolved to a channel (from any
// other backend: the REFER refused by the switch, no event, AnswerTransfer
// ErrNotSupported, the call untouched); Channels and Bridges listing
// states and members (a locally held channel as held in its bridge);
// variables from X- headers and SetVariable; BridgeJoined/BridgeLeft with
// roles; OpenRecording decoded with the expected tones per RecordSource
// (both: during a prompt; read: without one); in-band DTMF detection
// switched by a DTMFDetector (without one: SetDTMFDetection is nil and
// RFC 4733 digits arrive); and the optional capabilities: a backend that
// claims one (type assertion on the backend) passes its check, one that
// does not gets the Core's fallback or ErrNotSupported (SetTrunks: nil).
// Version 2 operations go through the Core when it offers them (a method
// set check), else straight to the backend, so the scenarios do not
// change when the Core grows them.
//
// It imports mediacore, mediacore/audio and sippeer, never a backend.
package mediatest
