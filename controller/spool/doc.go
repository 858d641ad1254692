// Package spool is the durable, ordered hand-off of records (CDRs, queue and
// agent events) from call actors to a database that may be down.
//
// It owns two things:
//
//   - Spool: an append-only log of records in one directory, in segment
//     files named by the position of their first record. A frame is a
//     length, a CRC-32C and the record's position, then the payload. Append
//     returns once the record is fsync'd, concurrent appends sharing one
//     fsync (group commit). Open truncates a torn or corrupt tail (a crash
//     mid-write) and reports it in Recovery. Records are acknowledged in
//     order (Ack up to a position, stored in the "ack" file); segments that
//     hold only acknowledged records are deleted; Replay and Reader read
//     from the first unacknowledged record. Positions start at 1 and never
//     repeat across restarts. A LOCK file (flock) keeps a second process
//     out.
//
//   - Writer: producers call Submit, which never waits for the disk or the
//     database (a bounded in-memory hand-off; ErrOverloaded past it). One
//     goroutine appends what was submitted to the Spool, group-committed;
//     another reads durable records in order and writes them to a Sink in
//     batches, acknowledging each batch after Sink.Write succeeds and
//     retrying with backoff (on an injected clock) while it fails. The
//     spool is a write-ahead log for every record, not only while the sink
//     fails: a daemon killed right after a call ended must not lose its
//     CDR, and Sync tells a caller when its records are safe. Records reach
//     the Sink in Seq order, once each, except that a batch written just
//     before a crash (or before a failed acknowledgement) is written again
//     after it: the Sink must upsert by Record.Seq (see Sink). Close writes
//     what the Sink takes before its context ends and leaves the rest on
//     disk; OpenWriter on the same directory writes those first.
//
// The wiring uses it so: the store implements Sink (one table per
// Record.Kind, upsert on seq), the controller opens one Writer per data dir
// at start and Submits CDRs and acd events from call actors and the ACD
// owner, and calls Close on shutdown.
//
// It imports the standard library, hotline/internal/clock and the
// Prometheus client only: no store, no database driver, no net/http, no
// controller package.
package spool
