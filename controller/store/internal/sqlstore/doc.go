// Package sqlstore is the one implementation of store.Store over
// database/sql that both store/sqlite and store/postgres use.
//
// The configuration repositories do the same thing in both databases:
// plain tables with a column per scalar field and a JSON column per nested
// slice or struct, optimistic versioning in the UPDATE's WHERE clause, and
// keyset pagination on the time-ordered ID (contacts keep their numbers in
// a contact_numbers side table, written in the same transaction, which
// makes a number unique). The call records (records.go) keep their
// searchable fields as columns and the whole record as JSON text, written
// by upsert. What differs between the dialects is small and lives in
// Dialect: placeholder syntax, how a time is bound, and which driver errors
// mean "conflict" or "unavailable". PostgreSQL reaches database/sql through
// pgx's stdlib adapter on top of a pgxpool.Pool, so pool tuning, the
// search_path and health checks stay pgx's.
//
// Times are stored in UTC with microsecond precision (PostgreSQL's
// timestamptz resolution): the store truncates every time it writes, so
// what is read back equals what was written.
//
// It must not import a database driver (the dialect packages do) nor any
// hotline package but controller/store.
package sqlstore
