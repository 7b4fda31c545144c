package tracker

import (
	"context"
	"path/filepath"
	"testing"
)

// openTemp opens a fresh database in a temporary directory, closed at the
// end of the test.
func openTemp(t testing.TB, opts Options) *DB {
	t.Helper()
	db, err := OpenWith(filepath.Join(t.TempDir(), "runs.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// startRun starts a run or fails the test.
func startRun(t testing.TB, db *DB, spec RunSpec) *Run {
	t.Helper()
	r, err := db.StartRun(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// count runs a COUNT query on the read pool.
func count(t testing.TB, db *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.read.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
