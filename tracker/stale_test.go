package tracker

import (
	"path/filepath"
	"testing"
	"time"
)

// A reader shows a running run of another host whose heartbeat is stale as
// interrupted, without writing anything; Open then marks it so in the file.
// (On its own host the run's lock decides: see lock_test.go.)
func TestStaleHeartbeatReadsAsInterrupted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	writer, err := Open(path)
	must(t, err)
	defer writer.Close()
	r := startRun(t, writer, RunSpec{Host: "another-host"})

	reader, err := Open(path)
	must(t, err)
	defer reader.Close()
	if ri, _ := reader.GetRun(ctx, r.ID()); ri.Status != StatusRunning {
		t.Fatalf("fresh run reads as %s", ri.Status)
	}
	// Jump the reader's clock past StaleAfter.
	reader.now = func() time.Time { return time.Now().Add(time.Minute) }
	ri, err := reader.GetRun(ctx, r.ID())
	must(t, err)
	if ri.Status != StatusInterrupted {
		t.Errorf("stale run reads as %s, want interrupted", ri.Status)
	}
	if runs, err := reader.ListRuns(ctx, ListOptions{Filter: "status = interrupted"}); err != nil || len(runs) != 1 {
		t.Errorf("filter status = interrupted: %d runs, %v", len(runs), err)
	}
	var stored string
	must(t, reader.read.QueryRow(`SELECT status FROM runs WHERE id = ?`, r.ID()).Scan(&stored))
	if stored != "running" {
		t.Errorf("a read changed the stored status to %s", stored)
	}

	// What Open does: mark it in the file.
	must(t, reader.markStale(ctx))
	must(t, reader.read.QueryRow(`SELECT status FROM runs WHERE id = ?`, r.ID()).Scan(&stored))
	if stored != "interrupted" {
		t.Errorf("after markStale the stored status is %s", stored)
	}
	// The run was alive after all: its next write makes it running again.
	must(t, r.LogMetric("x", 1, 1))
	must(t, r.Flush())
	must(t, writer.read.QueryRow(`SELECT status FROM runs WHERE id = ?`, r.ID()).Scan(&stored))
	if stored != "running" {
		t.Errorf("a live run's heartbeat left status %s", stored)
	}
}

func TestHeartbeatAdvances(t *testing.T) {
	db := openTemp(t, Options{HeartbeatInterval: 10 * time.Millisecond, FlushInterval: 10 * time.Millisecond, StaleAfter: time.Second})
	r := startRun(t, db, RunSpec{})
	var first, later int64
	must(t, db.read.QueryRow(`SELECT heartbeat_ms FROM runs WHERE id = ?`, r.ID()).Scan(&first))
	deadline := time.Now().Add(10 * time.Second)
	for later <= first {
		if time.Now().After(deadline) {
			t.Fatal("heartbeat never advanced while idle")
		}
		time.Sleep(5 * time.Millisecond)
		must(t, db.read.QueryRow(`SELECT heartbeat_ms FROM runs WHERE id = ?`, r.ID()).Scan(&later))
	}
	must(t, r.Finish(StatusFinished))
}
