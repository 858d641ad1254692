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
// audit log's filters and order, and optimistic concurrency under racing
// writers.
//
// It imports only the standard library, testing and controller/store; it is
// meant for tests and must not be imported by production code.
package storetest
