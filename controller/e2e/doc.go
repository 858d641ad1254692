// Package e2e holds the controller's end-to-end tests over real media
// nodes: the inbound call path (caller -> number -> IVR -> queue -> agent,
// stereo recording, CDR) run unchanged on the native core, a real
// FreeSWITCH and a real Asterisk, and the mixed center where one Hotline
// drives the three at once with one queue.
//
// It has no code of its own: the tests live here, apart from package
// controller, so that their real switches (started with peers.sh, see
// internal/testenv.PeersScript) and their tens of seconds of real time run
// in parallel with the controller's own test binary. A missing switch
// skips, or fails under HOTLINE_REQUIRE_ALL=1.
package e2e
