package nb

import (
	"bytes"
	"context"
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/tracker"
)

func TestWorkDirIsOnePerNotebookRun(t *testing.T) {
	kernelA, kernelB := t.TempDir(), t.TempDir()
	t.Setenv(gonbTmpEnv, kernelA)
	first := Must(WorkDir("nbtest"))
	t.Cleanup(func() { os.RemoveAll(first) })
	if again := Must(WorkDir("nbtest")); again != first {
		t.Fatalf("the same run (kernel) got two folders: %s and %s", first, again)
	}
	if st, err := os.Stat(first); err != nil || !st.IsDir() || !strings.HasPrefix(filepath.Base(first), "lstmlab-nbtest-") {
		t.Fatalf("work folder %s: %v", first, err)
	}
	t.Setenv(gonbTmpEnv, kernelB)
	other := Must(WorkDir("nbtest"))
	t.Cleanup(func() { os.RemoveAll(other) })
	if other == first {
		t.Fatalf("two runs (kernels) share the folder %s", first)
	}
	t.Setenv(gonbTmpEnv, "")
	a, b := Must(WorkDir("nbtest")), Must(WorkDir("nbtest"))
	t.Cleanup(func() { os.RemoveAll(a); os.RemoveAll(b) })
	if a == b {
		t.Fatal("outside GoNB two calls returned the same folder")
	}
}

func TestMustStopsOnError(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(error).Error(), "boom") {
			t.Fatalf("Must did not stop with the error: %v", r)
		}
	}()
	Must(1, errorString("boom"))
}

type errorString string

func (e errorString) Error() string { return string(e) }

// decode decodes a PNG and checks its pixel size.
func decode(t *testing.T, b []byte, width, height int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got.X != width || got.Y != height {
		t.Fatalf("image is %v pixels, want %d×%d", got, width, height)
	}
	return img
}

// hasColor reports whether some pixel of img within rect is within tol of c in every channel.
func hasColor(img image.Image, rect image.Rectangle, c color.RGBA, tol int) bool {
	rect = rect.Intersect(img.Bounds())
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if abs(int(r>>8)-int(c.R)) <= tol && abs(int(g>>8)-int(c.G)) <= tol && abs(int(b>>8)-int(c.B)) <= tol {
				return true
			}
		}
	}
	return false
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestChartDrawsTrainValidationAndBaselines(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5}
	c := Chart{
		Title: "loss", XLabel: "step", YLabel: "nats",
		Series: []Series{
			{Label: "train", X: x, Y: []float64{3, 2.5, 2, 1.8, 1.7}, Color: TrainColor},
			{Label: "validation", X: []float64{2, 4}, Y: []float64{2.6, 1.9}, Color: ValColor, Dots: true},
		},
		Baselines: []Baseline{{"uniform (ln V)", 3.2}, {"bigram model", 2.2}},
		Markers:   []float64{3}, MarkerLabel: "state reset",
		Width: 640, Height: 300,
	}
	img := decode(t, Must(c.PNG()), 640, 300)
	all := img.Bounds()
	for name, col := range map[string]color.RGBA{"train": TrainColor, "validation": ValColor, "baseline": baselineGrey, "marker": markerColor} {
		if !hasColor(img, all, col, 6) {
			t.Errorf("no %s colour %v in the chart", name, col)
		}
	}
	if _, err := (Chart{Series: []Series{{X: x, Y: x[:2]}}}).PNG(); err == nil {
		t.Error("a series with 5 x and 2 y values was drawn")
	}
	if _, err := (Chart{}).PNG(); err == nil {
		t.Error("a chart without series was drawn")
	}
	logc := Chart{Series: []Series{{X: x, Y: []float64{1, 0.1, 0, 1e-3, 1e-4}}}, LogY: true, Width: 300, Height: 200}
	decode(t, Must(logc.PNG()), 300, 200) // zero is left out on a log axis, not an error
}

func TestHeatmapHasAColourBar(t *testing.T) {
	values := [][]float64{{0, 0.5, 1}, {1, 0.5, 0}}
	h := Heatmap{Title: "forget gate", Values: values, RowLabels: []string{"u0", "u1"}, ColLabels: []string{"a", "␣", "b"},
		Min: 0, Max: 1, BarLabel: "gate value", Width: 500, Height: 220}
	img := decode(t, Must(h.PNG()), 500, 220)
	bar := image.Rect(500-80, 0, 500, 220)
	cm := h.colorMap()
	for _, v := range []float64{0.05, 0.95} {
		c, _ := cm.At(v)
		if !hasColor(img, bar, color.RGBAModel.Convert(c).(color.RGBA), 12) {
			t.Errorf("the colour bar lacks the colour of %.2f", v)
		}
	}
	d := Heatmap{Values: [][]float64{{-1, 1}}, Min: -1, Max: 1, Diverging: true, Width: 400}
	img = decode(t, Must(d.PNG()), 400, 86)
	for _, v := range []float64{-0.99, 0.99} {
		c, _ := d.colorMap().At(v)
		if !hasColor(img, image.Rect(0, 0, 320, 86), color.RGBAModel.Convert(c).(color.RGBA), 12) {
			t.Errorf("the diverging heatmap lacks the colour of %.1f", v)
		}
	}
	for name, bad := range map[string]Heatmap{
		"ragged":       {Values: [][]float64{{1, 2}, {3}}, Max: 1},
		"empty range":  {Values: values, Min: 1, Max: 1},
		"label count":  {Values: values, Max: 1, RowLabels: []string{"only one"}},
		"no values":    {Max: 1},
		"column count": {Values: values, Max: 1, ColLabels: []string{"a"}},
	} {
		if _, err := bad.PNG(); err == nil {
			t.Errorf("%s: drawn without an error", name)
		}
	}
}

func TestBarsGroupsPerCategory(t *testing.T) {
	b := Bars{Categories: []string{"a", "b", "c"}, Groups: []string{"T = 0.5", "T = 1"},
		Values: [][]float64{{0.8, 0.15, 0.05}, {0.5, 0.3, 0.2}}, Width: 500, Height: 300}
	img := decode(t, Must(b.PNG()), 500, 300)
	for g := range b.Groups {
		if !hasColor(img, img.Bounds(), Palette[g], 4) {
			t.Errorf("group %d's colour is missing", g)
		}
	}
	if _, err := (Bars{Categories: []string{"a"}, Groups: []string{"x"}, Values: [][]float64{{1, 2}}}).PNG(); err == nil {
		t.Error("two values for one category were drawn")
	}
}

func TestActivationHTML(t *testing.T) {
	html := Must(ActivationHTML([]string{"<", "a", "\n", "b"}, []float64{-1, 0, 1, 2}))
	if strings.Count(html, "<span") != 4 {
		t.Fatalf("want one span per token: %s", html)
	}
	for _, want := range []string{"&lt;", `background:#316dc6`, `background:#ffffff`, `background:#d6362e`, "↵\n", `title="+2.000"`} {
		if !strings.Contains(html, want) {
			t.Errorf("%q missing from %s", want, html)
		}
	}
	if _, err := ActivationHTML([]string{"a"}, nil); err == nil {
		t.Error("one token with no value was accepted")
	}
	if !strings.Contains(ActivationScale("cell state"), "cell state") {
		t.Error("the scale does not say what it shows")
	}
}

func TestBaselinesOf(t *testing.T) {
	// Vocabulary {0, 1, 2}; train alternates 0 1 0 1 ...: n(0)=n(1)=3, n(2)=0, pairs (0,1)×3, (1,0)×2.
	train := []int32{0, 1, 0, 1, 0, 1}
	eval := []int32{0, 1, 2}
	b := Must(BaselinesOf(train, eval, 3))
	wantUni := -(math.Log(4.0/9) + math.Log(1.0/9)) / 2 // p(1) = (3+1)/(6+3), p(2) = 1/9
	wantBi := -(math.Log(4.0/6) + math.Log(1.0/5)) / 2  // p(1|0) = (3+1)/(3+3); p(2|1) = 1/(2+3): 1 has 2 successors
	if math.Abs(b.Uniform-math.Log(3)) > 1e-12 || math.Abs(b.Unigram-wantUni) > 1e-12 || math.Abs(b.Bigram-wantBi) > 1e-12 {
		t.Fatalf("got %+v, want uniform %.4f unigram %.4f bigram %.4f", b, math.Log(3), wantUni, wantBi)
	}
	if lines := b.Lines(math.Ln2); len(lines) != 3 || math.Abs(lines[0].Y-math.Log2(3)) > 1e-12 {
		t.Fatalf("lines in bits: %+v", lines)
	}
	if _, err := BaselinesOf(train, []int32{0, 5}, 3); err == nil {
		t.Error("a token outside the vocabulary was scored")
	}
	// On text the bigram explains well the order is bigram < unigram < uniform.
	rng := rand.New(rand.NewPCG(1, 1))
	seq := make([]int32, 5000)
	for i := 1; i < len(seq); i++ {
		seq[i] = (seq[i-1] + 1 + int32(rng.IntN(2))) % 5
	}
	b = Must(BaselinesOf(seq[:4000], seq[4000:], 5))
	if !(b.Bigram < b.Unigram && b.Unigram <= b.Uniform+1e-3 && b.Bigram < math.Log(2)+0.05) {
		t.Fatalf("baselines out of order: %+v", b)
	}
}

func TestPearsonAndBestUnit(t *testing.T) {
	target := []float64{0, 0, 1, 1, 0}
	units := [][]float64{{1, 2, 1, 2, 1}, {5, 5, -1, -1, 5}, {0.1, 0.2, 0.8, 0.9, 0.3}}
	u, r := BestUnit(units, target)
	if u != 1 || math.Abs(r+1) > 1e-12 {
		t.Fatalf("best unit %d r %.3f, want unit 1 with r = -1", u, r)
	}
	if !math.IsNaN(Pearson([]float64{1, 1, 1}, []float64{0, 1, 2})) {
		t.Error("a constant series has no correlation")
	}
}

func TestAnimalsAndItsFloor(t *testing.T) {
	text, floor := Animals(2000)
	again, floor2 := Animals(2000)
	if text != again || floor != floor2 {
		t.Fatal("Animals is not the same text every time")
	}
	line := regexp.MustCompile(`^(The \w+ \w+ (jumps|runs|walks|flies) over the \w+\.|A \w+ sleeps near the \w+\.|Every morning the \w+ goes to the \w+\.|The \w+ \w+ and the \w+ play\.)$`)
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Fatalf("line %q matches no template", l)
		}
	}
	// Each sentence carries 2 (template) + 3 per slot of eight + 2 for the verb bits; the floor is their mean per character.
	if !(floor > 0.2 && floor < 0.4) {
		t.Fatalf("floor %.3f bits/char", floor)
	}
}

func TestQuotesNeedMemory(t *testing.T) {
	text := Quotes(5000, 3)
	if text != Quotes(5000, 3) || text == Quotes(5000, 4) {
		t.Fatal("Quotes is not determined by its seed")
	}
	tokens := strings.Split(text, "")
	inside := InsideQuotes(tokens)
	afterStop := map[bool]map[string]int{true: {}, false: {}}
	for k := 0; k+1 < len(tokens); k++ {
		if tokens[k] == "." {
			afterStop[inside[k] == 1][tokens[k+1]]++
		}
	}
	if len(afterStop[true]) != 1 || afterStop[true][`"`] == 0 {
		t.Fatalf("inside a quote a full stop must be followed by the closing quote: %v", afterStop[true])
	}
	if afterStop[false][`"`] != 0 || afterStop[false][" "] == 0 {
		t.Fatalf("outside a quote a full stop is followed by a space or a line break: %v", afterStop[false])
	}
	for _, l := range strings.Split(text, "\n") {
		if len(l) > 60 {
			t.Fatalf("line of %d characters: %q", len(l), l)
		}
	}
	got := InsideQuotes(strings.Split(`a "bc" d`, ""))
	if want := []float64{0, 0, 1, 1, 1, 0, 0, 0}; !equal(got, want) {
		t.Fatalf("InsideQuotes = %v, want %v", got, want)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBracketTask(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{1, 7, 40} {
		l := BracketLine(rng, k)
		o := strings.IndexByte(Openers, l[0])
		if o < 0 || len(l) != k+4 || l[k+1] != '=' || l[k+2] != Closers[o] || l[k+3] != '\n' {
			t.Fatalf("k = %d: %q", k, l)
		}
	}
	short, long := 0, 0
	for _, l := range strings.Split(strings.TrimSuffix(BracketCorpus(50000, 100, 1), "\n"), "\n") {
		k := len(l) - 3
		if k < 1 || k > 101 {
			t.Fatalf("distance %d in %q", k, l)
		}
		if k < 10 {
			short++
		} else if k >= 30 {
			long++
		}
	}
	if short == 0 || long == 0 {
		t.Fatalf("%d short and %d long lines: want both", short, long)
	}
	probes := BracketProbes(12, 5, 3)
	for _, p := range probes {
		if len(p) != 12+4 || p[0] != '\n' || strings.IndexByte(Closers, p[len(p)-1]) != strings.IndexByte(Openers, p[1]) {
			t.Fatalf("probe %q", p)
		}
	}
}

func TestRealWordShare(t *testing.T) {
	known := WordSet("The whale, the sea.")
	share, n := RealWordShare("the whale zzq sea cut", known)
	if n != 4 || share != 0.75 {
		t.Fatalf("share %.2f of %d words, want 0.75 of 4 (the last word is left out)", share, n)
	}
}

func TestFuncSourceShowsTheBackwardPass(t *testing.T) {
	src := Must(FuncSource("../../lstm/cell_lstm.go", "lstmCell", "backward"))
	if !strings.HasPrefix(src, "// backward") || !strings.Contains(src, "func (lstmCell) backward(") || !strings.HasSuffix(src, "}") {
		t.Fatalf("unexpected source:\n%s", src)
	}
	if _, err := FuncSource("../../lstm/cell_lstm.go", "gruCell", "backward"); err == nil {
		t.Error("found a method of a type the file does not declare")
	}
	if fn := Must(FuncSource("corpora.go", "", "Animals")); !strings.Contains(fn, "func Animals(") {
		t.Errorf("function source: %s", fn)
	}
}

func TestLSTMCellSVG(t *testing.T) {
	var root struct {
		XMLName xml.Name
		Width   string `xml:"width,attr"`
	}
	if err := xml.Unmarshal(LSTMCellSVG, &root); err != nil || root.XMLName.Local != "svg" || root.Width != "800" {
		t.Fatalf("not an 800-wide SVG: %v %+v", err, root)
	}
	dec := xml.NewDecoder(bytes.NewReader(LSTMCellSVG))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	for _, label := range []string{"cₜ₋₁", "hₜ₋₁", "xₜ", "fₜ", "iₜ", "oₜ", "c̃ₜ", "cₜ = fₜ⊙cₜ₋₁ + iₜ⊙c̃ₜ", "oₜ⊙tanh(cₜ)"} {
		if !bytes.Contains(LSTMCellSVG, []byte(label)) {
			t.Errorf("the diagram lacks %q", label)
		}
	}
}

func TestHistoryFromATrackerRun(t *testing.T) {
	db := Must(tracker.Open(filepath.Join(t.TempDir(), "t.db")))
	defer db.Close()
	run := Must(db.StartRun(context.Background(), tracker.RunSpec{Name: "h"}))
	for step := int64(1); step <= 4; step++ {
		Check(run.LogMetrics(step, map[string]float64{"train_loss": float64(10 - step)}))
	}
	Check(run.Finish(tracker.StatusFinished))
	info := Must(db.FindRun(context.Background(), "h"))
	x, y := Must2(History(db, info, "train_loss", false, 0))
	if !equal(x, []float64{1, 2, 3, 4}) || !equal(y, []float64{9, 8, 7, 6}) {
		t.Fatalf("history x %v y %v", x, y)
	}
	xt, ys := Must2(History(db, info, "train_loss", true, 0.5))
	if xt[0] < 0 || xt[3] < xt[0] || ys[1] == y[1] {
		t.Fatalf("by time %v, smoothed %v", xt, ys)
	}
	if _, _, err := History(db, info, "val_loss", false, 0); err == nil {
		t.Error("a metric the run never logged gave a history")
	}
}
