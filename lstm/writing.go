package lstm

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// How a model writes (issue 17). Validation and test carry the state over long streams of real text;
// users start from an empty state, after a short prompt or none, and read what the model writes. Two
// figures measure that:
//
//   - the cold start (ColdStart): the mean loss of many short passages of a split, each read from the
//     zero state, as a user's short text is scored;
//   - the free-running figure (FreeRunning): the model's mean −ln p of its own samples at temperature 1
//     from an empty state (the zero state reading a line break), every drawn token scored. A model that
//     writes like its training text scores its samples near its test loss; one that leaves the text's
//     distribution when it writes scores them much worse.
//
// The runner logs both with every evaluation (the defaults below). The PyTorch quality peer
// (peers/peer_quality.py) computes them the same way (passages from the zero state; samples drawn from a
// newline at the zero state, every token scored), with its own counts and lengths.
const (
	ColdStartPassages  = 64  // passages of a split the cold start scores
	ColdStartTokens    = 128 // scored tokens per passage (each passage reads one more: its first is context)
	FreeRunningSamples = 4   // samples the free-running figure generates
	FreeRunningTokens  = 256 // tokens per sample
)

// ColdStartStarts returns where each of the passages of length+1 tokens of a text of n tokens starts:
// evenly spaced from the first token to the last possible one, passage i at i·(n−length−1)/(passages−1)
// (0 for a single passage). A text of at most length tokens gets one passage: all of it.
func ColdStartStarts(n, passages, length int) []int {
	span := max(0, n-length-1)
	starts := make([]int, passages)
	for i := range starts {
		if passages > 1 {
			starts[i] = i * span / (passages - 1)
		}
	}
	if span == 0 {
		return starts[:1]
	}
	return starts
}

// ColdStart scores passages short passages of ids (ColdStartStarts), each from the zero state, in one
// batched pass: every passage reads length+1 tokens (fewer when ids is shorter) and its length targets
// after the first are scored. It returns their pooled figures (Streams = passages): what a user scoring or
// prompting with a short text gets. It equals the mean of EvaluateStream over the same passages. Fewer
// than two tokens is an error; passages and length must be at least 1.
func (m *Model) ColdStart(ids []int32, passages, length int) (EvalResult, error) {
	if passages < 1 || length < 1 {
		return EvalResult{}, fmt.Errorf("cold start: %d passages of %d tokens (want at least 1 of 1)", passages, length)
	}
	if len(ids) < 2 {
		return EvalResult{}, fmt.Errorf("cold start: %d tokens (need at least 2)", len(ids))
	}
	length = min(length, len(ids)-1)
	starts := ColdStartStarts(len(ids), passages, length)
	rows := evalRows(len(starts))
	x, y := make([]int32, rows*length), make([]int32, rows*length) // padding rows read token 0, not scored
	for b, s := range starts {
		copy(x[b*length:(b+1)*length], ids[s:s+length])
		copy(y[b*length:(b+1)*length], ids[s+1:s+1+length])
	}
	e, err := m.evalExec()
	if err != nil {
		return EvalResult{}, fmt.Errorf("cold start: %w", err)
	}
	shape := m.stateShape(rows)
	out, err := m.call(e, "cold start", timeMajor(x, rows, length), timeMajor(y, rows, length),
		tensors.FromShape(shape), tensors.FromShape(shape))
	if err != nil {
		return EvalResult{}, fmt.Errorf("cold start: %w", err)
	}
	nlls, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return EvalResult{}, fmt.Errorf("cold start: read losses: %w", err)
	}
	hits, err := tensors.CopyFlatData[float32](out[1])
	if err != nil {
		return EvalResult{}, fmt.Errorf("cold start: read predictions: %w", err)
	}
	unk, hasUnk := m.Vocab.UnkID()
	var sums evalSums
	for b := range starts {
		for t := range length {
			sums.add(float64(nlls[t*rows+b]), hits[t*rows+b] > 0.5, hasUnk && y[b*length+t] == unk)
		}
	}
	return sums.result(m.Vocab.Level(), len(starts)), nil
}

// FreeRunning draws samples texts of length tokens at temperature 1 (nothing cut: no top-k, no top-p),
// sample i with seed+i, each from an empty state: the zero state reading StartToken (the line break, or
// token 0 when the vocabulary has none), the beginning of a text. Every drawn token is scored: Loss is the
// model's mean −ln p of the tokens it drew (its own probability of each, GenerateTrace's ModelProb), nats
// per token, with Perplexity and BitsPerToken; Tokens is samples·length and Streams the samples. Accuracy
// and the OOV figures are 0 (a sample has no reference text). It is not the prompt-less start of
// Generate (no start context, no line breaks left out): sample i is the one GenerateTrace draws with
// SampleOptions{Prompt: "\n", Length: length, Temperature: 1, Seed: seed + i} for a vocabulary with a line
// break. The samples are generated side by side, up to the Stepper's rows at a time, so four cost about
// as much as one. samples and length must be at least 1.
func (m *Model) FreeRunning(samples, length int, seed uint64) (EvalResult, error) {
	if samples < 1 || length < 1 {
		return EvalResult{}, fmt.Errorf("free running: %d samples of %d tokens (want at least 1 of 1)", samples, length)
	}
	var sums evalSums
	for first := 0; first < samples; first += stepperRows {
		seeds := make([]uint64, min(stepperRows, samples-first))
		for i := range seeds {
			seeds[i] = seed + uint64(first+i)
		}
		traces, err := m.sampleSideBySide(seeds, length)
		if err != nil {
			return EvalResult{}, fmt.Errorf("free running: %w", err)
		}
		for _, trace := range traces {
			for _, tok := range trace {
				sums.add(-math.Log(tok.ModelProb), false, false)
			}
		}
	}
	r := sums.result(m.Vocab.Level(), samples)
	r.Accuracy, r.InVocabLoss, r.InVocabPerplexity = 0, 0, 0
	return r, nil
}

// stepRowsExec is stepExec returning every row's logits [stepperRows, V] (stepExec returns row 0's).
func (m *Model) stepRowsExec() (*model.Exec, error) {
	return m.cachedExec("step-rows", func(g *Graph, in []*Node) []*Node {
		out := m.forwardWith(g, in[0], in[1], in[2], 1, false, in[3:])
		return []*Node{out.Logits, out.HT, out.CT}
	})
}

// sampleSideBySide draws, in the rows of one Stepper's graph, length tokens per seed (at most stepperRows
// seeds) at temperature 1: every row starts from the zero state reading StartToken, then samples with its
// own Sampler (SampleOptions{Length: length, Temperature: 1, Seed: seeds[r]}) and reads what it drew; rows
// past the seeds read token 0. Rows never mix, so each trace is the one a single Stepper draws alone.
func (m *Model) sampleSideBySide(seeds []uint64, length int) ([][]GeneratedToken, error) {
	exec, err := m.stepRowsExec()
	if err != nil {
		return nil, err
	}
	weights, err := m.preparedWeights()
	if err != nil {
		return nil, err
	}
	n := len(seeds)
	samplers, traces := make([]*Sampler, n), make([][]GeneratedToken, n)
	tokens := make([]int32, stepperRows) // [stepperRows]: the token each row reads next
	for r, seed := range seeds {
		samplers[r] = NewSampler(SampleOptions{Length: length, Temperature: 1, Seed: seed})
		tokens[r] = m.StartToken()
	}
	shape := m.stateShape(stepperRows)
	h, c := tensors.FromShape(shape), tensors.FromShape(shape) // [L, stepperRows, H], the zero state
	vocab := m.Vocab.Size()
	for range length {
		out, err := m.call(exec, "generation step", append([]any{tokens, h, c}, anySlice(weights)...)...)
		if err != nil {
			return nil, err
		}
		logits, err := tensors.CopyFlatData[float32](out[0]) // [stepperRows, V]
		if err != nil {
			return nil, fmt.Errorf("read logits: %w", err)
		}
		h, c = out[1], out[2]
		tokens = make([]int32, stepperRows)
		for r := range n {
			row := logits[r*vocab : (r+1)*vocab]
			id, p := samplers[r].Sample(row)
			raw := Probabilities(row)
			traces[r] = append(traces[r], GeneratedToken{ID: id, Token: m.Vocab.Token(id), Prob: p[id], Entropy: Entropy(p),
				ModelProb: raw[id], ModelEntropy: Entropy(raw)})
			tokens[r] = id
		}
	}
	return traces, nil
}
