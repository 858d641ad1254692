// Package testenv holds the helpers every test uses to find the real peers it
// needs (SIPp, baresip, PostgreSQL, ...), and two buffers tests share:
// SyncBuffer for output written from several goroutines, MemFile for
// writers that seek back to rewrite headers.
//
// A test that needs a missing tool skips with a message on a developer's
// machine; with HOTLINE_REQUIRE_ALL=1 (set by CI) the same test fails instead,
// so a green CI run means the real peers were exercised.
//
// It imports only the standard library and testing; production code must not
// import it.
package testenv
