package tracker

import (
	"context"
	"database/sql"
	"math"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrateActiveTimeAndFiniteBest upgrades a database written with the
// first schema, where an infinite value could be kept as best: the
// migration recomputes those bests from the finite history and gives old
// runs their wall time as active time. Then the file opens as usual.
func TestMigrateActiveTimeAndFiniteBest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	conn, err := sql.Open("sqlite3", dsn(path, Options{BusyTimeout: time.Second}, false))
	must(t, err)
	conn.SetMaxOpenConns(1)
	ms, err := loadMigrations()
	must(t, err)
	ctx := context.Background()
	must(t, migrate(ctx, conn, ms[:1], time.Now()))
	for _, q := range []string{
		`INSERT INTO experiments (id, name, created_ms) VALUES (1, 'default', 0)`,
		`INSERT INTO runs (id, experiment_id, name, status, start_ms, end_ms, heartbeat_ms) VALUES (1, 1, 'old', 'finished', 1000, 61000, 61000)`,
		`INSERT INTO metrics (run_id, key, step, time_ms, value) VALUES (1, 'val_loss', 1, 2000, 2.5), (1, 'val_loss', 2, 3000, -9e999), (1, 'val_loss', 3, 4000, 1.5),
			(1, 'val_acc', 1, 2000, 0.4), (1, 'val_acc', 2, 3000, 9e999)`,
		`INSERT INTO metric_summary (run_id, key, goal, count, last_step, last_time_ms, last_value, best_step, best_time_ms, best_value) VALUES
			(1, 'val_loss', 'min', 3, 3, 4000, 1.5, 2, 3000, -9e999), (1, 'val_acc', 'max', 2, 2, 3000, 9e999, 2, 3000, 9e999)`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	must(t, conn.Close())

	db, err := Open(path)
	must(t, err)
	defer db.Close()
	ri, err := db.GetRun(ctx, 1)
	must(t, err)
	if b := ri.Metrics["val_loss"].Best; b == nil || b.Value != 1.5 || b.Step != 3 {
		t.Errorf("val_loss best after the migration: %+v, want 1.5 at step 3", b)
	}
	if b := ri.Metrics["val_acc"].Best; b == nil || b.Value != 0.4 {
		t.Errorf("val_acc best after the migration: %+v, want 0.4", b)
	}
	if !math.IsInf(ri.Metrics["val_acc"].Last.Value, 1) {
		t.Errorf("the latest value must stay +Inf: %v", ri.Metrics["val_acc"].Last.Value)
	}
	if ri.Active != time.Minute {
		t.Errorf("active time of an old run %v, want its wall time, 1m", ri.Active)
	}
}
