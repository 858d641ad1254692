// Package freeswitch implements the hotline/mediacore Backend over
// FreeSWITCH's inbound event socket (ESL), for telcos that keep their
// FreeSWITCH switches and put Hotline on top. Register name: "freeswitch".
//
// # Configuration (a media_nodes entry {name, kind: "freeswitch", config: {...}})
//
//	address: 127.0.0.1:8021        # the event socket (required)
//	password: a-long-secret        # required; "ClueCon" is refused
//	allow_remote: false            # a non-loopback address needs true, and a secured link (ESL is plain text)
//	profile: hotline               # sofia profile for sip: endpoints
//	domain: 127.0.0.1              # directory domain of user/ endpoints (default: the address's host)
//	gateway: carrier1              # sofia gateway of tel/ endpoints ("tel/N@gw" picks one)
//	media_dir: /srv/prompts        # where the switch reads MediaFile prompts (default: its sounds_dir)
//	recordings_dir: /srv/rec       # where the switch writes recordings (default: its recordings_dir)
//	shared_recordings_dir: /mnt/fs1/rec   # recordings_dir as Hotline sees it; without it OpenRecording is ErrNotSupported
//	shared_media_dir: /mnt/fs1/prompts    # media_dir as Hotline sees it; without it PutMedia (and TTS) is ErrNotSupported
//	conference_profile: hotline    # mod_conference profile of bridges (deploy/freeswitch)
//	command_timeout: 5s            # one ESL command; a timeout closes and redials the connection
//	watchdog_interval: 5s          # "api status" probe of an idle connection
//	redial_max: 5s                 # backoff cap between redials
//
// deploy/freeswitch holds the dialplan (park every call, unanswered), the
// event socket and conference snippets, with a README for the switch's
// administrator; the tests start their switches with the same files.
//
// # How operations map
//
// Calls enter through the dialplan's park; a CHANNEL_PARK of an inbound
// channel is EventChannelCreated and nothing answers it until the
// controller does. Ring is uuid_ring_ready (180), Progress uuid_pre_answer
// (183), Answer uuid_answer (returns on CHANNEL_ANSWER), Hangup uuid_kill
// with a Q.850 cause name (causes are mapped both ways, from
// sip_term_status when the switch has one). Originate is bgapi originate
// with our own Job-UUID and origination_uuid = the Core's channel id in the
// leg's {variables}; Variables become X- SIP headers (sip_h_X-...); it
// returns on CHANNEL_CREATE, or with the job's error (an unregistered
// user is ErrNotFound). Play is the playback (endless_playback for Loop)
// application sent with sendmsg and tagged with the playback id as
// Event-UUID (its CHANNEL_EXECUTE_COMPLETE is PlaybackFinished): files
// under media_dir, tone_stream:// tones, silence_stream:// silence.
// Record is uuid_record (RECORD_STEREO: the channel left, what it hears
// right; RECORD_READ_ONLY/WRITE_ONLY for Source), pause is mask/unmask
// (silence is written), RECORD_STOP is RecordingFinished. A bridge is
// recorded as the conference's mono mix ("conference <id> record", pause
// is "recording pause", which drops the paused stretch instead of writing
// silence; Stereo of a bridge is ErrNotSupported). Bridges are
// mod_conference rooms named after the bridge id: a member joins with
// uuid_transfer to the inline dialplan "conference:<id>@<profile>,park"
// and leaves with uuid_transfer to park; listen is the member flag mute,
// whisper to X is "relate <whisperer> <other> nospeak" for every other
// member. Hold (the backend is a mediacore.ReinviteHolder) takes the
// channel out of its room, re-INVITEs it with a=sendonly through
// uuid_media_reneg with the one-shot origination_audio_mode=sendonly,
// waits for the answer (switch_r_sdp recvonly/inactive) and loops the
// music with endless_playback; Unhold renegotiates sendrecv and rejoins
// with the role; both emit EventHold/EventUnhold themselves. Not
// uuid_hold: its CF_HOLD/CF_SUSPEND stop the switch sending the channel
// any RTP, so the held party would hear no music. Variables are
// uuid_getvar/uuid_setvar (a name without a value also tries the INVITE's
// X- header). In-band DTMF detection is mod_spandsp's spandsp_start_dtmf/stop_dtmf. sofia
// registrations (sofia::register/unregister/expire) are endpoint events.
//
// Not supported, answered with ErrNotSupported: AnswerTransfer (the
// backend is no mediacore.TransferReporter: ESL offers no hook to accept or
// refuse a REFER, so the SIP profile must set disable-transfer and sofia
// answers every REFER 405 itself, deploy/freeswitch/README.md; the
// channel variable deny_refer_requests is documented for sofia-bridged
// calls only, and a phone's REFER on a parked call still got 202 with it); a looping Play into a bridge
// (a bridge plays with "conference <id> play", finished by its
// play-file-done events in order); stereo recording of a bridge;
// MediaTTS (Core renders it and uploads it through PutMedia); PutMedia
// and OpenRecording without the shared directories (this FreeSWITCH build
// has no mod_http_cache or mod_httapi: the switch can neither fetch an
// http:// prompt nor upload a recording, and ESL cannot carry a file).
// TrunkConfigurer is not offered: gateways are the switch's own config.
//
// # The ESL client and eslgo
//
// The design card names github.com/percipia/eslgo v1.5.2. Its documented
// defects (../shared/DEPENDENCIES.md) sit in its connection: every event
// runs in its own goroutine (order lost), replies are matched to waiters by
// arrival order (a late reply answers the next command), and a malformed
// frame leaves a hung connection. Designing around them inside eslgo's
// Conn would still leave order to a reordering buffer, so the connection is
// this package's own (esl.go): one reader goroutine reads frames in wire
// order and hands events to the backend in that order (Event-Sequence
// drops copies), commands are serialized one at a time with a deadline, a
// timeout or a malformed frame closes the connection, and the backend
// redials with backoff, re-subscribes, reconciles from "show channels as
// json" (checked with uuid_exists, as that list lags) and reports
// BackendDown/BackendUp; a watchdog probes an idle connection. eslgo's
// command package builds the auth, event and api command lines.
//
// It imports hotline/mediacore only, never the controller.
package freeswitch
