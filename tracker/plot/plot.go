// Package plot draws learning curves from the tracker with gonum.org/v1/plot:
// one or several runs overlaid, chosen metrics, steps or wall time on the x
// axis, optional smoothing and log scale, as PNG or SVG.
//
// Each run has its own colour and each metric its own dash pattern (the
// first solid, the second dashed), so "train solid, validation dashed" reads
// at a glance; the legend names every curve.
package plot

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/lstmlab/lstmlab/tracker"
)

// XAxis chooses what the x axis shows.
type XAxis string

// The x axes.
const (
	// Steps plots against the training step.
	Steps XAxis = "steps"
	// WallTime plots against the time since each run started, so runs
	// started at different times overlay.
	WallTime XAxis = "time"
)

// DefaultMetrics are plotted when Options.Metrics is empty.
var DefaultMetrics = []string{tracker.MetricTrainLoss, tracker.MetricValLoss}

// Options configures a learning-curve plot. The zero value is a plot of
// train and validation loss against steps, 900×540 pixels.
type Options struct {
	// Metrics to draw; default DefaultMetrics.
	Metrics []string
	// X is the x axis; default Steps.
	X XAxis
	// Smoothing is the EMA weight in [0, 1) (see Smooth) applied to
	// per-step metrics (train_loss, lr, ...); 0 draws raw values.
	// Evaluation metrics (val_*, test_*) are always drawn raw: they are few
	// points, each already an average over a split, and an EMA over them
	// would lag several evaluations behind.
	Smoothing float64
	// LogY puts the y axis on a log scale; values <= 0 are then left out.
	LogY bool
	// Title; default "Learning curves".
	Title string
	// Width and Height in pixels (at 96 dpi); default 900×540.
	Width, Height int
}

const maxPixels = 10000

func (o Options) withDefaults() (Options, error) {
	if len(o.Metrics) == 0 {
		o.Metrics = DefaultMetrics
	}
	if o.X == "" {
		o.X = Steps
	}
	if o.Title == "" {
		o.Title = "Learning curves"
	}
	if o.Width == 0 {
		o.Width = 900
	}
	if o.Height == 0 {
		o.Height = 540
	}
	switch {
	case o.X != Steps && o.X != WallTime:
		return o, fmt.Errorf("x axis %q: want %q or %q", o.X, Steps, WallTime)
	case o.Width < 100 || o.Height < 100 || o.Width > maxPixels || o.Height > maxPixels:
		return o, fmt.Errorf("plot size %d×%d: want 100 to %d pixels each way", o.Width, o.Height, maxPixels)
	case math.IsNaN(o.Smoothing) || o.Smoothing < 0 || o.Smoothing >= 1:
		return o, fmt.Errorf("smoothing %v: want a weight in [0, 1), e.g. 0.6", o.Smoothing)
	}
	return o, nil
}

// Series is one curve: one metric of one run.
type Series struct {
	RunID int64
	// Run is the run's name, shown in the legend.
	Run    string
	Metric string
	// Start is when the run started, the origin of the wall-time axis.
	Start  time.Time
	Points []tracker.Point
}

// New draws the series into a gonum plot, for callers who want to adjust
// it further; most use Render or the DB helpers. Series are coloured by run
// (in order of first appearance) and dashed by metric (in the order of
// opts.Metrics). Non-finite values are left out, as are values <= 0 on a
// log axis.
func New(series []Series, opts Options) (*gplot.Plot, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	p := gplot.New()
	p.Title.Text = opts.Title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Y.Label.Text = yLabel(opts.Metrics)
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker = niceTicks{}
	p.Y.Tick.Marker = niceTicks{}
	if opts.LogY {
		p.Y.Scale = gplot.LogScale{}
		p.Y.Tick.Marker = logTicker{}
	}

	unit, unitName := timeUnit(series)
	switch opts.X {
	case Steps:
		p.X.Label.Text = "step"
	case WallTime:
		p.X.Label.Text = "wall time (" + unitName + ")"
	}

	runIndex := map[int64]int{}
	metricIndex := map[string]int{}
	for i, m := range opts.Metrics {
		metricIndex[m] = i
	}
	drawn := 0
	for _, s := range series {
		if _, ok := runIndex[s.RunID]; !ok {
			runIndex[s.RunID] = len(runIndex)
		}
		mi, ok := metricIndex[s.Metric]
		if !ok {
			mi = len(metricIndex)
			metricIndex[s.Metric] = mi
		}
		points, err := smoothed(s, opts.Smoothing)
		if err != nil {
			return nil, err
		}
		xys := make(plotter.XYs, 0, len(points))
		for _, pt := range points {
			if math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0) || (opts.LogY && pt.Value <= 0) {
				continue
			}
			x := float64(pt.Step)
			if opts.X == WallTime {
				x = float64(pt.Time.Sub(s.Start)) / float64(unit)
			}
			xys = append(xys, plotter.XY{X: x, Y: pt.Value})
		}
		if len(xys) == 0 {
			continue
		}
		label := s.Run
		if len(opts.Metrics) > 1 {
			label += " " + s.Metric
		}
		col := RunColor(runIndex[s.RunID])
		if len(xys) == 1 {
			// A single point draws no line; show it as a dot.
			dot, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, err
			}
			dot.GlyphStyle.Color = col
			dot.GlyphStyle.Radius = vg.Points(3)
			p.Add(dot)
			p.Legend.Add(label, dot)
		} else {
			line, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			line.LineStyle.Color = col
			line.LineStyle.Width = vg.Points(1.5)
			line.LineStyle.Dashes = metricDash(mi)
			p.Add(line)
			p.Legend.Add(label, line)
		}
		drawn++
	}
	if drawn == 0 {
		return nil, errors.New("nothing to plot: no finite values of " + strings.Join(opts.Metrics, ", ") + " in the chosen runs")
	}
	return p, nil
}

// yLabel names the y axis: the metric, "loss" when every metric is a loss,
// else the metric names.
func yLabel(metrics []string) string {
	if len(metrics) == 1 {
		return metrics[0]
	}
	for _, m := range metrics {
		if !strings.HasSuffix(m, "loss") {
			return strings.Join(metrics, ", ")
		}
	}
	return "loss (nats/token)"
}

// timeUnit picks seconds, minutes or hours so the wall-time axis shows
// readable numbers.
func timeUnit(series []Series) (time.Duration, string) {
	var longest time.Duration
	for _, s := range series {
		if n := len(s.Points); n > 0 {
			longest = max(longest, s.Points[n-1].Time.Sub(s.Start))
		}
	}
	switch {
	case longest < 2*time.Minute:
		return time.Second, "s"
	case longest < 2*time.Hour:
		return time.Minute, "min"
	}
	return time.Hour, "h"
}

// smoothed returns the points of s to draw: smoothed with weight w unless s
// is an evaluation metric (see Options.Smoothing).
func smoothed(s Series, w float64) ([]tracker.Point, error) {
	if strings.HasPrefix(s.Metric, "val_") || strings.HasPrefix(s.Metric, "test_") {
		w = 0
	}
	return Smooth(s.Points, w)
}
