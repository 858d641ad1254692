// Package postgres is the production store.Store on PostgreSQL through
// pgx/v5, for one or several controller nodes sharing one database.
//
// Open builds a pgxpool.Pool from a URL (any pgx connection string; a
// search_path parameter selects the schema), applies the embedded
// migrations under a transaction-scoped advisory lock, and serves the
// repositories of store/internal/sqlstore through pgx's database/sql adapter
// over that same pool: the repositories are shared with the SQLite store, and
// pool sizing, health checks and connection settings remain pgx's.
//
// It owns the PostgreSQL migrations and the mapping of PostgreSQL errors to
// the store's sentinels. It must not import net/http, gin, another database
// driver, or any hotline package besides controller/store and its internal
// sqlstore.
package postgres
