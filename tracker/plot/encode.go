package plot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/lstmlab/lstmlab/internal/atomicfile"
	"github.com/lstmlab/lstmlab/tracker"
)

// Format is an image format.
type Format string

// The image formats.
const (
	PNG Format = "png"
	SVG Format = "svg"
)

// FormatOf picks the format from a file name's extension (.png or .svg).
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		return PNG, nil
	case ".svg":
		return SVG, nil
	}
	return "", fmt.Errorf("plot file %s: the name must end in .png or .svg", path)
}

// dpi fixes the pixel size of PNGs: Width×Height pixels.
const dpi = 96

// Encode renders the figure as a width×height pixel image. An SVG has the
// same size in CSS pixels (its width and height are given in points:
// pixels × 0.75).
func Encode(fig *Figure, width, height int, f Format) ([]byte, error) {
	if fig == nil {
		return nil, errors.New("encode: no figure")
	}
	w := vg.Length(width) * vg.Inch / dpi
	h := vg.Length(height) * vg.Inch / dpi
	var buf bytes.Buffer
	switch f {
	case PNG:
		c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
		fig.Draw(draw.New(c))
		if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("encode png: %w", err)
		}
	case SVG:
		c := vgsvg.New(w, h)
		fig.Draw(draw.New(c))
		if _, err := c.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("encode svg: %w", err)
		}
	default:
		return nil, fmt.Errorf("image format %q: want png or svg", f)
	}
	return buf.Bytes(), nil
}

// Layout is where a figure's parts go on a canvas.
type Layout struct {
	// Plot holds the title, axes and curves.
	Plot vg.Rectangle
	// Legend are the extents of the legend's columns, left to right; they
	// lie right of Plot and inside the canvas.
	Legend []vg.Rectangle
	// FontSize is the legend's font size.
	FontSize vg.Length
}

const (
	legendMargin  = vg.Length(6)   // points between the legend and the edges
	legendGap     = vg.Length(10)  // points between legend columns
	legendShare   = 0.45           // the legend may take this share of the width
	legendMaxFont = vg.Length(10)  // points
	legendMinFont = vg.Length(6.5) // points; below, labels are cut instead
)

// Layout places the legend beside the plot: entries top to bottom in
// columns as tall as the canvas, as many columns as needed, in a font that
// shrinks (down to 6.5 pt) before labels are cut to keep the legend within
// 45 % of the width. It returns the layout and the legend columns to draw.
func (f *Figure) Layout(c draw.Canvas) (Layout, []*gplot.Legend) {
	size := c.Max.X - c.Min.X
	height := c.Max.Y - c.Min.Y
	var lay Layout
	var cols []*gplot.Legend
	for font := legendMaxFont; ; font -= 0.5 {
		cols, lay = f.legendColumns(c, font, size*legendShare, font <= legendMinFont)
		total := vg.Length(0)
		for i, r := range lay.Legend {
			total += r.Max.X - r.Min.X
			if i > 0 {
				total += legendGap
			}
		}
		fits := total <= size*legendShare
		if fits || font <= legendMinFont {
			x := c.Max.X - legendMargin - total
			for i := range lay.Legend {
				w := lay.Legend[i].Max.X - lay.Legend[i].Min.X
				h := lay.Legend[i].Max.Y - lay.Legend[i].Min.Y
				top := c.Max.Y - legendMargin
				lay.Legend[i] = vg.Rectangle{Min: vg.Point{X: x, Y: top - h}, Max: vg.Point{X: x + w, Y: top}}
				x += w + legendGap
			}
			lay.Plot = vg.Rectangle{Min: c.Min, Max: vg.Point{X: c.Max.X - total - 2*legendMargin, Y: c.Max.Y}}
			if len(lay.Legend) == 0 {
				lay.Plot.Max.X = c.Max.X
			}
			lay.FontSize = font
			_ = height
			return lay, cols
		}
	}
}

// legendColumns splits the entries into columns that fit the canvas
// height at this font size; with cut set, labels are shortened so that the
// columns fit maxWidth together.
func (f *Figure) legendColumns(c draw.Canvas, font, maxWidth vg.Length, cut bool) ([]*gplot.Legend, Layout) {
	var lay Layout
	if len(f.legend) == 0 {
		return nil, lay
	}
	proto := gplot.NewLegend()
	proto.TextStyle.Font.Size = font
	proto.ThumbnailWidth = 2 * font
	proto.Padding = font * 0.25
	proto.Top, proto.Left = true, true
	entryH := proto.TextStyle.Rectangle("Mg").Max.Y + proto.Padding
	avail := c.Max.Y - c.Min.Y - 2*legendMargin
	perCol := max(1, int((avail+proto.Padding)/entryH))
	ncols := (len(f.legend) + perCol - 1) / perCol
	perCol = (len(f.legend) + ncols - 1) / ncols // balance the columns
	labelWidth := vg.Length(math.Inf(1))
	if cut {
		labelWidth = (maxWidth-vg.Length(ncols-1)*legendGap)/vg.Length(ncols) - proto.ThumbnailWidth - font
	}
	var cols []*gplot.Legend
	for start := 0; start < len(f.legend); start += perCol {
		l := proto
		for _, e := range f.legend[start:min(start+perCol, len(f.legend))] {
			l.Add(fitLabel(l.TextStyle, e.label, labelWidth), e.thumb)
		}
		r := l.Rectangle(c)
		lay.Legend = append(lay.Legend, vg.Rectangle{Max: vg.Point{X: r.Max.X - r.Min.X, Y: r.Max.Y - r.Min.Y}})
		cols = append(cols, &l)
	}
	return cols, lay
}

// fitLabel cuts label with "…" until it is at most width wide.
func fitLabel(sty text.Style, label string, width vg.Length) string {
	if sty.Rectangle(" "+label).Max.X <= width {
		return label
	}
	runes := []rune(label)
	for n := len(runes) - 1; n > 0; n-- {
		s := string(runes[:n]) + "…"
		if sty.Rectangle(" "+s).Max.X <= width {
			return s
		}
	}
	return "…"
}

// Draw draws the figure on c: the plot on the left, the legend beside it.
func (f *Figure) Draw(c draw.Canvas) {
	lay, cols := f.Layout(c)
	pc := c
	pc.Rectangle = lay.Plot
	f.Plot.Draw(pc)
	for i, l := range cols {
		lc := c
		lc.Rectangle = lay.Legend[i]
		l.Draw(lc)
	}
}

// Render draws the series (see New) and encodes them.
func Render(series []Series, opts Options, f Format) ([]byte, error) {
	img, _, err := render(series, opts, f)
	return img, err
}

func render(series []Series, opts Options, f Format) ([]byte, []string, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	fig, err := New(series, opts)
	if err != nil {
		return nil, nil, err
	}
	img, err := Encode(fig, opts.Width, opts.Height, f)
	return img, fig.Notes, err
}

// Curves loads the runs' histories from db and renders their learning
// curves as image bytes, e.g. for a notebook cell.
func Curves(ctx context.Context, db *tracker.DB, runIDs []int64, opts Options, f Format) ([]byte, error) {
	img, _, err := curves(ctx, db, runIDs, opts, f)
	return img, err
}

func curves(ctx context.Context, db *tracker.DB, runIDs []int64, opts Options, f Format) ([]byte, []string, error) {
	named := opts.Metrics // Load lets a default metric be missing, never a named one
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	series, err := Load(ctx, db, runIDs, named)
	if err != nil {
		return nil, nil, err
	}
	return render(series, opts, f)
}

// Save renders the runs' learning curves into path, PNG or SVG by its
// extension, and returns the figure's notes (values left out; see
// Figure.Notes) for the caller to show. The file is written to a
// temporary name and renamed, so a reader never sees half an image and a
// failure leaves any older plot in place.
func Save(ctx context.Context, db *tracker.DB, runIDs []int64, opts Options, path string) ([]string, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	img, notes, err := curves(ctx, db, runIDs, opts, f)
	if err != nil {
		return nil, err
	}
	return notes, atomicfile.WriteFile(path, img)
}
