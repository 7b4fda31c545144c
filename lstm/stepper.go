package lstm

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// stepGraph is one step of the whole model for a batch of single tokens, the graph generation and
// scoring run once per token (the "single-step graph: token, h, c → logits, h', c'"):
//
//	tokens: [B] int32    h0, c0: [L, B, H]    returns logits [B, V] and h', c' [L, B, H]
//	weightsT: per layer k, W_k and U_k transposed: [4H, in] then [4H, H] (see transposedWeights)
//
// It computes the same pre-activations x·W + h·U + b as CellStep and runs the same cell and head as
// training's forward pass, without dropout, so a sequence fed one token at a time gives the logits
// training computes for it (tested).
func (m *Model) stepGraph(tokens, h0, c0 *Node, weightsT []*Node) (logits, hT, cT *Node) {
	cfg := m.Config
	g := tokens.Graph()
	batch := tokens.Shape().Dimensions[0]
	// x: [B, E]
	x := Gather(m.param(g, ParamEmbedding), ExpandAxes(tokens, -1))
	hs := make([]*Node, cfg.Layers)
	cs := make([]*Node, cfg.Layers)
	// timesTransposed returns a·bᵀ for a: [B, n], bT: [4H, n].
	timesTransposed := func(a, bT *Node) *Node { return Dot(a, bT).General([]int{1}, nil, []int{1}, nil) }
	for k := range cfg.Layers {
		// hk, ck: [B, H], this layer's slice of the carried state.
		hk := Reshape(Slice(h0, AxisElem(k), AxisRange(), AxisRange()), batch, cfg.Hidden)
		ck := Reshape(Slice(c0, AxisElem(k), AxisRange(), AxisRange()), batch, cfg.Hidden)
		// z: [B, 4H] = x·W + h·U + b
		z := Add(timesTransposed(x, weightsT[2*k]), timesTransposed(hk, weightsT[2*k+1]))
		z = Add(z, BroadcastToDims(ExpandAxes(m.param(g, ParamLayerBias(k)), 0), z.Shape().Dimensions...))
		s := CellFromPreactivation(z, ck)
		hs[k], cs[k] = s.H, s.C
		x = s.H // the next layer reads this layer's h_t
	}
	return m.head(g, x), Stack(hs, 0), Stack(cs, 0)
}

// Stepper feeds a model one token at a time with its hidden and cell state carried from step to step:
// the engine of generation, scoring and next-token distributions. The single-step graph is compiled
// once (on the first Step) and the state stays in the tensors the graph returned (no copy to the host
// and back); only the logits come to the host. It always reads the model's current weights, so a
// Stepper made before more training sees the trained weights. Not safe for concurrent use.
type Stepper struct {
	m    *Model
	exec *model.Exec
	h, c *tensors.Tensor // [L, stepperRows, H]

	// The recurrent weights transposed, and the variable values they were computed from (see
	// transposedWeights). Why transposed: with W as [in, 4H] each output column of x·W walks W with a
	// stride of 4H floats (4 KiB at H = 256), which the backend's small-product kernel reads ~1.5× slower
	// than the contiguous rows of Wᵀ (measured [4, 256]·[256, 1024]: 87 µs against 58 µs).
	transposeExec *model.Exec
	weightsT      []*tensors.Tensor
	weightsOf     []*tensors.Tensor
}

// recurrentParams lists, per layer, the paths of W and U: the weights the step graph takes transposed.
func (m *Model) recurrentParams() []string {
	var paths []string
	for k := range m.Config.Layers {
		paths = append(paths, ParamLayerWIH(k), ParamLayerWHH(k))
	}
	return paths
}

// NewStepper returns a Stepper over m with zero state (batch 1).
func (m *Model) NewStepper() (*Stepper, error) {
	exec, err := m.newExec(func(g *Graph, in []*Node) []*Node {
		logits, h, c := m.stepGraph(in[0], in[1], in[2], in[3:])
		return []*Node{Slice(logits, AxisRange(0, 1)), h, c} // only stream 0 is real (stepperRows)
	})
	if err != nil {
		return nil, fmt.Errorf("build single-step graph: %w", err)
	}
	transposeExec, err := m.newExec(func(g *Graph, _ []*Node) []*Node {
		var out []*Node
		for _, p := range m.recurrentParams() {
			out = append(out, Transpose(m.param(g, p), 0, 1))
		}
		return out
	})
	if err != nil {
		return nil, fmt.Errorf("build weight transposition graph: %w", err)
	}
	s := &Stepper{m: m, exec: exec, transposeExec: transposeExec}
	s.Reset()
	return s, nil
}

// transposedWeights returns the recurrent weights transposed, computing them again when a variable
// holds a new value (training and loading set new tensors; GoMLX never changes a variable's tensor
// in place).
func (s *Stepper) transposedWeights() ([]*tensors.Tensor, error) {
	paths := s.m.recurrentParams()
	current := make([]*tensors.Tensor, len(paths))
	stale := s.weightsT == nil
	for i, p := range paths {
		v := s.m.Store.GetVariable(p)
		if v == nil {
			return nil, fmt.Errorf("parameter %s missing from the store", p)
		}
		value, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p, err)
		}
		current[i] = value
		stale = stale || value != s.weightsOf[i]
	}
	if stale {
		out, err := s.m.call(s.transposeExec, "transpose weights")
		if err != nil {
			return nil, err
		}
		s.weightsT, s.weightsOf = out, current
	}
	return s.weightsT, nil
}

// stepperRows is how many streams a Stepper's graph runs, of which only the first is used. Why not
// one: the pure-Go backend's small matrix products (compute v0.1.14) are about ten times slower for a
// single row than for four — measured 1.5 ms against 0.14 ms for [1|4, 513]·[513, 1024] — so feeding
// three idle streams (token 0, their own carried state) alongside makes a generated token several
// times faster. LSTM streams never mix, so the first stream's logits and state are exact (tested).
const stepperRows = 4

// Reset zeroes the hidden and cell state, as at the start of a text.
func (s *Stepper) Reset() {
	shape := s.m.stateShape(stepperRows)
	s.h, s.c = tensors.FromShape(shape), tensors.FromShape(shape)
}

// Step reads token and returns the logits [V] of the token that follows it.
func (s *Stepper) Step(token int32) ([]float32, error) {
	if token < 0 || int(token) >= s.m.Vocab.Size() {
		return nil, fmt.Errorf("step: token id %d outside the vocabulary 0..%d", token, s.m.Vocab.Size()-1)
	}
	weightsT, err := s.transposedWeights()
	if err != nil {
		return nil, fmt.Errorf("step: %w", err)
	}
	tokens := make([]int32, stepperRows) // stream 0 reads token; the idle streams read token 0
	tokens[0] = token
	args := append([]any{tokens, s.h, s.c}, anySlice(weightsT)...)
	out, err := s.m.call(s.exec, "generation step", args...)
	if err != nil {
		return nil, fmt.Errorf("step: %w", err)
	}
	logits, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return nil, fmt.Errorf("step: read logits: %w", err)
	}
	s.h, s.c = out[1], out[2]
	return logits, nil
}

// anySlice returns ts as a []any, for Exec.Call's variadic arguments.
func anySlice(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// Feed reads ids in order (at least one) and returns the logits of the token that follows the last.
func (s *Stepper) Feed(ids []int32) ([]float32, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("feed: no tokens")
	}
	var logits []float32
	for _, id := range ids {
		var err error
		if logits, err = s.Step(id); err != nil {
			return nil, err
		}
	}
	return logits, nil
}
