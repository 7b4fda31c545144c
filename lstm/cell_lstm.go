package lstm

import (
	"fmt"
	"math"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
)

// LSTM gate layout. The weight matrices hold the four gates side by side along their last axis, in
// PyTorch's order (so exported weights load into nn.LSTM as they are):
//
//	columns [0,H)   i  input gate      σ
//	columns [H,2H)  f  forget gate     σ
//	columns [2H,3H) g  candidate cell  tanh   (written c̃ in the equations)
//	columns [3H,4H) o  output gate     σ
const (
	GateInput     = 0 // i: how much of the candidate enters the cell
	GateForget    = 1 // f: how much of the old cell survives
	GateCandidate = 2 // g = c̃: the candidate cell value
	GateOutput    = 3 // o: how much of the squashed cell becomes the hidden state
	NumGates      = 4 // the LSTM's gate blocks (lstmCell.Blocks)
)

// GateNames are the LSTM's gate names in layout order, for plots and tables.
var GateNames = [NumGates]string{"input", "forget", "candidate", "output"}

// Parameter paths of LSTM layer k (see ParamEmbedding for the model's others):
//
//	/lstm_{k}/w_ih   [in, 4H]   input weights W (in = E for k = 0, else H); gate columns i, f, g, o
//	/lstm_{k}/w_hh   [H, 4H]    recurrent weights U; same gate columns
//	/lstm_{k}/bias   [4H]       gate biases b (PyTorch's b_ih + b_hh)

// ParamLayerWIH is the path of LSTM layer k's input weights.
func ParamLayerWIH(k int) string { return fmt.Sprintf("/lstm_%d/w_ih", k) }

// ParamLayerWHH is the path of LSTM layer k's recurrent weights.
func ParamLayerWHH(k int) string { return fmt.Sprintf("/lstm_%d/w_hh", k) }

// ParamLayerBias is the path of LSTM layer k's biases.
func ParamLayerBias(k int) string { return fmt.Sprintf("/lstm_%d/bias", k) }

// lstmCell is the LSTM of Hochreiter & Schmidhuber (1997) with a forget gate (Gers et al. 2000), as
// PyTorch's nn.LSTM computes it:
//
//	i_t = σ(W_i x_t + U_i h_{t-1} + b_i)
//	f_t = σ(W_f x_t + U_f h_{t-1} + b_f)
//	o_t = σ(W_o x_t + U_o h_{t-1} + b_o)
//	c̃_t = tanh(W_c x_t + U_c h_{t-1} + b_c)
//	c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
//	h_t = o_t ⊙ tanh(c_t)
//
// It has one bias per gate (PyTorch's b_ih + b_hh, which only appear summed).
type lstmCell struct{}

func (lstmCell) Name() string       { return "lstm" }
func (lstmCell) Blocks() int        { return NumGates }
func (lstmCell) HasCellState() bool { return true }
func (lstmCell) Values() []string   { return []string{"i", "f", "g", "o", "c", "h"} }

func (lstmCell) PyTorchModule(in, hidden, layers int) string {
	return fmt.Sprintf("nn.LSTM(%d, %d, num_layers=%d, batch_first=True)", in, hidden, layers)
}

func (lstmCell) params(k, in, hidden int) []paramSpec {
	scale := 1 / math.Sqrt(float64(hidden)) // PyTorch's nn.LSTM default
	return []paramSpec{
		{ParamLayerWIH(k), []int{in, 4 * hidden}, uniformInit(scale)},
		{ParamLayerWHH(k), []int{hidden, 4 * hidden}, uniformInit(scale)},
		{ParamLayerBias(k), []int{4 * hidden}, biasSumInit(scale)}, // b_ih + b_hh: no forget-gate offset
	}
}

// fuse: the parameters are already W [in, 4H], U [H, 4H] and b [4H].
func (lstmCell) fuse(p []*Node) (wx, wh, b *Node) { return p[0], p[1], p[2] }

func (lstmCell) step(a, hPrev, cPrev *Node) Step {
	batch, hidden := cPrev.Shape().Dimensions[0], cPrev.Shape().Dimensions[1]
	gate := func(k int) *Node { return stepBlock(a, k, batch, hidden) }
	i := Sigmoid(gate(GateInput))
	f := Sigmoid(gate(GateForget))
	g := Tanh(gate(GateCandidate))
	o := Sigmoid(gate(GateOutput))
	c := Add(Mul(f, cPrev), Mul(i, g))
	tanhC := Tanh(c)
	h := Mul(o, tanhC)
	return Step{Values: []*Node{i, f, g, o, c, h}, H: h, C: c, HPrev: hPrev, CPrev: cPrev, saved: []*Node{tanhC}}
}

// backward, from dh_t and dc_t (what flows back from step t+1):
//
//	do = dh ⊙ tanh(c_t)        dc += dh ⊙ o ⊙ (1 − tanh²(c_t))
//	di = dc ⊙ c̃    df = dc ⊙ c_{t-1}    dc̃ = dc ⊙ i    dc_{t-1} = dc ⊙ f   ← the ∂c_t/∂c_{t-1} = f_t path
//	da = [di·i(1−i), df·f(1−f), dc̃·(1−c̃²), do·o(1−o)]
//
// The products share factors (dh⊙o, dc⊙i, dc⊙f) so that a step takes 20 elementwise ops instead of 24:
// at T·L = 128 steps of [B, H] tensors, op count is what the Go backend pays for.
func (lstmCell) backward(s Step, dh, dcNext *Node) (da, dhDirect, dcPrev *Node) {
	i, f, g, o, tanhC := s.Values[GateInput], s.Values[GateForget], s.Values[GateCandidate], s.Values[GateOutput], s.saved[0]
	dhO := Mul(dh, o)                       // dh ⊙ o
	dc := Mul(dhO, OneMinus(Square(tanhC))) // dh ⊙ o ⊙ (1 − tanh²c)
	if dcNext != nil {
		dc = Add(dc, dcNext)
	}
	dcI := Mul(dc, i)   // dc ⊙ i = dc̃
	dcIG := Mul(dcI, g) // dc ⊙ c̃ ⊙ i = di ⊙ i
	dcF := Mul(dc, f)   // dc ⊙ f = dc_{t-1}
	da = Concatenate([]*Node{
		Mul(dcIG, OneMinus(i)),              // di·i(1−i)
		Mul(Mul(dcF, s.CPrev), OneMinus(f)), // df·f(1−f)
		Sub(dcI, Mul(dcIG, g)),              // dc̃·(1−c̃²)
		Mul(Mul(dhO, tanhC), OneMinus(o)),   // do·o(1−o)
	}, 1)
	return da, nil, dcF
}

// export: nn.LSTM stores W_ih [4H, in] and W_hh [4H, H] (rows i, f, g, o: this project's order) for W·x;
// this project stores them transposed for x·W (singleBiasExport).
func (lstmCell) export(k int, p []hostTensor) map[string]hostTensor { return singleBiasExport(k, p) }
