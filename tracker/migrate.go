package tracker

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// migrationFS holds the schema history. Each file is named
// NNNN_description.sql; file N moves the schema from version N-1 to N. Never
// edit a released migration: add the next number.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// applicationID marks a file as an lstmlab tracker (PRAGMA application_id,
// set by migration 0001): "LSTM" in ASCII.
const applicationID = 0x4C53544D

type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+\.sql$`)

// loadMigrations reads the embedded migrations in version order and checks
// that they are numbered 1, 2, 3... without gaps.
func loadMigrations() ([]migration, error) {
	return readMigrations(migrationFS, "migrations")
}

func readMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d (migrations must be numbered from 0001 without gaps)", m.name, i+1)
		}
	}
	return ms, nil
}

func latestVersion(ms []migration) int { return len(ms) }

// SchemaVersion is the schema version this build of the tracker writes.
func SchemaVersion() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	return latestVersion(ms)
}

// checkExisting refuses, without writing anything, a file this build must
// not open: one that is not a SQLite database, belongs to another program,
// or has a newer schema. A missing or empty file is fine: it becomes a new
// database.
func checkExisting(absPath string, opts Options, latest int) error {
	info, err := os.Stat(absPath)
	if os.IsNotExist(err) || (err == nil && info.Size() == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	conn, err := sql.Open("sqlite3", readOnlyDSN(absPath, opts))
	if err != nil {
		return err
	}
	defer conn.Close()
	// One statement, so the three values come from one snapshot even
	// while another process is migrating the file.
	var version, appID, objects int
	err = conn.QueryRow(`SELECT (SELECT user_version FROM pragma_user_version),
		(SELECT application_id FROM pragma_application_id), (SELECT count(*) FROM sqlite_schema)`).
		Scan(&version, &appID, &objects)
	if err != nil {
		if isBusy(err) {
			return err // retried by the caller
		}
		return fmt.Errorf("check: %w", describeOpenError(err))
	}
	switch {
	case version == 0 && objects > 0, version > 0 && appID != applicationID:
		return fmt.Errorf("%w: it holds tables of another program; it was not modified", ErrNotTracker)
	case version > latest:
		return schemaTooNew(version, latest)
	}
	return nil
}

func schemaTooNew(version, latest int) error {
	return fmt.Errorf("%w: the file has schema version %d, this lstmlab knows up to %d; upgrade lstmlab (the file was not modified)",
		ErrSchemaTooNew, version, latest)
}

// migrate applies the pending migrations in one transaction, so a failure
// leaves the previous schema intact. The schema version lives in PRAGMA
// user_version, which is part of the database header and so changes
// atomically with the transaction. The version is read again inside the
// write transaction because another process may have migrated the file
// since checkExisting looked.
func migrate(ctx context.Context, write *sql.DB, ms []migration, now time.Time) error {
	latest := latestVersion(ms)
	var current int
	if err := write.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&current); err != nil {
		return describeOpenError(err)
	}
	if current == latest {
		return nil
	}
	tx, err := write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current > latest {
		return schemaTooNew(current, latest)
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)`,
			m.version, m.name, now.UnixMilli()); err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
	}
	// PRAGMA takes no bound parameters; latest is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, latest)); err != nil {
		return fmt.Errorf("migrate: set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}
