package plot

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lstmlab/lstmlab/tracker"
)

func TestFormatOf(t *testing.T) {
	if f, err := FormatOf("curves.PNG"); err != nil || f != PNG {
		t.Errorf("curves.PNG: %v %v", f, err)
	}
	if f, err := FormatOf("a/b.svg"); err != nil || f != SVG {
		t.Errorf("b.svg: %v %v", f, err)
	}
	if _, err := FormatOf("plot.jpg"); err == nil {
		t.Error("jpg accepted")
	}
}

// trackedRuns logs two runs with train and validation loss into a real
// database.
func trackedRuns(t *testing.T) (*tracker.DB, []int64) {
	t.Helper()
	db, err := tracker.Open(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	var ids []int64
	for i, name := range []string{"lstm-128", "lstm-256"} {
		r, err := db.StartRun(ctx, tracker.RunSpec{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		for step := int64(0); step <= 500; step += 10 {
			loss := 1 + float64(i)*0.1 + 3*math.Exp(-float64(step)/150)
			vals := map[string]float64{tracker.MetricTrainLoss: loss}
			if step%100 == 0 {
				vals[tracker.MetricValLoss] = loss + 0.2
			}
			if err := r.LogMetrics(step, vals); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Finish(tracker.StatusFinished); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID())
	}
	return db, ids
}

func TestCurvesFromDB(t *testing.T) {
	db, ids := trackedRuns(t)
	ctx := context.Background()
	series, err := Load(ctx, db, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 4 || series[0].Run != "lstm-128" || series[0].Metric != tracker.MetricTrainLoss || len(series[0].Points) != 51 || len(series[1].Points) != 6 {
		t.Errorf("series: %d, first %s/%s with %d points", len(series), series[0].Run, series[0].Metric, len(series[0].Points))
	}
	img, err := Curves(ctx, db, ids, Options{Width: 300, Height: 200}, PNG)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(img))
	if err != nil || decoded.Bounds().Dx() != 300 || decoded.Bounds().Dy() != 200 {
		t.Fatalf("PNG: %v %v", decoded.Bounds(), err)
	}

	dir := t.TempDir()
	for _, name := range []string{"curves.png", "curves.svg"} {
		path := filepath.Join(dir, name)
		if _, err := Save(ctx, db, ids, Options{Metrics: []string{tracker.MetricValLoss}}, path); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil || len(data) < 1000 {
			t.Errorf("%s: %d bytes, %v", name, len(data), err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}
