package plot

import (
	"math"
	"testing"

	"github.com/lstmlab/lstmlab/tracker"
)

func pts(values ...float64) []tracker.Point {
	out := make([]tracker.Point, len(values))
	for i, v := range values {
		out[i] = tracker.Point{Step: int64(i), Value: v}
	}
	return out
}

func TestSmooth(t *testing.T) {
	raw := pts(4, 4, 4, 0, 0)
	same, err := Smooth(raw, 0)
	if err != nil || same[3].Value != 0 || &same[0] == &raw[0] {
		t.Errorf("w=0 should copy unchanged: %v %v", same, err)
	}
	s, err := Smooth(raw, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	// Debiasing keeps a constant start constant instead of rising from 0.
	for i := 0; i < 3; i++ {
		if math.Abs(s[i].Value-4) > 1e-12 {
			t.Errorf("smoothed[%d] = %v, want 4", i, s[i].Value)
		}
	}
	// After the drop the average lags: (0.5·(0.5·avg3) ...) computed by hand.
	// avg after 3 fours: 4·(1-0.5³)=3.5, weight 0.875; step 3: avg 1.75,
	// weight 0.9375 → 1.8667.
	if math.Abs(s[3].Value-1.75/0.9375) > 1e-12 || s[4].Value >= s[3].Value || s[4].Value <= 0 {
		t.Errorf("smoothed tail = %v, %v", s[3].Value, s[4].Value)
	}
	if raw[3].Value != 0 {
		t.Error("Smooth modified its input")
	}
	withNaN, _ := Smooth(pts(1, math.NaN(), 1), 0.9)
	if !math.IsNaN(withNaN[1].Value) || math.Abs(withNaN[2].Value-1) > 1e-12 {
		t.Errorf("NaN handling: %v", withNaN)
	}
	for _, w := range []float64{-0.1, 1, math.NaN()} {
		if _, err := Smooth(raw, w); err == nil {
			t.Errorf("weight %v accepted", w)
		}
	}
}

// TestSmoothingSkipsEvaluationMetrics checks that a plot's smoothing applies to per-step metrics only:
// validation and test points, and the writing figures (cold start, free-running), are drawn as logged.
func TestSmoothingSkipsEvaluationMetrics(t *testing.T) {
	raw := pts(4, 2, 1)
	for metric, wantRaw := range map[string]bool{"train_loss": false, "lr": false, "tokens_per_s": false, "val_loss": true, "test_bpc": true,
		"free_running_bpc": true, "free_running_loss": true, "val_cold_bpw": true, "test_cold_bpc": true, "test_free_running_bpg": true} {
		got, err := smoothed(Series{Metric: metric, Points: raw}, 0.6)
		if err != nil {
			t.Fatal(err)
		}
		isRaw := got[2].Value == raw[2].Value
		if isRaw != wantRaw {
			t.Errorf("%s: last point %v (raw %v), want raw = %v", metric, got[2].Value, raw[2].Value, wantRaw)
		}
	}
}
