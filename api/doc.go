// Package api serves Hotline's administration REST API under /api/v1 (R10.2,
// R12.1) and the operational endpoints /healthz, /readyz and /metrics.
//
// It owns:
//   - the route table (routes.go): every route's method, path, allowed roles,
//     request and response schema and handler live in one entry, and both
//     the gin router and the OpenAPI 3.1 document (GET /api/v1/openapi.json)
//     are built from it. A route without an explicit access rule cannot be
//     registered: New fails (deny by default);
//   - authentication: bcrypt user passwords, login sessions and API tokens
//     ("hl_" + base64url of 32 random bytes, stored as SHA-256 hashes), a
//     per-username+address login lockout, and the bootstrap admin token;
//   - role-based access per route (the matrix is documented in routes.go).
//     Tokens: every user lists, creates and revokes its own; an admin sees
//     and revokes all and may create one for another user (user_id);
//   - strict JSON decoding (decode.go: malformed JSON, unknown fields and
//     wrong types are told apart and located by JSON path) and validation of
//     every resource (validate.go, resources.go), with the one place
//     (errors.go) that maps errors to HTTP statuses and the error body
//     {"error":{"code","message","field"}};
//   - optimistic concurrency: answers carry ETag: "<version>"; PUT (a full
//     replacement: omitted fields take their defaults, write-only secrets
//     are kept) and DELETE need If-Match or the version (PUT body "version",
//     DELETE ?version=), If-Match winning when both are sent; neither is 428,
//     a stale one 412. A record read with GET is a valid PUT body;
//   - referential checks: deleting a record others refer to, or renaming a
//     referenced skill, is a 409 (refs.go);
//   - cursor pagination (?limit=&after=, answer {"items":[...],"next":""});
//   - the audit trail of every change by an authenticated user (refused
//     ones included) and of every login attempt;
//   - request ids, JSON access logs and Prometheus metrics;
//   - the customer directory (/api/v1/contacts) and IVR flows
//     (/api/v1/ivr-flows: the document is kept as sent, validated with
//     ivr.Parse and ivr.Validate; a refusal names the node, e.g.
//     "flow.nodes.menu1.choices.1"), both CRUD like the other
//     configuration (records.go);
//   - the call records the journal wrote: /api/v1/cdrs (search, newest
//     first, opaque cursors; ?format=csv streams every match with a header
//     row), /api/v1/queue-events (seq order, after_seq paging) and
//     /api/v1/recordings (an agent sees only its own calls'), whose
//     /audio serves the WAV from Options.RecordingStore with range
//     requests and audits every listen or download (records.go);
//   - the live surface through Options.Live (a controller.LiveControl;
//     503 without one): agents' states, live calls, recording pause and
//     resume, mapping the call path's sentinels (illegal transition 409
//     with the reason, forbidden 403, no such call 404, not recording 409)
//     (live.go), GET /api/v1/webhooks (the configured endpoints and their
//     counts, never their secrets);
//   - the supervisor actions (supervise.go, controller.SupervisorControl):
//     GET/POST/PUT/DELETE /api/v1/calls/{id}/supervise (listen, whisper,
//     barge, switched live), force-hangup and recording/start, for admins
//     and supervisors (the call path narrows a supervisor to its team),
//     audited with the mode and device in the detail;
//   - the CTI WebSocket /api/v1/events (events.go, github.com/gobwas/ws):
//     the token as a Bearer header or ?token=, ?since=N replay through
//     cti.Hub.Subscribe, the role filter cti.ForPrincipal, pings, and a
//     slow reader that falls behind instead of blocking anyone;
//   - voicemail (voicemail.go): boxes (/api/v1/voicemail/boxes, CRUD, the
//     PIN write-only) and messages (/api/v1/voicemail: list per box, get,
//     /audio with range requests, PATCH state, DELETE; an agent reaches
//     only its own box).
//
// Defaults of every resource live in defaults.go.
//
// It reads and writes only through the small Controller interface (server.go),
// which *controller.Controller implements: every create, update and delete
// of configuration goes through the controller, which writes the store and
// applies the change to its live state (ACD, media trunks, number routes)
// before the API answers. From controller/store it uses only types and
// sentinel errors. The import direction is cmd -> api -> controller. It must
// not import a database driver or a store implementation (the
// controller/store sub-packages and the controller appear in tests), nor
// any media core backend; it derives agents' HA1s with internal/sipdigest.
package api
