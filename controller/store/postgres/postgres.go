package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"hotline/controller/store"
	"hotline/controller/store/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockKey namespaces the advisory lock that serializes migrations;
// it is hashed together with the current schema, so stores in different
// schemas of one database migrate independently.
const migrationLockKey = "hotline.store.migrate:"

// lockSQL takes the migration lock until the end of the transaction.
const lockSQL = "SELECT pg_advisory_xact_lock(hashtext($1::text || coalesce(current_schema()::text, '')))"

// DefaultConnectTimeout bounds each connection attempt when the URL sets no
// connect_timeout, so an outage is reported instead of hanging.
const DefaultConnectTimeout = 5 * time.Second

// Store is the PostgreSQL store.Store.
type Store struct {
	*sqlstore.Store
	pool   *pgxpool.Pool
	db     *sql.DB
	logger *slog.Logger
	ms     []sqlstore.Migration

	listenOnce sync.Once
	stopListen context.CancelFunc // set by listenOnce; guarded by it
	listenDone chan struct{}
}

var _ store.Store = (*Store)(nil)

// dialect is PostgreSQL's: $n placeholders, native timestamptz.
var dialect = sqlstore.Dialect{
	Name:     "postgres",
	Numbered: true,
	Classify: classify,
	TimeArg:  func(t time.Time) any { return t },
	// Change transactions queue on a per-schema advisory lock, so
	// revisions commit in order; NOTIFY wakes other nodes at commit.
	ChangeLock: "SELECT pg_advisory_xact_lock(hashtext('hotline.store.changes:' || coalesce(current_schema()::text, '')))",
	Notify:     "SELECT pg_notify('" + notifyChannel + "', coalesce(current_schema()::text, ''))",
	EventLock:  "SELECT pg_advisory_xact_lock(hashtext('hotline.store.queue_events:' || coalesce(current_schema()::text, '')))",
}

// notifyChannel is the LISTEN/NOTIFY channel of the change feed; the
// payload is the schema, so stores in different schemas of one database
// wake only their own followers.
const notifyChannel = "hotline_changes"

// listenRetry is how long the change listener waits before reconnecting.
const listenRetry = time.Second

// Open connects to the database at url (a postgres:// URL or a key=value
// string that pgx accepts) and migrates it. A server that cannot be reached
// gives an error wrapping store.ErrUnavailable.
func Open(ctx context.Context, url string, logger *slog.Logger) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	return OpenConfig(ctx, cfg, logger)
}

// OpenConfig is Open with a parsed pool configuration, for settings a URL
// cannot carry.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ms, err := sqlstore.LoadMigrations(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: pool: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	s := &Store{
		pool:   pool,
		db:     db,
		logger: logger,
		ms:     ms,
	}
	s.Store = sqlstore.New(sqlstore.Config{
		Read: db, Write: db, Dialect: dialect,
		Close: func() error {
			err := db.Close()
			pool.Close()
			return err
		},
	})
	if err := s.Migrate(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Migrate applies the embedded migrations the database lacks, in one
// transaction that first takes pg_advisory_xact_lock: a second node starting
// at the same moment blocks on the lock, then reads the new version and
// applies nothing. The transaction-scoped lock is released by COMMIT or
// ROLLBACK, even when the connection dies, so it can never leak.
func (s *Store) Migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return migrateErr(err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, lockSQL, migrationLockKey); err != nil {
		return migrateErr(err)
	}
	n, err := sqlstore.ApplyPending(ctx, tx, dialect, s.ms, s.logger)
	if err != nil {
		return migrateErr(err)
	}
	if err := tx.Commit(); err != nil {
		return migrateErr(err)
	}
	if n > 0 {
		s.logger.Info("postgres store migrated", "applied", n)
	}
	return nil
}

func migrateErr(err error) error {
	if c := classify(err); c != nil {
		return fmt.Errorf("%w: postgres: migrate: %w", c, err)
	}
	return fmt.Errorf("postgres: migrate: %w", err)
}

// Pool returns the underlying pool, for code that needs pgx itself (the
// leader election's advisory lock, LISTEN/NOTIFY).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// classify maps PostgreSQL and connection errors to the store's sentinels.
// SQLSTATE codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
func classify(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505": // unique_violation
			return store.ErrConflict
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "53300", // too_many_connections
			pgErr.Code == "57P01", // admin_shutdown
			pgErr.Code == "57P02", // crash_shutdown
			pgErr.Code == "57P03": // cannot_connect_now
			return store.ErrUnavailable
		}
		return nil
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return store.ErrUnavailable
	}
	return nil
}

// Watch implements store.ChangeFeed: it wakes on this process's commits
// and, through LISTEN on one dedicated connection, on every other node's.
// After the listener (re)connects it wakes its watchers once, so changes
// committed while it was away are read too.
func (s *Store) Watch(ctx context.Context) <-chan struct{} {
	ch := s.Store.Watch(ctx)
	s.listenOnce.Do(func() {
		lctx, cancel := context.WithCancel(context.Background())
		s.stopListen = cancel
		s.listenDone = make(chan struct{})
		go s.listen(lctx)
	})
	return ch
}

// Close stops the change listener and releases the database.
func (s *Store) Close() error {
	s.listenOnce.Do(func() {}) // no listener may start after Close
	if s.stopListen != nil {
		s.stopListen()
		<-s.listenDone
	}
	return s.Store.Close()
}

func (s *Store) listen(ctx context.Context) {
	defer close(s.listenDone)
	for {
		err := s.listenConn(ctx)
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("postgres change listener lost; reconnecting", "err", err)
		s.Store.Wake() // a notification may have been lost
		select {
		case <-ctx.Done():
			return
		case <-time.After(listenRetry):
		}
	}
}

// listenConn LISTENs on a connection taken out of the pool (it keeps
// session state, so it never goes back) until ctx ends or it fails.
func (s *Store) listenConn(ctx context.Context) error {
	pc, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	conn := pc.Hijack()
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	var schema string
	if err := conn.QueryRow(ctx, "SELECT coalesce(current_schema()::text, '')").Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	s.Store.Wake() // catch up with what committed before LISTEN
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Payload == schema {
			s.Store.Wake()
		}
	}
}
