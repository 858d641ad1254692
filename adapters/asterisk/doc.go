// Package asterisk implements the hotline/mediacore Backend over Asterisk's
// REST interface (ARI), registered as backend "asterisk", for telcos that
// already run Asterisk (tested against Asterisk 22.10).
//
// It owns the ARI side of one Asterisk node:
//   - calls enter through Stasis(app) (deploy/asterisk/extensions.conf):
//     StasisStart -> ChannelCreated; nothing is answered until Core says so.
//     Ring (channels/{id}/ring), Progress (channels/{id}/progress: 183 with
//     early media), Answer, Hangup (reason_code = the cause's Q.850 value),
//     DTMF both ways, variables (channels/{id}/variable; X- headers of the
//     INVITE through PJSIP_HEADER(read,...)).
//   - Originate with Core's channel id: channels/create (the channel is in
//     the app before it dials; the adapter waits for its StasisStart) then
//     channels/{id}/dial with the ring timeout. user/NAME -> PJSIP/NAME (an
//     endpoint with a reachable contact, else ErrNotFound), tel/N[@trunk] ->
//     PJSIP/N@trunk (config trunk by default), sip:... -> PJSIP/<sip_endpoint>/sip:...;
//     variables become channel variables and X- headers. Dial events give
//     Ringing, Progress and the cause of a failed leg.
//   - playbacks: sound: files (media_dir), tone: (stopped after its
//     duration), silence as a timed pause without an ARI playback,
//     uploaded prompts (MediaUploader: an in-memory HTTP server in the
//     adapter that Asterisk fetches "sound:http://..." from through
//     res_http_media_cache; no shared disk). No TTSPlayer: Core renders
//     TTS and uploads it. A tone: playback drops what the channel sends
//     before its snoops see it (Asterisk 22.10 reads the channel with
//     ast_read_noaudio meanwhile), so while a recording hears a channel's
//     "in" direction its tones are rendered by the adapter and served by
//     the same prompt server as WAV files, which keep the caller in the
//     recording (tone.go).
//   - recordings through snoop channels (spy both/in/out per
//     RecordRequest.Source), pause = ARI mute (Asterisk writes silence),
//     audio fetched with GET /recordings/stored/{name}/file. Asterisk
//     records mono: no StereoRecorder, Core assembles stereo.
//   - mixing bridges (with DTMF events); RoleListen = bridge mute;
//     RoleWhisper and Snoop (Snooper, Whisperer) through snoop channels and
//     hidden bridges (ids "hl-...", fresh per snoop path; a new Snoop of the
//     same spy replaces its old path). No ReinviteHolder: chan_pjsip has no
//     ARI call for a hold re-INVITE, so Core holds locally (out of the
//     bridge, music looped, EventHold/EventUnhold from Core); the
//     backend's own Hold (hold indication + music) is not used by Core.
//   - REFER: not a mediacore.TransferReporter. Asterisk 22.10 emits no
//     ChannelTransfer for Stasis calls: it carries out the REFER of a
//     bridged call itself (Local channels, behind Hotline's back), so
//     deploy/asterisk sets allow_transfer = no and phones get 603; a
//     ChannelTransfer event is ignored, no TransferRequested is emitted
//     and AnswerTransfer answers ErrNotSupported. Hotline transfers
//     through its own API.
//   - registrations: ContactStatusChange of PJSIP endpoints ->
//     EndpointRegistered/Unregistered ("user/NAME").
//
// The library's defects (../shared/DEPENDENCIES.md) are designed around by
// using github.com/CyCoreSystems/ari/v6 for its event models and decoder
// (ari.DecodeEvent, which in v6 returns an error for an unknown type
// instead of crashing) and the adapter's own transport: REST requests with
// ctx and a per-command deadline (the library's have neither), a WebSocket
// dial with a timeout, one reader goroutine that hands events to the sink
// in arrival order (no 100-slot bus that drops), a ping watchdog, redial
// with backoff, reconcile with GET /channels and /bridges, and
// BackendDown/BackendUp. The library's golang.org/x/exp/slog logging is
// never used, so nothing needs adapting; the adapter logs to the injected
// log/slog logger and never logs the ARI password.
//
// Configuration (media_nodes[].config when kind is "asterisk"):
//
//	url: http://127.0.0.1:8088/ari   # ARI base URL (https for remote hosts)
//	user: hotline                    # ari.conf user
//	password: ...                    # never logged
//	app: hotline                     # Stasis application (default hotline)
//	allow_insecure_remote: false     # accept plain http to a non-loopback host
//	command_timeout: 5s              # one ARI request
//	dial_timeout: 5s                 # the events WebSocket dial
//	ping_interval: 5s                # watchdog
//	max_backoff: 5s                  # redial backoff cap
//	sip_endpoint: hotline            # PJSIP endpoint for sip: URIs
//	trunk: ""                        # PJSIP endpoint for tel/ without @trunk
//	media_dir: ""                    # prompts on the Asterisk host (sound:<dir>/<file>)
//	media_listen: 127.0.0.1:0        # the prompt server
//	media_url: ""                    # how Asterisk reaches it (default http://<listen>)
//	music_class: default             # MOH class for Hold without music
//
// It imports hotline/mediacore (and its audio package, to render tones),
// the ARI library and golang.org/x/net/websocket;
// it must not import the controller, the API or another backend.
package asterisk
