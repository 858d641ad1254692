// Package mediafake is a behaviour-level media backend for fast controller
// tests: a real mediacore.Backend (not a mock) whose channels ring, answer,
// hang up, play and record on a virtual clock, with events in order.
//
// Hand Fake.Backend() to mediacore.New or NewNodes, drive the far ends with
// the test helpers, and advance the clock.Fake given in Options.Clock:
//
//	clk := clock.NewFake(time.Time{})
//	f := mediafake.New(mediafake.Options{Clock: clk})
//	core, _ := mediacore.New(f.Backend(), mediacore.Options{Handler: h, Clock: clk})
//	_ = core.Start(ctx)
//	ch := f.Inbound("13800000000", "4001")   // ChannelCreated
//	f.SetAnswer("user/1001", mediafake.AnswerAfter(3*time.Second))
//	clk.Advance(3 * time.Second)             // Answered, PlaybackFinished...
//
// What it does:
//   - channels: inbound (Inbound, InboundCall) and originated; an
//     endpoint's far end answers after a delay, on command (AnswerCall),
//     never (rings out, CauseNoAnswer) or rejects (busy...), or is
//     unreachable (SetAnswer, Options.DefaultAnswer); ChannelCreated and
//     Ringing are emitted inside Originate, as a fast backend may.
//   - Ring, Answer, Progress (early media), Hangup and RemoteHangup (the far
//     end), DTMF both ways (SendDTMF logged, PressDTMF emits EventDTMF).
//   - Play: PlaybackFinished after the media's duration on the clock (tone
//     and silence Duration, a file's from Options.FileDurations, an uploaded
//     WAV's length, or DefaultFileDuration); Loop plays until stopped.
//   - Record: RecordingFinished on stop or the channel's end, with a WAV of
//     the right length that OpenRecording returns: the far end's direction
//     holds Options.ReadTone, the other Options.WriteTone (pauses silent),
//     so a test can tell directions apart with audio.Goertzel.
//   - bridges with roles, BridgeJoined/BridgeLeft events; Hold/Unhold;
//     channel variables (inbound headers and originate variables
//     included); REFER (Refer emits TransferRequested, AnswerTransfer is
//     recorded: TransferAnswer); endpoint (un)registration; node outage
//     (Down, Up, Forget a channel as a restarted node does); Channels and
//     Bridges listings; a log of every command (Calls, CallsOf); injected
//     command errors (Fail).
//   - Options.Caps chooses the optional capabilities it claims (Snooper,
//     Whisperer, TTSPlayer, MediaUploader, StereoRecorder, ReinviteHolder,
//     DTMFDetector, TrunkConfigurer), so *mediacore.Core's fallbacks run
//     against it; caps_gen.go (go generate) holds one wrapper type per
//     subset, because a type assertion sees only declared methods.
//
// It carries no audio in real time and speaks no SIP: the native core
// (mediacore/native) stays the real thing in end-to-end tests and the
// conformance suite.
//
// It imports mediacore, mediacore/audio, internal/clock and the standard
// library only; production code must not import it.
package mediafake
