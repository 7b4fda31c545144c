package plot

import (
	"image/color"
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// palette is Tableau 10: ten colours that stay distinguishable for most
// colour-blind readers and in print.
var palette = []color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff},
	{0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff},
	{0x9c, 0x75, 0x5f, 0xff}, {0xba, 0xb0, 0xac, 0xff},
}

// RunColor is the colour of the i-th run's curves; colours repeat after
// ten runs, when Style changes the dash pattern instead.
func RunColor(i int) color.RGBA { return palette[i%len(palette)] }

// dashPatterns tell metrics of a run apart (the first metric solid, the
// second dashed, ...) and, past ten runs, groups of ten runs: eight
// patterns that stay distinct at 1.5 pt.
var dashPatterns = [][]vg.Length{
	nil,                              // solid
	{vg.Points(6), vg.Points(3)},     // dashed
	{vg.Points(1.5), vg.Points(2.5)}, // dotted
	{vg.Points(6), vg.Points(2.5), vg.Points(1.5), vg.Points(2.5)},                           // dash-dot
	{vg.Points(12), vg.Points(4)},                                                            // long dash
	{vg.Points(6), vg.Points(2), vg.Points(1.5), vg.Points(2), vg.Points(1.5), vg.Points(2)}, // dash-dot-dot
	{vg.Points(3), vg.Points(3)},                                                             // short dash
	{vg.Points(12), vg.Points(3), vg.Points(3), vg.Points(3)},                                // long-short
}

// MaxStyles is how many curves Style keeps apart: ten colours times eight
// dash patterns.
const MaxStyles = 10 * 8

// Style is the colour and dash pattern of the curve of run number run
// (0-based, in order of appearance) and metric number metric out of
// metrics: the run picks the colour, the metric the dash, and the group of
// ten runs shifts the dash, so every (run, metric) pair differs in colour
// or dash as long as there are at most MaxStyles of them.
func Style(run, metric, metrics int) (color.RGBA, []vg.Length) {
	metrics = max(metrics, 1)
	group := run / len(palette)
	return RunColor(run), dashPatterns[(group*metrics+metric)%len(dashPatterns)]
}

// niceTicks labels an axis at round numbers (1, 2, 2.5 or 5 times a power
// of ten), five to eight labels, with unlabelled minor ticks between them; the
// labels carry no more decimals than the spacing needs (250, not 250.00).
type niceTicks struct{}

const targetLabels = 6

func (niceTicks) Ticks(min, max float64) []gplot.Tick {
	span := max - min
	if !(span > 0) || math.IsInf(span, 0) {
		return []gplot.Tick{{Value: min, Label: formatTick(min, 0)}}
	}
	mag := math.Pow(10, math.Floor(math.Log10(span/targetLabels)))
	var step float64
	decimals := 0
	for _, f := range []float64{1, 2, 2.5, 5, 10} {
		step = f * mag
		if span/step <= targetLabels+1.5 {
			decimals = int(math.Max(0, -math.Floor(math.Log10(step)+1e-9)))
			if f == 2.5 {
				decimals++
			}
			break
		}
	}
	minor := step / 5
	if math.Abs(step/mag-2.5) < 1e-9 {
		minor = step / 2.5
	}
	var ticks []gplot.Tick
	first := math.Ceil(min/minor-1e-9) * minor
	for i := 0; ; i++ {
		v := first + float64(i)*minor
		if v > max+minor*1e-9 {
			break
		}
		t := gplot.Tick{Value: v}
		if r := v / step; math.Abs(r-math.Round(r)) < 1e-6 {
			t.Label = formatTick(math.Round(r)*step, decimals)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

func formatTick(v float64, decimals int) string {
	if math.Abs(v) >= 1e6 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// logTicker labels a log axis at powers of ten when at least two of them
// fall inside the data, and otherwise (a loss between 1.2 and 4, say) at
// round numbers, which LogTicks would leave without a single label.
type logTicker struct{}

func (logTicker) Ticks(min, max float64) []gplot.Tick {
	ticks := gplot.LogTicks{Prec: -1}.Ticks(min, max)
	labelled := 0
	for _, t := range ticks {
		if t.Label != "" && t.Value >= min && t.Value <= max {
			labelled++
		}
	}
	if labelled >= 2 {
		return ticks
	}
	return niceTicks{}.Ticks(min, max)
}
