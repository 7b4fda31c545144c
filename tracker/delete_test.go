package tracker

import (
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

func TestDeleteRun(t *testing.T) {
	db := openTemp(t, Options{})
	dir := t.TempDir()
	own := filepath.Join(dir, "own.ckpt")
	shared := filepath.Join(dir, "shared.ckpt")
	for _, p := range []string{own, shared} {
		must(t, os.WriteFile(p, []byte(p), 0o644))
	}
	victim := startRun(t, db, RunSpec{Name: "victim", Tags: map[string]string{"k": "v"}})
	must(t, victim.LogParam("hidden", 64))
	must(t, victim.LogMetric(MetricTrainLoss, 1, 1))
	must(t, victim.LogSample(Sample{Text: "x"}))
	_, err := victim.LogArtifact(ArtifactCheckpoint, own)
	must(t, err)
	_, err = victim.LogArtifact(ArtifactCheckpoint, shared)
	must(t, err)
	must(t, victim.Finish(StatusFinished))

	child := startRun(t, db, RunSpec{Name: "child", ParentID: victim.ID()})
	_, err = child.LogArtifact(ArtifactCheckpoint, shared)
	must(t, err)
	if _, err := db.DeleteRun(ctx, child.ID(), false); !errors.Is(err, ErrRunActive) {
		t.Errorf("deleting a run open in this process: %v", err)
	}
	must(t, child.Finish(StatusFinished))

	removed, err := db.DeleteRun(ctx, victim.ID(), true)
	must(t, err)
	if len(removed) != 2 || removed[0] != own || removed[1] != victim.Dir() {
		t.Errorf("removed %v, want only %s and the run's folder", removed, own)
	}
	if _, err := os.Stat(victim.Dir()); !os.IsNotExist(err) {
		t.Error("the run's folder is still there")
	}
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Error("own artifact still on disk")
	}
	if _, err := os.Stat(shared); err != nil {
		t.Error("artifact shared with another run was removed")
	}
	for _, table := range []string{"runs", "params", "tags", "metrics", "metric_summary", "samples", "artifacts"} {
		col := "run_id"
		if table == "runs" {
			col = "id"
		}
		if n := count(t, db, "SELECT count(*) FROM "+table+" WHERE "+col+" = ?", victim.ID()); n != 0 {
			t.Errorf("%d rows of the deleted run left in %s", n, table)
		}
	}
	ri, err := db.GetRun(ctx, child.ID())
	must(t, err)
	if ri.ParentID != 0 {
		t.Errorf("child still points at deleted parent %d", ri.ParentID)
	}
	if _, err := db.DeleteRun(ctx, victim.ID(), false); !errors.Is(err, ErrRunNotFound) {
		t.Errorf("deleting twice: %v", err)
	}
	// A new run never reuses the deleted id.
	next := startRun(t, db, RunSpec{})
	if next.ID() <= child.ID() {
		t.Errorf("new run got id %d, reusing an old one", next.ID())
	}
}

// If an artifact cannot be removed, nothing is deleted.
func TestDeleteRunAbortsWhenArtifactStays(t *testing.T) {
	db := openTemp(t, Options{})
	dir := t.TempDir()
	stubborn := filepath.Join(dir, "ckpt")
	must(t, os.WriteFile(stubborn, []byte("w"), 0o644))
	r := startRun(t, db, RunSpec{})
	_, err := r.LogArtifact(ArtifactCheckpoint, stubborn)
	must(t, err)
	must(t, r.Finish(StatusFinished))
	// Replace the file by a non-empty directory: os.Remove fails on it even
	// for root, who ignores permissions.
	must(t, os.Remove(stubborn))
	must(t, os.MkdirAll(filepath.Join(stubborn, "inside"), 0o755))
	if _, err := db.DeleteRun(ctx, r.ID(), true); err == nil {
		t.Fatal("delete succeeded although the artifact could not be removed")
	}
	if n := count(t, db, `SELECT count(*) FROM runs WHERE id = ?`, r.ID()); n != 1 {
		t.Error("run deleted although its artifact stayed")
	}
}

// TestDeleteRunKeepsFilesWhenTheDeleteFails: rm --files on a full disk (a real one: a small tmpfs, mounted
// as root) fails to commit the deletion; the run and its artifact files are all still there. Files go
// only once the deletion is committed.
func TestDeleteRunKeepsFilesWhenTheDeleteFails(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		testenv.Missing(t, "permission to mount a tmpfs", fmt.Sprintf("%v: %s; run the tests as root", err, strings.TrimSpace(string(out))))
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	db, err := OpenWith(filepath.Join(mnt, "runs.db"), Options{WriteRetry: 100 * time.Millisecond})
	must(t, err)
	defer db.Close()
	art := filepath.Join(t.TempDir(), "best.safetensors") // elsewhere: only the database's disk is full
	must(t, os.WriteFile(art, []byte("weights"), 0o644))
	r := startRun(t, db, RunSpec{})
	for step := int64(1); step <= 2000; step++ {
		must(t, r.LogMetrics(step, map[string]float64{MetricTrainLoss: 1, MetricLR: 2}))
	}
	_, err = r.LogArtifact(ArtifactModel, art)
	must(t, err)
	must(t, r.Finish(StatusFinished))
	filler, err := os.Create(filepath.Join(mnt, "filler"))
	must(t, err)
	buf := make([]byte, 4096)
	for {
		if _, err := filler.Write(buf); err != nil {
			break
		}
	}
	filler.Close()
	if _, err := db.DeleteRun(ctx, r.ID(), true); err == nil {
		t.Fatal("the deletion was committed on a full disk: the test's disk was not full enough")
	} else {
		t.Logf("delete on a full disk: %v", err)
	}
	if _, err := os.Stat(art); err != nil {
		t.Errorf("the run's artifact was removed although its deletion failed: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM runs WHERE id = ?`, r.ID()); n != 1 {
		t.Errorf("run rows %d, want 1", n)
	}
}
