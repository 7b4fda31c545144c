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
		ys, _, _ := layerForward(in[0], zeros, zeros, layerWeights{WIH: in[1], WHH: in[2], Bias: in[3]}, steps, handGrad)
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
