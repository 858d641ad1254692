// Package sqlite is the embedded store.Store: one SQLite file through the
// pure-Go modernc.org/sqlite driver, the zero-setup default for a single
// controller node.
//
// Open applies the embedded migrations and returns a Store with two pools on
// the file: a write pool of exactly one connection (SQLite has one writer at
// a time; queueing writers in Go instead of spinning on SQLITE_BUSY keeps
// latency flat) and a read-only pool for queries, which WAL lets run while a
// write is in progress. The repositories are those of store/internal/sqlstore.
//
// It owns the SQLite DSN, pragmas and migrations. It must not import net/http,
// gin, another database driver, or any hotline package besides
// controller/store and its internal sqlstore.
package sqlite
