package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/tracker"
)

// TestMetricsFitWidth: a history with many metrics (the report: metrics RUN was ~450 columns wide) is cut
// into blocks of columns that fit the width, each with the step column, nothing left out.
func TestMetricsFitWidth(t *testing.T) {
	history := map[string][]tracker.Point{}
	var keys []string
	for i := range 24 {
		k := fmt.Sprintf("before_parent_val_metric_%02d", i)
		keys = append(keys, k)
		history[k] = []tracker.Point{{Step: 10, Time: t0, Value: float64(i) + 0.5}, {Step: 20, Time: t0, Value: 1e7}}
	}
	var buf bytes.Buffer
	if err := MetricsWidth(&buf, fixtureRuns()[0], keys, history, Table, 100); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	blocks := strings.Split(strings.TrimRight(out, "\n"), "\n\n")
	if len(blocks) < 3 {
		t.Errorf("%d blocks, want the table cut:\n%s", len(blocks), out)
	}
	for _, b := range blocks {
		lines := strings.Split(b, "\n")
		if !strings.HasPrefix(lines[0], "step  ") || len(lines) != 4 {
			t.Errorf("block without the step column or its rows:\n%s", b)
		}
		for _, l := range lines {
			if Width(l) > 100 {
				t.Errorf("line of %d cells: %q", Width(l), l)
			}
		}
	}
	for _, k := range keys {
		if strings.Count(out, k) != 1 {
			t.Errorf("metric %s shown %d times", k, strings.Count(out, k))
		}
	}
	if !strings.Contains(out, "1e+07") {
		t.Errorf("a large value not in the tables' style:\n%s", out)
	}
	buf.Reset()
	if err := Metrics(&buf, fixtureRuns()[0], keys, history, Table); err != nil || strings.Count(buf.String(), "\n") != 4 {
		t.Errorf("unfitted: one table, %v:\n%s", err, buf.String())
	}
}

// TestComparisonSampleLinesIndented: a sample's lines wider than the terminal are cut into lines that keep
// the block's indentation, instead of wrapping to the first column.
func TestComparisonSampleLinesIndented(t *testing.T) {
	c := fixtureComparison(true)
	c.Runs[0].LatestSample.Text = strings.Repeat("whale ", 30) + "\n" + strings.Repeat("sea ", 40)
	var buf bytes.Buffer
	if err := ComparisonWidth(&buf, c, Table, 80); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	_, samples, _ := strings.Cut(out, "Latest sample\n")
	for _, l := range strings.Split(strings.TrimRight(samples, "\n"), "\n") {
		if Width(l) > 80 {
			t.Errorf("sample line of %d cells: %q", Width(l), l)
		}
		if strings.Contains(l, "whale") || strings.Contains(l, "sea sea") {
			if !strings.HasPrefix(l, "      ") {
				t.Errorf("sample line not indented: %q", l)
			}
		}
	}
	if strings.Count(samples, "whale") != 30 || strings.Count(samples, "sea ") < 39 {
		t.Errorf("text lost:\n%s", samples)
	}
}
