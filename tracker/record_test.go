package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/internal/testenv"
)

// On its own host a run's liveness is its lock: a reader sees it running whatever its heartbeat says,
// and interrupted the moment the lock is released without a final status.
func TestLockDecidesLiveness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	writer, err := Open(path)
	must(t, err)
	defer writer.Close()
	r := startRun(t, writer, RunSpec{})
	reader, err := OpenWith(path, Options{ReadOnly: true})
	must(t, err)
	defer reader.Close()
	// A heartbeat an hour old (a stopped or sleeping process) does not matter while the lock is held.
	reader.now = func() time.Time { return time.Now().Add(time.Hour) }
	if ri, _ := reader.GetRun(ctx, r.ID()); ri.Status != StatusRunning {
		t.Fatalf("a locked run with a stale heartbeat reads %s, want running", ri.Status)
	}
	if runs, err := reader.ListRuns(ctx, ListOptions{Filter: "status = running"}); err != nil || len(runs) != 1 {
		t.Errorf("filter status = running: %d runs, %v", len(runs), err)
	}
	// Another opener cannot resume or delete it, and is told who holds it.
	other, err := Open(path)
	must(t, err)
	defer other.Close()
	for _, try := range []func() error{
		func() error { _, err := other.ResumeRun(ctx, r.ID()); return err },
		func() error { _, err := other.DeleteRun(ctx, r.ID(), true); return err },
	} {
		if err := try(); !errors.Is(err, ErrRunActive) || !strings.Contains(err.Error(), "process ") {
			t.Errorf("claiming a locked run: %v", err)
		}
	}
	// The lock released without a final status (what the kernel does for a killed process): at once
	// interrupted, and resumable.
	reader.now = time.Now
	writer.mu.Lock()
	writer.locks[r.ID()].release()
	writer.mu.Unlock()
	if ri, _ := reader.GetRun(ctx, r.ID()); ri.Status != StatusInterrupted {
		t.Errorf("run whose lock is free reads %s, want interrupted", ri.Status)
	}
	if runs, err := reader.ListRuns(ctx, ListOptions{Filter: "status = interrupted"}); err != nil || len(runs) != 1 {
		t.Errorf("filter status = interrupted: %d runs, %v", len(runs), err)
	}
	resumed, err := other.ResumeRun(ctx, r.ID())
	must(t, err)
	must(t, resumed.Finish(StatusFinished))
	if ri, _ := reader.GetRun(ctx, r.ID()); ri.Status != StatusFinished {
		t.Errorf("after Finish the run reads %s", ri.Status)
	}
}

// A read-only open creates no file (no -wal/-shm), refuses writes with ErrReadOnly, and works on a file
// whose folder cannot be written; a writable open of a read-only database says it is read-only.
func TestReadOnlyOpenCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "runs.db")
	db, err := Open(path)
	must(t, err)
	r := startRun(t, db, RunSpec{Name: "x"})
	must(t, r.LogMetric(MetricTrainLoss, 1, 1))
	must(t, r.Finish(StatusFinished))
	must(t, db.Close())
	list := func() []string {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	before := strings.Join(list(), " ")
	ro, err := OpenWith(path, Options{ReadOnly: true})
	must(t, err)
	if runs, err := ro.ListRuns(ctx, ListOptions{}); err != nil || len(runs) != 1 {
		t.Fatalf("list: %v %v", runs, err)
	}
	// A writer that starts while the reader is open is seen by it (a reader that assumed the file
	// immutable would not see it, and could read torn pages).
	w, err := Open(path)
	must(t, err)
	must(t, startRun(t, w, RunSpec{Name: "y"}).Finish(StatusFinished))
	if runs, err := ro.ListRuns(ctx, ListOptions{}); err != nil || len(runs) != 2 {
		t.Errorf("list after another process wrote: %d runs, %v; want 2", len(runs), err)
	}
	if _, err := ro.GetRun(ctx, 2); err != nil {
		t.Errorf("the reader does not see the new run: %v", err)
	}
	must(t, w.Close())
	if _, err := ro.StartRun(ctx, RunSpec{}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("StartRun on a read-only DB: %v", err)
	}
	if _, err := ro.ResumeRun(ctx, 1); !errors.Is(err, ErrReadOnly) {
		t.Errorf("ResumeRun on a read-only DB: %v", err)
	}
	must(t, ro.Close())
	if after := strings.Join(list(), " "); after != before {
		t.Errorf("a read-only open changed the folder: %s → %s", before, after)
	}
	if os.Geteuid() != 0 { // root writes anyway; the read-only mount test (cmd/lstmlab) covers root
		must(t, os.Chmod(dir, 0o555))
		defer os.Chmod(dir, 0o755)
		if _, err := Open(path); !errors.Is(err, ErrReadOnly) {
			t.Errorf("writable open in a read-only folder: %v", err)
		}
		ro, err := OpenWith(path, Options{ReadOnly: true})
		must(t, err)
		ro.Close()
	}
}

// A file from a newer lstmlab is refused without being modified and without -wal/-shm files beside it.
func TestNewerSchemaLeavesNoFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "runs.db")
	db, err := Open(path)
	must(t, err)
	must(t, db.Close())
	conn, err := sql.Open("sqlite3", path)
	must(t, err)
	_, err = conn.Exec(`PRAGMA user_version = 99`)
	must(t, err)
	must(t, conn.Close())
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	data, _ := os.ReadFile(path)
	for _, opts := range []Options{{}, {ReadOnly: true}} {
		if _, err := OpenWith(path, opts); !errors.Is(err, ErrSchemaTooNew) {
			t.Errorf("open %+v: %v, want ErrSchemaTooNew", opts, err)
		}
		for _, f := range []string{path + "-wal", path + "-shm"} {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("refused file got %s beside it", filepath.Base(f))
			}
		}
		if after, _ := os.ReadFile(path); string(after) != string(data) {
			t.Error("refused file was modified")
		}
	}
}

// A writer blocked by another connection's long write transaction (far beyond BusyTimeout) waits
// with its points buffered, and loses nothing.
func TestBusyWriterWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	db, err := OpenWith(path, Options{BusyTimeout: 20 * time.Millisecond, FlushInterval: 5 * time.Millisecond})
	must(t, err)
	defer db.Close()
	r := startRun(t, db, RunSpec{})
	// A second connection (SQLite locks it like another process) holds the write lock for 25 busy timeouts.
	blocker, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate")
	must(t, err)
	defer blocker.Close()
	tx, err := blocker.Begin()
	must(t, err)
	released := make(chan struct{})
	go func() {
		time.Sleep(500 * time.Millisecond)
		tx.Commit()
		close(released)
	}()
	for step := int64(1); step <= 200; step++ {
		if err := r.LogMetrics(step, map[string]float64{MetricTrainLoss: 1}); err != nil {
			t.Fatalf("LogMetrics while another process writes: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	must(t, r.LogSample(Sample{Step: 200, Text: "waited"}))
	must(t, r.Flush())
	must(t, r.Finish(StatusFinished))
	<-released
	if n := count(t, db, `SELECT count(*) FROM metrics`); n != 200 {
		t.Errorf("%d points stored, want 200", n)
	}
}

// A full disk (a real one: a 1 MiB tmpfs, mounted as root) gives one clear error naming it, and the
// run is recorded as failed.
func TestDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		testenv.Missing(t, "permission to mount a tmpfs", fmt.Sprintf("%v: %s; run the tests as root", err, strings.TrimSpace(string(out))))
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	path := filepath.Join(mnt, "runs.db")
	db, err := OpenWith(path, Options{FlushSize: 100000, FlushInterval: time.Hour})
	must(t, err)
	defer db.Close()
	r := startRun(t, db, RunSpec{})
	// Fill the disk, then log more points than the space left can take.
	filler, err := os.Create(filepath.Join(mnt, "filler"))
	must(t, err)
	buf := make([]byte, 4096)
	for {
		if _, err := filler.Write(buf); err != nil {
			break
		}
	}
	filler.Close()
	var logErr error
	for step := int64(1); step <= 20000 && logErr == nil; step++ {
		logErr = r.LogMetrics(step, map[string]float64{MetricTrainLoss: 1, MetricLR: 2})
		if step%2000 == 0 && logErr == nil {
			logErr = r.Flush()
		}
	}
	if !errors.Is(logErr, ErrDiskFull) || strings.Contains(logErr.Error(), "\n") {
		t.Fatalf("logging onto a full disk: %v; want one line naming the full disk", logErr)
	}
	t.Logf("error: %v", logErr)
	ferr := r.Finish(StatusFailed)
	t.Logf("finish: %v", ferr)
	var status string
	must(t, db.read.QueryRow(`SELECT status FROM runs WHERE id = ?`, r.ID()).Scan(&status))
	if status != string(StatusFailed) {
		t.Errorf("run recorded as %s after a full disk, want failed", status)
	}
	must(t, db.IntegrityCheck(ctx))
}

// DiscardAfter leaves the history ending at the checkpoint's step and the summaries consistent, and
// records what it took back; ChangeParams records each change with its step.
func TestDiscardAfterAndParamChanges(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	must(t, r.LogParams(map[string]any{"steps": 100, "lr": 0.01}))
	for step := int64(1); step <= 30; step++ {
		must(t, r.LogMetrics(step, map[string]float64{MetricTrainLoss: float64(step)}))
	}
	must(t, r.LogMetrics(30, map[string]float64{MetricValLoss: 0.5}))
	must(t, r.LogSample(Sample{Step: 30, Text: "late"}))
	n, err := r.DiscardAfter(20)
	must(t, err)
	if n != 11 {
		t.Errorf("discarded %d points, want 11 (steps 21-30 and the val point)", n)
	}
	if n, err := r.DiscardAfter(25); err != nil || n != 0 {
		t.Errorf("second discard after 25: %d points, %v; want nothing left to discard", n, err)
	}
	// The discard is recorded (a mirror needs it); the one that deleted nothing is not.
	discards, err := db.Discards(ctx, r.ID())
	must(t, err)
	if len(discards) != 1 || discards[0].AfterStep != 20 || discards[0].ThroughStep != 30 || discards[0].Points != 11 || discards[0].Time.IsZero() {
		t.Errorf("discards %+v, want one after step 20 through 30 of 11 points", discards)
	}
	if err := r.LogMetric(MetricTrainLoss, 21, 99); err != nil {
		t.Fatal(err)
	}
	must(t, r.ChangeParams(21, map[string]any{"steps": 200, "lr": 0.01, "dropout": 0.1}))
	must(t, r.Finish(StatusFinished))
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if s := ri.Metrics[MetricTrainLoss]; s.Count != 21 || s.Last.Step != 21 || s.Last.Value != 99 {
		t.Errorf("train_loss summary %+v", s)
	}
	if _, ok := ri.Metrics[MetricValLoss]; ok {
		t.Error("val_loss summary kept after its only point was discarded")
	}
	if samples, _ := db.Samples(ctx, r.ID()); len(samples) != 0 {
		t.Errorf("samples after the checkpoint kept: %v", samples)
	}
	if ri.Params["steps"] != int64(200) || ri.Params["dropout"] != 0.1 {
		t.Errorf("params %v", ri.Params)
	}
	changes, err := db.ParamChanges(ctx, r.ID())
	must(t, err)
	if len(changes) != 2 || changes[0].Key != "dropout" || changes[0].Old != nil || changes[1].Key != "steps" ||
		changes[1].Old != int64(100) || changes[1].Value != int64(200) || changes[1].Step != 21 {
		t.Errorf("param changes %+v", changes)
	}
	if err := r.LogParams(map[string]any{"steps": 300}); err == nil {
		t.Error("LogParams changed a param")
	}
}

var _ = context.Background

// A database of schema version 1 (an earlier lstmlab) is refused read-only with ErrSchemaOld and
// upgraded by a writable open: its runs get a UUID and keep their runs/<id> folder.
func TestUpgradeKeepsOldRunFolders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "old.db")
	opts, _ := Options{}.withDefaults()
	conn, err := sql.Open("sqlite3", dsn(path, opts, false))
	must(t, err)
	ms, err := loadMigrations()
	must(t, err)
	must(t, migrate(ctx, conn, ms[:1], time.Now()))
	_, err = conn.Exec(`INSERT INTO experiments (id, name, created_ms) VALUES (1, 'default', 0);
		INSERT INTO runs (experiment_id, name, status, start_ms, end_ms, heartbeat_ms) VALUES (1, 'old', 'finished', 0, 1, 1)`)
	must(t, err)
	must(t, conn.Close())
	if _, err := OpenWith(path, Options{ReadOnly: true}); !errors.Is(err, ErrSchemaOld) {
		t.Fatalf("read-only open of a version 1 file: %v, want ErrSchemaOld", err)
	}
	db, err := Open(path)
	must(t, err)
	defer db.Close()
	ri, err := db.FindRun(ctx, "old")
	must(t, err)
	if ri.Dir != filepath.Join(dir, "runs", "1") || len(ri.UUID) != 36 {
		t.Errorf("upgraded run: folder %s, uuid %q; want runs/1 and a UUID", ri.Dir, ri.UUID)
	}
	r := startRun(t, db, RunSpec{})
	if want := filepath.Join(dir, "runs", "2-"+r.UUID()[:8]); r.Dir() != want {
		t.Errorf("new run's folder %s, want %s", r.Dir(), want)
	}
	must(t, r.Finish(StatusFinished))
}
