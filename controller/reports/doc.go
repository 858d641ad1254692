// Package reports computes Hotline's historical reports (R8.2, R8.3, R8.5)
// from the call detail records and the queue and agent event log, under the
// definitions of docs/METRICS.md.
//
// It owns:
//   - Aggregator: fed records as they arrive (AddEvent in Seq order,
//     AddCDR), idempotent (an event at or below the highest Seq applied
//     and a CDR id already applied are ignored), rebuildable from scratch
//     (Build). It keeps 15-minute buckets on UTC quarter hours per queue,
//     agent, number (DID) and trunk, so any report is a sum of buckets.
//   - Reports per queue, agent, number and trunk over a range in a time
//     zone, in local wall-clock intervals (15m, 30m, 60m, day, week,
//     month, total; DST-correct), week-on-week comparison, abandoned-call
//     detail and agent ranking; CSV output.
//
// It is pure: no I/O, no database, no clock, no logging. It imports the
// standard library and hotline/controller/store (for the record types)
// only; it must not import the api, other controller packages or the
// media layer. The owner feeds it from the event log and the CDR journal.
//
// Aggregator is safe for concurrent use: one writer (the owner feeding
// records) and many readers (report requests) share it under a RWMutex.
//
// No .xlsx output: no maintained spreadsheet library is in go.sum, and the
// project avoids new dependencies; CSV opens in every spreadsheet.
package reports
