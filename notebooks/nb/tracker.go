package nb

import (
	"context"
	"fmt"

	"github.com/lstmlab/lstmlab/tracker"
	"github.com/lstmlab/lstmlab/tracker/plot"
)

// History returns a run's metric as chart coordinates: x the step (or, with byTime, the seconds since the
// run started) and y the value, optionally smoothed (plot.Smooth's EMA weight; 0 leaves the values as they
// are).
func History(db *tracker.DB, run tracker.RunInfo, metric string, byTime bool, smoothing float64) (x, y []float64, err error) {
	points, err := db.History(context.Background(), run.ID, metric)
	if err != nil {
		return nil, nil, err
	}
	if len(points) == 0 {
		return nil, nil, fmt.Errorf("run %s has no %s", run.Name, metric)
	}
	if smoothing > 0 {
		if points, err = plot.Smooth(points, smoothing); err != nil {
			return nil, nil, err
		}
	}
	x, y = make([]float64, len(points)), make([]float64, len(points))
	for i, p := range points {
		x[i], y[i] = float64(p.Step), p.Value
		if byTime {
			x[i] = p.Time.Sub(run.Start).Seconds()
		}
	}
	return x, y, nil
}
