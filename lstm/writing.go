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
//     from the prompt-less start. A model that writes like its training text scores its samples near its
//     test loss; one that leaves the text's distribution when it writes scores them much worse.
//
// The runner logs both with every evaluation (the defaults below); the PyTorch quality peer
// (peers/peer_quality.py) measures the same figures.
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

// FreeRunning generates samples texts of length tokens at temperature 1 from the prompt-less start
// (SampleOptions.Prompt), sample i with seed+i, and returns the model's mean −ln p of the tokens it drew
// (GenerateTrace's ModelProb) as Loss, nats per token, with Perplexity and BitsPerToken; Tokens is the
// number of tokens drawn and Streams the samples. Accuracy and the OOV figures are 0 (a sample has no
// reference text). Each sample is the one GenerateTrace draws with the same options; the samples are
// generated side by side, up to the Stepper's rows at a time, so four cost about as much as one.
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
	if sums.tokens == 0 {
		return EvalResult{}, fmt.Errorf("free running: no token generated")
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

// sampleSideBySide draws, in the rows of one Stepper, the traces GenerateTrace draws for
// SampleOptions{Length: length, Temperature: 1, Seed: seeds[r]} (at most stepperRows seeds): the start
// context is read once and its state copied to every row; each row then samples with its own seed,
// leaves out its leading line breaks as generate does, and reads token 0 once it is done (as a Stepper's
// idle rows do). Rows never mix, so each trace is the one generated alone.
func (m *Model) sampleSideBySide(seeds []uint64, length int) ([][]GeneratedToken, error) {
	s, err := m.NewStepper()
	if err != nil {
		return nil, err
	}
	first, err := m.readStart(s)
	if err != nil {
		return nil, fmt.Errorf("start context: %w", err)
	}
	copyRow0 := func(t *tensors.Tensor) (*tensors.Tensor, error) {
		v, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return nil, err
		}
		layers, rows, hidden := t.Shape().Dimensions[0], t.Shape().Dimensions[1], t.Shape().Dimensions[2]
		for k := range layers {
			row0 := v[k*rows*hidden : k*rows*hidden+hidden]
			for r := 1; r < rows; r++ {
				copy(v[(k*rows+r)*hidden:], row0)
			}
		}
		return tensors.FromFlatDataAndDimensions(v, layers, rows, hidden), nil
	}
	h, err := copyRow0(s.h)
	if err != nil {
		return nil, err
	}
	c, err := copyRow0(s.c)
	if err != nil {
		return nil, err
	}
	exec, err := m.stepRowsExec()
	if err != nil {
		return nil, err
	}
	weights, err := m.preparedWeights()
	if err != nil {
		return nil, err
	}
	n := len(seeds)
	samplers, skip, traces := make([]*Sampler, n), make([]int, n), make([][]GeneratedToken, n)
	logits := make([][]float32, n)
	for r, seed := range seeds {
		samplers[r], skip[r], logits[r] = NewSampler(SampleOptions{Length: length, Temperature: 1, Seed: seed}), leadingBreaks, first
	}
	vocab := m.Vocab.Size()
	for {
		tokens := make([]int32, stepperRows) // rows past n, and rows done, read token 0
		active := false
		for r := range n {
			if len(traces[r]) == length {
				continue
			}
			id, p := samplers[r].Sample(logits[r])
			if skip[r] > 0 && m.isLineBreak(id) { // read, not kept (generate's leading line breaks)
				skip[r]--
				tokens[r], active = id, true
				continue
			}
			skip[r] = 0
			raw := Probabilities(logits[r])
			traces[r] = append(traces[r], GeneratedToken{ID: id, Token: m.Vocab.Token(id), Prob: p[id], Entropy: Entropy(p),
				ModelProb: raw[id], ModelEntropy: Entropy(raw)})
			if len(traces[r]) < length {
				tokens[r], active = id, true
			}
		}
		if !active {
			return traces, nil
		}
		out, err := m.call(exec, "generation step", append([]any{tokens, h, c}, anySlice(weights)...)...)
		if err != nil {
			return nil, err
		}
		all, err := tensors.CopyFlatData[float32](out[0])
		if err != nil {
			return nil, fmt.Errorf("read logits: %w", err)
		}
		for r := range n {
			logits[r] = all[r*vocab : (r+1)*vocab]
		}
		h, c = out[1], out[2]
	}
}
