package lstm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// layerLossGrads builds loss = Σ ys ⊙ probe for one layer and returns the loss and its gradients
// with respect to xs, W, U, b, using the hand-written backward pass or GoMLX's autodiff.
func layerLossGrads(t *testing.T, handGrad bool, xs, wIH, wHH, bias, probe *tensors.Tensor, steps, batch, hidden int) []*tensors.Tensor {
	t.Helper()
	exec := MustNewExec(testBackend(t), func(in []*Node) []*Node {
		g := in[0].Graph()
		zeros := Zeros(g, shapes.Make(in[0].DType(), batch, hidden))
		ys, _, _, _ := layerForward(in[0], nil, zeros, zeros, layerWeights{WIH: in[1], WHH: in[2], Bias: in[3]}, steps, handGrad)
		loss := ReduceAllSum(Mul(ys, in[4]))
		return append([]*Node{loss}, Gradient(loss, in[0], in[1], in[2], in[3])...)
	})
	return exec.MustExec(xs, wIH, wHH, bias, probe)
}

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

func TestHandWrittenBackwardMatchesAutodiff(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const steps, batch, in, hidden = 6, 3, 4, 5
	xs, wIH, wHH := randTensor(rng, steps*batch, in), randTensor(rng, in, 4*hidden), randTensor(rng, hidden, 4*hidden)
	bias, probe := randTensor(rng, 4*hidden), randTensor(rng, steps*batch, hidden)
	hand := layerLossGrads(t, true, xs, wIH, wHH, bias, probe, steps, batch, hidden)
	auto := layerLossGrads(t, false, xs, wIH, wHH, bias, probe, steps, batch, hidden)
	names := []string{"loss", "dxs", "dW", "dU", "db"}
	for k := range hand {
		h, a := tensors.MustCopyFlatData[float32](hand[k]), tensors.MustCopyFlatData[float32](auto[k])
		for j := range h {
			if d := math.Abs(float64(h[j] - a[j])); d > 1e-4*(1+math.Abs(float64(a[j]))) {
				t.Fatalf("%s[%d]: hand-written %v, autodiff %v", names[k], j, h[j], a[j])
			}
		}
	}
}

// TestStackedLayersWithPerStepInputs checks the wiring training uses for layers above the first: the
// upper layer reads the lower layer's h_t nodes step by step (xSteps) while its hand-written backward
// pass returns ∂L/∂xs for the concatenated ys. Gradients of Σ ys₁ ⊙ probe with respect to every input
// and weight must equal plain autodiff of the same two layers fed by slicing ys₀.
func TestStackedLayersWithPerStepInputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const steps, batch, in, hidden = 5, 2, 3, 4
	args := []*tensors.Tensor{
		randTensor(rng, steps*batch, in),
		randTensor(rng, in, 4*hidden), randTensor(rng, hidden, 4*hidden), randTensor(rng, 4*hidden),
		randTensor(rng, hidden, 4*hidden), randTensor(rng, hidden, 4*hidden), randTensor(rng, 4*hidden),
		randTensor(rng, steps*batch, hidden),
	}
	run := func(handGrad, perStep bool) []*tensors.Tensor {
		exec := MustNewExec(testBackend(t), func(in []*Node) []*Node {
			zeros := Zeros(in[0].Graph(), shapes.Make(in[0].DType(), batch, hidden))
			ys0, _, _, trace := layerForward(in[0], nil, zeros, zeros, layerWeights{WIH: in[1], WHH: in[2], Bias: in[3]}, steps, handGrad)
			var xSteps []*Node
			if perStep {
				for _, s := range trace {
					xSteps = append(xSteps, s.H)
				}
			}
			ys1, _, _, _ := layerForward(ys0, xSteps, zeros, zeros, layerWeights{WIH: in[4], WHH: in[5], Bias: in[6]}, steps, handGrad)
			loss := ReduceAllSum(Mul(ys1, in[7]))
			return append([]*Node{loss}, Gradient(loss, in[:7]...)...)
		})
		anyArgs := make([]any, len(args))
		for i, a := range args {
			anyArgs[i] = a
		}
		return exec.MustExec(anyArgs...)
	}
	want := run(false, false)
	for _, tc := range []struct {
		name              string
		handGrad, perStep bool
	}{{"hand-written, per-step inputs", true, true}, {"autodiff, per-step inputs", false, true}} {
		got := run(tc.handGrad, tc.perStep)
		names := []string{"loss", "dxs", "dW0", "dU0", "db0", "dW1", "dU1", "db1"}
		for k := range want {
			g, w := tensors.MustCopyFlatData[float32](got[k]), tensors.MustCopyFlatData[float32](want[k])
			for j := range w {
				if d := math.Abs(float64(g[j] - w[j])); d > 1e-4*(1+math.Abs(float64(w[j]))) {
					t.Fatalf("%s: %s[%d] = %v, autodiff of sliced inputs %v", tc.name, names[k], j, g[j], w[j])
				}
			}
		}
	}
}
