package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"hotline/controller/store"
	"hotline/controller/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// BusyTimeout is how long a connection waits for another process's write
// lock before failing with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// MemoryPath opens a private in-memory database: handy in tests of other
// packages. It uses one connection for reads and writes (each connection of
// ":memory:" would be its own database) and disappears on Close.
const MemoryPath = ":memory:"

// Store is the SQLite store.Store.
type Store struct {
	*sqlstore.Store
	write  *sql.DB
	logger *slog.Logger
	ms     []sqlstore.Migration
}

var _ store.Store = (*Store)(nil)

// dialect is SQLite's: ? placeholders, times as fixed-width text.
var dialect = sqlstore.Dialect{
	Name:     "sqlite",
	Classify: classify,
	TimeArg:  sqlstore.TextTime,
}

// Open opens (creating if needed) the SQLite database file at path and
// migrates it. Several processes may open the same file; the migration runs
// in a BEGIN IMMEDIATE transaction, so only one of them applies it. path must
// not contain '?'.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	ms, err := sqlstore.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}

	// Every connection: wait for locks instead of failing at once (the
	// busy_timeout pragma goes first so the others can wait too), enforce
	// foreign keys. journal_mode=WAL is persistent in the file; synchronous
	// NORMAL is durable across process crashes in WAL mode and only risks
	// the last commits on power loss (https://sqlite.org/wal.html §2.1).
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")
	writeQ := cloneValues(common)
	writeQ.Add("_pragma", "journal_mode(WAL)")
	writeQ.Add("_pragma", "synchronous(NORMAL)")
	// Write transactions take the write lock at BEGIN: a deferred
	// transaction that upgrades from read to write gets SQLITE_BUSY without
	// waiting when another connection writes first.
	writeQ.Set("_txlock", "immediate")

	if path == MemoryPath {
		db, err := sql.Open("sqlite", path+"?"+writeQ.Encode())
		if err != nil {
			return nil, fmt.Errorf("sqlite: open: %w", err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		return finish(ctx, db, db, db.Close, logger, ms)
	}

	// The file holds password hashes and trunk secrets: create it readable
	// by its owner only. SQLite gives the -wal and -shm files the same
	// permissions as the database file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: sqlite: %w", store.ErrUnavailable, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("%w: sqlite: %w", store.ErrUnavailable, err)
	}

	write, err := sql.Open("sqlite", path+"?"+writeQ.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)

	readQ := cloneValues(common)
	readQ.Add("_pragma", "query_only(1)")
	read, err := sql.Open("sqlite", path+"?"+readQ.Encode())
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	read.SetMaxOpenConns(4)
	read.SetMaxIdleConns(4)
	closeBoth := func() error { return errors.Join(read.Close(), write.Close()) }
	return finish(ctx, read, write, closeBoth, logger, ms)
}

// finish migrates through the write pool and wraps the pools in a Store;
// on failure it closes them.
func finish(ctx context.Context, read, write *sql.DB, closeFn func() error, logger *slog.Logger, ms []sqlstore.Migration) (*Store, error) {
	s := &Store{
		Store:  sqlstore.New(sqlstore.Config{Read: read, Write: write, Dialect: dialect, Close: closeFn}),
		write:  write,
		logger: logger,
		ms:     ms,
	}
	if err := s.Migrate(ctx); err != nil {
		_ = closeFn()
		return nil, err
	}
	return s, nil
}

// Migrate applies the embedded migrations that the database lacks. It takes
// SQLite's write lock first (BEGIN IMMEDIATE), then reads the schema version,
// so a second process opening the same fresh file waits and then finds
// nothing left to do.
func (s *Store) Migrate(ctx context.Context) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.migrateErr(err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	n, err := sqlstore.ApplyPending(ctx, tx, dialect, s.ms, s.logger)
	if err != nil {
		return s.migrateErr(err)
	}
	if err := tx.Commit(); err != nil {
		return s.migrateErr(err)
	}
	if n > 0 {
		s.logger.Info("sqlite store migrated", "applied", n)
	}
	return nil
}

func (s *Store) migrateErr(err error) error {
	if c := classify(err); c != nil {
		return fmt.Errorf("%w: sqlite: migrate: %w", c, err)
	}
	return fmt.Errorf("sqlite: migrate: %w", err)
}

// classify maps SQLite result codes (https://sqlite.org/rescode.html) to the
// store's sentinels.
func classify(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return store.ErrConflict
	}
	// The primary code is the low byte of an extended code (rescode.html §2).
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY:
		return store.ErrUnavailable
	}
	return nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
