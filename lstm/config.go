package lstm

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// Config holds every knob of a model and of its training, in the spirit of nanoGPT's train.py: one flat,
// commented list. It is saved with checkpoints and logged as hyperparameters, so field names are stable
// (the json tags are the keys users pass as overrides). Each field's help tag describes its key, for
// listings of the keys.
type Config struct {
	// --- model ---
	Cell      string  `json:"cell" help:"recurrent cell: 'lstm', 'gru' (PyTorch's nn.GRU) or 'rnn' (tanh); '' = lstm"`
	Level     string  `json:"level" help:"tokenization: 'char' (Unicode code points), 'grapheme' (grapheme clusters: what a reader sees as one character) or 'word'"`
	MinFreq   int     `json:"min_freq" help:"tokens (characters, graphemes, words) seen fewer times in the corpus become <unk>, which trains <unk>"`
	Normalize string  `json:"normalize" help:"Unicode normalization of every text in (corpus, prompts, scored text): 'nfc' or 'none' (checkpoints without the key: 'none')"`
	EmbedDim  int     `json:"embed" help:"token embedding width"`
	Hidden    int     `json:"hidden" help:"hidden (and LSTM cell) state width H"`
	Layers    int     `json:"layers" help:"stacked recurrent layers"`
	Dropout   float64 `json:"dropout" help:"dropout between layers and before the head (0 disables)"`
	TieWeight bool    `json:"tie_weights" help:"share embedding and head weights (needs embed == hidden)"`

	// --- data ---
	BatchSize int     `json:"batch" help:"parallel streams per step (truncated BPTT rows)"`
	SeqLen    int     `json:"seq_len" help:"time steps per window; gradients stop at window boundaries"`
	ValFrac   float64 `json:"val_frac" help:"share of the corpus (by position) held out for validation"`
	TestFrac  float64 `json:"test_frac" help:"share held out for the final test"`
	// Where training meets the initial state (see recipe.go): without these a model ties the empty state to
	// the text at the streams' fixed starting positions and writes badly from an empty prompt.
	ResetProb   float64 `json:"reset_prob" help:"chance that a training stream starts a window from the initial state (besides each epoch's start); 0 disables"`
	EpochOffset bool    `json:"epoch_offset" help:"each epoch after the first starts the training streams at a random offset in the text (false: the same positions every epoch)"`

	// --- optimisation ---
	Optimizer   string  `json:"optimizer" help:"'adam' or 'sgd'"`
	LR          float64 `json:"lr" help:"peak learning rate"`
	Momentum    float64 `json:"momentum" help:"SGD momentum (0 = plain SGD)"`
	WeightDecay float64 `json:"weight_decay" help:"decoupled (AdamW-style) weight decay on weight matrices"`
	Warmup      int     `json:"warmup" help:"linear warm-up steps from 0 to LR"`
	Decay       string  `json:"decay" help:"learning-rate schedule after warm-up: 'none', 'cosine' or 'step'"`
	DecayEvery  int     `json:"decay_every" help:"'step' schedule: multiply by DecayRate every this many steps"`
	DecayRate   float64 `json:"decay_rate" help:"'step' schedule factor; 'cosine' decays to LR*DecayRate"`
	ClipNorm    float64 `json:"clip_norm" help:"clip gradients to this global L2 norm (0 disables)"`

	// --- loop ---
	Steps       int   `json:"steps" help:"total optimisation steps"`
	EvalEvery   int   `json:"eval_every" help:"validate every this many steps (on the whole validation split unless eval_windows caps it)"`
	Patience    int   `json:"patience" help:"early stopping: evaluations without improvement before stopping (0 = never)"`
	EvalLimit   int   `json:"eval_windows" help:"validation scores the first eval_windows windows of each of its streams (0 = the whole split)"`
	Seed        int64 `json:"seed" help:"seeds initialisation, dropout and sampling: same seed, same losses"`
	StepTimeout int   `json:"step_timeout" help:"seconds a single step may take before the watchdog fails the run"`
}

// DefaultConfig returns a small but sensible char-level configuration (the reference shape of the
// benchmarks: 2 × 256, embedding 64, batch 32 × seq 64).
func DefaultConfig() Config {
	return Config{
		Cell: DefaultCell, Level: "char", MinFreq: 2, Normalize: "nfc", EmbedDim: 64, Hidden: 256, Layers: 2, Dropout: 0,
		BatchSize: 32, SeqLen: 64, ValFrac: 0.05, TestFrac: 0.05, ResetProb: 0.02, EpochOffset: true,
		Optimizer: "adam", LR: 2e-3, Momentum: 0.9, Decay: "none", DecayEvery: 1000, DecayRate: 0.1, ClipNorm: 5,
		Steps: 1000, EvalEvery: 100, Seed: 1, StepTimeout: 600,
	}
}

// VocabOptions are the options to build this model's vocabulary with: level, min_freq and normalize.
func (c Config) VocabOptions() text.VocabOptions {
	return text.VocabOptions{Level: text.Level(c.Level), MinFreq: c.MinFreq, Normalize: text.Normalization(c.Normalize)}
}

// checkVocab checks that a vocabulary tokenizes text the way cfg says: same level, same normalization.
func checkVocab(c Config, v *text.Vocab) error {
	if string(v.Level()) != c.Level {
		return fmt.Errorf("the vocabulary is %s-level, the config's level is %q", v.Level(), c.Level)
	}
	if string(v.Normalization()) != c.Normalize {
		return fmt.Errorf("the vocabulary normalizes text with %q, the config's normalize is %q", v.Normalization(), c.Normalize)
	}
	return nil
}

// UnmarshalJSON reads a config as saved in checkpoints and run records, over the values c already holds.
// A config saved before the "normalize" key existed means "none": those models were trained on text as
// written. One saved before the "cell" key existed (or with cell "") is an LSTM: DefaultCell.
func (c *Config) UnmarshalJSON(data []byte) error {
	type plain Config // without this method
	p := plain(*c)
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err == nil {
		if _, ok := keys["normalize"]; !ok {
			p.Normalize = "none"
		}
	}
	if p.Cell == "" {
		p.Cell = DefaultCell
	}
	*c = Config(p)
	return nil
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
		check(cells[c.Cell] != nil || c.Cell == "", "cell", "%q (want %s)", c.Cell, strings.Join(CellNames(), ", ")),
		check(c.Level == "char" || c.Level == "grapheme" || c.Level == "word", "level", "%q (want char, grapheme or word)", c.Level),
		check(c.MinFreq >= 1, "min_freq", "%d (want >= 1)", c.MinFreq),
		check(c.Normalize == "nfc" || c.Normalize == "none", "normalize", "%q (want nfc or none)", c.Normalize),
		check(c.EmbedDim >= 1 && c.EmbedDim <= 65536, "embed", "%d (want 1..65536)", c.EmbedDim),
		check(c.Hidden >= 1 && c.Hidden <= 65536, "hidden", "%d (want 1..65536)", c.Hidden),
		check(c.Layers >= 1 && c.Layers <= 64, "layers", "%d (want 1..64)", c.Layers),
		check(finite(c.Dropout) && c.Dropout >= 0 && c.Dropout < 1, "dropout", "%g (want 0 <= dropout < 1)", c.Dropout),
		check(!c.TieWeight || c.EmbedDim == c.Hidden, "tie_weights", "needs embed == hidden (got %d and %d)", c.EmbedDim, c.Hidden),
		check(c.BatchSize >= 1 && c.BatchSize <= 1<<16, "batch", "%d (want 1..65536)", c.BatchSize),
		check(c.SeqLen >= 1 && c.SeqLen <= 1<<14, "seq_len", "%d (want 1..16384)", c.SeqLen),
		check(finite(c.ValFrac) && c.ValFrac > 0 && c.ValFrac < 0.5, "val_frac", "%g (want 0 < val_frac < 0.5)", c.ValFrac),
		check(finite(c.TestFrac) && c.TestFrac >= 0 && c.TestFrac < 0.5, "test_frac", "%g (want 0 <= test_frac < 0.5)", c.TestFrac),
		check(optimizers[c.Optimizer] != nil, "optimizer", "%q (want %s)", c.Optimizer, strings.Join(OptimizerNames(), " or ")),
		check(finite(c.ResetProb) && c.ResetProb >= 0 && c.ResetProb <= 1, "reset_prob", "%g (want 0 <= reset_prob <= 1)", c.ResetProb),
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
