package lstm

import (
	"fmt"
	"math"
)

// Config holds every knob of a model and of its training, in the spirit of nanoGPT's train.py: one flat,
// commented list. It is saved with checkpoints and logged as hyperparameters, so field names are stable
// (the json tags are the keys users pass as overrides).
type Config struct {
	// --- model ---
	Level     string  `json:"level"`       // tokenization: "char" (Unicode code points) or "word"
	MinFreq   int     `json:"min_freq"`    // word level: words seen fewer times become <unk>
	EmbedDim  int     `json:"embed"`       // token embedding width
	Hidden    int     `json:"hidden"`      // LSTM hidden (and cell) state width H
	Layers    int     `json:"layers"`      // stacked LSTM layers
	Dropout   float64 `json:"dropout"`     // dropout between layers and before the head (0 disables)
	TieWeight bool    `json:"tie_weights"` // share embedding and head weights (needs embed == hidden)

	// --- data ---
	BatchSize int     `json:"batch"`     // parallel streams per step (truncated BPTT rows)
	SeqLen    int     `json:"seq_len"`   // time steps per window; gradients stop at window boundaries
	ValFrac   float64 `json:"val_frac"`  // share of the corpus (by position) held out for validation
	TestFrac  float64 `json:"test_frac"` // share held out for the final test
	// Where training meets the initial state (see recipe.go): without these a model ties the empty state to
	// the text at the streams' fixed starting positions and writes badly from an empty prompt.
	ResetProb   float64 `json:"reset_prob"`   // chance that a stream starts a window from the initial state (besides each epoch's start)
	EpochOffset bool    `json:"epoch_offset"` // each epoch after the first starts the streams at a random offset in the text

	// --- optimisation ---
	Optimizer   string  `json:"optimizer"`    // "adam" or "sgd"
	LR          float64 `json:"lr"`           // peak learning rate
	Momentum    float64 `json:"momentum"`     // SGD momentum (0 = plain SGD)
	WeightDecay float64 `json:"weight_decay"` // decoupled (AdamW-style) weight decay on weight matrices
	Warmup      int     `json:"warmup"`       // linear warm-up steps from 0 to LR
	Decay       string  `json:"decay"`        // learning-rate schedule after warm-up: "none", "cosine" or "step"
	DecayEvery  int     `json:"decay_every"`  // "step" schedule: multiply by DecayRate every this many steps
	DecayRate   float64 `json:"decay_rate"`   // "step" schedule factor; "cosine" decays to LR*DecayRate
	ClipNorm    float64 `json:"clip_norm"`    // clip gradients to this global L2 norm (0 disables)

	// --- loop ---
	Steps       int   `json:"steps"`        // total optimisation steps
	EvalEvery   int   `json:"eval_every"`   // validate on the whole validation split every this many steps
	Patience    int   `json:"patience"`     // early stopping: evaluations without improvement before stopping (0 = never)
	EvalLimit   int   `json:"eval_windows"` // cap on validation windows per evaluation (0 = the whole split)
	Seed        int64 `json:"seed"`         // seeds initialisation, dropout and sampling: same seed, same losses
	StepTimeout int   `json:"step_timeout"` // seconds a single step may take before the watchdog fails the run
}

// DefaultConfig returns a small but sensible char-level configuration (the reference shape of the
// benchmarks: 2 × 256, embedding 64, batch 32 × seq 64).
func DefaultConfig() Config {
	return Config{
		Level: "char", MinFreq: 1, EmbedDim: 64, Hidden: 256, Layers: 2, Dropout: 0,
		BatchSize: 32, SeqLen: 64, ValFrac: 0.05, TestFrac: 0.05, ResetProb: 0.02, EpochOffset: true,
		Optimizer: "adam", LR: 2e-3, Momentum: 0.9, Decay: "none", DecayEvery: 1000, DecayRate: 0.1, ClipNorm: 5,
		Steps: 1000, EvalEvery: 100, Seed: 1, StepTimeout: 600,
	}
}

// Validate checks every field, returning an error that names the field and its allowed range.
func (c Config) Validate() error {
	check := func(ok bool, key, format string, args ...any) error {
		if ok {
			return nil
		}
		return fmt.Errorf("invalid %s: %s", key, fmt.Sprintf(format, args...))
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	for _, err := range []error{
		check(c.Level == "char" || c.Level == "word", "level", "%q (want char or word)", c.Level),
		check(c.MinFreq >= 1, "min_freq", "%d (want >= 1)", c.MinFreq),
		check(c.EmbedDim >= 1 && c.EmbedDim <= 65536, "embed", "%d (want 1..65536)", c.EmbedDim),
		check(c.Hidden >= 1 && c.Hidden <= 65536, "hidden", "%d (want 1..65536)", c.Hidden),
		check(c.Layers >= 1 && c.Layers <= 64, "layers", "%d (want 1..64)", c.Layers),
		check(finite(c.Dropout) && c.Dropout >= 0 && c.Dropout < 1, "dropout", "%g (want 0 <= dropout < 1)", c.Dropout),
		check(!c.TieWeight || c.EmbedDim == c.Hidden, "tie_weights", "needs embed == hidden (got %d and %d)", c.EmbedDim, c.Hidden),
		check(c.BatchSize >= 1 && c.BatchSize <= 1<<16, "batch", "%d (want 1..65536)", c.BatchSize),
		check(c.SeqLen >= 1 && c.SeqLen <= 1<<14, "seq_len", "%d (want 1..16384)", c.SeqLen),
		check(finite(c.ValFrac) && c.ValFrac > 0 && c.ValFrac < 0.5, "val_frac", "%g (want 0 < val_frac < 0.5)", c.ValFrac),
		check(finite(c.TestFrac) && c.TestFrac >= 0 && c.TestFrac < 0.5, "test_frac", "%g (want 0 <= test_frac < 0.5)", c.TestFrac),
		check(finite(c.ResetProb) && c.ResetProb >= 0 && c.ResetProb <= 1, "reset_prob", "%g (want 0 <= reset_prob <= 1)", c.ResetProb),
		check(c.Optimizer == "adam" || c.Optimizer == "sgd", "optimizer", "%q (want adam or sgd)", c.Optimizer),
		check(finite(c.LR) && c.LR > 0 && c.LR <= 10, "lr", "%g (want 0 < lr <= 10)", c.LR),
		check(finite(c.Momentum) && c.Momentum >= 0 && c.Momentum < 1, "momentum", "%g (want 0 <= momentum < 1)", c.Momentum),
		check(finite(c.WeightDecay) && c.WeightDecay >= 0 && c.WeightDecay < 1, "weight_decay", "%g (want 0 <= weight_decay < 1)", c.WeightDecay),
		check(c.Warmup >= 0, "warmup", "%d (want >= 0)", c.Warmup),
		check(c.Decay == "none" || c.Decay == "cosine" || c.Decay == "step", "decay", "%q (want none, cosine or step)", c.Decay),
		check(c.Decay != "step" || c.DecayEvery >= 1, "decay_every", "%d (want >= 1)", c.DecayEvery),
		check(finite(c.DecayRate) && c.DecayRate >= 0 && c.DecayRate <= 1, "decay_rate", "%g (want 0..1)", c.DecayRate),
		check(finite(c.ClipNorm) && c.ClipNorm >= 0, "clip_norm", "%g (want >= 0; 0 disables)", c.ClipNorm),
		check(c.Steps >= 1, "steps", "%d (want >= 1)", c.Steps),
		check(c.EvalEvery >= 1, "eval_every", "%d (want >= 1)", c.EvalEvery),
		check(c.Patience >= 0, "patience", "%d (want >= 0)", c.Patience),
		check(c.EvalLimit >= 0, "eval_windows", "%d (want >= 0; 0 = whole split)", c.EvalLimit),
		check(c.StepTimeout >= 0, "step_timeout", "%d (want >= 0 seconds; 0 disables)", c.StepTimeout),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
