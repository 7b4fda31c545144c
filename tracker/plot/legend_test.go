package plot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/lstmlab/lstmlab/tracker"
)

// svgText is a text element of an SVG with its anchor in canvas points
// (origin bottom left, as gonum draws).
type svgText struct {
	x, y float64
	text string
}

// svgContents lists the texts (with anchors) and the (stroke, dasharray)
// style of every stroked path of an SVG written by vgsvg.
func svgContents(t *testing.T, data []byte) ([]svgText, map[string]int) {
	t.Helper()
	var texts []svgText
	styles := map[string]int{}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var cur *svgText
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("invalid SVG: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "text":
				cur = &svgText{}
				for _, a := range el.Attr {
					switch a.Name.Local {
					case "x":
						cur.x, _ = strconv.ParseFloat(a.Value, 64)
					case "y": // drawn under scale(1, -1)
						y, _ := strconv.ParseFloat(a.Value, 64)
						cur.y = -y
					}
				}
			case "path":
				for _, a := range el.Attr {
					if a.Name.Local != "style" || !strings.Contains(a.Value, "stroke:#") {
						continue
					}
					var stroke, dash string
					for _, part := range strings.Split(a.Value, ";") {
						if v, ok := strings.CutPrefix(part, "stroke:"); ok {
							stroke = v
						}
						if v, ok := strings.CutPrefix(part, "stroke-dasharray:"); ok {
							dash = v
						}
					}
					styles[stroke+" "+dash]++
				}
			}
		case xml.CharData:
			if cur != nil {
				cur.text += string(el)
			}
		case xml.EndElement:
			if el.Name.Local == "text" && cur != nil {
				texts = append(texts, *cur)
				cur = nil
			}
		}
	}
	return texts, styles
}

// manyRuns makes n runs with train and validation loss curves and long names.
func manyRuns(n int) []Series {
	var out []Series
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("sweep-%02d-hidden-%d-lr-%g", i, 64<<(i%4), 0.001*float64(1+i%3))
		out = append(out, fakeSeries(int64(i+1), name, tracker.MetricTrainLoss, 60, 1+float64(i)/30))
		out = append(out, fakeSeries(int64(i+1), name, tracker.MetricValLoss, 60, 1.1+float64(i)/30))
	}
	return out
}

// TestThirtyRunsReadable: 30 runs × 2 metrics give 60 curves that all
// differ in colour or dash, and a legend laid out beside the plot, in
// columns, entirely inside the image: checked on the layout and on the
// text positions of the SVG actually written.
func TestThirtyRunsReadable(t *testing.T) {
	opts := Options{Metrics: []string{tracker.MetricTrainLoss, tracker.MetricValLoss}}
	fig, err := New(manyRuns(30), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(fig.Curves) != 60 {
		t.Fatalf("%d curves, want 60", len(fig.Curves))
	}
	styles := map[string]string{}
	for _, c := range fig.Curves {
		key := fmt.Sprint(c.Color, c.Dashes)
		if other, ok := styles[key]; ok {
			t.Errorf("%q and %q share colour and dash", c.Label, other)
		}
		styles[key] = c.Label
	}

	for _, size := range [][2]int{{900, 540}, {640, 400}, {1600, 900}} {
		w, h := vg.Length(size[0])*vg.Inch/dpi, vg.Length(size[1])*vg.Inch/dpi
		lay, cols := fig.Layout(draw.New(vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(dpi))))
		if len(cols) == 0 || len(lay.Legend) != len(cols) || (size[1] <= 540 && len(cols) < 2) {
			t.Errorf("%v: %d legend columns; 60 entries need two or more below 540 pixels", size, len(cols))
		}
		for i, r := range lay.Legend {
			if r.Min.X < 0 || r.Min.Y < 0 || r.Max.X > w || r.Max.Y > h {
				t.Errorf("%v: legend column %d at %v is not inside the %v×%v image", size, i, r, w, h)
			}
			if r.Min.X < lay.Plot.Max.X {
				t.Errorf("%v: legend column %d starts at x=%v, inside the plot (which ends at %v)", size, i, r.Min.X, lay.Plot.Max.X)
			}
			if i > 0 && r.Min.X < lay.Legend[i-1].Max.X {
				t.Errorf("%v: legend columns %d and %d overlap", size, i-1, i)
			}
		}
		if lay.Plot.Max.X-lay.Plot.Min.X < w/2 {
			t.Errorf("%v: the plot keeps only %v of %v points of width", size, lay.Plot.Max.X-lay.Plot.Min.X, w)
		}
	}

	opts.Width, opts.Height = 900, 540
	img, err := Render(manyRuns(30), opts, SVG)
	if err != nil {
		t.Fatal(err)
	}
	texts, strokes := svgContents(t, img)
	w, h := 900*0.75, 540*0.75
	fig2, _ := New(manyRuns(30), opts)
	lay, _ := fig2.Layout(draw.New(vgimg.NewWith(vgimg.UseWH(vg.Length(w), vg.Length(h)), vgimg.UseDPI(dpi))))
	found := 0
	for _, c := range fig.Curves {
		for _, tx := range texts {
			if tx.text == c.Label || (strings.HasSuffix(tx.text, "…") && strings.HasPrefix(c.Label, strings.TrimSuffix(tx.text, "…"))) {
				found++
				if tx.x < float64(lay.Plot.Max.X) || tx.x > w || tx.y < 0 || tx.y > h {
					t.Errorf("legend text %q anchored at (%.1f, %.1f): outside the legend area or the %gx%g image", tx.text, tx.x, tx.y, w, h)
				}
				break
			}
		}
	}
	if found != 60 {
		t.Errorf("%d of 60 legend labels in the SVG", found)
	}
	// Every curve is drawn with its own colour and dash (line plus legend
	// swatch: at least two paths each).
	distinct := 0
	for style, n := range strokes {
		if !strings.HasPrefix(style, "#000000") && n >= 2 {
			distinct++
		}
	}
	if distinct < 60 {
		t.Errorf("%d distinct stroke styles drawn, want 60: %v", distinct, strokes)
	}
}

// TestLogPlotWithZeros: on a log axis the values <= 0 are left out, counted
// in a note, and the line breaks there instead of bridging them; an
// all-zero metric plots on a linear axis, and on a log axis fails saying
// why.
func TestLogPlotWithZeros(t *testing.T) {
	zeros := Series{RunID: 1, Run: "z", Metric: "train_loss", Start: start, Points: pts(3, 2, 0, 0, 1.5, 1)}
	fig, err := New([]Series{zeros}, Options{Metrics: []string{"train_loss"}, LogY: true})
	if err != nil {
		t.Fatal(err)
	}
	if fig.NonPositive != 2 || len(fig.Notes) != 1 || !strings.Contains(fig.Notes[0], "2 values <= 0 left out (train_loss 2)") {
		t.Errorf("NonPositive %d, notes %q", fig.NonPositive, fig.Notes)
	}
	img, err := Encode(fig, 600, 400, SVG)
	if err != nil {
		t.Fatal(err)
	}
	_, strokes := svgContents(t, img)
	colour := hexColour(0)
	lines := 0
	for style, n := range strokes {
		if strings.HasPrefix(style, colour) {
			lines += n
		}
	}
	// Two segments (3,2 and 1.5,1) and the legend swatch: a bridge would be one segment.
	if lines != 3 {
		t.Errorf("%d paths in the run's colour, want 3 (two segments around the gap, one swatch)", lines)
	}

	flat := Series{RunID: 1, Run: "flat", Metric: "grad_norm", Start: start, Points: pts(0, 0, 0, 0)}
	if fig, err := New([]Series{flat}, Options{Metrics: []string{"grad_norm"}}); err != nil || len(fig.Curves) != 1 {
		t.Errorf("an all-zero metric on a linear axis: %v", err)
	} else if _, err := Encode(fig, 400, 300, PNG); err != nil {
		t.Errorf("encode an all-zero metric: %v", err)
	}
	_, err = New([]Series{flat}, Options{Metrics: []string{"grad_norm"}, LogY: true})
	if err == nil || !strings.Contains(err.Error(), "<= 0") || strings.Contains(err.Error(), "no finite") {
		t.Errorf("an all-zero metric on a log axis: %v; want an error about values <= 0", err)
	}
	nan := Series{RunID: 1, Run: "n", Metric: "val_loss", Start: start, Points: pts(2, math.NaN(), 1)}
	if fig, err := New([]Series{nan}, Options{Metrics: []string{"val_loss"}}); err != nil || fig.NonFinite != 1 {
		t.Errorf("NaN in a curve: %v", err)
	}
}
