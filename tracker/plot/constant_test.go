package plot

import "testing"

// TestLogPlotOfAConstant: a metric that never changes (a constant learning rate) plots on a log axis; gonum
// widens a one-value range by ±1, which took it below zero and panicked ("Values must be greater than 0 for
// a log scale").
func TestLogPlotOfAConstant(t *testing.T) {
	lr := Series{RunID: 1, Run: "c", Metric: "lr", Start: start, Points: pts(0.003, 0.003, 0.003)}
	fig, err := New([]Series{lr}, Options{Metrics: []string{"lr"}, LogY: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{PNG, SVG} {
		if _, err := Encode(fig, 400, 300, f); err != nil {
			t.Errorf("encode %s: %v", f, err)
		}
	}
	if fig.Plot.Y.Min <= 0 || fig.Plot.Y.Min >= 0.003 || fig.Plot.Y.Max <= 0.003 {
		t.Errorf("y range %g to %g, want around 0.003 and above 0", fig.Plot.Y.Min, fig.Plot.Y.Max)
	}
}
