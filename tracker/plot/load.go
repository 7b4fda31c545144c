package plot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lstmlab/lstmlab/tracker"
)

// Load reads the histories of the given metrics of the given runs, one
// Series per (run, metric) that has points, runs in the given order. An
// unknown run is an error; so is a named metric that none of the runs
// logged, and, for the default metrics, a selection in which no run logged
// any of them (the messages list the metrics the runs do have).
func Load(ctx context.Context, db *tracker.DB, runIDs []int64, metrics []string) ([]Series, error) {
	if len(runIDs) == 0 {
		return nil, errors.New("plot: no runs given")
	}
	named := len(metrics) > 0
	if !named {
		metrics = DefaultMetrics
	}
	var series []Series
	available := map[string]bool{}
	for _, id := range runIDs {
		run, err := db.GetRun(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("plot: %w", err)
		}
		for k := range run.Metrics {
			available[k] = true
		}
		for _, m := range metrics {
			points, err := db.History(ctx, id, m)
			if err != nil {
				return nil, fmt.Errorf("plot: %w", err)
			}
			if len(points) == 0 {
				continue
			}
			series = append(series, Series{RunID: id, Run: run.Name, Metric: m, Start: run.Start, Points: points})
		}
	}
	var missing []string
	for _, m := range metrics {
		if !available[m] {
			missing = append(missing, m)
		}
	}
	if len(series) == 0 || (named && len(missing) > 0) {
		have := tracker.MetricOrder(keys(available))
		if len(have) == 0 {
			return nil, errors.New("plot: the runs have no metrics logged yet")
		}
		if len(series) > 0 {
			metrics = missing
		}
		return nil, fmt.Errorf("plot: the runs have no %s; they have %s", strings.Join(metrics, " or "), strings.Join(have, ", "))
	}
	return series, nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
