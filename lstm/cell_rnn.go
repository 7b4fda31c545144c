package lstm

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
)

// Parameter paths of RNN layer k:
//
//	/rnn_{k}/w_ih   [in, H]   input weights W_ih
//	/rnn_{k}/w_hh   [H, H]    recurrent weights W_hh
//	/rnn_{k}/bias   [H]       bias (PyTorch's b_ih + b_hh, which only appear summed)

// rnnCell is the plain (Elman) recurrent network, exactly PyTorch's nn.RNN(nonlinearity='tanh'):
//
//	h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)
//
// No gate decides what to keep: ∂h_t/∂h_{t-1} = diag(1 − h_t²)·W_hh at every step, whose product over many
// steps vanishes (or explodes) — the problem gates were invented for (Hochreiter 1991; Bengio et al. 1994).
// Weights start at U(±1/√H), as PyTorch's; the bias at zero.
type rnnCell struct{}

func (rnnCell) Name() string       { return "rnn" }
func (rnnCell) Blocks() int        { return 1 }
func (rnnCell) HasCellState() bool { return false }
func (rnnCell) Values() []string   { return []string{"h"} }

func (rnnCell) PyTorchModule(in, hidden, layers int) string {
	return fmt.Sprintf("nn.RNN(%d, %d, num_layers=%d, nonlinearity='tanh', batch_first=True)", in, hidden, layers)
}

func (rnnCell) params(k, in, hidden int) []paramSpec {
	scale := 1 / math.Sqrt(float64(hidden))
	path := func(name string) string { return fmt.Sprintf("/rnn_%d/%s", k, name) }
	return []paramSpec{
		{path("w_ih"), []int{in, hidden}, uniformInit(scale)},
		{path("w_hh"), []int{hidden, hidden}, uniformInit(scale)},
		{path("bias"), []int{hidden}, biasSumInit(scale)}, // b_ih + b_hh
	}
}

func (rnnCell) fuse(p []*Node) (wx, wh, b *Node) { return p[0], p[1], p[2] }

func (rnnCell) step(a, hPrev, _ *Node) Step {
	batch, hidden := hPrev.Shape().Dimensions[0], hPrev.Shape().Dimensions[1]
	h := Tanh(stepBlock(a, 0, batch, hidden))
	return Step{Values: []*Node{h}, H: h, HPrev: hPrev}
}

// backward: da = dh ⊙ (1 − h_t²); all of ∂L/∂h_{t-1} goes through a (da·W_hhᵀ).
func (rnnCell) backward(s Step, dh, _ *Node) (da, dhDirect, dcPrev *Node) {
	return Mul(dh, OneMinus(Square(s.H))), nil, nil
}

// export: nn.RNN stores weight_ih [H, in], weight_hh [H, H], bias_ih and bias_hh [H] (singleBiasExport).
func (rnnCell) export(k int, p []hostTensor) map[string]hostTensor { return singleBiasExport(k, p) }
