package plot

import (
	"fmt"
	"strings"
	"testing"

	gplot "gonum.org/v1/plot"
)

func TestStylesDistinct(t *testing.T) {
	seen := map[[4]uint8]bool{}
	for i := 0; i < len(palette); i++ {
		c := RunColor(i)
		seen[[4]uint8{c.R, c.G, c.B, c.A}] = true
	}
	if len(seen) != 10 {
		t.Errorf("palette has %d distinct colours, want 10", len(seen))
	}
	// Every (run, metric) pair differs in colour or dash while the groups
	// of ten runs times the metrics fit the eight dash patterns.
	for _, c := range []struct{ runs, metrics int }{{30, 1}, {30, 2}, {80, 1}, {40, 2}, {10, 8}, {20, 4}} {
		styles := map[string]bool{}
		for r := 0; r < c.runs; r++ {
			for m := 0; m < c.metrics; m++ {
				col, dash := Style(r, m, c.metrics)
				styles[fmt.Sprint(col, dash)] = true
			}
		}
		if len(styles) != c.runs*c.metrics {
			t.Errorf("%d runs × %d metrics: %d distinct styles, want %d", c.runs, c.metrics, len(styles), c.runs*c.metrics)
		}
	}
	if _, d := Style(0, 0, 2); d != nil {
		t.Error("the first metric of the first runs should be solid")
	}
	if _, d := Style(0, 1, 2); len(d) == 0 {
		t.Error("the second metric should be dashed")
	}
}

func labels(ticks []gplot.Tick, min, max float64) []string {
	var out []string
	for _, tk := range ticks {
		if tk.Label != "" && tk.Value >= min && tk.Value <= max {
			out = append(out, tk.Label)
		}
	}
	return out
}

func TestNiceTicks(t *testing.T) {
	cases := []struct {
		min, max float64
		want     string
	}{
		{0, 500, "0 100 200 300 400 500"},
		{0, 10000, "0 2000 4000 6000 8000 10000"},
		{1.05, 4.3, "1.5 2.0 2.5 3.0 3.5 4.0"},
		{0.0012, 0.0049, "0.0015 0.0020 0.0025 0.0030 0.0035 0.0040 0.0045"},
		{0, 3, "0.0 0.5 1.0 1.5 2.0 2.5 3.0"},
		{2, 2, "2"},
	}
	for _, c := range cases {
		got := strings.Join(labels(niceTicks{}.Ticks(c.min, c.max), c.min, c.max), " ")
		if got != c.want {
			t.Errorf("ticks on [%v, %v] = %q, want %q", c.min, c.max, got, c.want)
		}
	}
	if n := len(niceTicks{}.Ticks(0, 500)); n <= 6 {
		t.Errorf("no minor ticks: %d ticks", n)
	}
}

func TestLogTicker(t *testing.T) {
	if got := labels(logTicker{}.Ticks(1.2, 4.1), 1.2, 4.1); len(got) < 3 {
		t.Errorf("narrow log range labels %v", got)
	}
	if got := strings.Join(labels(logTicker{}.Ticks(0.01, 100), 0.01, 100), " "); got != "0.01 0.1 1 10 100" {
		t.Errorf("wide log range labels %q", got)
	}
}
