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
// Built so far: AgentCredentials, which lets the native core's registrar
// authenticate agent phones against the HA1s in the store. Call routing
// arrives with the controller issue; the store interfaces live in
// controller/store.
package controller
