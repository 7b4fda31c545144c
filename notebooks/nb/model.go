package nb

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/gomlx/compute"

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

// TrainSmall trains a fresh model with cfg on corpus — the vocabulary built from the corpus with cfg's
// level and min_freq, the corpus split by position as `lstmlab train` splits it (the last val_frac +
// test_frac held out) — for cfg.Steps steps of lstm.Trainer on the training backend. It returns the model
// and its validation loss in nats per token before and after training.
func TrainSmall(cfg lstm.Config, corpus string) (m *lstm.Model, before, after float64, err error) {
	vocab, err := text.BuildVocab(corpus, cfg.VocabOptions())
	if err != nil {
		return nil, 0, 0, err
	}
	backend, _, err := quietly(func() (compute.Backend, string, error) { return lstm.NewTrainingBackend("") })
	if err != nil {
		return nil, 0, 0, err
	}
	if m, err = lstm.New(cfg, vocab, backend); err != nil {
		return nil, 0, 0, err
	}
	ids, err := vocab.Encode(corpus)
	if err != nil {
		return nil, 0, 0, err
	}
	train, val, _, err := text.Split(ids, cfg.ValFrac, cfg.TestFrac)
	if err != nil {
		return nil, 0, 0, err
	}
	trainer, err := lstm.NewTrainer(m, train, val, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	res, err := m.Evaluate(val)
	if err != nil {
		return nil, 0, 0, err
	}
	if _, err := trainer.Run(context.Background(), nil); err != nil {
		return nil, 0, 0, err
	}
	final, err := m.Evaluate(val)
	if err != nil {
		return nil, 0, 0, err
	}
	return m, res.Loss, final.Loss, nil
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
