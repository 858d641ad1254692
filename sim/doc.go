// Package sim is `hotline sim`: a traffic simulator that keeps its own
// ground truth and checks Hotline's reports against it (issue 11).
//
// It owns:
//   - Traffic generation (Generate): Poisson arrivals at a rate (fractions
//     allowed), exponential patience and lognormal handle times, all drawn
//     from one seeded generator: the same seed gives the same traffic.
//   - The ground truth (Truth, CallTruth): for every call its arrival,
//     queue entry, answer or abandon time, agent and talk time, as the
//     simulator saw them.
//   - The reconciliation (Expect, Observe, Reconcile): the figures of
//     docs/METRICS.md computed from the ground truth, as ranges that allow
//     for measurement tolerance around thresholds, compared figure by
//     figure with Hotline's report; every difference is printed and makes
//     Run return ErrMismatch (a non-zero exit).
//   - Simulate: the same traffic served in virtual time by a model queue
//     (FIFO, longest-idle agent), producing the ground truth and the event
//     log Hotline would write, for tests of the reports without a daemon.
//   - The live driver (Run): agents as SIP phones (sippeer) logged in over
//     REST, callers dialing the queue's number and abandoning after their
//     patience, against a Hotline instance (--target, --sip).
//   - What a run shows while it runs: a Snapshot each second (its own
//     counts, Hotline's real-time figures, in load mode the daemon's RSS
//     and goroutines from /metrics), drawn by the live terminal view
//     (RenderView, a pure function, run by bubbletea) or printed as a
//     ProgressLine; in load mode a LoadSummary at the end.
//
// It imports the standard library, hotline/controller/store and
// hotline/controller/reports (record and report types), the SIP test
// peer hotline/mediacore/mediatest/sippeer, and the terminal libraries
// bubbletea, lipgloss and x/term; it must not import the
// controller, the api or a media backend: it talks to Hotline over HTTP
// and SIP only.
package sim
