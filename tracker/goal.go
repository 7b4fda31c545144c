package tracker

import (
	"fmt"
	"strings"
)

// Goal says which direction of a metric is better; it decides the "best"
// value kept per (run, key).
type Goal string

// The goals.
const (
	// Minimize: lower is better (losses, bits per character, perplexity).
	Minimize Goal = "min"
	// Maximize: higher is better (accuracy, throughput).
	Maximize Goal = "max"
)

// Names of the metrics the lstmlab runner logs. Any other key may be logged
// too; these are listed so code and documentation spell them one way.
const (
	MetricTrainLoss  = "train_loss"   // mean cross-entropy (nats/token) over the last steps
	MetricValLoss    = "val_loss"     // validation cross-entropy, nats/token
	MetricValPPL     = "val_ppl"      // validation perplexity, exp(val_loss)
	MetricValBPC     = "val_bpc"      // validation bits per character (character-level runs)
	MetricValBPG     = "val_bpg"      // validation bits per grapheme cluster (grapheme-level runs)
	MetricValBPW     = "val_bpw"      // validation bits per word (word-level runs)
	MetricValOOVRate = "val_oov_rate" // share of validation tokens not in the vocabulary (read as <unk>)
	// How the model writes (issue 17), logged with every evaluation in the run's unit; at the end the best
	// model's test_cold_* and test_free_running_* too.
	MetricValColdBPC     = "val_cold_bpc"     // cold start: short validation passages, each from the zero state, bits per character
	MetricValColdBPG     = "val_cold_bpg"     // the same per grapheme cluster
	MetricValColdBPW     = "val_cold_bpw"     // the same per word
	MetricFreeRunningBPC = "free_running_bpc" // the model's −log2 p of its own samples at temperature 1 from an empty state, bits per character
	MetricFreeRunningBPG = "free_running_bpg" // the same per grapheme cluster
	MetricFreeRunningBPW = "free_running_bpw" // the same per word
	MetricValAcc         = "val_acc"          // validation next-token accuracy
	MetricLR             = "lr"               // learning rate in effect
	MetricTokensPerS     = "tokens_per_s"     // training throughput
	MetricGradNorm       = "grad_norm"        // global gradient norm before clipping
)

// MachineMetric reports whether a metric measures the machine rather than
// the model: throughput and durations (tokens_per_s, or a key ending in
// _per_s, _per_sec, _seconds, _secs, _ms or _time). The same steps trained
// again, after a resume from a checkpoint, log other values for these and
// the same values for every other metric the runner logs.
func MachineMetric(key string) bool {
	k := strings.ToLower(key)
	for _, suffix := range []string{"_per_s", "_per_sec", "_seconds", "_secs", "_ms", "_time"} {
		if strings.HasSuffix(k, suffix) {
			return true
		}
	}
	return k == MetricTokensPerS
}

// maximizeWords are the key words that make a metric higher-is-better.
var maximizeWords = map[string]bool{
	"acc": true, "accuracy": true, "f1": true, "precision": true, "recall": true,
	"auc": true, "bleu": true, "rouge": true, "score": true, "reward": true, "throughput": true,
}

// DefaultGoal is the rule that decides "best" unless a run overrides it with
// Run.SetGoal. The key is split into words at _ . - / and spaces:
//
//   - Maximize if a word is acc, accuracy, f1, precision, recall, auc, bleu,
//     rouge, score, reward or throughput, or the key ends in _per_s,
//     _per_sec or _per_second (val_acc, tokens_per_s);
//   - Minimize otherwise: losses, bpc, ppl/perplexity, error rates, and
//     also keys where "best" means little (lr, grad_norm).
func DefaultGoal(key string) Goal {
	k := strings.ToLower(key)
	for _, suffix := range []string{"_per_s", "_per_sec", "_per_second"} {
		if strings.HasSuffix(k, suffix) {
			return Maximize
		}
	}
	words := strings.FieldsFunc(k, func(r rune) bool {
		return r == '_' || r == '.' || r == '-' || r == '/' || r == ' '
	})
	for _, w := range words {
		if maximizeWords[w] {
			return Maximize
		}
	}
	return Minimize
}

// Better reports whether value a beats value b under the goal. Ties are not
// better, so the earliest of equal values stays best.
func (g Goal) Better(a, b float64) bool {
	if g == Maximize {
		return a > b
	}
	return a < b
}

func (g Goal) validate() error {
	if g != Minimize && g != Maximize {
		return fmt.Errorf("goal %q: want %q or %q", string(g), Minimize, Maximize)
	}
	return nil
}
