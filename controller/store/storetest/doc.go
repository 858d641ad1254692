// Package storetest is the conformance suite every store.Store
// implementation runs from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
//	}
//
// It checks the contract written in controller/store: Meta bookkeeping,
// ErrNotFound / ErrConflict / ErrVersionMismatch, cursor pagination, exact
// round-trip of nested fields and times, token expiry, list matching, the
// audit log's filters and order, optimistic concurrency under racing
// writers, contacts' numbers as unique keys, and the call records:
// idempotent replay, search filters, newest-first order and paging.
//
// It imports only the standard library, testing and controller/store; it is
// meant for tests and must not be imported by production code.
package storetest
