package lstm

import (
	"encoding/json"
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/lstmlab/lstmlab/internal/jsonfloat"
	"github.com/lstmlab/lstmlab/lstm/text"
)

// How a text is scored. Every token after the first is predicted from all the tokens before it in its stream,
// from the zero state, with the state carried across windows, and nothing is dropped (a last, partial window is
// padded and the padding masked out), so a text's figures do not depend on the run's batch size or window
// length:
//
//   - a text (Score, EvaluateStream) is one stream: read exactly as from its start;
//   - a split (validation, test: Evaluate) is SplitStreams(n) contiguous streams, one per EvalStreamTokens
//     tokens, at most EvalStreams: long streams, so the cold start at each stream's beginning costs little,
//     read in parallel rows, so that validating every eval_every steps stays cheap.
const (
	EvalStreams      = 32   // most streams a split is scored in
	EvalStreamTokens = 1024 // fewest tokens per stream of a split
)

// SplitStreams is the number of contiguous streams a split of n tokens is scored in: ⌊(n−1)/EvalStreamTokens⌋,
// at least 1 and at most EvalStreams. It depends on the split's length only.
func SplitStreams(n int) int { return min(EvalStreams, max(1, (n-1)/EvalStreamTokens)) }

// EvalResult holds the figures of a scored text or split. Out-of-vocabulary (OOV) tokens are the scored tokens
// the vocabulary lacks (read and predicted as <unk>); predicting <unk> after <unk> is easy, so on text that is
// mostly unknown the all-token figures flatter a model and the in-vocabulary ones do not.
type EvalResult struct {
	Loss         float64    `json:"loss"`           // mean negative log-likelihood over the scored tokens, nats per token
	Perplexity   float64    `json:"perplexity"`     // exp(Loss)
	BitsPerToken float64    `json:"bits_per_token"` // Loss / ln 2: bits per character, grapheme or word (see Level)
	Level        text.Level `json:"unit"`           // what a token is: "char", "grapheme" or "word" (names the bits: text.Level.Unit)
	Accuracy     float64    `json:"accuracy"`       // share of scored tokens that were the model's arg-max prediction
	Tokens       int        `json:"tokens"`         // tokens scored (every token after the first of each stream)
	Streams      int        `json:"streams"`        // contiguous streams scored, each from the zero state
	OOV          int        `json:"oov"`            // scored tokens not in the vocabulary
	OOVRate      float64    `json:"oov_rate"`       // OOV / Tokens
	// The same over the scored tokens that are in the vocabulary (their context may hold <unk>); 0 and left out
	// of JSON when there are none.
	InVocabLoss       float64 `json:"in_vocab_loss,omitempty"`
	InVocabPerplexity float64 `json:"in_vocab_perplexity,omitempty"`
}

// evalJSON is EvalResult's JSON form: its figures may be NaN or infinite (a diverged model), which JSON
// can only hold as MLflow writes them ("NaN", "Infinity": jsonfloat.Float).
type evalJSON struct {
	evalFields
	Loss              jsonfloat.Float `json:"loss"`
	Perplexity        jsonfloat.Float `json:"perplexity"`
	BitsPerToken      jsonfloat.Float `json:"bits_per_token"`
	Accuracy          jsonfloat.Float `json:"accuracy"`
	OOVRate           jsonfloat.Float `json:"oov_rate"`
	InVocabLoss       jsonfloat.Float `json:"in_vocab_loss,omitempty"`
	InVocabPerplexity jsonfloat.Float `json:"in_vocab_perplexity,omitempty"`
}

// evalFields is EvalResult without its methods (its float fields are shadowed by evalJSON's).
type evalFields EvalResult

// MarshalJSON writes the result with non-finite figures as "NaN", "Infinity" or "-Infinity".
func (r EvalResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(evalJSON{evalFields(r), jsonfloat.Float(r.Loss), jsonfloat.Float(r.Perplexity),
		jsonfloat.Float(r.BitsPerToken), jsonfloat.Float(r.Accuracy), jsonfloat.Float(r.OOVRate),
		jsonfloat.Float(r.InVocabLoss), jsonfloat.Float(r.InVocabPerplexity)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *EvalResult) UnmarshalJSON(data []byte) error {
	var v evalJSON
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*r = EvalResult(v.evalFields)
	r.Loss, r.Perplexity, r.BitsPerToken, r.Accuracy, r.OOVRate = float64(v.Loss), float64(v.Perplexity),
		float64(v.BitsPerToken), float64(v.Accuracy), float64(v.OOVRate)
	r.InVocabLoss, r.InVocabPerplexity = float64(v.InVocabLoss), float64(v.InVocabPerplexity)
	return nil
}

// BitsName is the metric name of BitsPerToken at this result's level: "bpc", "bpg" or "bpw".
func (r EvalResult) BitsName() string { return r.Level.Unit().Bits }

// Metrics returns the figures to log for a split called name: name_loss, name_ppl, name_acc, name_oov_rate
// and bits per token under the level's name (name_bpc, name_bpg or name_bpw).
func (r EvalResult) Metrics(name string) map[string]float64 {
	return map[string]float64{
		name + "_loss": r.Loss, name + "_ppl": r.Perplexity, name + "_acc": r.Accuracy,
		name + "_" + r.BitsName(): r.BitsPerToken, name + "_oov_rate": r.OOVRate,
	}
}

// evalSums accumulates per-token figures in float64.
type evalSums struct {
	loss, correct, ivLoss float64
	tokens, oov           int
}

func (s *evalSums) add(nll float64, correct, oov bool) {
	s.loss += nll
	s.tokens++
	if correct {
		s.correct++
	}
	if oov {
		s.oov++
	} else {
		s.ivLoss += nll
	}
}

func (s *evalSums) result(level text.Level, streams int) EvalResult {
	n := float64(s.tokens)
	r := EvalResult{Loss: s.loss / n, Level: level, Accuracy: s.correct / n, Tokens: s.tokens, Streams: streams,
		OOV: s.oov, OOVRate: float64(s.oov) / n}
	r.Perplexity, r.BitsPerToken = math.Exp(r.Loss), r.Loss/math.Ln2
	if iv := s.tokens - s.oov; iv > 0 {
		r.InVocabLoss = s.ivLoss / float64(iv)
		r.InVocabPerplexity = math.Exp(r.InVocabLoss)
	}
	return r
}

// evalExec returns the scoring pass (compiled once per window shape and cached): inputs tokens, targets
// [T*R] int32 (time-major), h0, c0 [L, R, H]; outputs the per-token negative log-likelihood and arg-max hit
// (0/1) [T*R] float32, and hT, cT. Per-token outputs let the host mask padding, split OOV from in-vocabulary
// tokens and sum in float64.
func (m *Model) evalExec() (*model.Exec, error) {
	return m.cachedExec("eval", func(g *Graph, in []*Node) []*Node {
		out := m.forward(g, in[0], in[2], in[3], windowSteps(in[0], in[2]), false)
		loss, correct := nll(out.Logits, in[1])
		return []*Node{loss, correct, out.HT, out.CT}
	})
}

// evalRows is how many rows the scoring graph runs for streams streams: at least stepperRows, because the
// pure-Go backend runs one row about as slowly as four (see stepperRows); the extra rows are padding.
func evalRows(streams int) int { return max(streams, stepperRows) }

// scoreSplit runs the scoring pass over the windows of s (at most maxWindows of them when maxWindows > 0), carrying state,
// and returns the figures of the scored tokens. each, when not nil, receives every scored token's position in
// the sequence and negative log-likelihood (nats), in window order.
func (m *Model) scoreSplit(s *text.ScoreStreams, maxWindows int, each func(pos int, nll float64)) (EvalResult, error) {
	e, err := m.evalExec()
	if err != nil {
		return EvalResult{}, fmt.Errorf("build evaluation: %w", err)
	}
	rows, steps := evalRows(s.NumStreams()), s.SeqLen()
	if steps != m.Config.SeqLen {
		return EvalResult{}, fmt.Errorf("evaluation: windows of %d steps, the graph runs %d (seq_len)", steps, m.Config.SeqLen)
	}
	shape := m.stateShape(rows)
	h, c := tensors.FromShape(shape), tensors.FromShape(shape) // every stream starts from the zero state
	windows := s.NumWindows()
	if maxWindows > 0 {
		windows = min(windows, maxWindows)
	}
	unk, hasUnk := m.Vocab.UnkID()
	x, y, pos := make([]int32, rows*steps), make([]int32, rows*steps), make([]int, rows*steps)
	var sums evalSums
	for i := range windows {
		s.WindowInto(i, rows, x, y, pos)
		out, err := m.call(e, "evaluation", timeMajor(x, rows, steps), timeMajor(y, rows, steps), h, c)
		if err != nil {
			return EvalResult{}, err
		}
		nlls, err := tensors.CopyFlatData[float32](out[0])
		if err != nil {
			return EvalResult{}, fmt.Errorf("evaluation: read losses: %w", err)
		}
		hits, err := tensors.CopyFlatData[float32](out[1])
		if err != nil {
			return EvalResult{}, fmt.Errorf("evaluation: read predictions: %w", err)
		}
		h, c = out[2], out[3]
		for b := range rows {
			for t := range steps {
				k := b*steps + t // row-major, as WindowInto writes; the graph's outputs are time-major
				if pos[k] < 0 {
					continue
				}
				nll := float64(nlls[t*rows+b])
				sums.add(nll, hits[t*rows+b] > 0.5, hasUnk && y[k] == unk)
				if each != nil {
					each(pos[k], nll)
				}
			}
		}
	}
	if sums.tokens == 0 {
		return EvalResult{}, fmt.Errorf("evaluation: no token scored")
	}
	return sums.result(m.Vocab.Level(), s.NumStreams()), nil
}

// splitStreams lays out a split for Evaluate.
func (m *Model) splitStreams(ids []int32) (*text.ScoreStreams, error) {
	return text.NewScoreStreams(ids, SplitStreams(len(ids)), m.Config.SeqLen)
}

// Evaluate scores a split (validation or test) of an encoded corpus whole, as SplitStreams(len(ids))
// contiguous streams from the zero state, every token after each stream's first scored. A split of fewer
// than two tokens is an error wrapping text.ErrNothingToPredict.
func (m *Model) Evaluate(ids []int32) (EvalResult, error) { return m.EvaluateWindows(ids, 0) }

// EvaluateWindows is Evaluate over only the first maxWindows windows of each stream (every window when
// maxWindows is 0): the cheaper score periodic validation uses (the eval_windows key).
func (m *Model) EvaluateWindows(ids []int32, maxWindows int) (EvalResult, error) {
	if maxWindows < 0 {
		return EvalResult{}, fmt.Errorf("evaluate: %d windows (want >= 0; 0 = all)", maxWindows)
	}
	s, err := m.splitStreams(ids)
	if err != nil {
		return EvalResult{}, fmt.Errorf("evaluate: %w", err)
	}
	return m.scoreSplit(s, maxWindows, nil)
}

// EvaluateStream scores ids as one text read from its start: one stream from the zero state, every token after
// the first scored, nothing dropped, whatever the run's batch size and window length. These are Score's figures
// for the same text, without the per-token detail. Fewer than two tokens is an error wrapping
// text.ErrNothingToPredict.
func (m *Model) EvaluateStream(ids []int32) (EvalResult, error) {
	s, err := text.NewScoreStreams(ids, 1, m.Config.SeqLen)
	if err != nil {
		return EvalResult{}, fmt.Errorf("evaluate: %w", err)
	}
	return m.scoreSplit(s, 0, nil)
}
