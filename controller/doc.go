// Package controller is Hotline's brain: one actor (goroutine) per call that
// routes it through IVR, queue and agent; agent sessions; recording policy;
// the CDR and event log; real-time statistics and reporting.
//
// It drives the media core only through hotline/mediacore's concrete Core
// and never imports a backend (mediacore/native, adapters/*); it feeds the
// pure routing engine hotline/acd and the outbound engine hotline/campaigns
// events and executes their decisions; it persists through the interfaces of
// hotline/controller/store. It must not import net/http or gin: the HTTP
// surface lives in hotline/api, above it.
//
// Built so far:
//
//   - Controller, the owner of configuration and live state. Its
//     repositories (Users, Agents, ..., Lists) are the only way the API
//     writes configuration: a write is committed to the store, which
//     records it in the change feed (store.ChangeFeed) in the same
//     transaction, and before the write returns the controller applies
//     every change it has not applied yet, in revision order: agents and
//     queues to the ACD engine, trunks to the media core (Options.Media,
//     Core.SetTrunks: the whole stored set once per batch), numbers to the
//     live route table (Routes). Changes committed by other nodes on the
//     same database arrive through store Watch (PostgreSQL LISTEN/NOTIFY)
//     and a catch-up read every DefaultCatchUp, and are applied the same
//     way. Applying a change reloads the record, so it is idempotent.
//
//   - ACD, the owner of the acd.Engine: one goroutine, a mailbox (Do), the
//     engine's NextDeadline armed on an injected clock (no polling), and
//     every engine event published in order to Options.OnACDEvents, where
//     the call actors will take their decisions from. Stored queues map to
//     acd.QueueConfig (members that are disabled agents are left out; a
//     disabled or deleted agent is logged out); stored agents to
//     acd.AgentConfig.
//
//   - AgentCredentials, which lets a registrar authenticate agent phones
//     against the HA1s in the store; it reads the store on every lookup, so
//     a changed password or a disabled agent counts from the next REGISTER.
//
//   - CallCenter, the call path (callcenter.go,
//     call.go, routing.go, ivrsession.go, queue.go, recording.go,
//     callback.go, agents.go). One goroutine (a call actor) owns each
//     call and reads one mailbox in order: the media events of its
//     channels (the Core's Handler calls HandleMedia), the ACD's decisions
//     about it (Options.OnACDEvents calls HandleACD, which only posts),
//     its timers (on the injected clock) and live-control commands.
//     Nothing blocks a call on the database: CDRs, the event log and
//     recordings' metadata go to a Journal that never blocks; routing
//     reads lists and schedules with a short bound and fails open.
//     Routing: blacklist (busy or reject), unknown number (404, counted),
//     VIP, schedule (closed, holiday, extra workday; after hours), route.
//     IVR flows run in the actor (ivr.Run over ivrSession). Queues: music
//     on hold, position announcements, KeyCallback and KeyVoicemail,
//     offers rung near the caller with the screen pop published first,
//     bridge with DTMF detection off, recording by policy (always stereo,
//     caller left), overflow. Agents: sessions (device, state, calls
//     today) and the LiveControl methods with their permission rules.
//     Wrap-up seconds in a CDR are the queue's configured wrap-up (the
//     event log holds the actual end of each agent's wrap-up).
//
//   - Conference rooms (conference.go, conferencecall.go): one actor per
//     live room owns its bridge (mix-minus; muted members listen), entry
//     and exit tones, dial-outs and its recording; callers reach a room
//     through a number routed to {conference, <id>} and its PIN.
//
//   - What persists and serves the call path (seams.go): SpoolJournal
//     (journal.go: CDRs, the event log and recordings' metadata through
//     the local fsync'd spool of controller/spool to the store, idempotent
//     on replay), DirRecordingStore (recstore.go), StoreDirectory
//     (directory.go: screen pop from the contacts, or a CRM through
//     controller/crmhttp), StoreFlows (flows.go: stored IVR flows, parsed,
//     validated and cached by version), and the Contacts, IVRFlows, CDRs,
//     QueueEvents and Recordings repositories (records.go).
//
//   - Supervisor actions (supervise.go, SupervisorControl, R5.2): a
//     supervisor's device rung as a "supervisor" leg near the caller and
//     attached to the agent with mediacore.Core.Snoop in listen, whisper
//     or barge mode, switched live; force hangup; recording on demand;
//     supervisors act on the calls and agents of their team only.
//
//   - Voicemail and the post-call survey (voicemail.go, survey.go):
//     boxes per agent or queue (store.VoicemailBox) picked by a voicemail
//     target, by the queue of that name, or by the agent of an extension
//     that did not answer; the message stored and e-mailed
//     (CallCenterOptions.Mailer, off the call actor); the PIN-protected
//     phone menu (store.TargetVoicemailAccess); a queue's or number's
//     Survey keeps the caller after the agent hangs up and puts the 1-5
//     score on the CDR.
//
//   - PBX features (pbx.go, R1.6, R1.7): extension-to-extension calls,
//     forward (always, busy, no answer) and do-not-disturb per extension
//     (store.Agent.PBX), follow-me of queue offers and extension calls to
//     the agent's mobile through a trunk, ring groups (simultaneous,
//     sequential), group and directed pickup (*8, **<ext>, PickUp), call
//     parking on slots 701-719 with retrieve and timeout back to the
//     parker (a transfer to 700, Park), and the work number announcement
//     on answer. The call path reaches them through small hooks (route,
//     execute, dial, offer, connectAgent, HandleMedia).
//
// Subpackages: ivr (flow graphs), cti (the event hub behind the WebSocket),
// spool (durable ordered hand-off), webhook (signed deliveries to CRMs),
// reports (historical figures from the CDRs and the event log), crmhttp,
// store.
//
//   - Agent call control from the desktop (callcontrol.go): hangup, hold
//     and retrieve, DTMF, mute, blind transfer (agent, queue, IVR flow,
//     extension, external number), consultation with complete, cancel or
//     three-way conference, disposition and notes (also during wrap-up),
//     the end of wrap-up, and click-to-dial; each one a command in the
//     call's mailbox, on the CTI stream and in the CDR.
//
// Not yet: leader election among several nodes (today every node runs its
// own ACD from the same configuration; only configuration is shared),
// attended transfers from a phone (REFER with Replaces is refused; blind
// transfers from a phone are carried out; the desktop's consultation
// covers the attended case).
package controller
