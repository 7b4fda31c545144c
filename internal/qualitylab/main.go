// Command qualitylab trains an lstmlab model beside the PyTorch quality peer (peers/peer_quality.py) with
// the same recipe and reports the same figures, so that the two can be compared step by step and one
// knob at a time (issue 17). It is a research tool, not part of the lstmlab CLI.
//
//	go run ./internal/qualitylab -o hidden=256 -o dropout=0.25 -o steps=400 --eval-every 100
//
// Figures: validation and test bits per character as lstmlab scores a split (lstm.Evaluate: contiguous
// streams of at least 1 024 tokens, each from the zero state; the peer scores one stream, which differs by
// the cold start of each stream); cold start = 20 passages of 256 characters of the test split, each from
// the zero state (the peer's); free-running = mean −log2 p of every token of the model's own samples at
// temperature 1, each from the zero state reading a line break (lstm.FreeRunning; the peer's).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
)

var (
	backendName string
	printEvery  int
	exportInit  string
	evalAll     bool
	stopAt      int
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type point struct {
	Step      int     `json:"step"`
	Seconds   float64 `json:"seconds"`
	TrainLoss float64 `json:"train_loss"`
	ValBits   float64 `json:"val_bits"`
	ColdBits  float64 `json:"cold_start_bits,omitempty"`
	FreeBits  float64 `json:"free_running_bits,omitempty"`
}

type result struct {
	Config          lstm.Config `json:"config"`
	Lab             labKnobs    `json:"lab"`
	Steps           int         `json:"steps"`
	TrainSeconds    float64     `json:"train_seconds"`
	TokensPerS      float64     `json:"tokens_per_s"`
	TestBits        float64     `json:"test_bits"`
	ColdStartBits   float64     `json:"cold_start_bits"`
	FreeRunningBits float64     `json:"free_running_bits"`
	Curve           []point     `json:"curve"`
}

type labKnobs struct {
	BiasInit   string  `json:"bias_init"`
	ForgetBias float64 `json:"forget_bias"`
	Autodiff   bool    `json:"autodiff"`
}

func main() {
	var overrides multiFlag
	flag.Var(&overrides, "o", "config override key=value (repeatable), on top of the peer's recipe")
	corpus := flag.String("corpus", "data/moby-dick.txt", "text file")
	var knobs labKnobs
	flag.StringVar(&knobs.BiasInit, "bias-init", "pytorch", "pytorch (lstmlab's default: b_ih + b_hh, each U(±1/√H), decoder bias U(±1/√H)) or lstmlab "+
		"(lstmlab's init before issue 17: zero LSTM and decoder biases, forget slice = -forget-bias, default then 1)")
	flag.Float64Var(&knobs.ForgetBias, "forget-bias", math.NaN(), "forget-gate bias added at initialisation (default: 1 with -bias-init lstmlab, 0 with pytorch)")
	flag.BoolVar(&knobs.Autodiff, "autodiff", false, "GoMLX autodiff instead of the hand-written backward pass")
	resetProb := flag.Float64("reset-prob", 0, "config key reset_prob: probability that a training stream starts a window from the initial state")
	epochShift := flag.Bool("epoch-shift", false, "config key epoch_offset: each epoch after the first starts the streams at a random offset")
	flag.StringVar(&backendName, "backend", "", "lstmlab backend (default: the training backend, go:parallelism=-1; \"go\" is sequential)")
	flag.StringVar(&exportInit, "export-init", "", "write the initial weights in PyTorch's layout here (for peer_quality.py --init-from)")
	flag.IntVar(&stopAt, "stop-at", 0, "stop training after this many steps (the schedule still assumes steps)")
	flag.BoolVar(&evalAll, "eval-all", false, "measure cold start and free-running at every validation too")
	flag.IntVar(&printEvery, "print-every", 0, "print the training loss every this many steps (0 = off)")
	evalEvery := flag.Int("eval-every", 100, "validate (one stream) every this many steps")
	freeSamples := flag.Int("free-samples", 3, "free-running samples")
	freeLength := flag.Int("free-length", 1500, "free-running sample length")
	jsonOut := flag.String("json", "", "write the result as JSON to this file")
	save := flag.String("save", "", "save the trained model here")
	analyze := flag.String("analyze", "", "instead of training, profile this saved model along texts read from the zero state")
	flag.Parse()
	if *analyze != "" {
		if err := analyzeModel(*analyze, *corpus); err != nil {
			fmt.Fprintln(os.Stderr, "qualitylab:", err)
			os.Exit(1)
		}
		return
	}
	if math.IsNaN(knobs.ForgetBias) {
		knobs.ForgetBias = 0
		if knobs.BiasInit == "lstmlab" {
			knobs.ForgetBias = 1
		}
	}
	// The flags come before -o overrides, which win.
	overrides = append([]string{fmt.Sprintf("reset_prob=%g", *resetProb), fmt.Sprintf("epoch_offset=%t", *epochShift)}, overrides...)
	if err := run(*corpus, overrides, knobs, *evalEvery, *freeSamples, *freeLength, *jsonOut, *save); err != nil {
		fmt.Fprintln(os.Stderr, "qualitylab:", err)
		os.Exit(1)
	}
}

// peerRecipe is peer_quality.py's recipe: 2×256, embedding 64, batch 64 × 128, Adam, warm-up 20 then
// cosine to lr/10, clipping at 5, 90/5/5 split.
func peerRecipe() lstm.Config {
	c := lstm.DefaultConfig()
	c.BatchSize, c.SeqLen = 64, 128
	c.LR, c.Warmup, c.Decay, c.DecayRate, c.ClipNorm = 2e-3, 20, "cosine", 0.1, 5
	c.EvalEvery = 1 << 30 // the lab validates itself
	// The recipe before issue 17 (the peer's): the initial state only at each epoch's fixed stream starts.
	// -reset-prob 0.02 -epoch-shift (or -o reset_prob=0.02 -o epoch_offset=true) gives lstmlab's defaults.
	c.ResetProb, c.EpochOffset = 0, false
	return c
}

func run(corpusPath string, overrides []string, knobs labKnobs, evalEvery, freeSamples, freeLength int, jsonOut, save string) error {
	cfg := peerRecipe()
	if err := experiments.ApplyOverrides(&cfg, overrides); err != nil {
		return err
	}
	corpus, err := text.Load(corpusPath, "data")
	if err != nil {
		return err
	}
	vocab, err := text.BuildCharVocab(corpus.Text)
	if err != nil {
		return err
	}
	ids, err := vocab.Encode(corpus.Text)
	if err != nil {
		return err
	}
	train, val, test, err := text.Split(ids, cfg.ValFrac, cfg.TestFrac)
	if err != nil {
		return err
	}
	backend, name, err := lstm.NewTrainingBackend("go")
	if backendName != "" {
		backend, name, err = lstm.NewBackend(backendName)
	}
	if err != nil {
		return err
	}
	m, err := lstm.New(cfg, vocab, backend)
	if err != nil {
		return err
	}
	m.HandGrad = !knobs.Autodiff
	if err := initBiases(m, knobs); err != nil {
		return err
	}
	if exportInit != "" {
		if err := m.ExportPyTorch(exportInit); err != nil {
			return err
		}
	}
	tr, err := lstm.NewTrainer(m, train, val, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "backend %s, %d parameters, config %+v, lab %+v\n", name, m.NumParams(), cfg, knobs)
	res := result{Config: cfg, Lab: knobs}
	var trainTime time.Duration
	var lastLoss float64
	last := cfg.Steps
	if stopAt > 0 {
		last = min(stopAt, cfg.Steps)
	}
	for tr.State.Step < last {
		start := time.Now()
		ev, err := tr.Step()
		if err != nil {
			return err
		}
		trainTime += time.Since(start)
		lastLoss = ev.Loss
		if printEvery > 0 && tr.State.Step%printEvery == 0 {
			fmt.Printf("step %d train %.6f grad_norm %.4f\n", tr.State.Step, ev.Loss, ev.GradNorm)
		}
		if tr.State.Step%evalEvery == 0 || tr.State.Step == last {
			v, err := m.Evaluate(val)
			if err != nil {
				return err
			}
			p := point{Step: tr.State.Step, Seconds: trainTime.Seconds(), TrainLoss: lastLoss, ValBits: v.BitsPerToken}
			res.Curve = append(res.Curve, p)
			extra := ""
			if evalAll {
				cold, err := m.ColdStart(test, 20, 256)
				if err != nil {
					return err
				}
				free, err := m.FreeRunning(freeSamples, freeLength, 1)
				if err != nil {
					return err
				}
				p.ColdBits, p.FreeBits = cold.BitsPerToken, free.BitsPerToken
				res.Curve[len(res.Curve)-1] = p
				extra += fmt.Sprintf("  cold start %.3f  free-running %.3f", p.ColdBits, p.FreeBits)
			}
			fmt.Printf("step %d  %7.1f s  train %.4f nats  val %.3f bits/char%s\n", p.Step, p.Seconds, lastLoss, v.BitsPerToken, extra)
		}
	}
	res.Steps = tr.State.Step
	res.TrainSeconds = trainTime.Seconds()
	res.TokensPerS = float64(res.Steps*cfg.BatchSize*cfg.SeqLen) / res.TrainSeconds
	t, err := m.Evaluate(test)
	if err != nil {
		return err
	}
	cold, err := m.ColdStart(test, 20, 256)
	if err != nil {
		return err
	}
	free, err := m.FreeRunning(freeSamples, freeLength, 1)
	if err != nil {
		return err
	}
	res.TestBits, res.ColdStartBits, res.FreeRunningBits = t.BitsPerToken, cold.BitsPerToken, free.BitsPerToken
	fmt.Printf("%d steps in %.0f s (%.0f tokens/s): test %.3f bits/char, cold start %.3f, free-running %.3f\n",
		res.Steps, res.TrainSeconds, res.TokensPerS, res.TestBits, res.ColdStartBits, res.FreeRunningBits)
	if save != "" {
		if err := m.Save(save); err != nil {
			return err
		}
	}
	if jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", " ")
		return os.WriteFile(jsonOut, b, 0o644)
	}
	return nil
}

// initBiases re-initialises the LSTM gate biases (and the head's bias) per knobs.BiasInit: "pytorch" keeps
// lstmlab's initialisation (PyTorch's), "lstmlab" sets the biases to zero as lstmlab did before issue 17;
// either way knobs.ForgetBias is then added to the forget slice.
func initBiases(m *lstm.Model, k labKnobs) error {
	if k.BiasInit != "pytorch" && k.BiasInit != "lstmlab" {
		return fmt.Errorf("bias-init %q (want pytorch or lstmlab)", k.BiasInit)
	}
	if m.Cell().Name() != "lstm" {
		if k.BiasInit == "lstmlab" || k.ForgetBias != 0 {
			return fmt.Errorf("bias-init %s, forget-bias %g: only for the lstm cell", k.BiasInit, k.ForgetBias)
		}
		return nil
	}
	cfg := m.Config
	h := cfg.Hidden
	get := func(path string) ([]float32, error) {
		v, err := m.Store.GetVariable(path).Value()
		if err != nil {
			return nil, err
		}
		return tensors.CopyFlatData[float32](v)
	}
	set := func(path string, v []float32) error {
		return m.Store.GetVariable(path).SetValue(tensors.FromFlatDataAndDimensions(v, len(v)))
	}
	for layer := range cfg.Layers {
		b, err := get(lstm.ParamLayerBias(layer))
		if err != nil {
			return err
		}
		for i := range b {
			if k.BiasInit == "lstmlab" {
				b[i] = 0
			}
			if i >= lstm.GateForget*h && i < (lstm.GateForget+1)*h {
				b[i] += float32(k.ForgetBias)
			}
		}
		if err := set(lstm.ParamLayerBias(layer), b); err != nil {
			return err
		}
	}
	if k.BiasInit == "lstmlab" {
		return set(lstm.ParamDecoderBias, make([]float32, m.Vocab.Size()))
	}
	return nil
}

// analyzeModel prints, per 100-token bucket along 16 test passages read from the zero state and along the
// model's own samples (temperature 1), the loss in bits and the cell-state magnitudes per layer.
func analyzeModel(path, corpusPath string) error {
	backend, _, err := lstm.NewBackend("go")
	if err != nil {
		return err
	}
	ck, err := lstm.Load(path, backend)
	if err != nil {
		return err
	}
	m := ck.Model
	corpus, err := text.Load(corpusPath, "data")
	if err != nil {
		return err
	}
	ids, err := m.Vocab.Encode(corpus.Text)
	if err != nil {
		return err
	}
	_, _, test, err := text.Split(ids, m.Config.ValFrac, m.Config.TestFrac)
	if err != nil {
		return err
	}
	const streams, length, window = 16, 3000, 100
	var starts []int
	for i := range streams {
		starts = append(starts, i*(len(test)-length-2)/streams)
	}
	real, err := m.ProfileFromZeroState(test, starts, length, window)
	if err != nil {
		return err
	}
	var samples []int32
	starts = starts[:0]
	for seed := 1; seed <= 4; seed++ {
		trace, _, err := m.GenerateTrace(lstm.SampleOptions{Length: length + 1, Temperature: 1, Seed: uint64(seed)})
		if err != nil {
			return err
		}
		starts = append(starts, len(samples))
		samples = append(samples, m.StartToken()) // generation reads it first
		for _, t := range trace {
			samples = append(samples, t.ID)
		}
	}
	samples = append(samples, 0)
	own, err := m.ProfileFromZeroState(samples, starts, length, window)
	if err != nil {
		return err
	}
	for _, temp := range []float64{1, 0.8, 0.3} {
		out, err := m.Generate(lstm.SampleOptions{Length: 300, Temperature: temp, Seed: 1})
		if err != nil {
			return err
		}
		fmt.Printf("--- sample at temperature %g from an empty prompt:\n%s\n", temp, out)
	}
	fmt.Println("tokens      | test text from zero state: bits  mean|c| per layer  max|c|  sat(h)  | own samples: bits  mean|c|  max|c|  sat(h)")
	for w := range real.CellAbs {
		bits := func(p lstm.StateProfile) float64 {
			var s float64
			for _, l := range p.Loss[w*window : (w+1)*window] {
				s += l
			}
			return s / window / math.Ln2
		}
		f := func(xs []float64) string {
			var parts []string
			for _, x := range xs {
				parts = append(parts, fmt.Sprintf("%6.2f", x))
			}
			return strings.Join(parts, " ")
		}
		fmt.Printf("%5d-%5d | %5.3f  %s  %s  %s | %5.3f  %s  %s  %s\n", w*window, (w+1)*window, bits(real), f(real.CellAbs[w]), f(real.CellMax[w]), f(real.HidSat[w]),
			bits(own), f(own.CellAbs[w]), f(own.CellMax[w]), f(own.HidSat[w]))
	}
	return nil
}
