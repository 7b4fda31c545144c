package plot

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/tracker"
)

func TestLoad(t *testing.T) {
	db, ids := trackedRuns(t)
	series, err := Load(context.Background(), db, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 4 {
		t.Fatalf("%d series, want 4", len(series))
	}
	wantOrder := []string{"lstm-128 train_loss", "lstm-128 val_loss", "lstm-256 train_loss", "lstm-256 val_loss"}
	for i, s := range series {
		if got := s.Run + " " + s.Metric; got != wantOrder[i] || s.Start.IsZero() || s.RunID != ids[i/2] {
			t.Errorf("series %d = %s (run %d), want %s", i, got, s.RunID, wantOrder[i])
		}
	}
	only, err := Load(context.Background(), db, ids[:1], []string{tracker.MetricValLoss})
	if err != nil || len(only) != 1 || len(only[0].Points) != 6 {
		t.Errorf("val_loss of one run: %v, %v", only, err)
	}
}

func TestCurvesErrors(t *testing.T) {
	db, ids := trackedRuns(t)
	ctx := context.Background()
	if _, err := Load(ctx, db, nil, nil); err == nil {
		t.Error("no runs accepted")
	}
	if _, err := Load(ctx, db, []int64{ids[0], 999}, nil); err == nil {
		t.Error("unknown run accepted")
	}
	_, err := Load(ctx, db, ids, []string{"val_acc"})
	if err == nil || !strings.Contains(err.Error(), "they have val_loss, train_loss") {
		t.Errorf("missing metric: %v; want the available metrics listed", err)
	}
	// The default metrics may be missing (a run stopped before its first validation has no val_loss),
	// in the plot too, where the options' defaults are filled in.
	run, err := db.StartRun(ctx, tracker.RunSpec{Name: "no-validation"})
	if err != nil {
		t.Fatal(err)
	}
	if err := run.LogMetric(tracker.MetricTrainLoss, 1, 2.5); err != nil {
		t.Fatal(err)
	}
	if err := run.Finish(tracker.StatusInterrupted); err != nil {
		t.Fatal(err)
	}
	if _, err := Save(ctx, db, []int64{run.ID()}, Options{}, filepath.Join(t.TempDir(), "plot.svg")); err != nil {
		t.Errorf("default metrics of a run without val_loss: %v", err)
	}
	// A misspelled metric beside a logged one is named, not dropped from the plot in silence.
	_, err = Load(ctx, db, ids, []string{tracker.MetricValLoss, "val_los"})
	if err == nil || !strings.Contains(err.Error(), "have no val_los;") {
		t.Errorf("a logged and a misspelled metric: %v; want the misspelled one named", err)
	}
	if _, err := Save(ctx, db, ids, Options{}, filepath.Join(t.TempDir(), "plot.gif")); err == nil {
		t.Error("gif file accepted")
	}
	if _, err := Save(ctx, db, ids, Options{}, filepath.Join(t.TempDir(), "missing", "dir", "plot.png")); err == nil {
		t.Error("saving into a missing directory succeeded")
	}
	if _, err := Curves(ctx, db, ids, Options{Smoothing: 2}, PNG); err == nil {
		t.Error("bad options accepted")
	}
}
