package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

func randTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// randLayerParams draws random parameters of one layer of cell (in inputs, hidden units), in the cell's order.
func randLayerParams(rng *rand.Rand, cell Cell, in, hidden int) []*tensors.Tensor {
	var ps []*tensors.Tensor
	for _, p := range cell.params(0, in, hidden) {
		ps = append(ps, randTensor(rng, p.Dims...))
	}
	return ps
}

func anyArgs(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, x := range ts {
		out[i] = x
	}
	return out
}

// assertClose fails unless every value of got is within tol·(1+|want|) of want.
func assertClose(t *testing.T, what string, got, want *tensors.Tensor, tol float64) {
	t.Helper()
	g, w := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d values, want %d", what, len(g), len(w))
	}
	for j := range w {
		if d := math.Abs(float64(g[j] - w[j])); d > tol*(1+math.Abs(float64(w[j]))) {
			t.Fatalf("%s[%d] = %v, want %v", what, j, g[j], w[j])
		}
	}
}

// TestHandWrittenBackwardMatchesAutodiff builds loss = Σ ys ⊙ probe for one layer of each cell, from a
// non-zero initial state, and compares the gradients with respect to the input and every parameter given
// by the hand-written backward pass (through the cell's fuse) with GoMLX's autodiff of the unrolled loop.
func TestHandWrittenBackwardMatchesAutodiff(t *testing.T) {
	const steps, batch, in, hidden = 6, 3, 4, 5
	for _, name := range CellNames() {
		t.Run(name, func(t *testing.T) {
			cell, _ := CellByName(name)
			rng := rand.New(rand.NewPCG(1, 2))
			args := []*tensors.Tensor{randTensor(rng, steps*batch, in), randTensor(rng, steps*batch, hidden),
				randTensor(rng, batch, hidden), randTensor(rng, batch, hidden)}
			args = append(args, randLayerParams(rng, cell, in, hidden)...)
			run := func(handGrad bool) []*tensors.Tensor {
				exec := MustNewExec(testBackend(t), func(in []*Node) []*Node {
					xs, probe, h0, c0, params := in[0], in[1], in[2], in[3], in[4:]
					ys, _, _, _ := layerForward(cell, xs, nil, h0, c0, params, steps, handGrad)
					loss := ReduceAllSum(Mul(ys, probe))
					return append([]*Node{loss}, Gradient(loss, append([]*Node{xs}, params...)...)...)
				})
				return exec.MustCall(anyArgs(args)...)
			}
			hand, auto := run(true), run(false)
			for k := range hand {
				assertClose(t, fmt.Sprintf("output %d (loss, dxs, then each parameter)", k), hand[k], auto[k], 1e-4)
			}
		})
	}
}

// TestStackedLayersWithPerStepInputs checks the wiring training uses for layers above the first: the
// upper layer reads the lower layer's h_t nodes step by step (xSteps) while its hand-written backward
// pass returns ∂L/∂xs for the concatenated ys. Gradients of Σ ys₁ ⊙ probe with respect to every input
// and weight must equal plain autodiff of the same two layers fed by slicing ys₀.
func TestStackedLayersWithPerStepInputs(t *testing.T) {
	const steps, batch, in, hidden = 5, 2, 3, 4
	for _, name := range CellNames() {
		t.Run(name, func(t *testing.T) {
			cell, _ := CellByName(name)
			rng := rand.New(rand.NewPCG(3, 4))
			p0, p1 := randLayerParams(rng, cell, in, hidden), randLayerParams(rng, cell, hidden, hidden)
			args := append([]*tensors.Tensor{randTensor(rng, steps*batch, in), randTensor(rng, steps*batch, hidden)}, p0...)
			args = append(args, p1...)
			n := len(p0)
			run := func(handGrad, perStep bool) []*tensors.Tensor {
				exec := MustNewExec(testBackend(t), func(in []*Node) []*Node {
					zeros := Zeros(in[0].Graph(), shapes.Make(in[0].DType(), batch, hidden))
					params0, params1 := in[2:2+n], in[2+n:]
					ys0, _, _, trace := layerForward(cell, in[0], nil, zeros, zeros, params0, steps, handGrad)
					var xSteps []*Node
					if perStep {
						for _, s := range trace {
							xSteps = append(xSteps, s.H)
						}
					}
					ys1, _, _, _ := layerForward(cell, ys0, xSteps, zeros, zeros, params1, steps, handGrad)
					loss := ReduceAllSum(Mul(ys1, in[1]))
					wrt := append(append([]*Node{in[0]}, params0...), params1...)
					return append([]*Node{loss}, Gradient(loss, wrt...)...)
				})
				return exec.MustCall(anyArgs(args)...)
			}
			want := run(false, false)
			for _, tc := range []struct {
				name              string
				handGrad, perStep bool
			}{{"hand-written, per-step inputs", true, true}, {"autodiff, per-step inputs", false, true}} {
				got := run(tc.handGrad, tc.perStep)
				for k := range want {
					assertClose(t, fmt.Sprintf("%s: output %d", tc.name, k), got[k], want[k], 1e-4)
				}
			}
		})
	}
}
