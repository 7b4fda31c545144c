package experiments

import (
	"context"

	"github.com/lstmlab/lstmlab/tracker"
	"github.com/lstmlab/lstmlab/tracker/plot"
)

// WritePlot draws the learning curves of runs (default metrics: train and validation loss) to path,
// PNG or SVG by its extension. Values left out (NaN after a divergence) show as gaps.
func WritePlot(ctx context.Context, db *tracker.DB, runIDs []int64, metrics []string, path string) error {
	_, err := plot.Save(ctx, db, runIDs, plot.Options{Metrics: metrics, Smoothing: 0.6}, path)
	return err
}
