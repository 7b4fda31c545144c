package tracker

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenCreatesSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "runs.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var version, appID int
	var journal string
	must(t, db.write.QueryRow(`PRAGMA user_version`).Scan(&version))
	must(t, db.write.QueryRow(`PRAGMA application_id`).Scan(&appID))
	must(t, db.write.QueryRow(`PRAGMA journal_mode`).Scan(&journal))
	if version != SchemaVersion() || version < 1 || appID != applicationID || journal != "wal" {
		t.Errorf("user_version %d (want %d), application_id %x, journal %s", version, SchemaVersion(), appID, journal)
	}
	var fk, busy int
	must(t, db.write.QueryRow(`PRAGMA foreign_keys`).Scan(&fk))
	must(t, db.write.QueryRow(`PRAGMA busy_timeout`).Scan(&busy))
	if fk != 1 || busy != 10000 {
		t.Errorf("writer foreign_keys=%d busy_timeout=%d; want 1 and 10000", fk, busy)
	}
	for _, table := range []string{"experiments", "runs", "params", "metrics", "metric_summary", "samples", "artifacts", "tags"} {
		if count(t, db, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table) != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	if db.Path() != path {
		t.Errorf("Path() = %s, want %s", db.Path(), path)
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	db := openTemp(t, Options{})
	_, err := db.read.Exec(`INSERT INTO experiments (name, created_ms) VALUES ('x', 0)`)
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("write through the read pool: %v; want a readonly error", err)
	}
}

func TestReopenIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	db, err := Open(path)
	must(t, err)
	r := startRun(t, db, RunSpec{Name: "kept"})
	must(t, r.LogMetric(MetricTrainLoss, 1, 2.5))
	must(t, r.Finish(StatusFinished))
	must(t, db.Close())

	for i := 0; i < 2; i++ {
		db, err = Open(path)
		must(t, err)
		if n := count(t, db, `SELECT count(*) FROM schema_migrations`); n != SchemaVersion() {
			t.Errorf("reopen %d: %d migrations recorded, want %d", i, n, SchemaVersion())
		}
		ri, err := db.FindRun(context.Background(), "kept")
		must(t, err)
		if ri.Metrics[MetricTrainLoss].Last.Value != 2.5 || ri.Status != StatusFinished {
			t.Errorf("reopen %d: run = %+v", i, ri)
		}
		must(t, db.Close())
	}
}

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	return sha256.Sum256(b)
}

func TestOpenRefusesNewerSchemaUntouched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	db, err := Open(path)
	must(t, err)
	startRun(t, db, RunSpec{Name: "old"}).Finish(StatusFinished)
	must(t, db.Close())

	// Simulate a file written by a future lstmlab.
	raw, err := sql.Open("sqlite3", path)
	must(t, err)
	_, err = raw.Exec(`PRAGMA user_version = 99`)
	must(t, err)
	must(t, raw.Close())

	before := fileHash(t, path)
	_, err = Open(path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open of a newer schema: %v; want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "99") || !strings.Contains(err.Error(), "not modified") {
		t.Errorf("message should give the version and reassure: %v", err)
	}
	if fileHash(t, path) != before {
		t.Error("the newer database file was modified")
	}
}

func TestOpenRefusesForeignDatabaseUntouched(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	raw, err := sql.Open("sqlite3", path)
	must(t, err)
	_, err = raw.Exec(`CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance REAL)`)
	must(t, err)
	must(t, raw.Close())
	before := fileHash(t, path)
	_, err = Open(path)
	if !errors.Is(err, ErrNotTracker) {
		t.Fatalf("Open of a foreign database: %v; want ErrNotTracker", err)
	}
	if fileHash(t, path) != before {
		t.Error("the foreign database file was modified")
	}
}

func TestOpenRejectsGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	content := []byte(strings.Repeat("these are my notes, not a database\n", 200))
	must(t, os.WriteFile(path, content, 0o644))
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "not a SQLite database") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a text file: %v; want an error naming the file and the problem", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != string(content) {
		t.Error("the text file was modified")
	}
}

func TestOpenBadPaths(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"", "  ", ":memory:", "file:x.db?mode=memory", dir} {
		if db, err := Open(p); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	if _, err := OpenWith(filepath.Join(dir, "x.db"), Options{HeartbeatInterval: time.Minute, StaleAfter: time.Second}); err == nil {
		t.Error("StaleAfter below HeartbeatInterval accepted")
	}
	if _, err := OpenWith(filepath.Join(dir, "x.db"), Options{FlushSize: -1}); err == nil {
		t.Error("negative FlushSize accepted")
	}
}

func TestOpenMustExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.db")
	_, err := OpenWith(path, Options{MustExist: true})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "no such database file") {
		t.Fatalf("MustExist on a missing file: %v", err)
	}
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Error("MustExist created the file")
	}
	db, err := Open(path)
	must(t, err)
	must(t, db.Close())
	db, err = OpenWith(path, Options{MustExist: true})
	must(t, err)
	must(t, db.Close())
}

func TestOpenPathWithURICharacters(t *testing.T) {
	// '?' and '#' would end the path in a SQLite URI if not escaped.
	path := filepath.Join(t.TempDir(), "odd ?name#%.db")
	db, err := Open(path)
	must(t, err)
	startRun(t, db, RunSpec{}).Finish(StatusFinished)
	must(t, db.Close())
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at the exact path: %v", err)
	}
}

func TestIntegrityCheck(t *testing.T) {
	db := openTemp(t, Options{})
	must(t, db.IntegrityCheck(context.Background()))
}

func TestClosedDB(t *testing.T) {
	db := openTemp(t, Options{})
	must(t, db.Close())
	must(t, db.Close()) // twice is fine
	if _, err := db.StartRun(context.Background(), RunSpec{}); err == nil {
		t.Error("StartRun on a closed DB succeeded")
	}
}
