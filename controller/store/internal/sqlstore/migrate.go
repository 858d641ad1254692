package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one embedded SQL file, named NNNN_description.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations reads the *.sql files of dir in fsys, ordered by version.
// Versions must be unique and positive.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		v, err := ParseMigrationName(e.Name())
		if err != nil {
			return nil, err
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read migration %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("sqlstore: migrations %s and %s share version %d", out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

// ParseMigrationName returns the version of a file named
// NNNN_description.sql.
func ParseMigrationName(name string) (int, error) {
	num, rest, ok := strings.Cut(name, "_")
	if !ok || !strings.HasSuffix(rest, ".sql") || len(rest) == len(".sql") {
		return 0, fmt.Errorf("sqlstore: migration %q is not named NNNN_description.sql", name)
	}
	v, err := strconv.Atoi(num)
	if err != nil || v <= 0 || strings.HasPrefix(num, "+") || strings.HasPrefix(num, "-") {
		return 0, fmt.Errorf("sqlstore: migration %q: version must be a positive number", name)
	}
	return v, nil
}

// ApplyPending creates schema_migrations if needed and applies, inside tx,
// every migration newer than the highest version recorded there. The
// caller holds whatever lock makes it the only migrator (BEGIN IMMEDIATE in
// SQLite, an advisory lock in PostgreSQL), so the version read here cannot
// go stale before commit. It returns how many migrations it applied.
func ApplyPending(ctx context.Context, tx *sql.Tx, d Dialect, ms []Migration, logger *slog.Logger) (int, error) {
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations ("+
		"version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	applied := 0
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return 0, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, d.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			m.Version, m.Name, TextTime(nowUTC())); err != nil {
			return 0, fmt.Errorf("record migration %s: %w", m.Name, err)
		}
		logger.Info("store migration applied", "dialect", d.Name, "version", m.Version, "name", m.Name)
		applied++
	}
	return applied, nil
}
