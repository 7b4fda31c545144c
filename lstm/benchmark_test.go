package lstm

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// tinyBenchOptions measure a model small enough for a unit test; the assertions are about the report's
// consistency, never about speed.
func tinyBenchOptions() BenchOptions {
	return BenchOptions{
		Corpus: "the quick brown fox jumps over the lazy dog. ", CorpusName: "fox",
		Layers: 2, Hidden: 8, Embed: 4, Shapes: []BenchShape{{2, 4}, {3, 5}},
		Warmup: 1, Steps: 3, GenTokens: 5, PeakSize: 16,
	}
}

func TestRunBenchmarkReportIsConsistent(t *testing.T) {
	var lines []string
	opts := tinyBenchOptions()
	opts.Progress = func(l string) { lines = append(lines, l) }
	r, err := RunBenchmark(testBackend(t), "go", opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Backend != "go" || r.GoVersion == "" || r.CPUs < 1 || r.GOMAXPROCS < 1 || r.Seconds <= 0 {
		t.Errorf("machine fields not filled: %+v", r)
	}
	// 1 progress line for the peak, one per shape, one for generation.
	if len(lines) != 4 {
		t.Errorf("progress lines %q, want 4", lines)
	}
	if r.Model.Vocab != 29 || r.Model.Corpus != "fox" || r.Model.Layers != 2 || r.Model.Hidden != 8 || r.Model.Embed != 4 {
		t.Errorf("model %+v: want <unk> and the 28 characters of the fox sentence, 2×8, embedding 4", r.Model)
	}
	// Parameters: embedding 29·4, layer 0 (4+8+1)·32, layer 1 (8+8+1)·32, head 8·29+29.
	if want := 29*4 + 13*32 + 17*32 + 8*29 + 29; r.Model.Params != want {
		t.Errorf("params %d, want %d", r.Model.Params, want)
	}
	if r.MatMul.Size != 16 || r.MatMul.Seconds <= 0 || !approxEqual(r.MatMul.GFLOPS, 2*16*16*16/r.MatMul.Seconds/1e9) {
		t.Errorf("matmul peak inconsistent: %+v", r.MatMul)
	}
	if len(r.Train) != 2 {
		t.Fatalf("%d training rows, want 2", len(r.Train))
	}
	for i, tb := range r.Train {
		shape := opts.Shapes[i]
		if tb.BenchShape != shape || tb.Steps != 3 {
			t.Errorf("row %d is %+v, want shape %+v with 3 steps", i, tb, shape)
		}
		if tb.StepSeconds <= 0 || tb.MinStepSeconds <= 0 || tb.MinStepSeconds > tb.StepSeconds {
			t.Errorf("row %d step times: median %g, min %g", i, tb.StepSeconds, tb.MinStepSeconds)
		}
		if !approxEqual(tb.TokensPerSec, float64(shape.Batch*shape.SeqLen)/tb.StepSeconds) {
			t.Errorf("row %d: %g tokens/s, want batch·seq/step = %g", i, tb.TokensPerSec, float64(shape.Batch*shape.SeqLen)/tb.StepSeconds)
		}
		if want := TrainFLOPsPerStep(2, 8, 4, 29, shape.Batch, shape.SeqLen); tb.FLOPsPerStep != want {
			t.Errorf("row %d: %g FLOPs, want %g", i, tb.FLOPsPerStep, want)
		}
		if !approxEqual(tb.GFLOPS, tb.FLOPsPerStep/tb.StepSeconds/1e9) || !approxEqual(tb.PeakFraction, tb.GFLOPS/r.MatMul.GFLOPS) {
			t.Errorf("row %d: GFLOP/s %g or peak fraction %g inconsistent", i, tb.GFLOPS, tb.PeakFraction)
		}
	}
	g := r.Generate
	if g.Tokens != 5 || g.Seconds <= 0 || !approxEqual(g.TokensPerSec, 5/g.Seconds) {
		t.Errorf("generation inconsistent: %+v", g)
	}
}

func approxEqual(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestTrainFLOPsPerStepFollowsTheFormula(t *testing.T) {
	// The reference shape by hand: per token 4·256·(64+256) + 4·256·(256+256) + 256·89 = 874752
	// multiply-adds forward; ×2 FLOPs each, ×3 for the backward, ×2048 tokens.
	if got, want := TrainFLOPsPerStep(2, 256, 64, 89, 32, 64), 6.0*2048*874752; got != want {
		t.Errorf("reference shape: %g FLOPs, want %g", got, want)
	}
	// Linear in the number of tokens.
	if a, b := TrainFLOPsPerStep(1, 16, 8, 10, 2, 3), TrainFLOPsPerStep(1, 16, 8, 10, 4, 3); b != 2*a {
		t.Errorf("doubling the batch gave %g then %g FLOPs", a, b)
	}
}

func TestBenchReportJSONAndTable(t *testing.T) {
	opts := tinyBenchOptions()
	opts.Corpus = "" // synthetic vocabulary
	opts.SyntheticVocab = 12
	opts.Shapes = []BenchShape{{2, 3}}
	r, err := RunBenchmark(testBackend(t), "go:ops_sequential", opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Model.Vocab != 13 || !strings.Contains(r.Model.Corpus, "synthetic") { // <unk> and 12 characters
		t.Errorf("synthetic corpus: model %+v", r.Model)
	}
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	for _, key := range []string{"backend", "matmul_peak", "train", "generate", "model", "goexperiment"} {
		if _, ok := decoded[key]; !ok {
			t.Errorf("JSON lacks %q:\n%s", key, b)
		}
	}
	row := decoded["train"].([]any)[0].(map[string]any)
	for _, key := range []string{"batch", "seq_len", "tokens_per_s", "gflops", "peak_fraction", "step_seconds"} {
		if _, ok := row[key]; !ok {
			t.Errorf("training row lacks %q: %v", key, row)
		}
	}
	table := r.Table()
	for _, want := range []string{"go:ops_sequential", "matmul peak", "batch   2 × seq   3", "tokens/s", "GFLOP/s", "generate"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestRunBenchmarkRejectsBadOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*BenchOptions)
		want   string
	}{
		"negative steps":   {func(o *BenchOptions) { o.Steps = -1 }, "steps"},
		"empty shape list": {func(o *BenchOptions) { o.Shapes = []BenchShape{} }, "no training shapes"},
		"zero batch":       {func(o *BenchOptions) { o.Shapes = []BenchShape{{0, 4}} }, "training shape"},
		"one-letter text":  {func(o *BenchOptions) { o.Corpus = "aaaa" }, "distinct characters"},
		"bad synthetic":    {func(o *BenchOptions) { o.Corpus, o.SyntheticVocab = "", 1 }, "synthetic_vocab"},
	} {
		t.Run(name, func(t *testing.T) {
			opts := tinyBenchOptions()
			tc.mutate(&opts)
			_, err := RunBenchmark(testBackend(t), "go", opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := RunBenchmark(nil, "go", tinyBenchOptions()); err == nil {
		t.Error("nil backend accepted")
	}
}

func TestDefaultAndQuickBenchOptionsAreValid(t *testing.T) {
	for name, o := range map[string]BenchOptions{"default": DefaultBenchOptions(), "quick": QuickBenchOptions()} {
		if _, err := o.withDefaults(); err != nil {
			t.Errorf("%s options: %v", name, err)
		}
	}
	d := DefaultBenchOptions()
	if d.Layers != 2 || d.Hidden != 256 || d.Embed != 64 || len(d.Shapes) != 2 || d.Shapes[0] != (BenchShape{32, 64}) || d.Shapes[1] != (BenchShape{64, 128}) {
		t.Errorf("default options are not the issue's reference shapes: %+v", d)
	}
}
