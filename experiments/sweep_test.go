package experiments

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/tracker"
)

func TestSweepGrid(t *testing.T) {
	sw, err := ParseSweep([]string{"hidden=64,128", "lr=1e-3,3e-3,1e-2"})
	if err != nil {
		t.Fatal(err)
	}
	points := sw.Points()
	if len(points) != 6 {
		t.Fatalf("%d points, want 6", len(points))
	}
	if strings.Join(points[0], " ") != "hidden=64 lr=1e-3" || strings.Join(points[5], " ") != "hidden=128 lr=1e-2" {
		t.Fatalf("grid order: %v", points)
	}
}

func TestSweepRejectsBadSpecs(t *testing.T) {
	for _, spec := range [][]string{{"hidden"}, {"hidden="}, {"nosuch=1,2"}, {"hidden=1,x"}, {"lr=1", "lr=2"}} {
		if _, err := ParseSweep(spec); err == nil || !strings.Contains(err.Error(), "sweep axis") || strings.Contains(err.Error(), "--") {
			t.Errorf("%v: %v, want an error naming the sweep axis (and no CLI flag)", spec, err)
		}
	}
}

// TestRunSweepNamesAndTagsRuns runs a two-point sweep: one run per point, named after the sweep, tagged with
// its point, in one experiment, with the point's value applied.
func TestRunSweepNamesAndTagsRuns(t *testing.T) {
	dir := t.TempDir()
	db := openLab(t, dir)
	corpus := writeText(t, dir, "sea.txt", 1, strings.Fields("the whale ship sea captain ahab white boat harpoon deck wind"))
	sweep, err := ParseSweep([]string{"hidden=16,24"})
	if err != nil {
		t.Fatal(err)
	}
	base := TrainOptions{Preset: "tiny", Data: corpus, Name: "grid", Backend: "go",
		Overrides: append(trimSet(small), "steps=10", "eval_every=10")}
	results, err := RunSweep(context.Background(), db, base, sweep, SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("%d results, want 2", len(results))
	}
	for i, want := range []string{"16", "24"} {
		info, err := db.FindRun(context.Background(), fmt.Sprintf("grid-%d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		if got := tracker.FormatParam(info.Params["hidden"]); got != want || info.Tags["sweep_point"] != "hidden="+want {
			t.Errorf("run %s: hidden %s, sweep_point %q; want %s", info.Name, got, info.Tags["sweep_point"], want)
		}
		if info.Experiment != "sweep-hidden" {
			t.Errorf("run %s in experiment %q, want sweep-hidden", info.Name, info.Experiment)
		}
	}
}
