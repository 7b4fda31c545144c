package lstm

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
)

// Parameter paths of GRU layer k, PyTorch's layout transposed (columns r, z, n):
//
//	/gru_{k}/w_ih   [in, 3H]   input weights W_i·
//	/gru_{k}/w_hh   [H, 3H]    recurrent weights W_h·
//	/gru_{k}/b_ih   [3H]       input biases b_i·
//	/gru_{k}/b_hh   [3H]       recurrent biases b_h· (b_hn sits inside the reset gate's product)

// gruCell is the gated recurrent unit of Cho et al. (2014) exactly as PyTorch's nn.GRU computes it
// (https://pytorch.org/docs/stable/generated/torch.nn.GRU.html):
//
//	r_t = σ(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
//	z_t = σ(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
//	n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t-1} + b_hn))
//	h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}
//
// The reset gate scales W_hn h + b_hn, so the candidate's input and recurrent parts cannot be summed
// before the cell: the per-step product has four blocks, [r | z | n_x | n_h], with
// Wx = [W_ir W_iz W_in 0], Wh = [W_hr W_hz 0 W_hn], b = [b_ir+b_hr, b_iz+b_hz, b_in, b_hn] (fuse). Its
// FLOPs are 4/3 of the GRU's own; one product per step is still faster on the pure-Go backend than two.
//
// Biases start at zero, as the LSTM's do apart from its forget gate; weights at U(±1/√H), as PyTorch's.
type gruCell struct{}

// Blocks of PyTorch's GRU weights (rows of weight_ih, weight_hh; columns here).
const (
	gruReset  = 0 // r: how much of the previous state the candidate sees
	gruUpdate = 1 // z: how much of the previous state h_t keeps
	gruNew    = 2 // n: the candidate state
)

// Blocks of the fused per-step product a = [r | z | n_x | n_h] (see fuse).
const (
	gruFusedR  = 0 // W_ir x + W_hr h + b_ir + b_hr
	gruFusedZ  = 1 // W_iz x + W_hz h + b_iz + b_hz
	gruFusedNX = 2 // W_in x + b_in: the candidate's input part
	gruFusedNH = 3 // W_hn h + b_hn: the candidate's recurrent part, scaled by r
)

func (gruCell) Name() string       { return "gru" }
func (gruCell) Blocks() int        { return 3 }
func (gruCell) HasCellState() bool { return false }
func (gruCell) Values() []string   { return []string{"r", "z", "n", "h"} }

func (gruCell) PyTorchModule(in, hidden, layers int) string {
	return fmt.Sprintf("nn.GRU(%d, %d, num_layers=%d, batch_first=True)", in, hidden, layers)
}

func (gruCell) params(k, in, hidden int) []paramSpec {
	scale := 1 / math.Sqrt(float64(hidden))
	path := func(name string) string { return fmt.Sprintf("/gru_%d/%s", k, name) }
	return []paramSpec{
		{path("w_ih"), []int{in, 3 * hidden}, uniformInit(scale)},
		{path("w_hh"), []int{hidden, 3 * hidden}, uniformInit(scale)},
		{path("b_ih"), []int{3 * hidden}, uniformInit(scale)},
		{path("b_hh"), []int{3 * hidden}, uniformInit(scale)},
	}
}

// fuse builds the four-block product's weights [r | z | n_x | n_h] from W_ih, W_hh, b_ih, b_hh.
func (gruCell) fuse(p []*Node) (wx, wh, b *Node) {
	wIH, wHH, bIH, bHH := p[0], p[1], p[2], p[3]
	in, hidden := wIH.Shape().Dimensions[0], wHH.Shape().Dimensions[0]
	g, dtype := wIH.Graph(), wIH.DType()
	zeros := func(rows int) *Node { return Zeros(g, shapesOf(dtype, rows, hidden)) }
	wx = Concatenate([]*Node{wIH, zeros(in)}, 1)
	wh = Concatenate([]*Node{blockCols(wHH, gruReset, hidden), blockCols(wHH, gruUpdate, hidden), zeros(hidden), blockCols(wHH, gruNew, hidden)}, 1)
	rz := Add(Slice(bIH, AxisRange(0, 2*hidden)), Slice(bHH, AxisRange(0, 2*hidden)))
	b = Concatenate([]*Node{rz, Slice(bIH, AxisRange(2*hidden, 3*hidden)), Slice(bHH, AxisRange(2*hidden, 3*hidden))}, 0)
	return wx, wh, b
}

func (gruCell) step(a, hPrev, _ *Node) Step {
	batch, hidden := hPrev.Shape().Dimensions[0], hPrev.Shape().Dimensions[1]
	block := func(k int) *Node { return stepBlock(a, k, batch, hidden) }
	r := Sigmoid(block(gruFusedR))
	z := Sigmoid(block(gruFusedZ))
	hn := block(gruFusedNH) // W_hn h_{t-1} + b_hn
	n := Tanh(Add(block(gruFusedNX), Mul(r, hn)))
	h := Add(n, Mul(z, Sub(hPrev, n))) // (1 − z) ⊙ n + z ⊙ h_{t-1}
	return Step{Values: []*Node{r, z, n, h}, H: h, HPrev: hPrev, saved: []*Node{hn}}
}

// backward, from dh_t:
//
//	dn = dh ⊙ (1 − z)    dz = dh ⊙ (h_{t-1} − n)    dh_{t-1} ⊇ dh ⊙ z   ← the direct path, returned as dhDirect
//	dâ_n = dn ⊙ (1 − n²)   (the candidate's pre-activation)
//	da = [dâ_n ⊙ r_hn·r(1−r), dz·z(1−z), dâ_n, dâ_n ⊙ r]   with r_hn = W_hn h + b_hn
func (gruCell) backward(s Step, dh, _ *Node) (da, dhDirect, dcPrev *Node) {
	r, z, n, hn := s.Values[0], s.Values[1], s.Values[2], s.saved[0]
	dhZ := Mul(dh, z)                   // dh ⊙ z
	dn := Sub(dh, dhZ)                  // dh ⊙ (1 − z)
	daN := Mul(dn, OneMinus(Square(n))) // ∂L/∂(W_in x + b_in + r ⊙ hn)
	dr := Mul(daN, hn)                  // ∂L/∂r
	dz := Mul(dh, Sub(s.HPrev, n))      // ∂L/∂z
	da = Concatenate([]*Node{
		Mul(Mul(dr, r), OneMinus(r)), // dr·r(1−r)
		Mul(Mul(dz, z), OneMinus(z)), // dz·z(1−z)
		daN,                          // n_x block
		Mul(daN, r),                  // n_h block
	}, 1)
	return da, dhZ, nil
}

// export: nn.GRU stores weight_ih [3H, in], weight_hh [3H, H] (rows r, z, n), bias_ih, bias_hh [3H].
func (gruCell) export(k int, p []hostTensor) map[string]hostTensor {
	return map[string]hostTensor{
		fmt.Sprintf("weight_ih_l%d", k): transposed(p[0]),
		fmt.Sprintf("weight_hh_l%d", k): transposed(p[1]),
		fmt.Sprintf("bias_ih_l%d", k):   p[2],
		fmt.Sprintf("bias_hh_l%d", k):   p[3],
	}
}
