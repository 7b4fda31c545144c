package nb

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Figures are drawn for a notebook column about 900 pixels wide: PNGs are made at their display size (96
// dpi) with 11–14 pt text, so labels stay readable without zooming.
const (
	dpi           = 96
	defaultWidth  = 900
	defaultHeight = 420
	titleSize     = 14
	labelSize     = 12
	tickSize      = 11
)

// Colours: train and validation always in these two, so they are told apart at a glance in every
// notebook; Palette colours runs and cells (Tableau 10, readable by most colour-blind readers).
var (
	TrainColor = color.RGBA{0x4e, 0x79, 0xa7, 0xff} // blue
	ValColor   = color.RGBA{0xe1, 0x57, 0x59, 0xff} // red
	Palette    = []color.RGBA{
		{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0x59, 0xa1, 0x4f, 0xff}, {0xe1, 0x57, 0x59, 0xff},
		{0x76, 0xb7, 0xb2, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0x9c, 0x75, 0x5f, 0xff}, {0xed, 0xc9, 0x48, 0xff},
	}
	baselineGrey = color.RGBA{0x55, 0x55, 0x55, 0xff}
	markerColor  = color.RGBA{0xaa, 0xaa, 0xaa, 0xff}
)

// baselineDashes tell the baselines apart (they share one grey): dotted, dashed, dash-dot, long dash.
var baselineDashes = [][]vg.Length{
	{vg.Points(1.5), vg.Points(3)},
	{vg.Points(6), vg.Points(3)},
	{vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)},
	{vg.Points(14), vg.Points(4)},
}

// Series is one curve of a Chart.
type Series struct {
	Label  string
	X, Y   []float64
	Color  color.Color // nil: the next colour of Palette
	Dashed bool
	Dots   bool    // mark every point (for sparse measurements such as validation)
	Width  float64 // line width in points (0: 2)
}

// Baseline is a horizontal reference line, e.g. the loss of a model that needs no training.
type Baseline struct {
	Label string
	Y     float64
}

// Chart is a line chart: curves, labelled reference lines and vertical markers.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	// Baselines are drawn in grey, each with its own dash, and named in the legend with their value.
	Baselines []Baseline
	// Markers are vertical lines at these x values (e.g. the steps where training resets the state),
	// named MarkerLabel in the legend.
	Markers     []float64
	MarkerLabel string
	LogY        bool
	// YMin, YMax fix the y range when YMax > YMin.
	YMin, YMax float64
	// Width, Height in pixels; 0: 900×420.
	Width, Height int
	// LegendInside puts the legend in the plot's top right corner (LegendBottom, LegendLeft move it)
	// instead of beside the plot, where it never hides a curve.
	LegendInside, LegendBottom, LegendLeft bool
}

// PNG draws the chart.
func (c Chart) PNG() ([]byte, error) {
	p, err := c.plot()
	if err != nil {
		return nil, err
	}
	if c.LegendInside {
		return render(c.Width, c.Height, func(dc draw.Canvas) { p.Draw(dc) })
	}
	return render(c.Width, c.Height, func(dc draw.Canvas) { drawBeside(p, dc) })
}

// drawBeside draws p with its legend in a column to the right of the plot, top-aligned with it.
func drawBeside(p *plot.Plot, dc draw.Canvas) {
	legend := p.Legend
	p.Legend = plot.NewLegend() // drawn separately below
	width := legend.Rectangle(dc).Max.X - legend.Rectangle(dc).Min.X + vg.Points(12)
	right := dc.Max.X - width
	p.Draw(draw.Crop(dc, 0, right-dc.Max.X, 0, 0))
	legend.Top, legend.Left = true, true
	legend.YOffs = -vg.Points(titleSize + 10) // level with the plot area, under the title
	legend.Draw(draw.Crop(dc, right-dc.Min.X+vg.Points(8), 0, 0, 0))
}

func (c Chart) plot() (*plot.Plot, error) {
	if len(c.Series) == 0 {
		return nil, errors.New("chart: no series")
	}
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	p.Add(plotter.NewGrid())
	if c.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = powerTicks{}
	}
	var curves []plot.Plotter // drawn after the markers, so a marker never hides a curve
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i, s := range c.Series {
		if len(s.X) != len(s.Y) || len(s.X) == 0 {
			return nil, fmt.Errorf("chart: series %q has %d x and %d y values", s.Label, len(s.X), len(s.Y))
		}
		xys := make(plotter.XYs, 0, len(s.X))
		for k := range s.X {
			if c.LogY && s.Y[k] <= 0 || math.IsNaN(s.Y[k]) || math.IsInf(s.Y[k], 0) {
				continue // nothing to draw on a log axis, or not a number
			}
			xys = append(xys, plotter.XY{X: s.X[k], Y: s.Y[k]})
			xmin, xmax = math.Min(xmin, s.X[k]), math.Max(xmax, s.X[k])
			ymin, ymax = math.Min(ymin, s.Y[k]), math.Max(ymax, s.Y[k])
		}
		if len(xys) == 0 {
			continue
		}
		col := s.Color
		if col == nil {
			col = Palette[i%len(Palette)]
		}
		line, points, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width = col, vg.Points(2)
		if s.Width > 0 {
			line.Width = vg.Points(s.Width)
		}
		if s.Dashed {
			line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
		}
		curves = append(curves, line)
		entry := []plot.Thumbnailer{line}
		if s.Dots {
			points.Color, points.Shape, points.Radius = col, draw.CircleGlyph{}, vg.Points(2.5)
			curves = append(curves, points)
			entry = append(entry, points)
		}
		if s.Label != "" {
			p.Legend.Add(s.Label, entry...)
		}
	}
	if math.IsInf(xmin, 0) {
		return nil, errors.New("chart: no value to draw")
	}
	for i, b := range c.Baselines {
		line, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: b.Y}, {X: xmax, Y: b.Y}})
		if err != nil {
			return nil, err
		}
		line.Color, line.Width, line.Dashes = baselineGrey, vg.Points(1.5), baselineDashes[i%len(baselineDashes)]
		curves = append(curves, line)
		p.Legend.Add(fmt.Sprintf("%s %.2f", b.Label, b.Y), line)
		ymin, ymax = math.Min(ymin, b.Y), math.Max(ymax, b.Y)
	}
	if c.YMax > c.YMin {
		ymin, ymax = c.YMin, c.YMax
	}
	for k, x := range c.Markers {
		line, err := plotter.NewLine(plotter.XYs{{X: x, Y: ymin}, {X: x, Y: ymax}})
		if err != nil {
			return nil, err
		}
		line.Color, line.Width, line.Dashes = markerColor, vg.Points(1), []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(line)
		if k == 0 && c.MarkerLabel != "" {
			p.Legend.Add(c.MarkerLabel, line)
		}
	}
	p.Add(curves...)
	if c.YMax > c.YMin {
		p.Y.Min, p.Y.Max = c.YMin, c.YMax
	}
	p.Legend.Top, p.Legend.Left = !c.LegendBottom, c.LegendLeft
	return p, nil
}

// powerTicks labels a log axis at powers of ten ("1e-06"), at most about eight labels, with unlabelled
// ticks at the powers between them.
type powerTicks struct{}

func (powerTicks) Ticks(lowest, highest float64) []plot.Tick {
	lo, hi := int(math.Floor(math.Log10(lowest))), int(math.Ceil(math.Log10(highest)))
	every := max(1, (hi-lo+7)/8)
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		t := plot.Tick{Value: math.Pow(10, float64(e))}
		if (e-lo)%every == 0 {
			t.Label = fmt.Sprintf("1e%d", e)
			if e >= 0 && e <= 3 {
				t.Label = fmt.Sprintf("%g", t.Value)
			}
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// newPlot returns a plot with a white background and the notebook text sizes.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.BackgroundColor = color.White
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = titleSize
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = labelSize
		a.Tick.Label.Font.Size = tickSize
	}
	p.Legend.TextStyle.Font.Size = tickSize
	p.Legend.Padding = vg.Points(3)
	return p
}

// render draws onto a width×height pixel canvas (0: the defaults) and encodes it as PNG.
func render(width, height int, drawOn func(draw.Canvas)) ([]byte, error) {
	if width == 0 {
		width = defaultWidth
	}
	if height == 0 {
		height = defaultHeight
	}
	if width < 100 || height < 60 || width > 4000 || height > 4000 {
		return nil, fmt.Errorf("figure size %d×%d pixels: want 100..4000 wide, 60..4000 high", width, height)
	}
	img := vgimg.NewWith(vgimg.UseWH(px(width), px(height)), vgimg.UseDPI(dpi))
	drawOn(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	return buf.Bytes(), nil
}

// px converts pixels to gonum lengths at dpi.
func px(n int) vg.Length { return vg.Length(n) * vg.Inch / dpi }

// Heatmap shows a matrix of values (a row per unit, a column per character, say) as colours, with a
// colour bar that says which colour is which value.
type Heatmap struct {
	Title            string
	Values           [][]float64 // [row][column]
	RowLabels        []string    // top to bottom; shown on the y axis
	ColLabels        []string    // left to right; shown on the x axis
	RowName, ColName string      // axis titles
	Min, Max         float64     // the colour scale's range (values outside get its end colours)
	Diverging        bool        // blue (Min) – white – red (Max), for signed values; else black – yellow – white
	BarLabel         string      // the colour bar's title
	Width, Height    int         // pixels; 0: 900 wide, 70 + 16 per row high
	ColLabelEvery    int         // label every n-th column (0: every one)
	TickSize         float64     // x tick label size in points (0: 11)
}

// grid adapts a Heatmap to gonum's GridXYZ: row 0 is drawn at the top.
type grid struct{ h *Heatmap }

func (g grid) Dims() (c, r int)   { return len(g.h.Values[0]), len(g.h.Values) }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(len(g.h.Values) - 1 - r) }
func (g grid) Z(c, r int) float64 { return g.h.Values[r][c] }

// colorMap returns the heatmap's colour map over [Min, Max].
func (h Heatmap) colorMap() palette.ColorMap {
	var cm palette.ColorMap = moreland.ExtendedBlackBody()
	if h.Diverging {
		cm = moreland.SmoothBlueRed()
	}
	cm.SetMin(h.Min)
	cm.SetMax(h.Max)
	return cm
}

// PNG draws the heatmap with its colour bar on the right.
func (h Heatmap) PNG() ([]byte, error) {
	rows := len(h.Values)
	if rows == 0 || len(h.Values[0]) == 0 {
		return nil, errors.New("heatmap: no values")
	}
	for r, row := range h.Values {
		if len(row) != len(h.Values[0]) {
			return nil, fmt.Errorf("heatmap: row %d has %d values, row 0 has %d", r, len(row), len(h.Values[0]))
		}
	}
	if !(h.Max > h.Min) {
		return nil, fmt.Errorf("heatmap: colour range [%g, %g] is empty", h.Min, h.Max)
	}
	if (h.RowLabels != nil && len(h.RowLabels) != rows) || (h.ColLabels != nil && len(h.ColLabels) != len(h.Values[0])) {
		return nil, fmt.Errorf("heatmap: %d row and %d column labels for %d×%d values", len(h.RowLabels), len(h.ColLabels), rows, len(h.Values[0]))
	}
	cm := h.colorMap()
	p := newPlot(h.Title, h.ColName, h.RowName)
	heat := plotter.NewHeatMap(grid{&h}, cm.Palette(256))
	heat.Min, heat.Max = h.Min, h.Max
	heat.Underflow, heat.Overflow = cm.Palette(256).Colors()[0], cm.Palette(256).Colors()[255]
	p.Add(heat)
	p.X.Tick.Marker = labelTicks(h.ColLabels, func(i int) float64 { return float64(i) }, h.ColLabelEvery)
	p.Y.Tick.Marker = labelTicks(h.RowLabels, func(i int) float64 { return float64(rows - 1 - i) }, 0)
	if h.TickSize > 0 {
		p.X.Tick.Label.Font.Size = vg.Points(h.TickSize)
	}
	bar := newPlot("", "", h.BarLabel)
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	bar.HideX()
	height := h.Height
	if height == 0 {
		height = 70 + 16*rows
	}
	const barWidth = 80
	return render(h.Width, height, func(dc draw.Canvas) {
		right := dc.Max.X - px(barWidth)
		p.Draw(draw.Crop(dc, 0, right-dc.Max.X, 0, 0))
		// The bar spans the heatmap's rows: the same margins at the top (title) and bottom (x labels).
		bar.Draw(draw.Crop(dc, right-dc.Min.X+px(8), 0, px(40), -px(28)))
	})
}

// labelTicks labels the positions of labels (every n-th when every > 1); nil labels: gonum's default.
func labelTicks(labels []string, at func(int) float64, every int) plot.Ticker {
	if labels == nil {
		return plot.DefaultTicks{}
	}
	ticks := make(plot.ConstantTicks, 0, len(labels))
	for i, l := range labels {
		if every > 1 && i%every != 0 {
			ticks = append(ticks, plot.Tick{Value: at(i)})
			continue
		}
		ticks = append(ticks, plot.Tick{Value: at(i), Label: l})
	}
	return ticks
}

// Bars is a grouped bar chart: for each category (a token, say), one bar per group (a temperature).
type Bars struct {
	Title, XLabel, YLabel string
	Categories            []string    // along the x axis
	Groups                []string    // legend names, one per bar in each category
	Values                [][]float64 // [group][category]
	Width, Height         int         // pixels; 0: 900×420
}

// PNG draws the bar chart.
func (b Bars) PNG() ([]byte, error) {
	if len(b.Groups) == 0 || len(b.Groups) != len(b.Values) {
		return nil, fmt.Errorf("bars: %d groups and %d value lists", len(b.Groups), len(b.Values))
	}
	p := newPlot(b.Title, b.XLabel, b.YLabel)
	p.Add(plotter.NewGrid())
	width := vg.Points(math.Min(14, 520/float64(len(b.Categories)*len(b.Groups))))
	for g, vals := range b.Values {
		if len(vals) != len(b.Categories) {
			return nil, fmt.Errorf("bars: group %q has %d values for %d categories", b.Groups[g], len(vals), len(b.Categories))
		}
		bars, err := plotter.NewBarChart(plotter.Values(vals), width)
		if err != nil {
			return nil, err
		}
		bars.Color, bars.LineStyle.Width = Palette[g%len(Palette)], 0
		bars.Offset = width * vg.Length(float64(g)-float64(len(b.Groups)-1)/2)
		p.Add(bars)
		p.Legend.Add(b.Groups[g], bars)
	}
	p.NominalX(b.Categories...)
	p.Legend.Top = true
	return render(b.Width, b.Height, func(dc draw.Canvas) { p.Draw(dc) })
}

// TokenBars is a bar per token (a generated character, say), coloured by the token's kind, with the tokens
// as x labels and an optional labelled reference line.
type TokenBars struct {
	Title, YLabel string
	Tokens        []string  // x labels, one per bar
	Values        []float64 // bar heights
	Kinds         []int     // index into KindNames, one per bar
	KindNames     []string  // legend names of the kinds, coloured Palette[3], Palette[0], grey, ...
	RefY          float64   // a dashed reference line at this height (0: none)
	RefLabel      string
	YMax          float64 // 0: automatic
	Width, Height int
}

// PNG draws the bars.
func (t TokenBars) PNG() ([]byte, error) {
	if len(t.Tokens) != len(t.Values) || len(t.Kinds) != len(t.Values) || len(t.Values) == 0 {
		return nil, fmt.Errorf("token bars: %d tokens, %d values, %d kinds", len(t.Tokens), len(t.Values), len(t.Kinds))
	}
	colors := []color.Color{Palette[3], Palette[0], color.RGBA{0xa0, 0xa0, 0xa0, 0xff}, Palette[2]}
	p := newPlot(t.Title, "", t.YLabel)
	grid := plotter.NewGrid()
	grid.Vertical.Width = 0 // a line per token would hide the bars
	p.Add(grid)
	for k, name := range t.KindNames {
		vals := make(plotter.Values, len(t.Values))
		for i, v := range t.Values {
			if t.Kinds[i] == k {
				vals[i] = v
			}
		}
		bars, err := plotter.NewBarChart(vals, vg.Points(5))
		if err != nil {
			return nil, err
		}
		bars.Color, bars.LineStyle.Width = colors[k%len(colors)], 0
		p.Add(bars)
		p.Legend.Add(name, bars)
	}
	if t.RefY > 0 {
		line, err := plotter.NewLine(plotter.XYs{{X: -1, Y: t.RefY}, {X: float64(len(t.Values)), Y: t.RefY}})
		if err != nil {
			return nil, err
		}
		line.Color, line.Dashes = baselineGrey, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(line)
		p.Legend.Add(t.RefLabel, line)
	}
	p.X.Tick.Marker = labelTicks(t.Tokens, func(i int) float64 { return float64(i) }, 0)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.X.Min, p.X.Max = -1, float64(len(t.Values))
	if t.YMax > 0 {
		p.Y.Min, p.Y.Max = 0, t.YMax
	}
	return render(t.Width, t.Height, func(dc draw.Canvas) { drawBeside(p, dc) })
}
