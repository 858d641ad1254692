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
// member inaudible; stereo recording with a silent pause; hold with music;
// hangup causes mapped; events in order per channel (checked after every
// scenario).
//
// It imports mediacore, mediacore/audio and sippeer, never a backend.
package mediatest
