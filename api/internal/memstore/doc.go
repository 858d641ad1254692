// Package memstore is an in-memory implementation of store.Store for the
// api package's tests. It is small but honest: it enforces unique keys
// (ErrConflict), optimistic versions (ErrVersionMismatch), ID-ordered cursor
// pagination and token expiry exactly as the store contract in
// controller/store describes, so api tests exercise the same error paths a
// real database produces. SetDown makes every call fail with
// store.ErrUnavailable, to test outage handling.
//
// It is internal to api/ and imports only the standard library and
// controller/store; production code must not use it.
package memstore
