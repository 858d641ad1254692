// Package store defines what the controller persists and the small,
// ctx-first interfaces through which it does so: one repository per
// aggregate (users, tokens, agents, skills, queues, numbers, trunks,
// schedules, lists, contacts, IVR flows, audit log), gathered by the Store
// interface, and the call path's records (records.go): call detail records,
// the queue and agent event log and recordings' metadata. Those are written
// by the controller's journal, never edited: Put is an upsert by ID (for
// events, an append that skips a (Source, Pos) already stored, the store
// numbering events in commit order), so a batch replayed after a crash
// leaves one copy; searches of CDRs and recordings
// run newest first with opaque cursors (TimeCursor).
//
// Implementations live in sub-packages: store/sqlite (embedded, pure Go,
// the zero-setup default for one node) and store/postgres (pgx/v5, for
// production and several controller nodes). Both pass the one conformance
// suite in store/storetest. Migrations are embedded SQL applied on start.
//
// Optimistic concurrency: every aggregate carries a Version; Update and
// Delete take the version the caller read and fail with ErrVersionMismatch
// when someone else wrote in between, so two admins never silently overwrite
// each other (the API maps it to 412 / 409).
//
// Change feed: every committed create, update or delete of configuration
// (not tokens, not the audit log, not the call records) appends a Change with the next revision
// to the changes table in the same transaction (on PostgreSQL under an
// advisory transaction lock, so revisions are gapless and in commit order).
// Followers read Changes after the revision they applied; Watch wakes them
// after a commit of this process and, on PostgreSQL, of any node (LISTEN/
// NOTIFY on channel hotline_changes, payload the schema).
//
// This package holds types and interfaces only. It must not import net/http,
// gin, any database driver, or any other hotline package.
package store
