// Command harness is the load-test driver of the native media core
// (issue 3, part 6). It runs the "native" mediacore backend through a
// *mediacore.Core, the way the controller will, and for every inbound call:
// answers it, originates to the SIPp answerer given by -callee, and on
// answer bridges both legs (2-party, both RoleSpeak); with -record it also
// records the bridge in stereo. When either side hangs up it hangs up the
// other and destroys the bridge.
//
// Besides "serve" (the default) it has three helper subcommands for
// deploy/loadtest/run.sh, so the script needs no Python:
//   - freeport: prints a UDP port p with p..p+n-1 free (SIPp's media port);
//   - sockstat: prints, for the given PIDs, their UDP sockets' kernel
//     counters (drops and receive-queue bytes from /proc/net/udp), which is
//     how run.sh shows that the core's RTP reaches SIPp (SIPp 3.6.1 never
//     reads its rtp_stream socket, so every packet the core sends to it
//     ends up counted there; see README.md);
//   - checkrecs: checks stereo recordings made by FreeSWITCH or Asterisk
//     in the same load test (run.sh SYSTEM=...) as serve checks its own.
//
// Counters are served as one key=value line on -http (GET /stats), printed
// on SIGUSR1 and on exit; a CPU profile of the whole run is written with
// -cpuprofile, and a windowed one is served at /debug/pprof/profile.
//
// It is a tool, not a library: it imports mediacore, mediacore/native and
// mediacore/audio (to check the recordings) and must NOT import the
// controller, the API, the stores or any other backend.
package main
