package lstm

import (
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
)

// Gate layout. The fused weight matrices hold the four gates side by side along their last axis, in
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
	NumGates      = 4
)

// GateNames are the gate names in layout order, for plots and tables.
var GateNames = [NumGates]string{"input", "forget", "candidate", "output"}

// Step holds everything one LSTM cell step computes, each [batch, H]. Keeping every intermediate
// (rather than just h and c) lets notebooks print them, and lets the hand-written backward pass reuse
// them instead of recomputing.
type Step struct {
	I, F, G, O *Node // gates after their nonlinearity: i_t, f_t, c̃_t, o_t
	CPrev      *Node // c_{t-1}, the cell state the step started from
	C          *Node // c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
	TanhC      *Node // tanh(c_t)
	H          *Node // h_t = o_t ⊙ tanh(c_t)
}

// CellStep runs one LSTM step on explicit weights:
//
//	x: [batch, in]    h, c: [batch, H]    wIH: [in, 4H]    wHH: [H, 4H]    bias: [4H]
//
// The gate pre-activations are x·W + h·U + b for all four gates at once (fused products), then split
// and squashed in CellFromPreactivation. Generation runs this on every token; training's layer
// (unrollLayer) computes the same pre-activations with one product per step.
func CellStep(x, h, c, wIH, wHH, bias *Node) Step {
	// xProj: [batch, 4H] = W x_t + b, the part that does not depend on the previous step.
	xProj := MatMul(x, wIH)
	xProj = Add(xProj, BroadcastToDims(ExpandAxes(bias, 0), xProj.Shape().Dimensions...))
	return CellFromProjection(xProj, h, c, wHH)
}

// CellFromProjection runs one LSTM step given the input projection already computed
// (xProj = x_t·W + b, [batch, 4H]): it adds the recurrent part h_{t-1}·U and applies the cell.
func CellFromProjection(xProj, h, c, wHH *Node) Step {
	return CellFromPreactivation(Add(xProj, MatMul(h, wHH)), c)
}

// CellFromPreactivation is the cell proper, given the four gates' pre-activations
// z = x_t·W + h_{t-1}·U + b ([batch, 4H]; rows past batch, if any, are ignored) and the
// previous cell state c = c_{t-1} [batch, H]:
//
//	i_t = σ(W_i x_t + U_i h_{t-1} + b_i)
//	f_t = σ(W_f x_t + U_f h_{t-1} + b_f)
//	o_t = σ(W_o x_t + U_o h_{t-1} + b_o)
//	c̃_t = tanh(W_c x_t + U_c h_{t-1} + b_c)
//	c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
//	h_t = o_t ⊙ tanh(c_t)
func CellFromPreactivation(z, c *Node) Step {
	batch, hidden := c.Shape().Dimensions[0], c.Shape().Dimensions[1]
	gate := func(k int) *Node { return Slice(z, AxisRange(0, batch), AxisRange(k*hidden, (k+1)*hidden)) }
	s := Step{
		I:     Sigmoid(gate(GateInput)),
		F:     Sigmoid(gate(GateForget)),
		G:     Tanh(gate(GateCandidate)),
		O:     Sigmoid(gate(GateOutput)),
		CPrev: c,
	}
	s.C = Add(Mul(s.F, c), Mul(s.I, s.G))
	s.TanhC = Tanh(s.C)
	s.H = Mul(s.O, s.TanhC)
	return s
}
