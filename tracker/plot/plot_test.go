package plot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/tracker"
)

var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeSeries makes a decaying loss curve for a run.
func fakeSeries(runID int64, run, metric string, n int, scale float64) Series {
	s := Series{RunID: runID, Run: run, Metric: metric, Start: start}
	for i := 0; i < n; i++ {
		s.Points = append(s.Points, tracker.Point{
			Step: int64(i * 10), Time: start.Add(time.Duration(i) * 3 * time.Second),
			Value: scale * (1 + 3*math.Exp(-float64(i)/20)),
		})
	}
	return s
}

func threeRuns(metric string) []Series {
	return []Series{
		fakeSeries(1, "alpha", metric, 100, 1),
		fakeSeries(2, "beta", metric, 100, 1.2),
		fakeSeries(3, "gamma", metric, 100, 0.8),
	}
}

func TestPNGSizeAndOneLinePerRun(t *testing.T) {
	img, err := Render(threeRuns(tracker.MetricValLoss), Options{Metrics: []string{tracker.MetricValLoss}, Width: 640, Height: 400}, PNG)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := decoded.Bounds(); b.Dx() != 640 || b.Dy() != 400 {
		t.Errorf("PNG is %d×%d, want 640×400", b.Dx(), b.Dy())
	}
	// Each run's colour is drawn (its line and legend swatch); the colour
	// of a fourth run is not.
	for i := 0; i < 4; i++ {
		n := countColour(decoded, RunColor(i))
		if i < 3 && n < 100 {
			t.Errorf("run %d colour covers %d pixels; its line is missing", i, n)
		}
		if i == 3 && n != 0 {
			t.Errorf("an unused run colour covers %d pixels", n)
		}
	}
}

func countColour(img image.Image, c interface{ RGBA() (r, g, b, a uint32) }) int {
	wr, wg, wb, _ := c.RGBA()
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 == wr>>8 && g>>8 == wg>>8 && bl>>8 == wb>>8 {
				n++
			}
		}
	}
	return n
}

// svgInfo parses an SVG: its size attributes, its text elements and the
// stroke colours of its paths.
type svgInfo struct {
	width, height string
	texts         []string
	strokes       map[string]int
}

func parseSVG(t *testing.T, data []byte) svgInfo {
	t.Helper()
	info := svgInfo{strokes: map[string]int{}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	inText := false
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
			for _, a := range el.Attr {
				switch {
				case el.Name.Local == "svg" && a.Name.Local == "width":
					info.width = a.Value
				case el.Name.Local == "svg" && a.Name.Local == "height":
					info.height = a.Value
				case el.Name.Local == "path" && a.Name.Local == "style":
					for _, part := range strings.Split(a.Value, ";") {
						if c, ok := strings.CutPrefix(part, "stroke:"); ok {
							info.strokes[c]++
						}
					}
				}
			}
			inText = el.Name.Local == "text"
		case xml.CharData:
			if inText {
				info.texts = append(info.texts, string(el))
			}
		case xml.EndElement:
			inText = false
		}
	}
	return info
}

func hexColour(i int) string {
	c := RunColor(i)
	return fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B)
}

func TestSVGLegendAndLines(t *testing.T) {
	opts := Options{Metrics: []string{tracker.MetricValLoss}, Title: "Moby <sweep>"}
	img, err := Render(threeRuns(tracker.MetricValLoss), opts, SVG)
	if err != nil {
		t.Fatal(err)
	}
	info := parseSVG(t, img)
	if info.width != "675pt" || info.height != "405pt" {
		t.Errorf("SVG size %s × %s, want 675pt × 405pt (900×540 px)", info.width, info.height)
	}
	for i, name := range []string{"alpha", "beta", "gamma"} {
		if n := countText(info.texts, name); n != 1 {
			t.Errorf("legend has %d entries for %s, want 1", n, name)
		}
		// One data line and one legend swatch per run.
		if n := info.strokes[hexColour(i)]; n != 2 {
			t.Errorf("run %s: %d paths in its colour, want 2 (line and legend)", name, n)
		}
	}
	for _, want := range []string{"Moby <sweep>", "step", tracker.MetricValLoss} {
		if countText(info.texts, want) != 1 {
			t.Errorf("SVG lacks the text %q: %v", want, info.texts)
		}
	}
}

func countText(texts []string, s string) int {
	n := 0
	for _, t := range texts {
		if t == s {
			n++
		}
	}
	return n
}

func TestTwoMetricsPerRun(t *testing.T) {
	series := append(threeRuns(tracker.MetricTrainLoss)[:2], threeRuns(tracker.MetricValLoss)[:2]...)
	img, err := Render(series, Options{X: WallTime, Smoothing: 0.6, LogY: true}, SVG)
	if err != nil {
		t.Fatal(err)
	}
	info := parseSVG(t, img)
	for _, want := range []string{"alpha train_loss", "alpha val_loss", "beta train_loss", "beta val_loss", "wall time (min)", "loss (nats/token)"} {
		if countText(info.texts, want) != 1 {
			t.Errorf("SVG lacks %q: %v", want, info.texts)
		}
	}
	if n := info.strokes[hexColour(0)]; n != 4 {
		t.Errorf("run alpha: %d paths in its colour, want 4 (2 lines, 2 swatches)", n)
	}
}

func TestNewEdgeCases(t *testing.T) {
	// A single point is drawn as a dot; NaNs and, on a log axis, values
	// <= 0 are left out without failing.
	single := Series{RunID: 1, Run: "one", Metric: "val_loss", Start: start, Points: []tracker.Point{{Step: 5, Value: 2}}}
	odd := Series{RunID: 2, Run: "odd", Metric: "val_loss", Start: start, Points: pts(math.NaN(), -1, 0, 3, 2)}
	if _, err := Render([]Series{single, odd}, Options{Metrics: []string{"val_loss"}, LogY: true}, PNG); err != nil {
		t.Errorf("edge cases: %v", err)
	}
	if _, err := New([]Series{{Run: "nan", Metric: "val_loss", Points: pts(math.NaN())}}, Options{}); err == nil {
		t.Error("plot of nothing but NaN succeeded")
	}
	bad := []Options{{X: "epochs"}, {Width: 10}, {Height: 100000}, {Smoothing: 1}}
	for _, o := range bad {
		if _, err := New(threeRuns("val_loss"), o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if _, err := Encode(nil, 100, 100, "gif"); err == nil {
		t.Error("gif accepted")
	}
}

func TestTimeUnit(t *testing.T) {
	mk := func(d time.Duration) []Series {
		return []Series{{Start: start, Points: []tracker.Point{{Time: start.Add(d)}}}}
	}
	cases := map[time.Duration]string{30 * time.Second: "s", 30 * time.Minute: "min", 5 * time.Hour: "h"}
	for d, want := range cases {
		if _, got := timeUnit(mk(d)); got != want {
			t.Errorf("timeUnit(%v) = %s, want %s", d, got, want)
		}
	}
	if yLabel([]string{"val_bpc"}) != "val_bpc" || yLabel([]string{"lr", "val_loss"}) != "lr, val_loss" {
		t.Error("yLabel")
	}
}
