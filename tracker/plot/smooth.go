package plot

import (
	"fmt"
	"math"

	"github.com/lstmlab/lstmlab/tracker"
)

// Smooth returns the points with their values replaced by an exponential
// moving average of weight w in [0, 1), as TensorBoard's smoothing slider
// does: s_t = w·s_{t-1} + (1-w)·v_t, divided by 1-w^t so the start is not
// pulled towards zero. w = 0 returns the points unchanged; NaN values are
// passed through and do not disturb the average.
func Smooth(points []tracker.Point, w float64) ([]tracker.Point, error) {
	if math.IsNaN(w) || w < 0 || w >= 1 {
		return nil, fmt.Errorf("smoothing %v: want a weight in [0, 1), e.g. 0.6", w)
	}
	out := make([]tracker.Point, len(points))
	copy(out, points)
	if w == 0 {
		return out, nil
	}
	var avg, weight float64
	for i, p := range out {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			continue
		}
		avg = w*avg + (1-w)*p.Value
		weight = w*weight + (1 - w)
		out[i].Value = avg / weight
	}
	return out, nil
}
