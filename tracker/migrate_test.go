package tracker

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestReadMigrations(t *testing.T) {
	good := fstest.MapFS{
		"m/0002_more.sql": {Data: []byte("CREATE TABLE b (x);")},
		"m/0001_init.sql": {Data: []byte("CREATE TABLE a (x);")},
	}
	ms, err := readMigrations(good, "m")
	must(t, err)
	if len(ms) != 2 || ms[0].version != 1 || ms[1].name != "0002_more.sql" || latestVersion(ms) != 2 {
		t.Errorf("got %+v", ms)
	}
	gap := fstest.MapFS{"m/0001_a.sql": {}, "m/0003_c.sql": {}}
	if _, err := readMigrations(gap, "m"); err == nil || !strings.Contains(err.Error(), "0003_c.sql") {
		t.Errorf("gap: %v", err)
	}
	badName := fstest.MapFS{"m/1_a.sql": {}}
	if _, err := readMigrations(badName, "m"); err == nil {
		t.Error("badly named migration accepted")
	}
}

func TestEmbeddedMigrations(t *testing.T) {
	ms, err := loadMigrations()
	must(t, err)
	if len(ms) == 0 || ms[0].name != "0001_init.sql" || SchemaVersion() != len(ms) {
		t.Errorf("embedded migrations: %d, first %q", len(ms), ms[0].name)
	}
}

// A failing migration must leave the schema as it was: all pending
// migrations run in one transaction.
func TestMigrateIsAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atomic.db")
	conn, err := sql.Open("sqlite3", dsn(path, Options{BusyTimeout: time.Second}, false))
	must(t, err)
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	ms := []migration{
		{version: 1, name: "0001_ok.sql", sql: "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_ms INTEGER); CREATE TABLE a (x);"},
		{version: 2, name: "0002_bad.sql", sql: "CREATE TABLE b (x); THIS IS NOT SQL;"},
	}
	err = migrate(context.Background(), conn, ms, time.Now())
	if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
		t.Fatalf("migrate with a bad migration: %v", err)
	}
	var version, tables int
	must(t, conn.QueryRow(`PRAGMA user_version`).Scan(&version))
	must(t, conn.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table'`).Scan(&tables))
	if version != 0 || tables != 0 {
		t.Errorf("after a failed migration: user_version %d, %d tables; want 0 and 0", version, tables)
	}
	// Then the good one alone applies, and applying again is a no-op.
	for i := 0; i < 2; i++ {
		must(t, migrate(context.Background(), conn, ms[:1], time.Now()))
	}
	must(t, conn.QueryRow(`PRAGMA user_version`).Scan(&version))
	var recorded int
	must(t, conn.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&recorded))
	if version != 1 || recorded != 1 {
		t.Errorf("user_version %d, %d recorded; want 1 and 1", version, recorded)
	}
	if err := migrate(context.Background(), conn, nil, time.Now()); err == nil {
		t.Error("migrating a version-1 database with no known migrations succeeded; want schema too new")
	}
}
