// Package mediacore is the contract between the Hotline controller and the
// media core that carries audio, plus the concrete *Core the controller uses.
//
// It owns:
//   - Backend: the interface a media backend implements (the native Go SIP/RTP
//     core in mediacore/native, FreeSWITCH over ESL, Asterisk over ARI). It is
//     modelled on ARI's resources: channels, bridges, playbacks, recordings.
//   - the optional capabilities, found by type assertion (database/sql/driver
//     style): Snooper, Whisperer, TTSPlayer, MediaUploader, StereoRecorder,
//     ReinviteHolder, DTMFDetector, TrunkConfigurer, TransferReporter.
//     Core.Capabilities says what a node has and what works through the fallbacks below.
//   - Event and Cause: the neutral event stream and hangup causes, mapped from
//     SIP status codes (RFC 3261 §21) and Q.850 cause values (RFC 3398 §7.2.4).
//   - Endpoint: neutral addressing ("user/1001", "tel/+8610...", "sip:...") and
//     the validation of everything that can reach a dial string.
//   - the backend registry: backends call Register from an init function and
//     the configuration picks one with Open (FactoryOptions carries the node
//     name and Services such as credentials and trunks).
//   - Core: what the controller calls. It validates input, applies per-call
//     timeouts, counts metrics and delivers events in order per channel
//     through one unbounded mailbox per channel, so a slow consumer delays its
//     own channel's events but never loses any and never blocks the backend.
//     Events Core makes up itself (node loss, reconcile, local hold, the end
//     of an assembled stereo recording) go through the same mailboxes, in
//     order with the backends' own.
//
// # Nodes
//
// One Core drives one or several media nodes (NewNodes; New is one node
// named after its backend), possibly of different kinds at once. Every
// event carries Event.Node. Node names pass ValidateID, are at most
// MaxNodeNameLen bytes and are unique.
//
// Ids. Channel, bridge, playback and recording ids are unique across the
// Core, and every command goes to the node that owns its id:
//   - Core assigns the id of everything it starts: Originate (req.ChannelID,
//     or NewID("ch") when empty), Play and Record (req.ID, or a random id),
//     CreateBridge (the caller's id). The id is registered on its node before
//     the backend is asked, so a ChannelCreated the backend emits inside
//     Originate reaches the Handler with an id Core knows, and the call
//     counts on its node while it is being set up. An id Core already holds
//     is ErrInvalidArgument.
//   - Ids a backend chooses (inbound channels, its own bridges) keep their
//     value when no other object of the kind holds it; on a collision (two
//     Asterisk nodes count ids alike) the later one is "<node>.<id>", and an
//     id that does not pass ValidateID (or grows too long) becomes
//     "<node>.h<hash>". Core translates ids both ways, so backends only ever
//     see their own and the controller only Core's (ValidateID holds for
//     both). An ended channel keeps its id for Options.MailboxLinger (late
//     events), a finished recording for Options.RecordingLinger
//     (OpenRecording).
//   - A Core with one node passes an id it does not know to that node
//     unchanged (the backend answers ErrNoSuchChannel and the like), as
//     before nodes existed; with several nodes an unknown id is
//     ErrNoSuchChannel (ErrNoSuchBridge, ...) without asking any node.
//
// Placement. Originate uses req.Node when set (ErrNoSuchNode if unknown),
// else the node of req.Near (the leg will be bridged to that channel), else
// Options.Placement, by default LeastLoaded: the up node with the fewest live
// channels. A node that is down is never used (ErrBackendUnavailable).
// A user/ endpoint that other nodes report registered but the chosen node
// does not is dialled from the chosen node at its registered contact
// (reach.go), so an agent registered on any node can be rung near a caller
// on any other.
// Core.Nodes reports each node's kind, up/down and live channel count
// (also the metrics hotline_media_node_up and hotline_media_node_channels).
//
// Bridges. With one node CreateBridge creates the bridge at once. With
// several it only reserves the id: the first AddToBridge creates the bridge
// on that channel's node (CreateBridgeOn places it explicitly). Channels of
// two nodes never share a bridge: AddToBridge answers ErrNotSupported, and
// the controller originates legs with Near to keep a call on one node.
// Membership (Core.BridgeOf) follows Core's own commands and the backends'
// EventBridgeJoined/EventBridgeLeft.
//
// Node loss and reconcile. Core counts each node's live channels from the
// events. On a node's BackendDown it starts a timer (Options.NodeLostAfter,
// 30 s by default, on Options.Clock): if it fires first, every channel Core
// believed alive there gets a Hangup with CauseNodeLost (SIP 503, Q.850 38),
// the node's bridges are forgotten, and later events of those channels are
// dropped. If BackendUp comes first, Core lists the node's channels
// (Backend.Channels) and ends with CauseNodeLost each one it believed alive
// that the node no longer has; channels it did not know are adopted.
// Core.Channels and Core.Bridges list all nodes for a controller that
// rebuilds its view (standby, restart), with Node filled.
//
// # Capabilities and their fallbacks
//
//   - Whisper (RoleWhisper in AddToBridge/SetMemberRole, SnoopWhisper): needs
//     a Whisperer node, else ErrNotSupported. Snoop on a Snooper node is the
//     backend's; otherwise the spy joins the target's bridge as listen,
//     whisper (Whisperer only) or speak.
//   - TTS (MediaTTS in Play and Hold music): a TTSPlayer node plays it itself.
//     Otherwise Core renders it with Options.TTS (a Synthesizer), uploads it
//     once per node through MediaUploader as TTSMediaName(voice, text)
//     ("tts/<sha256>.wav"; cached, forgotten when the node comes back from
//     down) and plays that file. Without either: ErrNotSupported.
//   - Stereo recording of a channel: a StereoRecorder node records it itself.
//     Otherwise Core starts two mono recordings (RecordRead, RecordWrite)
//     under one RecordingID; Pause, Resume and Stop act on both; the parts'
//     events are hidden and one RecordingFinished (empty Path) follows when
//     both have finished; OpenRecording assembles the stereo WAV (left: the
//     far end, right: what it hears) with mediacore/audio. Stereo of a bridge
//     needs StereoRecorder (ErrNotSupported).
//   - Hold: a ReinviteHolder node signals the far end (re-INVITE a=sendonly)
//     and plays the music. Otherwise Core holds locally: it takes the
//     channel out of its bridge, loops the music into it and emits
//     EventHold; Unhold stops the music, puts the channel back with its role
//     and emits EventUnhold. The far end is not told and keeps sending audio
//     to the node; the music's own PlaybackFinished is hidden. Core.Channels
//     lists such a channel as ChannelHeld in the bridge it returns to, and
//     Core.Bridges lists it there with its role, as a ReinviteHolder node's
//     would be (the backend alone reports it up and out of the bridge).
//   - Transfer requests (a phone's REFER): a TransferReporter node reports
//     them as EventTransferRequested and answers them with AnswerTransfer.
//     Any other node's switch refuses REFER itself (never executes it), no
//     EventTransferRequested comes, and AnswerTransfer answers
//     ErrNotSupported; transfers then go through the controller's API only.
//   - DTMF detection (Core.SetDTMFDetection): passed to a DTMFDetector node;
//     on another node it returns nil and the backend decides.
//   - Trunks (Core.SetTrunks): applied to every TrunkConfigurer node; others
//     keep their own configuration.
//
// Recording audio (Core.OpenRecording) comes from the node that recorded it:
// opening is bounded by the command timeout, reading only by the caller's
// ctx, until the reader is closed.
//
// mediacore/mediafake is a behaviour-level fake Backend for fast controller
// tests; the native core stays the real thing in end-to-end tests.
//
// It must NOT import any backend (mediacore/native, adapters/*), the
// controller, the API, the store, or any SIP/ESL/ARI library: backends import
// this package, never the reverse. It imports mediacore/audio (WAV code for
// the stereo fallback) and internal/clock.
package mediacore
