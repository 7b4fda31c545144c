package bench

import (
	"fmt"
	"os"
	"sync"

	"github.com/gomlx/compute"

	"encoding/json"
	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
	"math"
	"strings"
	"testing"
)

// tinyOptions measure models small enough for a unit test; the assertions are about the report's
// consistency, never about speed.
func tinyOptions() Options {
	return Options{
		Corpus: "the quick brown fox jumps over the lazy dog. ", CorpusName: "fox",
		Layers: 2, Hidden: 8, Embed: 4, Shapes: []Shape{{Batch: 2, SeqLen: 4}, {Batch: 3, SeqLen: 5}},
		Warmup: 1, Steps: 3, GenTokens: 5, PeakSize: 16,
	}
}

func TestRunReportIsConsistent(t *testing.T) {
	var lines []string
	opts := tinyOptions()
	opts.Progress = func(l string) { lines = append(lines, l) }
	r, err := Run(testBackend(t), "go", opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Backend != "go" || r.GoVersion == "" || r.CPUs < 1 || r.GOMAXPROCS < 1 || r.Seconds <= 0 {
		t.Errorf("machine fields not filled: %+v", r)
	}
	// 1 progress line for the peak, then per cell one per shape and one for generation.
	if len(lines) != 1+3*3 {
		t.Errorf("progress lines %q, want 10", lines)
	}
	if r.Model.Vocab != 29 || r.Model.Corpus != "fox" || r.Model.Layers != 2 || r.Model.Hidden != 8 || r.Model.Embed != 4 {
		t.Errorf("model %+v: want <unk> and the 28 characters of the fox sentence, 2×8, embedding 4", r.Model)
	}
	if r.MatMul.Size != 16 || r.MatMul.Seconds <= 0 || !approxEqual(r.MatMul.GFLOPS, 2*16*16*16/r.MatMul.Seconds/1e9) {
		t.Errorf("matmul peak inconsistent: %+v", r.MatMul)
	}
	// Every cell, in order; parameters: embedding 29·4, layer 0 (4+8+b)·G·8, layer 1 (8+8+b)·G·8 (b = 1
	// bias row, 2 for the GRU), head 8·29+29.
	if len(r.Cells) != 3 {
		t.Fatalf("%d cells measured, want 3", len(r.Cells))
	}
	for ci, want := range []struct {
		cell           string
		blocks, biases int
	}{{"lstm", 4, 1}, {"gru", 3, 2}, {"rnn", 1, 1}} {
		c := r.Cells[ci]
		if c.Cell != want.cell {
			t.Fatalf("cell %d is %q, want %q", ci, c.Cell, want.cell)
		}
		g8 := want.blocks * 8
		if params := 29*4 + (4+8+want.biases)*g8 + (8+8+want.biases)*g8 + 8*29 + 29; c.Params != params {
			t.Errorf("%s: params %d, want %d", c.Cell, c.Params, params)
		}
		if len(c.Train) != 2 {
			t.Fatalf("%s: %d training rows, want 2", c.Cell, len(c.Train))
		}
		for i, tb := range c.Train {
			shape := opts.Shapes[i]
			if tb.Shape != shape || tb.Steps != 3 {
				t.Errorf("%s row %d is %+v, want shape %+v with 3 steps", c.Cell, i, tb, shape)
			}
			if tb.StepSeconds <= 0 || tb.MinStepSeconds <= 0 || tb.MinStepSeconds > tb.StepSeconds {
				t.Errorf("%s row %d step times: median %g, min %g", c.Cell, i, tb.StepSeconds, tb.MinStepSeconds)
			}
			if !approxEqual(tb.TokensPerSec, float64(shape.Batch*shape.SeqLen)/tb.StepSeconds) {
				t.Errorf("%s row %d: %g tokens/s, want batch·seq/step = %g", c.Cell, i, tb.TokensPerSec, float64(shape.Batch*shape.SeqLen)/tb.StepSeconds)
			}
			cfg := lstm.DefaultConfig()
			cfg.Cell, cfg.Layers, cfg.Hidden, cfg.EmbedDim, cfg.BatchSize, cfg.SeqLen = c.Cell, 2, 8, 4, shape.Batch, shape.SeqLen
			if want := lstm.TrainFLOPsPerStep(cfg, 29); tb.FLOPsPerStep != want {
				t.Errorf("%s row %d: %g FLOPs, want %g", c.Cell, i, tb.FLOPsPerStep, want)
			}
			if !approxEqual(tb.GFLOPS, tb.FLOPsPerStep/tb.StepSeconds/1e9) || !approxEqual(tb.PeakFraction, tb.GFLOPS/r.MatMul.GFLOPS) {
				t.Errorf("%s row %d: GFLOP/s %g or peak fraction %g inconsistent", c.Cell, i, tb.GFLOPS, tb.PeakFraction)
			}
		}
		g := c.Generate
		if g.Tokens != 5 || g.Seconds <= 0 || !approxEqual(g.TokensPerSec, 5/g.Seconds) {
			t.Errorf("%s generation inconsistent: %+v", c.Cell, g)
		}
	}
}

func approxEqual(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

func TestBenchReportJSONAndTable(t *testing.T) {
	opts := tinyOptions()
	opts.Corpus = "" // synthetic vocabulary
	opts.SyntheticVocab = 12
	opts.Shapes = []Shape{{Batch: 2, SeqLen: 3}}
	r, err := Run(testBackend(t), "go:ops_sequential", opts)
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
	for _, key := range []string{"backend", "matmul_peak", "cells", "model", "goexperiment"} {
		if _, ok := decoded[key]; !ok {
			t.Errorf("JSON lacks %q:\n%s", key, b)
		}
	}
	cell := decoded["cells"].([]any)[0].(map[string]any)
	for _, key := range []string{"cell", "params", "train", "generate"} {
		if _, ok := cell[key]; !ok {
			t.Errorf("cell lacks %q: %v", key, cell)
		}
	}
	row := cell["train"].([]any)[0].(map[string]any)
	for _, key := range []string{"batch", "seq_len", "tokens_per_s", "gflops", "peak_fraction", "step_seconds"} {
		if _, ok := row[key]; !ok {
			t.Errorf("training row lacks %q: %v", key, row)
		}
	}
	table := r.Table()
	for _, want := range []string{"go:ops_sequential", "matmul peak", "batch   2 × seq   3", "tokens/s", "GFLOP/s", "generate", "lstm (", "gru (", "rnn ("} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestRunBenchmarkRejectsBadOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*Options)
		want   string
	}{
		"negative steps":   {func(o *Options) { o.Steps = -1 }, "Steps"},
		"empty shape list": {func(o *Options) { o.Shapes = []Shape{} }, "no training shapes"},
		"zero batch":       {func(o *Options) { o.Shapes = []Shape{{Batch: 0, SeqLen: 4}} }, "training shape 0×4: batch 0"},
		"zero seq_len":     {func(o *Options) { o.Shapes = []Shape{{Batch: 2, SeqLen: 0}} }, "training shape 2×0: seq_len 0"},
		"negative hidden":  {func(o *Options) { o.Shapes = []Shape{{Batch: 2, SeqLen: 4, Hidden: -1}} }, "hidden -1"},
		"dropout 1":        {func(o *Options) { o.Shapes = []Shape{{Batch: 2, SeqLen: 4, Dropout: 1}} }, "dropout 1"},
		"one-letter text":  {func(o *Options) { o.Corpus = "aaaa" }, "distinct characters"},
		"bad synthetic":    {func(o *Options) { o.Corpus, o.SyntheticVocab = "", 1 }, "SyntheticVocab"},
		"unknown cell":     {func(o *Options) { o.Cells = []string{"lstm", "transformer"} }, "invalid cell"},
		"no cells":         {func(o *Options) { o.Cells = []string{} }, "no cells"},
	} {
		t.Run(name, func(t *testing.T) {
			opts := tinyOptions()
			tc.mutate(&opts)
			_, err := Run(testBackend(t), "go", opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := Run(nil, "go", tinyOptions()); err == nil {
		t.Error("nil backend accepted")
	}
}

// TestBenchmarkTrainsWithoutResets: the benchmarked configuration neither resets streams (reset_prob) nor
// moves them each epoch (epoch_offset), the work peers/peer_pytorch.py times, whatever the defaults say.
func TestBenchmarkTrainsWithoutResets(t *testing.T) {
	if d := lstm.DefaultConfig(); d.ResetProb == 0 && !d.EpochOffset {
		t.Fatal("the default config has neither resets nor epoch offsets: the test shows nothing")
	}
	for _, cell := range lstm.CellNames() {
		cfg := cellConfig(cell, DefaultOptions())
		if cfg.ResetProb != 0 || cfg.EpochOffset || cfg.Cell != cell {
			t.Errorf("%s: benchmark config has reset_prob %g, epoch_offset %v, cell %q", cell, cfg.ResetProb, cfg.EpochOffset, cfg.Cell)
		}
	}
}

func TestDefaultAndQuickOptionsAreValid(t *testing.T) {
	for name, o := range map[string]Options{"default": DefaultOptions(), "quick": QuickOptions()} {
		if _, err := o.withDefaults(); err != nil {
			t.Errorf("%s options: %v", name, err)
		}
	}
	d := DefaultOptions()
	if d.Layers != 2 || d.Hidden != 256 || d.Embed != 64 || len(d.Shapes) != 3 || d.Shapes[0] != (Shape{Batch: 32, SeqLen: 64}) || d.Shapes[1] != (Shape{Batch: 64, SeqLen: 128}) ||
		d.Shapes[2] != Best15Shape {
		t.Errorf("default options are not the issue's reference shapes and best15's: %+v", d)
	}
	// Best15Shape is the best15 preset's shape.
	p, err := experiments.LookupPreset(Best15Shape.Preset)
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Config; c.BatchSize != Best15Shape.Batch || c.SeqLen != Best15Shape.SeqLen || c.Hidden != Best15Shape.Hidden ||
		c.Dropout != Best15Shape.Dropout || c.Layers != d.Layers || c.EmbedDim != d.Embed {
		t.Errorf("Best15Shape %+v differs from the best15 preset %+v", Best15Shape, c)
	}
}

var (
	sharedBackendOnce sync.Once
	sharedBackend     compute.Backend
	sharedBackendErr  error
)

// testBackend returns the pure-Go inference backend, shared by all tests.
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	sharedBackendOnce.Do(func() { sharedBackend, _, sharedBackendErr = lstm.OpenBackend("go", lstm.Inference) })
	if sharedBackendErr != nil {
		t.Fatalf("open backend: %v", sharedBackendErr)
	}
	return sharedBackend
}

// The Go benchmarks below run the reference measurement on the pure-Go backend in the configuration of each
// job, or on LSTMLAB_BENCH_BACKEND for both when set (e.g. "go:ops_sequential"), e.g.
//
//	go test ./internal/bench/ -run '^$' -bench Reference -benchtime 1x
//
// LSTMLAB_BENCH_CORPUS names the corpus file (the Moby Dick text) whose vocabulary sizes the model.

// benchBackend returns the backend for job and its name.
func benchBackend(b *testing.B, job lstm.Job) (compute.Backend, string) {
	backend, name, err := lstm.OpenBackend(os.Getenv("LSTMLAB_BENCH_BACKEND"), job)
	if err != nil {
		b.Fatal(err)
	}
	return backend, name
}

// BenchmarkMatMulPeak times the float32 n×n by n×n products behind the report's peak figure.
func BenchmarkMatMulPeak(b *testing.B) {
	backend, _ := benchBackend(b, lstm.Training)
	for _, n := range []int{512, 1024} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var peak MatMulPeak
			for range b.N {
				var err error
				if peak, err = measureMatMulPeak(backend, n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(peak.GFLOPS, "GFLOP/s")
		})
	}
}

// BenchmarkReferenceReport runs the reference measurement once per iteration and logs it.
func BenchmarkReferenceReport(b *testing.B) {
	backend, name := benchBackend(b, lstm.Inference)
	opts := DefaultOptions()
	opts.TrainBackend, opts.TrainBackendName = benchBackend(b, lstm.Training)
	if path := os.Getenv("LSTMLAB_BENCH_CORPUS"); path != "" {
		corpus, err := text.LoadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		opts.Corpus, opts.CorpusName = corpus.Text, path
	}
	for range b.N {
		r, err := Run(backend, name, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + r.Table())
		for _, c := range r.Cells {
			for _, t := range c.Train {
				b.ReportMetric(t.TokensPerSec, fmt.Sprintf("%s-tokens/s-%dx%d", c.Cell, t.Batch, t.SeqLen))
			}
			b.ReportMetric(c.Generate.TokensPerSec, c.Cell+"-gen-tokens/s")
		}
	}
}
