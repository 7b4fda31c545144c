// Package plot draws learning curves from the tracker with gonum.org/v1/plot:
// one or several runs overlaid, chosen metrics, steps or wall time on the x
// axis, optional smoothing and log scale, as PNG or SVG.
//
// Each run has its own colour and each metric its own dash pattern (the
// first solid, the second dashed), so "train solid, validation dashed" reads
// at a glance; past ten runs the dash patterns shift too, so no two curves
// look alike. The legend names every curve, beside the plot (never over
// the curves), in as many columns as it needs.
package plot

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

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
	// Evaluation metrics (val_*, test_*, free_running_*: with them the writing
	// figures val_cold_*, test_cold_*, test_free_running_*) are always drawn raw: they are few
	// points, each already an average over a split, and an EMA over them
	// would lag several evaluations behind.
	Smoothing float64
	// LogY puts the y axis on a log scale; values <= 0 are then left out
	// (counted in Figure.NonPositive, drawn as gaps).
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

// Curve is one drawn curve: its legend label and its style. No two curves
// of a figure share both colour and dash pattern while there are at most
// MaxStyles of them.
type Curve struct {
	Label  string
	Color  color.RGBA
	Dashes []vg.Length
}

// Figure is a drawn learning-curve plot: the gonum plot with axes and
// curves, and a legend laid out beside it (outside the plotting area, in
// as many columns as the height needs), fully inside the image.
type Figure struct {
	// Plot holds the axes and curves; its own legend is unused.
	Plot *gplot.Plot
	// Curves are the drawn curves in legend order.
	Curves []Curve
	// Notes say what was left out, e.g. "log axis: 12 values <= 0 left out
	// (train_loss 12), drawn as gaps"; callers show them to the user.
	Notes []string
	// NonPositive counts the values left out because they are <= 0 on a
	// log axis; NonFinite the NaN and infinite values left out.
	NonPositive, NonFinite int

	legend []legendEntry
}

type legendEntry struct {
	label string
	thumb gplot.Thumbnailer
}

// New draws the series. Series are coloured by run (in order of first
// appearance) and dashed by metric (in the order of opts.Metrics); past
// ten runs the dash patterns also change from one group of ten runs to the
// next, so up to MaxStyles curves all differ in colour or dash.
// Non-finite values, and values <= 0 on a log axis, are left out and the
// line breaks there (a gap, never a bridge across them); Figure.Notes says
// how many. An error says why nothing could be drawn.
func New(series []Series, opts Options) (*Figure, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	p := gplot.New()
	p.Title.Text = opts.Title
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Y.Label.Text = yLabel(opts.Metrics)
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
	for _, s := range series {
		if _, ok := runIndex[s.RunID]; !ok {
			runIndex[s.RunID] = len(runIndex)
		}
		if _, ok := metricIndex[s.Metric]; !ok {
			metricIndex[s.Metric] = len(metricIndex)
		}
	}
	fig := &Figure{Plot: p}
	nonPositive := map[string]int{}
	total := 0
	for _, s := range series {
		points, err := smoothed(s, opts.Smoothing)
		if err != nil {
			return nil, err
		}
		total += len(points)
		// Segments of drawable points: a point that cannot be drawn ends
		// the current segment, so the line shows a gap there.
		var segments []plotter.XYs
		var cur plotter.XYs
		for _, pt := range points {
			bad := false
			switch {
			case math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0):
				fig.NonFinite++
				bad = true
			case opts.LogY && pt.Value <= 0:
				fig.NonPositive++
				nonPositive[s.Metric]++
				bad = true
			}
			if bad {
				if len(cur) > 0 {
					segments = append(segments, cur)
					cur = nil
				}
				continue
			}
			x := float64(pt.Step)
			if opts.X == WallTime {
				x = float64(pt.Time.Sub(s.Start)) / float64(unit)
			}
			cur = append(cur, plotter.XY{X: x, Y: pt.Value})
		}
		if len(cur) > 0 {
			segments = append(segments, cur)
		}
		if len(segments) == 0 {
			continue
		}
		label := s.Run
		if len(metricIndex) > 1 {
			label += " " + s.Metric
		}
		col, dashes := Style(runIndex[s.RunID], metricIndex[s.Metric], len(metricIndex))
		var thumb gplot.Thumbnailer
		for _, seg := range segments {
			if len(seg) == 1 {
				// A lone point draws no line; show it as a dot.
				dot, err := plotter.NewScatter(seg)
				if err != nil {
					return nil, err
				}
				dot.GlyphStyle.Color = col
				dot.GlyphStyle.Radius = vg.Points(2.5)
				dot.GlyphStyle.Shape = draw.CircleGlyph{}
				p.Add(dot)
				if thumb == nil {
					thumb = dot
				}
				continue
			}
			line, err := plotter.NewLine(seg)
			if err != nil {
				return nil, err
			}
			line.LineStyle.Color = col
			line.LineStyle.Width = vg.Points(1.5)
			line.LineStyle.Dashes = dashes
			p.Add(line)
			if _, isDot := thumb.(*plotter.Scatter); thumb == nil || isDot {
				thumb = line
			}
		}
		fig.legend = append(fig.legend, legendEntry{label: label, thumb: thumb})
		fig.Curves = append(fig.Curves, Curve{Label: label, Color: col, Dashes: dashes})
	}
	if opts.LogY && p.Y.Min == p.Y.Max && p.Y.Min > 0 {
		// One value (a constant learning rate): gonum would widen the range by ±1, below zero, which a
		// log axis cannot show.
		p.Y.Min, p.Y.Max = p.Y.Min/2, p.Y.Max*2
	}
	if fig.NonPositive > 0 {
		var per []string
		for _, m := range opts.Metrics {
			if n := nonPositive[m]; n > 0 {
				per = append(per, fmt.Sprintf("%s %d", m, n))
			}
		}
		for m, n := range nonPositive {
			if !slices.Contains(opts.Metrics, m) {
				per = append(per, fmt.Sprintf("%s %d", m, n))
			}
		}
		fig.Notes = append(fig.Notes, fmt.Sprintf("log axis: %d values <= 0 left out (%s), drawn as gaps", fig.NonPositive, strings.Join(per, ", ")))
	}
	if fig.NonFinite > 0 {
		fig.Notes = append(fig.Notes, fmt.Sprintf("%d NaN or infinite values left out, drawn as gaps", fig.NonFinite))
	}
	if len(fig.Curves) == 0 {
		what := strings.Join(opts.Metrics, ", ")
		switch {
		case total == 0:
			return nil, errors.New("nothing to plot: the chosen runs have no points of " + what)
		case opts.LogY && fig.NonPositive > 0:
			return nil, fmt.Errorf("nothing to plot on a log axis: every value of %s is <= 0 or not finite (%d <= 0); plot without the log scale", what, fig.NonPositive)
		}
		return nil, errors.New("nothing to plot: every value of " + what + " in the chosen runs is NaN or infinite")
	}
	return fig, nil
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

// evaluationPrefixes start the keys of the metrics logged with evaluations, not steps: validation and test
// figures (val_cold_*, test_cold_*, test_free_running_* among them) and the free-running figure.
var evaluationPrefixes = []string{"val_", "test_", "free_running_"}

// smoothed returns the points of s to draw: smoothed with weight w unless s
// is an evaluation metric (see Options.Smoothing).
func smoothed(s Series, w float64) ([]tracker.Point, error) {
	for _, p := range evaluationPrefixes {
		if strings.HasPrefix(s.Metric, p) {
			w = 0
		}
	}
	return Smooth(s.Points, w)
}
