// Package webhook delivers CTI events to CRM URLs: the same events as the
// CTI stream (hotline/controller/cti), POSTed as JSON, signed, retried, and
// never blocking the publisher.
//
// It owns the Dispatcher: a set of configured endpoints (URL, secret, event
// type filter), each with its own bounded queue and one worker goroutine.
// Publish marshals an event once and offers it to every endpoint whose
// filter passes it; a full queue drops the event for that endpoint and
// counts it (Stats, and the hotline_webhook_deliveries_total metric with
// result="dropped"). A worker sends one event at a time, in publish order,
// with a per-attempt timeout; it retries with exponential backoff and jitter
// on network errors, timeouts, 5xx, 408 and 429 (honouring Retry-After), up
// to MaxAttempts, and gives up at once on any other status. Redirects are
// followed only for 307/308 to the same scheme and host; anything else is
// the endpoint's answer (a failure, not retried).
//
// # Signature
//
// Each request carries
//
//	Content-Type: application/json
//	X-Hotline-Event: <event type>
//	X-Hotline-Delivery: <endpoint id>/<event seq>   (the same on every retry: deduplicate on it)
//	X-Hotline-Timestamp: <unix seconds when this attempt was signed>
//	X-Hotline-Signature: sha256=<hex>
//
// where <hex> is the lowercase hex HMAC-SHA256, keyed with the endpoint's
// secret, of the bytes
//
//	<X-Hotline-Timestamp value> "." <request body>
//
// A CRM verifies by recomputing it over the raw body, comparing in constant
// time, and rejecting timestamps too far from its clock (Verify does all
// three, with a tolerance such as 5 minutes); the timestamp inside the
// signed content stops a captured request from being replayed later.
//
// It is the only package of the controller's event path that imports
// net/http. It imports hotline/controller/cti (the Event type),
// hotline/internal/clock, the standard library and the Prometheus client;
// it must not import the api, the store or other controller packages.
package webhook
