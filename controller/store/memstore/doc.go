// Package memstore is an in-memory implementation of store.Store for tests
// of the controller and api packages. It is small but honest: it enforces unique keys
// (ErrConflict), optimistic versions (ErrVersionMismatch), ID-ordered cursor
// pagination and token expiry exactly as the store contract in
// controller/store describes, so api tests exercise the same error paths a
// real database produces. SetDown makes every call fail with
// store.ErrUnavailable, to test outage handling.
//
// Its change feed numbers every configuration write like the SQL stores
// do, and Watch wakes on every write (one process only).
//
// It imports only the standard library and controller/store; production
// code must not use it.
package memstore
