// Package bench measures lstmlab's speed at the reference shapes (issue 2) for each recurrent cell: the
// float32 matrix-multiply peak of the backend, training tokens/s (whole optimisation steps through
// lstm.Trainer) and single-stream generation tokens/s (lstm.Stepper with lstm.Sampler, as generation
// runs). `lstmlab bench` prints its report; peers/peer_pytorch.py measures the same models in PyTorch.
package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/lstmlab/lstmlab/internal/buildinfo"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
)

// Shape is one training shape of a benchmark: parallel streams × time steps per window, and for a
// preset's shape its width and dropout.
type Shape struct {
	Batch  int `json:"batch"`
	SeqLen int `json:"seq_len"`
	// Hidden is the model's width at this shape (0 = Options.Hidden), Dropout its dropout, and Preset the
	// preset the shape is of ("" for the reference model).
	Hidden  int     `json:"hidden,omitempty"`
	Dropout float64 `json:"dropout,omitempty"`
	Preset  string  `json:"preset,omitempty"`
}

// Best15Shape is the training shape of the best15 preset (experiments/presets.go: 2×512, embedding 64,
// batch 64 × 128, dropout 0.1), measured beside the reference shapes.
var Best15Shape = Shape{Batch: 64, SeqLen: 128, Hidden: 512, Dropout: 0.1, Preset: "best15"}

// Options configure Run. Zero fields take the defaults of the reference measurement
// (DefaultOptions); QuickOptions is a seconds-long smoke run.
type Options struct {
	// Cells are the recurrent cells measured, by `cell` config value (nil = every cell: lstm, gru, rnn).
	Cells []string
	// Corpus is the text whose character vocabulary sizes the model and whose tokens are trained on
	// (the reference is Moby Dick: 89 characters). Empty: a synthetic text over SyntheticVocab characters.
	Corpus string
	// CorpusName labels the corpus in the report (e.g. "moby-dick").
	CorpusName string
	// SyntheticVocab is the alphabet size of the synthetic text used when Corpus is empty (0 = 89).
	SyntheticVocab int
	// Layers, Hidden and Embed are the model shape (0 = 2, 256, 64).
	Layers, Hidden, Embed int
	// Shapes are the training shapes measured (nil = 32×64 and 64×128).
	Shapes []Shape
	// Warmup is the number of untimed training steps before timing each shape (0 = 2; the first
	// step also compiles the graph).
	Warmup int
	// Steps is the number of timed training steps per shape; the report gives their median (0 = 10).
	Steps int
	// GenTokens is the number of tokens generated one at a time for the generation figure (0 = 1000).
	GenTokens int
	// PeakSize is n of the n×n·n×n float32 matrix product whose speed is the machine's peak (0 = 1024:
	// on the pure-Go backend 512³ reached only about half the GFLOP/s of 1024³, so it understates the peak).
	PeakSize int
	// Progress, when set, is called with a short line before each measurement (for a CLI's stderr).
	Progress func(line string)
	// TrainBackend, when set, is the backend the matmul peak and the training shapes are measured on,
	// named TrainBackendName in the report; generation stays on Run's backend. lstmlab trains and
	// generates on different configurations of the pure-Go backend (lstm.OpenBackend's jobs), and the
	// report should show what each job runs on.
	TrainBackend     compute.Backend
	TrainBackendName string
}

// DefaultOptions returns the reference measurement for every cell: 2 layers × 256 hidden, embedding 64,
// batch 32 × seq 64 and 64 × 128, and the best15 preset's shape (Best15Shape), 10 timed steps each, 1000
// generated tokens, a 1024³ matmul peak.
func DefaultOptions() Options {
	return Options{
		SyntheticVocab: 89, Layers: 2, Hidden: 256, Embed: 64,
		Shapes: []Shape{{Batch: 32, SeqLen: 64}, {Batch: 64, SeqLen: 128}, Best15Shape},
		Warmup: 2, Steps: 10, GenTokens: 1000, PeakSize: 1024,
	}
}

// QuickOptions returns a smoke run that finishes in seconds: the reference model shape, one small
// training shape (8 × 32) with 2 timed steps, 100 generated tokens and a 256³ peak. Its figures are
// rough; use DefaultOptions for numbers to compare.
func QuickOptions() Options {
	o := DefaultOptions()
	o.Shapes = []Shape{{Batch: 8, SeqLen: 32}}
	o.Warmup, o.Steps, o.GenTokens, o.PeakSize = 1, 2, 100, 256
	return o
}

// withDefaults fills zero fields from DefaultOptions and checks the rest. Errors name the option.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"SyntheticVocab", &o.SyntheticVocab, d.SyntheticVocab}, {"Layers", &o.Layers, d.Layers},
		{"Hidden", &o.Hidden, d.Hidden}, {"Embed", &o.Embed, d.Embed}, {"Warmup", &o.Warmup, d.Warmup},
		{"Steps", &o.Steps, d.Steps}, {"GenTokens", &o.GenTokens, d.GenTokens}, {"PeakSize", &o.PeakSize, d.PeakSize},
	} {
		if *f.v < 0 {
			return o, fmt.Errorf("benchmark: invalid %s %d (want > 0, or 0 for the default %d)", f.name, *f.v, f.def)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if o.SyntheticVocab < 2 {
		return o, fmt.Errorf("benchmark: invalid SyntheticVocab %d (want >= 2)", o.SyntheticVocab)
	}
	if o.Cells == nil {
		o.Cells = []string{"lstm", "gru", "rnn"}
	}
	if len(o.Cells) == 0 {
		return o, fmt.Errorf("benchmark: no cells given")
	}
	for _, c := range o.Cells {
		if _, err := lstm.CellByName(c); err != nil || c == "" {
			return o, fmt.Errorf("benchmark: invalid cell %q (want %s)", c, strings.Join(lstm.CellNames(), ", "))
		}
	}
	if o.Shapes == nil {
		o.Shapes = d.Shapes
	}
	if len(o.Shapes) == 0 {
		return o, fmt.Errorf("benchmark: no training shapes given")
	}
	for _, s := range o.Shapes {
		switch {
		case s.Batch < 1:
			return o, fmt.Errorf("benchmark: invalid training shape %d×%d: batch %d (want >= 1)", s.Batch, s.SeqLen, s.Batch)
		case s.SeqLen < 1:
			return o, fmt.Errorf("benchmark: invalid training shape %d×%d: seq_len %d (want >= 1)", s.Batch, s.SeqLen, s.SeqLen)
		case s.Hidden < 0:
			return o, fmt.Errorf("benchmark: invalid training shape %d×%d: hidden %d (want >= 0; 0 = Options.Hidden)", s.Batch, s.SeqLen, s.Hidden)
		case !(s.Dropout >= 0 && s.Dropout < 1):
			return o, fmt.Errorf("benchmark: invalid training shape %d×%d: dropout %g (want 0 <= dropout < 1)", s.Batch, s.SeqLen, s.Dropout)
		}
	}
	return o, nil
}

// Report is what Run measured. It marshals to JSON (`lstmlab bench --format json`); Table renders it for
// people.
type Report struct {
	Backend      string    `json:"backend"`       // the backend configuration generation ran on, e.g. "go:ops_sequential"
	TrainBackend string    `json:"train_backend"` // the one the matmul peak and training ran on, e.g. "go:parallelism=-1"
	BackendInfo  string    `json:"backend_info"`  // the backend's own description
	GoVersion    string    `json:"go_version"`
	GOARCH       string    `json:"goarch"`
	GOExp        string    `json:"goexperiment"` // GOEXPERIMENT of the build ("simd" enables the SIMD matmul); "" if none or unknown
	CPUs         int       `json:"cpus"`         // logical CPUs of the machine
	GOMAXPROCS   int       `json:"gomaxprocs"`   // CPUs Go used
	LoadAvg      []float64 `json:"load_avg,omitempty"`
	Started      time.Time `json:"started"`
	Seconds      float64   `json:"seconds"` // wall time of the whole benchmark

	Model  Model        `json:"model"`
	MatMul MatMulPeak   `json:"matmul_peak"`
	Cells  []CellResult `json:"cells"` // one per cell measured, in Options.Cells order
}

// Model describes the model shape benchmarked (the same for every cell).
type Model struct {
	Layers int    `json:"layers"`
	Hidden int    `json:"hidden"`
	Embed  int    `json:"embed"`
	Vocab  int    `json:"vocab"`
	Corpus string `json:"corpus"` // where the vocabulary came from
}

// CellResult is what was measured for one cell.
type CellResult struct {
	Cell     string         `json:"cell"`   // "lstm", "gru" or "rnn"
	Params   int            `json:"params"` // trainable scalars of the model with this cell
	Train    []TrainResult  `json:"train"`
	Generate GenerateResult `json:"generate"`
}

// MatMulPeak is the measured float32 matrix-multiply speed of the backend: the best of several
// n×n by n×n products, in GFLOP/s (2n³ floating-point operations each).
type MatMulPeak struct {
	Size    int     `json:"size"`
	Seconds float64 `json:"seconds"` // best time of one product
	GFLOPS  float64 `json:"gflops"`
}

// TrainResult is the training throughput at one shape: full optimisation steps (forward, loss,
// backward, clipping, Adam update) through Trainer.Step, timed one by one after a warm-up.
type TrainResult struct {
	Shape
	Steps          int     `json:"steps"`            // timed steps
	StepSeconds    float64 `json:"step_seconds"`     // median step time
	MinStepSeconds float64 `json:"min_step_seconds"` // fastest step
	TokensPerSec   float64 `json:"tokens_per_s"`     // batch × seq_len / median step time
	// FLOPsPerStep counts the matrix products of one step analytically (see lstm.TrainFLOPsPerStep).
	FLOPsPerStep float64 `json:"flops_per_step"`
	GFLOPS       float64 `json:"gflops"`        // FLOPsPerStep / median step time
	PeakFraction float64 `json:"peak_fraction"` // GFLOPS / MatMulPeak.GFLOPS
}

// GenerateResult is single-stream generation speed: one token at a time (batch 1) through the
// single-step graph with carried state, each sampled at temperature 0.8 on the host by lstm.Sampler, as
// peer_pytorch.py does.
type GenerateResult struct {
	Tokens       int     `json:"tokens"`
	Seconds      float64 `json:"seconds"`
	TokensPerSec float64 `json:"tokens_per_s"`
}

// Run measures, on backend (backendName labels it in the report), the float32 matmul peak, and for each
// of opts.Cells the training throughput at each of opts.Shapes and the single-stream generation speed of a
// language model of the reference shape. It takes tens of seconds per cell with the defaults on the
// pure-Go backend.
func Run(backend compute.Backend, backendName string, opts Options) (*Report, error) {
	if backend == nil {
		return nil, fmt.Errorf("benchmark: nil backend")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	start := time.Now()
	r := &Report{
		Backend: backendName, TrainBackend: backendName, BackendInfo: backend.Description(),
		GoVersion: runtime.Version(), GOARCH: runtime.GOARCH,
		GOExp: goExperiment(), CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Started: start.UTC().Truncate(time.Second),
	}
	load := loadAverage()
	trainBackend := backend
	if opts.TrainBackend != nil {
		trainBackend, r.TrainBackend = opts.TrainBackend, opts.TrainBackendName
	}

	corpus, corpusName := opts.Corpus, opts.CorpusName
	if corpus == "" {
		corpus = syntheticText(200_000, opts.SyntheticVocab)
		corpusName = fmt.Sprintf("synthetic (%d characters)", opts.SyntheticVocab)
	} else if corpusName == "" {
		corpusName = "given text"
	}
	vocab, err := text.BuildCharVocab(corpus)
	if err != nil {
		return nil, fmt.Errorf("benchmark: %w", err)
	}
	if distinct := vocab.Size() - 1; distinct < 2 { // the vocabulary is <unk> and the corpus's characters
		return nil, fmt.Errorf("benchmark: the corpus has %d distinct characters (want >= 2)", distinct)
	}
	ids, err := vocab.Encode(corpus)
	if err != nil {
		return nil, fmt.Errorf("benchmark: %w", err)
	}
	r.Model = Model{Layers: opts.Layers, Hidden: opts.Hidden, Embed: opts.Embed, Vocab: vocab.Size(), Corpus: corpusName}

	progress(fmt.Sprintf("matmul peak: %d³ float32", opts.PeakSize))
	if r.MatMul, err = measureMatMulPeak(trainBackend, opts.PeakSize); err != nil {
		return nil, err
	}

	for _, cell := range opts.Cells {
		cfg := cellConfig(cell, opts)
		cr := CellResult{Cell: cell}
		for _, shape := range opts.Shapes {
			progress(fmt.Sprintf("%s training %d×%d: %d warm-up + %d timed steps", cell, shape.Batch, shape.SeqLen, opts.Warmup, opts.Steps))
			c := cfg
			c.BatchSize, c.SeqLen, c.Dropout = shape.Batch, shape.SeqLen, shape.Dropout
			if shape.Hidden > 0 {
				c.Hidden = shape.Hidden
			}
			tb, params, err := measureTraining(trainBackend, c, vocab, ids, opts.Warmup, opts.Steps)
			if err != nil {
				return nil, err
			}
			tb.Shape = shape
			if c.Hidden == cfg.Hidden {
				cr.Params = params // the reference model's
			}
			tb.FLOPsPerStep = lstm.TrainFLOPsPerStep(c, vocab.Size())
			tb.GFLOPS = tb.FLOPsPerStep / tb.StepSeconds / 1e9
			tb.PeakFraction = tb.GFLOPS / r.MatMul.GFLOPS
			cr.Train = append(cr.Train, tb)
		}
		progress(fmt.Sprintf("%s generation: %d tokens, batch 1", cell, opts.GenTokens))
		if cr.Generate, err = measureGeneration(backend, cfg, vocab, opts.GenTokens); err != nil {
			return nil, err
		}
		r.Cells = append(r.Cells, cr)
	}
	if load != nil {
		r.LoadAvg = append(load, loadAverage()...) // 1-minute load before and after
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// measureMatMulPeak times an n×n by n×n float32 product: one untimed call (compilation), then the
// best of five.
func measureMatMulPeak(backend compute.Backend, n int) (MatMulPeak, error) {
	exec, err := NewExec(backend, func(a, b *Node) *Node { return MatMul(a, b) })
	if err != nil {
		return MatMulPeak{}, fmt.Errorf("benchmark: matmul peak: %w", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	randMat := func() *tensors.Tensor {
		v := make([]float32, n*n)
		for i := range v {
			v[i] = float32(rng.Float64()*2 - 1)
		}
		return tensors.FromFlatDataAndDimensions(v, n, n)
	}
	a, b := randMat(), randMat()
	best := math.Inf(1)
	for i := range 6 {
		t0 := time.Now()
		out, err := exec.Call(a, b)
		if err != nil {
			return MatMulPeak{}, fmt.Errorf("benchmark: matmul peak: %w", err)
		}
		elapsed := time.Since(t0).Seconds()
		out[0].FinalizeAll()
		if i > 0 {
			best = min(best, elapsed)
		}
	}
	return MatMulPeak{Size: n, Seconds: best, GFLOPS: 2 * math.Pow(float64(n), 3) / best / 1e9}, nil
}

// cellConfig is the configuration the benchmark trains and generates with for cell, before each shape's
// batch, window, width and dropout.
func cellConfig(cell string, opts Options) lstm.Config {
	cfg := lstm.DefaultConfig()
	cfg.Cell, cfg.Layers, cfg.Hidden, cfg.EmbedDim = cell, opts.Layers, opts.Hidden, opts.Embed
	cfg.Dropout, cfg.TieWeight = 0, false
	cfg.ResetProb, cfg.EpochOffset = 0, false // peers/peer_pytorch.py neither resets streams nor moves them: the same work
	cfg.Steps = math.MaxInt32
	return cfg
}

// measureTraining trains a fresh model of cfg on ids (repeated as needed to fill one window per
// stream) and times opts.Steps steps after warmup untimed ones.
func measureTraining(backend compute.Backend, cfg lstm.Config, vocab *text.Vocab, ids []int32, warmup, steps int) (TrainResult, int, error) {
	shape := fmt.Sprintf("%s %d×%d", cfg.Cell, cfg.BatchSize, cfg.SeqLen)
	need := cfg.BatchSize*cfg.SeqLen*2 + 1
	data := ids
	for len(data) < need {
		data = append(slices.Clip(data), ids...)
	}
	m, err := lstm.New(cfg, vocab, backend)
	if err != nil {
		return TrainResult{}, 0, fmt.Errorf("benchmark %s: %w", shape, err)
	}
	tr, err := lstm.NewTrainer(m, data, data, nil)
	if err != nil {
		return TrainResult{}, 0, fmt.Errorf("benchmark %s: %w", shape, err)
	}
	times := make([]float64, 0, steps)
	for i := range warmup + steps {
		t0 := time.Now()
		if _, err := tr.Step(); err != nil {
			return TrainResult{}, 0, fmt.Errorf("benchmark %s: %w", shape, err)
		}
		if i >= warmup {
			times = append(times, time.Since(t0).Seconds())
		}
	}
	slices.Sort(times)
	median := times[len(times)/2]
	if len(times)%2 == 0 {
		median = (times[len(times)/2-1] + times[len(times)/2]) / 2
	}
	return TrainResult{
		Shape: Shape{Batch: cfg.BatchSize, SeqLen: cfg.SeqLen}, Steps: steps,
		StepSeconds: median, MinStepSeconds: times[0],
		TokensPerSec: float64(cfg.BatchSize*cfg.SeqLen) / median,
	}, m.NumParams(), nil
}

// generationTemperature is the temperature generated tokens are sampled at, as peer_pytorch.py does.
const generationTemperature = 0.8

// measureGeneration generates n tokens one at a time from a fresh model (untrained: speed does not
// depend on the weights), sampling each on the host with lstm.Sampler at generationTemperature. The first steps (graph
// compilation) are not timed.
func measureGeneration(backend compute.Backend, cfg lstm.Config, vocab *text.Vocab, n int) (GenerateResult, error) {
	m, err := lstm.New(cfg, vocab, backend)
	if err != nil {
		return GenerateResult{}, fmt.Errorf("benchmark %s generation: %w", cfg.Cell, err)
	}
	s, err := m.NewStepper()
	if err != nil {
		return GenerateResult{}, fmt.Errorf("benchmark %s generation: %w", cfg.Cell, err)
	}
	sampler := lstm.NewSampler(lstm.SampleOptions{Temperature: generationTemperature, Seed: 1})
	const warmup = 3
	token := int32(0)
	var t0 time.Time
	for i := range warmup + n {
		if i == warmup {
			t0 = time.Now()
		}
		logits, err := s.Step(token)
		if err != nil {
			return GenerateResult{}, fmt.Errorf("benchmark %s generation: %w", cfg.Cell, err)
		}
		token, _ = sampler.Sample(logits)
	}
	elapsed := time.Since(t0).Seconds()
	return GenerateResult{Tokens: n, Seconds: elapsed, TokensPerSec: float64(n) / elapsed}, nil
}

// syntheticText returns n characters drawn uniformly from vocab distinct printable runes, deterministic.
func syntheticText(n, vocab int) string {
	rng := rand.New(rand.NewPCG(3, 4))
	var sb strings.Builder
	sb.Grow(n)
	for i := range n {
		r := rune('!' + i%vocab) // every character appears at least once
		if i >= vocab {
			r = rune('!' + rng.IntN(vocab))
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// loadAverage returns the 1-minute load average on Linux (nil elsewhere): other work on the machine
// is the first thing to check when figures vary between runs.
func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return nil
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return nil
	}
	return []float64{v}
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	return json.MarshalIndent(r, "", "  ")
}

// Table renders the report for people: one line per measurement.
func (r *Report) Table() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "backend %s", r.Backend)
	if r.TrainBackend != "" && r.TrainBackend != r.Backend {
		fmt.Fprintf(&sb, ", training on %s", r.TrainBackend)
	}
	fmt.Fprintf(&sb, " — %s, %s %s", r.BackendInfo, r.GoVersion, r.GOARCH)
	if r.GOExp != "" {
		fmt.Fprintf(&sb, " GOEXPERIMENT=%s", r.GOExp)
	}
	fmt.Fprintf(&sb, ", %d CPUs (GOMAXPROCS %d)", r.CPUs, r.GOMAXPROCS)
	if len(r.LoadAvg) > 0 {
		parts := make([]string, len(r.LoadAvg))
		for i, l := range r.LoadAvg {
			parts[i] = strconv.FormatFloat(l, 'f', 2, 64)
		}
		fmt.Fprintf(&sb, ", load %s", strings.Join(parts, "→"))
	}
	fmt.Fprintf(&sb, "\nmodel: %d layers × %d hidden, embedding %d, vocabulary %d (%s)\n",
		r.Model.Layers, r.Model.Hidden, r.Model.Embed, r.Model.Vocab, r.Model.Corpus)
	fmt.Fprintf(&sb, "matmul peak           %4d³ float32            %8.1f GFLOP/s\n", r.MatMul.Size, r.MatMul.GFLOPS)
	for _, c := range r.Cells {
		fmt.Fprintf(&sb, "%s (%d parameters)\n", c.Cell, c.Params)
		for _, t := range c.Train {
			fmt.Fprintf(&sb, "  train   batch %3d × seq %3d  %7.3f s/step  %8.0f tokens/s  %6.1f GFLOP/s (%.0f%% of peak)",
				t.Batch, t.SeqLen, t.StepSeconds, t.TokensPerSec, t.GFLOPS, 100*t.PeakFraction)
			if t.Preset != "" {
				fmt.Fprintf(&sb, "  %s: %d layers × %d hidden, dropout %g", t.Preset, r.Model.Layers, t.Hidden, t.Dropout)
			}
			sb.WriteString("\n")
		}
		g := c.Generate
		fmt.Fprintf(&sb, "  generate batch 1, %d tokens  %7.3f ms/token  %7.0f tokens/s\n",
			g.Tokens, 1e3*g.Seconds/float64(max(g.Tokens, 1)), g.TokensPerSec)
	}
	return sb.String()
}

// goExperiment is the GOEXPERIMENT the running binary was built with ("" when unknown).
func goExperiment() string {
	bi, _ := buildinfo.Read()
	return bi.GOEXPERIMENT
}
