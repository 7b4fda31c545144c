package nb

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/lstm/text"
)

// Backend opens the backend lstmlab chooses for inference (generation, scoring, tracing): $GOMLX_BACKEND
// if set, else XLA on CPU when its plugin is installed, else the pure-Go backend.
func Backend() compute.Backend {
	b, _, err := lstm.NewBackend("")
	Check(err)
	return b
}

// quietly runs f with os.Stdout pointed at /dev/null: opening GoMLX's parallel Go backend prints a line
// there ("Go backend: parallelism set to -1") that would otherwise land in the notebook.
func quietly[T any](f func() (T, string, error)) (T, string, error) {
	saved := os.Stdout
	if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		os.Stdout = null
		defer func() { os.Stdout = saved; null.Close() }()
	}
	return f()
}

// Splits is a corpus encoded and split as `lstmlab train` does it.
type Splits struct {
	Vocab            *text.Vocab
	Train, Val, Test []int32
}

// Split builds the vocabulary of corpus with cfg's level, min_freq and normalization, encodes the corpus
// and splits it by position: the first 1 − val_frac − test_frac trains, then validation, then test.
func Split(cfg lstm.Config, corpus string) (Splits, error) {
	vocab, err := text.BuildVocab(corpus, cfg.VocabOptions())
	if err != nil {
		return Splits{}, err
	}
	ids, err := vocab.Encode(corpus)
	if err != nil {
		return Splits{}, err
	}
	train, val, test, err := text.Split(ids, cfg.ValFrac, cfg.TestFrac)
	return Splits{vocab, train, val, test}, err
}

// TrainingBackend opens the backend lstmlab chooses for training (see Backend), without the line GoMLX's
// parallel Go backend prints on opening.
func TrainingBackend() compute.Backend {
	b, _, err := quietly(func() (compute.Backend, string, error) { return lstm.NewTrainingBackend("") })
	Check(err)
	return b
}

// Quiet returns f(), with os.Stdout pointed at /dev/null while it runs: opening GoMLX's parallel Go backend
// for training prints "Go backend: parallelism set to -1" there, once per run, which would otherwise
// repeat in the notebook. Use it around experiments.Train and RunSweep (their Log is discarded anyway).
func Quiet[T any](f func() (T, error)) (T, error) {
	v, _, err := quietly(func() (T, string, error) { v, err := f(); return v, "", err })
	return v, err
}

// Trained is a small model trained by TrainSmall, and what a notebook compares it with.
type Trained struct {
	Model   *lstm.Model // the trained model
	Initial *lstm.Model // the same network before training: the weights Model started from
	Splits  Splits      // the corpus as it was encoded and split for training (see Split)
	// ValBefore and ValAfter are the validation loss before and after training, in nats per token.
	ValBefore, ValAfter float64
}

// TrainSmall trains a fresh model with cfg on corpus (see Split) for cfg.Steps steps of lstm.Trainer on
// the training backend. Initial is a second lstm.New with the same config (so the same seed and the same
// starting weights), kept untrained as a baseline: a trained unit's behaviour means something only
// against the same unit before training.
func TrainSmall(cfg lstm.Config, corpus string) (*Trained, error) {
	sp, err := Split(cfg, corpus)
	if err != nil {
		return nil, err
	}
	backend := TrainingBackend()
	m, err := lstm.New(cfg, sp.Vocab, backend)
	if err != nil {
		return nil, err
	}
	initial, err := lstm.New(cfg, sp.Vocab, backend)
	if err != nil {
		return nil, err
	}
	trainer, err := lstm.NewTrainer(m, sp.Train, sp.Val, nil)
	if err != nil {
		return nil, err
	}
	before, err := m.Evaluate(sp.Val)
	if err != nil {
		return nil, err
	}
	if _, err := trainer.Run(context.Background(), nil); err != nil {
		return nil, err
	}
	after, err := m.Evaluate(sp.Val)
	if err != nil {
		return nil, err
	}
	return &Trained{Model: m, Initial: initial, Splits: sp, ValBefore: before.Loss, ValAfter: after.Loss}, nil
}

// Vec formats numbers with a sign and 4 decimals, space-separated: "+0.6660 -0.2293".
func Vec[T float32 | float64](v []T) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%+.4f", float64(x))
	}
	return strings.Join(parts, " ")
}

// Shown makes a token visible in tables and on axes: a space is ·, a line break ¶ (both in every font the
// figures use).
func Shown(token string) string {
	switch token {
	case " ":
		return "·"
	case "\n":
		return "¶"
	}
	return token
}

// F32 converts to float32 (lstm takes float32 inputs and weights).
func F32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// F32s converts every vector of vs to float32.
func F32s(vs [][]float64) [][]float32 {
	out := make([][]float32, len(vs))
	for i, v := range vs {
		out[i] = F32(v)
	}
	return out
}

// MaxAbsDiff returns the largest |a_i − b_i| (+Inf when the lengths differ).
func MaxAbsDiff(a []float32, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range a {
		worst = math.Max(worst, math.Abs(float64(a[i])-b[i]))
	}
	return worst
}

// ID returns the id of token in vocab, or an error naming it.
func ID(vocab *text.Vocab, token string) (int32, error) {
	id, ok := vocab.ID(token)
	if !ok {
		return 0, fmt.Errorf("%q is not in the vocabulary", token)
	}
	return id, nil
}

// UnitsByStep returns one value of a traced layer — "i", "f", "g", "o", "c" or "h" (lstm.Cell.Values) — as
// [unit][position]: a row per unit, for heatmaps and correlations.
func UnitsByStep(trace []lstm.TraceStep, layer int, value string) [][]float64 {
	if len(trace) == 0 {
		return nil
	}
	units := make([][]float64, len(trace[0].Layers[layer].Value(value)))
	for u := range units {
		units[u] = make([]float64, len(trace))
		for k, s := range trace {
			units[u][k] = float64(s.Layers[layer].Value(value)[u])
		}
	}
	return units
}

// Tokens returns the tokens of a trace, in order.
func Tokens(trace []lstm.TraceStep) []string {
	tokens := make([]string, len(trace))
	for k, s := range trace {
		tokens[k] = s.Token
	}
	return tokens
}

// F64 converts to float64.
func F64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// ZeroState returns the zero hidden (or cell) state of cfg's model for batch streams: [layers, batch, hidden].
func ZeroState(cfg lstm.Config, batch int) *tensors.Tensor {
	return tensors.FromShape(shapes.Make(dtypes.Float32, cfg.Layers, batch, cfg.Hidden))
}

// Scalar returns the value of a scalar float tensor (NaN for another kind).
func Scalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return math.NaN()
}

// CI reports whether the notebook runs as the headless CI check (LSTMLAB_CI set), where training cells
// run fewer steps with the same code.
func CI() bool { return os.Getenv("LSTMLAB_CI") != "" }

// Multiples returns n, 2n, 3n, ... below max.
func Multiples(n, max int) []int {
	var out []int
	for k := n; n > 0 && k < max; k += n {
		out = append(out, k)
	}
	return out
}

// Decode returns the text of ids (tokens joined as they are: for character and grapheme models, the text).
func Decode(vocab *text.Vocab, ids []int32) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(vocab.Token(id))
	}
	return b.String()
}

// Windows returns how many training windows one epoch over train has with cfg's batch and seq_len.
func Windows(cfg lstm.Config, train []int32) (int, error) {
	s, err := text.NewStreams(train, cfg.BatchSize, cfg.SeqLen)
	if err != nil {
		return 0, err
	}
	return s.NumWindows(), nil
}

// EpochStartLoss returns the mean of losses (one per step, step k at index k-1) at the first step of every
// epoch after the first (steps perEpoch+1, 2·perEpoch+1, ...), and the mean of the `before` steps before
// each of those.
func EpochStartLoss(losses []float64, perEpoch, before int) (first, prior float64) {
	var nFirst, nPrior float64
	for s := perEpoch + 1; perEpoch > 0 && s <= len(losses); s += perEpoch {
		first, nFirst = first+losses[s-1], nFirst+1
		for k := max(s-1-before, 0); k < s-1; k++ {
			prior, nPrior = prior+losses[k], nPrior+1
		}
	}
	return first / nFirst, prior / nPrior
}

// ColdStart measures what an empty memory costs m on txt: from starts evenly spaced positions, it reads
// width+1 characters from the zero state and records the bits of each of the width characters predicted
// (cold[k]: the (k+1)-th character read); warm[k] is the bits of the same characters when the whole txt is
// read as one stream. Both are means over the starting points.
func ColdStart(m *lstm.Model, txt string, width, starts int) (cold, warm []float64, err error) {
	runes := []rune(txt)
	if len(runes) < width+starts+1 {
		return nil, nil, fmt.Errorf("cold start: %d characters, need more than %d", len(runes), width+starts)
	}
	long, err := m.Score(txt)
	if err != nil {
		return nil, nil, err
	}
	cold, warm = make([]float64, width), make([]float64, width)
	for j := range starts {
		o := j * (len(runes) - width - 1) / starts
		s, err := m.Score(string(runes[o : o+width+1]))
		if err != nil {
			return nil, nil, err
		}
		for k, t := range s.PerToken {
			cold[k] -= t.LogProb / math.Ln2 / float64(starts)
			warm[k] -= long.PerToken[o+k].LogProb / math.Ln2 / float64(starts)
		}
	}
	return cold, warm, nil
}

// Relative returns the distances 0..len(g)-1 and g divided by g[0]: how much of a gradient (or any
// quantity) is left d steps away, relative to where it starts.
func Relative(g []float64) (d, rel []float64) {
	d, rel = make([]float64, len(g)), make([]float64, len(g))
	for i, v := range g {
		d[i], rel[i] = float64(i), v/g[0]
	}
	return d, rel
}

// Mean returns the mean of v (NaN when empty).
func Mean(v []float64) float64 {
	sum := 0.0
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// EpochStartJumps returns, for every epoch start after the first (steps perEpoch+1, 2·perEpoch+1, ...), how
// much the loss of its first step exceeds the mean of the `before` steps before it.
func EpochStartJumps(losses []float64, perEpoch, before int) []float64 {
	var jumps []float64
	for s := perEpoch + 1; perEpoch > 0 && s <= len(losses); s += perEpoch {
		prior := losses[max(s-1-before, 0) : s-1]
		jumps = append(jumps, losses[s-1]-Mean(prior))
	}
	return jumps
}
