package lstm

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// The parts of a training step, exported so that the loop can be written out by hand (notebook 02 does:
// forward, loss, backward, clip, update) with exactly the graph code Trainer.Step runs. Trainer is the
// convenience that adds the optimizer's state, the learning-rate schedule, evaluation and checkpoints.

// NewExec compiles fn, a graph over the model's variables, for the model's backend. Inside fn a parameter is
// read with m.Store.GetVariable(path).NodeValue(g) and updated with SetNodeValue (the update is applied
// when the graph runs). Use it rather than GoMLX's model.NewExec: it keeps variables as graph inputs, so the
// compiled graph sees every later change of the weights (see newExec).
func (m *Model) NewExec(fn func(g *Graph, in []*Node) []*Node) (*model.Exec, error) {
	return m.newExec(fn)
}

// Forward runs the model over one window. tokens: [T·B] int32, time-major (row t·B+b is stream b at time t;
// TimeMajor lays a window out so); h0, c0: [L, B, H], the state carried from the previous window. It returns
// the logits [T·B, V] and the states hT, cT [L, B, H] to carry into the next window. With train, dropout
// applies and hT, cT take no gradient (truncated BPTT), as in training; without, it is the evaluation pass.
func (m *Model) Forward(g *Graph, tokens, h0, c0 *Node, train bool) (logits, hT, cT *Node) {
	out := m.forward(g, tokens, h0, c0, windowSteps(tokens, h0), train)
	return out.Logits, out.HT, out.CT
}

// Loss returns the mean negative log-likelihood in nats per token (a scalar) of targets [N] int32 under
// logits [N, V]: the training loss, −(1/N) Σ ln softmax(logits_n)[target_n].
func Loss(logits, targets *Node) *Node {
	perToken, _ := nll(logits, targets)
	return ReduceAllMean(perToken)
}

// ClipByGlobalNorm scales all gradients by min(1, maxNorm/‖g‖), ‖g‖ the L2 norm of all of them together
// (PyTorch's clip_grad_norm_; maxNorm ≤ 0 leaves them as they are). It returns the clipped gradients and
// the norm before clipping.
func ClipByGlobalNorm(grads []*Node, maxNorm float64) (clipped []*Node, norm *Node) {
	return clipByGlobalNorm(grads, maxNorm)
}

// ParamPaths returns the paths of the model's trainable parameters in the store, in a fixed order
// (embedding, each layer's, head).
func (m *Model) ParamPaths() []string {
	specs := paramSpecs(m.Config, m.Vocab.Size())
	paths := make([]string, len(specs))
	for i, p := range specs {
		paths[i] = p.Path
	}
	return paths
}

// TimeMajor reorders a window laid out row-major [batch, seq] (as text.Streams.Window returns it) into the
// time-major [seq·batch] order Forward reads (row t·batch+b).
func TimeMajor(x []int32, batch, seq int) []int32 { return timeMajor(x, batch, seq) }

// BPTT runs one layer of the cell w.Cell names (weights w) over the inputs xs (T steps, each [In]; batch 1)
// from the state h0, c0 ([H]; c0 is ignored, and may be nil, for cells without a cell state) and returns the
// gradient of L = Σ_t dys[t]·h_t with respect to the layer's weights, computed by the hand-written backward
// pass training uses (layerBackward: backpropagation through time), and L itself. dys holds T vectors of H:
// ∂L/∂h_t. The gradients have w's layout (WIH, WHH, Bias, and BiasHH for the GRU). It is for checking that
// backward pass by hand, e.g. against finite differences of the equations.
func BPTT(backend compute.Backend, w CellWeights, xs [][]float32, h0, c0 []float32, dys [][]float32) (CellWeights, float64, error) {
	cell, err := CellByName(w.Cell)
	if err != nil {
		return CellWeights{}, 0, fmt.Errorf("bptt: %w", err)
	}
	T, H := len(xs), w.Hidden
	if c0 == nil && !cell.HasCellState() {
		c0 = make([]float32, H)
	}
	switch {
	case T == 0 || len(dys) != T:
		return CellWeights{}, 0, fmt.Errorf("bptt: %d input steps and %d output gradients: want the same number, at least 1", T, len(dys))
	case len(h0) != H || len(c0) != H:
		return CellWeights{}, 0, fmt.Errorf("bptt: h0 and c0 need %d values, have %d and %d", H, len(h0), len(c0))
	}
	var x, dy []float32
	for t := range T {
		if len(xs[t]) != w.In || len(dys[t]) != H {
			return CellWeights{}, 0, fmt.Errorf("bptt: step %d: x has %d values (want In = %d), dy %d (want %d)", t, len(xs[t]), w.In, len(dys[t]), H)
		}
		x, dy = append(x, xs[t]...), append(dy, dys[t]...)
	}
	specs := cell.params(0, w.In, H)
	args := []any{tensors.FromFlatDataAndDimensions(x, T, w.In), tensors.FromFlatDataAndDimensions(h0, 1, H),
		tensors.FromFlatDataAndDimensions(c0, 1, H), tensors.FromFlatDataAndDimensions(dy, T, H)}
	for i, p := range w.params(cell) {
		if n := dimsSize(specs[i].Dims); len(p) != n {
			return CellWeights{}, 0, fmt.Errorf("bptt: %s weights %s need %d values (%v), have %d", cell.Name(), specs[i].Path, n, specs[i].Dims, len(p))
		}
		args = append(args, tensors.FromFlatDataAndDimensions(p, specs[i].Dims...))
	}
	exec, err := NewExec(backend, func(in []*Node) []*Node {
		params := in[4:]
		ys, _, _, _ := layerForward(cell, in[0], nil, in[1], in[2], params, T, true) // ys: [T, H]
		loss := ReduceAllSum(Mul(ys, in[3]))
		return append([]*Node{loss}, Gradient(loss, params...)...)
	})
	if err != nil {
		return CellWeights{}, 0, fmt.Errorf("bptt: %w", err)
	}
	out, err := exec.Call(args...)
	if err != nil {
		return CellWeights{}, 0, fmt.Errorf("bptt: %w", err)
	}
	grads := make([][]float32, len(out)-1)
	for i := range grads {
		if grads[i], err = tensors.CopyFlatData[float32](out[i+1]); err != nil {
			return CellWeights{}, 0, fmt.Errorf("bptt: %w", err)
		}
	}
	g := CellWeights{Cell: cell.Name(), In: w.In, Hidden: H, WIH: grads[0], WHH: grads[1], Bias: grads[2]}
	if len(grads) > 3 {
		g.BiasHH = grads[3]
	}
	return g, scalar(out[0]), nil
}
