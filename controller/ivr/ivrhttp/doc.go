// Package ivrhttp is the net/http implementation of ivr.Lookuper, which
// performs the requests of IVR http nodes (balance enquiries and other data
// lookups, R2.3).
//
// It owns the HTTP client policy of those lookups: a per-request timeout,
// a bound on the response size, no cookies, a bounded number of redirects.
// It imports net/http and hotline/controller/ivr only; the ivr package
// itself must not import it (ivr stays free of net/http), the daemon wires a
// *Client into ivr.Env.
package ivrhttp
