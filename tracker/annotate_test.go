package tracker

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAnnotateFinishedRun tags, untags and notes a run that finished, as
// `lstmlab tag` and `lstmlab note` do from another process.
func TestAnnotateFinishedRun(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{Name: "done", Tags: map[string]string{"team": "a"}})
	must(t, r.Finish(StatusFinished))
	id := r.ID()
	must(t, db.SetTags(ctx, id, map[string]string{"team": "b", "stage": "prod 🚀"}))
	must(t, db.SetNote(ctx, id, "best so far\nkeep"))
	ri, err := db.GetRun(ctx, id)
	must(t, err)
	if ri.Tags["team"] != "b" || ri.Tags["stage"] != "prod 🚀" || ri.Note != "best so far\nkeep" {
		t.Errorf("after tagging: tags %v note %q", ri.Tags, ri.Note)
	}
	err = db.DeleteTags(ctx, id, []string{"stage", "nope"})
	if err == nil || !strings.Contains(err.Error(), `no tag "nope"`) {
		t.Errorf("deleting a missing tag: %v", err)
	}
	ri, _ = db.GetRun(ctx, id)
	if ri.Tags["stage"] == "" {
		t.Error("a failed delete removed a tag")
	}
	must(t, db.DeleteTags(ctx, id, []string{"stage"}))
	ri, _ = db.GetRun(ctx, id)
	if _, ok := ri.Tags["stage"]; ok || ri.Status != StatusFinished {
		t.Errorf("after delete: tags %v status %s", ri.Tags, ri.Status)
	}
	for _, err := range []error{db.SetTags(ctx, 999, map[string]string{"a": "b"}), db.SetNote(ctx, 999, "x"), db.DeleteTags(ctx, 999, []string{"a"})} {
		if !errors.Is(err, ErrRunNotFound) {
			t.Errorf("unknown run: %v", err)
		}
	}
	if err := db.SetTags(ctx, id, map[string]string{" bad": "x"}); err == nil {
		t.Error("a key with a leading space was accepted")
	}
}

func TestShow(t *testing.T) {
	db := openTemp(t, Options{})
	parent := startRun(t, db, RunSpec{Name: "parent"})
	must(t, parent.LogSample(Sample{Step: 10, Prompt: "a", Text: "old"}))
	must(t, parent.LogSample(Sample{Step: 20, Prompt: "a", Text: "new a"}))
	must(t, parent.LogSample(Sample{Step: 20, Prompt: "b", Text: "new b"}))
	must(t, parent.LogMetric("val_loss", 1, 2))
	must(t, parent.Finish(StatusFinished))
	child := startRun(t, db, RunSpec{Name: "child", ParentID: parent.ID()})
	must(t, child.Finish(StatusFinished))
	d, err := db.Show(ctx, parent.ID())
	must(t, err)
	if len(d.Children) != 1 || d.Children[0].Name != "child" || d.Parent != nil {
		t.Errorf("lineage: parent %v children %v", d.Parent, d.Children)
	}
	if len(d.LatestSamples) != 2 || d.LatestSamples[0].Text != "new a" || d.LatestSamples[1].Text != "new b" {
		t.Errorf("latest samples: %+v", d.LatestSamples)
	}
	c, err := db.Show(ctx, child.ID())
	must(t, err)
	if c.Parent == nil || c.Parent.Name != "parent" || len(c.LatestSamples) != 0 || c.Artifacts == nil {
		t.Errorf("child detail: %+v", c)
	}
	if keys, err := db.MetricKeys(ctx, parent.ID()); err != nil || strings.Join(keys, ",") != "val_loss" {
		t.Errorf("metric keys %v %v", keys, err)
	}
	if _, err := db.Show(ctx, 999); !errors.Is(err, ErrRunNotFound) {
		t.Errorf("show unknown run: %v", err)
	}
}

// TestAnnotateWaitsForABusyWriter: tagging and noting while another connection (SQLite locks it like
// another process) holds the write lock far beyond BusyTimeout waits it out instead of failing; a
// run's own SetTag checks the value like DB.SetTags.
func TestAnnotateWaitsForABusyWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	db, err := OpenWith(path, Options{BusyTimeout: 20 * time.Millisecond})
	must(t, err)
	defer db.Close()
	r := startRun(t, db, RunSpec{})
	if err := r.SetTag("k", "caf\xe9"); err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Errorf("Run.SetTag with invalid UTF-8: %v", err)
	}
	must(t, r.Finish(StatusFinished))
	blocker, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate")
	must(t, err)
	defer blocker.Close()
	tx, err := blocker.Begin()
	must(t, err)
	go func() {
		time.Sleep(300 * time.Millisecond)
		tx.Commit()
	}()
	must(t, db.SetTags(ctx, r.ID(), map[string]string{"team": "x"}))
	must(t, db.SetNote(ctx, r.ID(), "waited"))
	must(t, db.DeleteTags(ctx, r.ID(), []string{"team"}))
	ri, err := db.GetRun(ctx, r.ID())
	must(t, err)
	if _, ok := ri.Tags["team"]; ok || ri.Note != "waited" {
		t.Errorf("after waiting: tags %v note %q", ri.Tags, ri.Note)
	}
}
