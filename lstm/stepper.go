package lstm

import (
	"fmt"
	"slices"
	"sync"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Stepper feeds a model one token at a time with its hidden and cell state carried from step to step:
// the engine of generation, scoring and next-token distributions. Each step runs the model's own
// forward pass (the layer loop training runs, one time step long) on the model's compiled step graph,
// shared by every Stepper of the model; the state stays in the tensors the graph returned (no copy to
// the host and back); only the logits come to the host. It always reads the model's current weights, so
// a Stepper made before more training sees the trained weights. Not safe for concurrent use (make one
// per goroutine).
type Stepper struct {
	m    *Model
	h, c *tensors.Tensor // [L, stepperRows, H]
}

// stepperRows is how many streams a Stepper's graph runs, of which only the first is used. Why not
// one: the pure-Go backend's small matrix products (compute v0.1.14) are about ten times slower for a
// single row than for four (docs/benchmarks.md), so three idle streams (token 0, their own carried
// state) alongside make a generated token several times faster. Streams never mix, so the first
// stream's logits and state are exact (tested).
const stepperRows = 4

// NewStepper returns a Stepper over m with zero state.
func (m *Model) NewStepper() (*Stepper, error) {
	s := &Stepper{m: m}
	s.Reset()
	return s, nil
}

// stepExec returns the model's single-step graph: inputs tokens [stepperRows] int32, h, c [L, stepperRows, H],
// then the prepared weights (preparedWeights); outputs stream 0's logits [1, V] and the new h, c.
func (m *Model) stepExec() (*model.Exec, error) {
	return m.cachedExec("step", func(g *Graph, in []*Node) []*Node {
		out := m.forwardWith(g, in[0], in[1], in[2], 1, false, in[3:])
		return []*Node{Slice(out.Logits, AxisRange(0, 1)), out.HT, out.CT} // only stream 0 is real (stepperRows)
	})
}

// preparedWeights returns every layer's weights in the form generation's projection reads them
// (preparedProjection): per layer Wxᵀ [P, in], Whᵀ [P, H] and b [P], from the cell's fused weights. They
// are computed again only when a parameter holds a new value (training and loading set new tensors;
// GoMLX never changes a variable's tensor in place), and shared by the model's Steppers.
func (m *Model) preparedWeights() ([]*tensors.Tensor, error) {
	pw := &m.prepared
	pw.mu.Lock()
	defer pw.mu.Unlock()
	// The layers' variables are looked up once per Store: a generated token only compares tensors.
	if pw.store != m.Store {
		pw.vars, pw.weights, pw.of = nil, nil, nil
		for k := range m.Config.Layers {
			for _, p := range m.LayerParams(k) {
				v := m.Store.GetVariable(p)
				if v == nil {
					return nil, fmt.Errorf("parameter %s missing from the store", p)
				}
				pw.vars = append(pw.vars, v)
			}
		}
		pw.store = m.Store
		pw.current = make([]*tensors.Tensor, len(pw.vars))
	}
	fresh := pw.weights != nil
	for i, v := range pw.vars {
		value, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", v.Path(), err)
		}
		pw.current[i] = value
		fresh = fresh && value == pw.of[i]
	}
	if fresh {
		return pw.weights, nil
	}
	e, err := m.cachedExec("prepare", func(g *Graph, _ []*Node) []*Node {
		var out []*Node
		for k := range m.Config.Layers {
			var params []*Node
			for _, p := range m.LayerParams(k) {
				params = append(params, m.param(g, p))
			}
			wx, wh, b := m.Cell().fuse(params)
			out = append(out, Transpose(wx, 0, 1), Transpose(wh, 0, 1), b)
		}
		return out
	})
	if err != nil {
		return nil, err
	}
	out, err := m.call(e, "prepare generation weights")
	if err != nil {
		return nil, err
	}
	pw.weights, pw.of = out, slices.Clone(pw.current)
	return out, nil
}

// preparedCache holds the prepared generation weights and the parameter values they were computed from.
type preparedCache struct {
	mu      sync.Mutex
	store   *model.Store      // the Store vars belong to
	vars    []*model.Variable // every layer's parameters, in preparation order
	current []*tensors.Tensor // scratch: the values of vars now
	weights []*tensors.Tensor
	of      []*tensors.Tensor
}

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
	weights, err := s.m.preparedWeights()
	if err != nil {
		return nil, fmt.Errorf("step: %w", err)
	}
	exec, err := s.m.stepExec()
	if err != nil {
		return nil, fmt.Errorf("step: %w", err)
	}
	tokens := make([]int32, stepperRows) // stream 0 reads token; the idle streams read token 0
	tokens[0] = token
	args := append([]any{tokens, s.h, s.c}, anySlice(weights)...)
	out, err := s.m.call(exec, "generation step", args...)
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
