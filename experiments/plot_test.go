package experiments

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lstmlab/lstmlab/tracker"
)

// TestWritePlot draws a logged run's curves to PNG and SVG (chosen by the file extension) and refuses an
// unknown extension without writing anything.
func TestWritePlot(t *testing.T) {
	dir := t.TempDir()
	db := openLab(t, dir)
	ctx := context.Background()
	run, err := db.StartRun(ctx, tracker.RunSpec{Name: "curves"})
	if err != nil {
		t.Fatal(err)
	}
	for step := int64(1); step <= 20; step++ {
		if err := run.LogMetrics(step, map[string]float64{"train_loss": 4 / float64(step), "val_loss": 5 / float64(step)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := run.Finish(tracker.StatusFinished); err != nil {
		t.Fatal(err)
	}
	for ext, magic := range map[string][]byte{".png": []byte("\x89PNG"), ".svg": []byte("<svg")} {
		path := filepath.Join(dir, "curves"+ext)
		if err := WritePlot(ctx, db, []int64{run.ID()}, nil, path); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data[:min(len(data), 200)], magic) {
			t.Errorf("%s does not look like %s: %q", path, ext, data[:min(len(data), 40)])
		}
	}
	bad := filepath.Join(dir, "curves.bmp")
	if err := WritePlot(ctx, db, []int64{run.ID()}, nil, bad); err == nil {
		t.Error("a .bmp plot: want an error")
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a refused plot left a file behind: %v", err)
	}
}
