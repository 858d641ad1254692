// Package campaigns will own outbound dialing: contact lists, pacing
// (preview, progressive, predictive), compliance (do-not-call, calling
// hours, abandon-rate cap) and cron-like schedules (R7).
//
// Like hotline/acd it is pure logic: it must not import net, a database
// driver, a media package or any transport; time comes from an injected
// clock. The controller feeds it events and executes its decisions.
//
// Nothing is built here yet: the outbound issue builds it.
package campaigns
