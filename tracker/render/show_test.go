package render

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/tracker"
)

func fixtureDetail() *tracker.RunDetail {
	r := fixtureRuns()[0]
	r.Note = "baseline"
	return &tracker.RunDetail{
		RunInfo:  r,
		Children: []tracker.RunRef{{ID: 2, Name: "child"}},
		Artifacts: []tracker.Artifact{{ID: 1, RunID: 1, Kind: "checkpoint", Path: "/runs/1/checkpoint.safetensors",
			SHA256: "0123456789abcdef0123", Size: 1234567, Created: t0.Add(3 * time.Minute)}},
		LatestSamples: []tracker.Sample{{RunID: 1, Step: 300, Prompt: "Call me", Text: " Ishmael.\nSome years ago", Temperature: 0.8, TopK: 40, TopP: 0.95, Seed: 7}},
		ParamChanges:  fixtureChanges(),
	}
}

// fixtureChanges: run 1 was resumed at step 200 with lr 0.003 → 0.001.
func fixtureChanges() []tracker.ParamChange {
	return []tracker.ParamChange{{Key: "lr", Step: 201, Time: t0.Add(2 * time.Minute), Old: 0.003, Value: 0.001}}
}

func TestShowGolden(t *testing.T) {
	for f, name := range map[Format]string{Table: "show.txt", JSON: "show.json", Markdown: "show.md"} {
		var buf bytes.Buffer
		if err := Show(&buf, fixtureDetail(), f); err != nil {
			t.Fatal(err)
		}
		golden(t, name, buf.Bytes())
	}
	if err := Show(&bytes.Buffer{}, fixtureDetail(), CSV); err == nil {
		t.Error("show as CSV: want an error naming the formats")
	}
}

func fixtureHistory() map[string][]tracker.Point {
	pt := func(step int64, v float64) tracker.Point {
		return tracker.Point{Step: step, Time: t0.Add(time.Duration(step) * time.Second), Value: v}
	}
	return map[string][]tracker.Point{
		"train_loss": {pt(1, 4.2), pt(2, 3.9), pt(3, math.Inf(1)), pt(4, math.NaN())},
		"val_loss":   {pt(2, 4.0), pt(4, math.Inf(-1))},
	}
}

func TestMetricsGolden(t *testing.T) {
	for f, name := range map[Format]string{Table: "metrics.txt", CSV: "metrics.csv", JSON: "metrics.json"} {
		var buf bytes.Buffer
		if err := Metrics(&buf, fixtureRuns()[0], []string{"train_loss", "val_loss"}, fixtureHistory(), f); err != nil {
			t.Fatal(err)
		}
		golden(t, name, buf.Bytes())
	}
}

func TestSamplesGolden(t *testing.T) {
	a := []tracker.Sample{
		{Step: 100, Prompt: "Call me", Text: "the whale the whale", Temperature: 0.8},
		{Step: 200, Prompt: "Call me", Text: "Ishmael. Some years ago—never mind how long precisely", Temperature: 0.8},
	}
	b := []tracker.Sample{
		{Step: 200, Prompt: "Call me", Text: "我喜欢吃苹果，因为苹果很好吃。🍎🍎🍎", Temperature: 0.8},
		{Step: 300, Prompt: "Call me", Text: "late", Temperature: 0.8},
	}
	var one bytes.Buffer
	if err := Samples(&one, fixtureRuns()[0], a, Table); err != nil {
		t.Fatal(err)
	}
	golden(t, "samples.txt", one.Bytes())
	pairs := PairSamples(a, b)
	if len(pairs) != 3 || pairs[0].Step != 100 || len(pairs[0].B) != 0 || len(pairs[1].A) != 1 || len(pairs[1].B) != 1 {
		t.Fatalf("pairs %+v", pairs)
	}
	var two bytes.Buffer
	if err := SamplesSideBySide(&two, fixtureRuns()[0], fixtureRuns()[2], pairs, Table, 60); err != nil {
		t.Fatal(err)
	}
	golden(t, "samples-diff.txt", two.Bytes())
	for _, l := range strings.Split(strings.TrimRight(two.String(), "\n"), "\n") {
		if Width(l) > 60 {
			t.Errorf("line of %d cells, want at most 60: %q", Width(l), l)
		}
		if strings.Contains(l, "│") && strings.Index(l, "│") != strings.Index(two.String(), "│") && Width(l[:strings.Index(l, "│")]) != 29 {
			t.Errorf("the divider is not at cell 29: %q", l)
		}
	}
}
