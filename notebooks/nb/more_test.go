package nb

import (
	"image"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
)

func TestTrainingCurveMarksEpochStarts(t *testing.T) {
	var c TrainingCurve
	for step := 1; step <= 25; step++ {
		c.Add(experiments.RunEvent{Event: lstm.Event{Kind: lstm.EventStep, Step: step, Loss: 3 - float64(step)/10}, WindowsEpoch: 10})
	}
	c.Add(experiments.RunEvent{Event: lstm.Event{Kind: lstm.EventEval, Step: 20, Val: &lstm.EvalResult{Loss: 1.2}}})
	if got := c.EpochStarts(); len(got) != 2 || got[0] != 10.5 || got[1] != 20.5 {
		t.Fatalf("epoch starts %v, want [10.5 20.5] (after steps 10 and 20)", got)
	}
	ch := c.Chart()
	if len(ch.Series) != 2 || ch.Series[0].Color != TrainColor || ch.Series[1].Color != ValColor || len(ch.Markers) != 2 {
		t.Fatalf("chart: %d series, markers %v", len(ch.Series), ch.Markers)
	}
	if html := c.HTML("step 25"); !strings.Contains(html, "<img") || !strings.Contains(html, "step 25") {
		t.Fatalf("live HTML: %.100s", html)
	}
}

func TestEpochStartLossAndMultiples(t *testing.T) {
	losses := make([]float64, 30) // epochs of 10 steps: steps 11 and 21 start epochs
	for i := range losses {
		losses[i] = 1
	}
	losses[10], losses[20] = 3, 5
	first, before := EpochStartLoss(losses, 10, 4)
	if first != 4 || before != 1 {
		t.Fatalf("first %.2f, before %.2f: want 4 and 1", first, before)
	}
	if got := EpochStartJumps(losses, 10, 4); len(got) != 2 || got[0] != 2 || got[1] != 4 {
		t.Fatalf("EpochStartJumps = %v, want [2 4]", got)
	}
	if got := Multiples(10, 30); len(got) != 2 || got[0] != 10 || got[1] != 20 {
		t.Fatalf("Multiples(10, 30) = %v", got)
	}
}

func TestTokenBars(t *testing.T) {
	b := TokenBars{Tokens: []string{"a", "·", "b"}, Values: []float64{3, 0.1, 1.5}, Kinds: []int{0, 1, 2},
		KindNames: []string{"sentence start", "word start", "other"}, RefY: 3, RefLabel: "3 bits", Width: 500, Height: 250}
	img := decode(t, Must(b.PNG()), 500, 250)
	if !hasColor(img, img.Bounds(), Palette[3], 4) || !hasColor(img, img.Bounds(), Palette[0], 4) {
		t.Error("the kinds' colours are missing")
	}
	if _, err := (TokenBars{Tokens: []string{"a"}, Values: []float64{1, 2}, Kinds: []int{0}}).PNG(); err == nil {
		t.Error("mismatched tokens and values were drawn")
	}
}

func TestLogChartAndLegendBeside(t *testing.T) {
	d, rel := Relative([]float64{2, 1, 0.02, 2e-9})
	if !equal(d, []float64{0, 1, 2, 3}) || rel[1] != 0.5 || math.Abs(rel[3]-1e-9) > 1e-20 {
		t.Fatalf("Relative: %v %v", d, rel)
	}
	c := Chart{Series: []Series{{Label: "a fairly long legend label", X: d, Y: rel}}, LogY: true, Width: 600, Height: 300}
	img := decode(t, Must(c.PNG()), 600, 300)
	// The legend sits beside the plot: the curve's colour appears in the right-hand strip (its thumbnail) and
	// in the plot.
	if !hasColor(img, image.Rect(420, 0, 600, 300), Palette[0], 4) || !hasColor(img, image.Rect(0, 0, 400, 300), Palette[0], 4) {
		t.Error("want the curve in the plot and its legend entry beside it")
	}
	ticks := powerTicks{}.Ticks(1e-18, 1)
	labelled := 0
	for _, tk := range ticks {
		if tk.Label != "" {
			labelled++
		}
	}
	if labelled < 3 || labelled > 9 || ticks[0].Label != "1e-18" {
		t.Fatalf("log ticks: %d labelled, first %q", labelled, ticks[0].Label)
	}
}

func TestSamplingHelpers(t *testing.T) {
	if got := TopTokens([]float64{0.1, 0.5, 0.1, 0.3}, 3); len(got) != 3 || got[0] != 1 || got[1] != 3 || got[2] != 0 {
		t.Fatalf("TopTokens = %v, want [1 3 0]", got)
	}
	if d, n := DistinctLines("a b.\nc d.\na b.\ncut"); d != 2 || n != 3 {
		t.Fatalf("DistinctLines: %d of %d, want 2 of 3", d, n)
	}
	if i := MostSurprising([]lstm.TokenScore{{LogProb: -1}, {LogProb: -5}, {LogProb: -2}}); i != 1 {
		t.Fatalf("MostSurprising = %d", i)
	}
	if Visible("a\nb") != "a ¶ b" || Shown(" ") != "·" || Shown("\n") != "¶" || Tick(true) != "✓" || Tick(false) != "" {
		t.Error("display helpers")
	}
	if Mean([]float64{1, 2, 6}) != 3 || !math.IsNaN(Mean(nil)) {
		t.Error("Mean")
	}
}

func TestQuietSilencesStandardOutput(t *testing.T) {
	saved := os.Stdout
	r, w, err := os.Pipe()
	Check(err)
	os.Stdout = w
	v := Must(Quiet(func() (int, error) {
		os.Stdout.WriteString("hidden\n")
		return 7, nil
	}))
	os.Stdout.WriteString("shown\n")
	w.Close()
	os.Stdout = saved
	out := make([]byte, 100)
	n, _ := r.Read(out)
	if v != 7 || string(out[:n]) != "shown\n" {
		t.Fatalf("value %d, standard output %q: want 7 and only the line written after Quiet", v, out[:n])
	}
}

// TestSmallModelHelpers trains a tiny model and checks the helpers that read models: the splits, the
// window count, a trace's tokens and unit series, the cold-start measurement.
func TestSmallModelHelpers(t *testing.T) {
	corpus := strings.Repeat(Quotes(4000, 5), 3)
	cfg := lstm.DefaultConfig()
	cfg.EmbedDim, cfg.Hidden, cfg.Layers, cfg.BatchSize, cfg.SeqLen, cfg.Steps, cfg.EvalEvery, cfg.LR = 8, 16, 1, 8, 32, 60, 60, 1e-2
	sp := Must(Split(cfg, corpus))
	if n := len(sp.Train) + len(sp.Val) + len(sp.Test); n != len([]rune(corpus)) || Decode(sp.Vocab, sp.Val) != corpus[len(sp.Train):len(sp.Train)+len(sp.Val)] {
		t.Fatalf("splits cover %d of %d characters, or do not decode to the corpus", n, len(corpus))
	}
	if w := Must(Windows(cfg, sp.Train)); w != (len(sp.Train)-1)/cfg.BatchSize/cfg.SeqLen {
		t.Fatalf("%d windows per epoch", w)
	}
	trained := Must(TrainSmall(cfg, corpus))
	m, before, after := trained.Model, trained.ValBefore, trained.ValAfter
	if !(after < before) || math.Abs(before-math.Log(float64(sp.Vocab.Size()))) > 0.5 {
		t.Fatalf("validation loss %.3f → %.3f (ln V = %.3f)", before, after, math.Log(float64(sp.Vocab.Size())))
	}
	if initial := Must(trained.Initial.Evaluate(sp.Val)).Loss; initial != before {
		t.Fatalf("Initial's validation loss %.6f, want ValBefore %.6f: it is not the network before training", initial, before)
	}
	if len(trained.Splits.Val) != len(sp.Val) || trained.Splits.Vocab.Size() != sp.Vocab.Size() {
		t.Fatal("Trained.Splits is not the corpus split with cfg")
	}
	trace := Must(m.Trace("a \"b\" c"))
	if strings.Join(Tokens(trace), "") != "a \"b\" c" {
		t.Fatalf("tokens %q", Tokens(trace))
	}
	if c := UnitsByStep(trace, 0, "c"); len(c) != cfg.Hidden || len(c[0]) != len(trace) || c[3][2] != float64(trace[2].Layers[0].C[3]) {
		t.Fatal("UnitsByStep is not [unit][position]")
	}
	cold, warm := Must2(ColdStart(m, Decode(m.Vocab, sp.Val), 20, 10))
	if len(cold) != 20 || !(cold[0] > warm[0]) {
		t.Fatalf("the first character from an empty memory should cost more than in the long stream: %.2f vs %.2f", cold[0], warm[0])
	}
	if ZeroState(cfg, 4).Shape().Dimensions[1] != 4 {
		t.Error("ZeroState is not [layers, batch, hidden]")
	}
}
