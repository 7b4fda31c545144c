package plot

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	gplot "gonum.org/v1/plot"
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

// Encode renders p as a width×height pixel image. An SVG has the same size
// in CSS pixels (its width and height are given in points: pixels × 0.75).
func Encode(p *gplot.Plot, width, height int, f Format) ([]byte, error) {
	w := vg.Length(width) * vg.Inch / dpi
	h := vg.Length(height) * vg.Inch / dpi
	var buf bytes.Buffer
	switch f {
	case PNG:
		c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))
		p.Draw(draw.New(c))
		if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("encode png: %w", err)
		}
	case SVG:
		c := vgsvg.New(w, h)
		p.Draw(draw.New(c))
		if _, err := c.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("encode svg: %w", err)
		}
	default:
		return nil, fmt.Errorf("image format %q: want png or svg", f)
	}
	return buf.Bytes(), nil
}

// Render draws the series (see New) and encodes them.
func Render(series []Series, opts Options, f Format) ([]byte, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	p, err := New(series, opts)
	if err != nil {
		return nil, err
	}
	return Encode(p, opts.Width, opts.Height, f)
}

// Curves loads the runs' histories from db and renders their learning
// curves as image bytes, e.g. for a notebook cell.
func Curves(ctx context.Context, db *tracker.DB, runIDs []int64, opts Options, f Format) ([]byte, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	series, err := Load(ctx, db, runIDs, opts.Metrics)
	if err != nil {
		return nil, err
	}
	return Render(series, opts, f)
}

// Save renders the runs' learning curves into path, PNG or SVG by its
// extension. The file is written to a temporary name and renamed, so a
// reader never sees half an image and a failure leaves any older plot in
// place.
func Save(ctx context.Context, db *tracker.DB, runIDs []int64, opts Options, path string) error {
	f, err := FormatOf(path)
	if err != nil {
		return err
	}
	img, err := Curves(ctx, db, runIDs, opts, f)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, img)
}
