package lstm

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
)

// layerWeights are one LSTM layer's parameters as graph nodes.
type layerWeights struct {
	WIH  *Node // [in, 4H]
	WHH  *Node // [H, 4H]
	Bias *Node // [4H]
}

// layerForward runs one LSTM layer over a window of T time steps, time-major and flattened:
//
//	xs: [T*B, in] (rows t*B .. t*B+B-1 are time step t)    h0, c0: [B, H]
//	returns ys: [T*B, H] (every h_t), and the final hT, cT: [B, H]
//
// With handGrad, autodiff does not differentiate the unrolled loop: the backward pass is the
// hand-written BPTT of layerBackward, which computes the weight gradients with one large product over
// all T·B rows instead of T small ones (GoMLX's autodiff inserts a transpose per step there). Both paths
// give the same gradients (tested); the hand-written one is several times faster.
// Gradients never flow into h0 and c0 (truncated BPTT: state is carried, gradients stop at windows).
func layerForward(xs, h0, c0 *Node, w layerWeights, steps int, handGrad bool) (ys, hT, cT *Node) {
	if !handGrad {
		ys, hT, cT, _ = unrollLayer(xs, StopGradient(h0), StopGradient(c0), w, steps)
		return
	}
	in := []*Node{xs, w.WIH, w.WHH, w.Bias}
	var trace []Step
	outs := withCustomGradient(in, 1,
		func(sg []*Node) []*Node {
			var y *Node
			y, hT, cT, trace = unrollLayer(sg[0], StopGradient(h0), StopGradient(c0),
				layerWeights{WIH: sg[1], WHH: sg[2], Bias: sg[3]}, steps)
			return []*Node{y}
		},
		func(outGrads []*Node) []*Node {
			return layerBackward(outGrads[0], xs, h0, w, trace)
		})
	return outs[0], hT, cT
}

// unrollLayer is the forward pass: the input projection for all steps in one product, then T cell
// steps. It also returns every step's intermediates for the backward pass and for inspection.
func unrollLayer(xs, h0, c0 *Node, w layerWeights, steps int) (ys, hT, cT *Node, trace []Step) {
	batch := h0.Shape().Dimensions[0]
	// xProj: [T*B, 4H] = x_t·W + b for every t at once (what cuDNN does too).
	xProj := Add(MatMul(xs, w.WIH), ExpandAxes(w.Bias, 0))
	h, c := h0, c0
	hs := make([]*Node, steps)
	trace = make([]Step, steps)
	for t := range steps {
		s := CellFromProjection(Slice(xProj, AxisRange(t*batch, (t+1)*batch), AxisRange()), h, c, w.WHH)
		trace[t] = s
		h, c = s.H, s.C
		hs[t] = h
	}
	return Concatenate(hs, 0), h, c, trace
}

// layerBackward is the hand-written backward pass (BPTT) of unrollLayer through a window, given
// dys = ∂L/∂ys [T*B, H]. It returns ∂L/∂xs, ∂L/∂W, ∂L/∂U, ∂L/∂b.
//
// Per step, from dh_t (the output gradient plus what flows back from step t+1) and dc_t:
//
//	do = dh ⊙ tanh(c_t)        dc += dh ⊙ o ⊙ (1 − tanh²(c_t))
//	di = dc ⊙ c̃    df = dc ⊙ c_{t-1}    dc̃ = dc ⊙ i    dc_{t-1} = dc ⊙ f   ← the ∂c_t/∂c_{t-1} = f_t path
//	da = [di·i(1−i), df·f(1−f), dc̃·(1−c̃²), do·o(1−o)]   (pre-activation gradients, [B, 4H])
//	dh_{t-1} = da·Uᵀ
//
// and after the loop, over all T·B rows at once: dW = xsᵀ·DA, dU = h_{prev}ᵀ·DA, db = Σ DA, dxs = DA·Wᵀ.
func layerBackward(dys, xs, h0 *Node, w layerWeights, trace []Step) []*Node {
	steps := len(trace)
	batch := h0.Shape().Dimensions[0]
	one := ScalarOne(dys.Graph(), dys.DType())
	wHHt := Transpose(w.WHH, 0, 1) // [4H, H], once per window
	das := make([]*Node, steps)
	var dhNext, dcNext *Node
	for t := steps - 1; t >= 0; t-- {
		s := trace[t]
		dh := Slice(dys, AxisRange(t*batch, (t+1)*batch), AxisRange())
		if dhNext != nil {
			dh = Add(dh, dhNext)
		}
		dc := Mul(Mul(dh, s.O), OneMinus(Square(s.TanhC)))
		if dcNext != nil {
			dc = Add(dc, dcNext)
		}
		sigmoidGrad := func(d, gate *Node) *Node { return Mul(d, Mul(gate, Sub(one, gate))) }
		da := Concatenate([]*Node{
			sigmoidGrad(Mul(dc, s.G), s.I),
			sigmoidGrad(Mul(dc, s.CPrev), s.F),
			Mul(Mul(dc, s.I), OneMinus(Square(s.G))),
			sigmoidGrad(Mul(dh, s.TanhC), s.O),
		}, 1)
		das[t] = da
		if t > 0 {
			dhNext = MatMul(da, wHHt)
			dcNext = Mul(dc, s.F)
		}
	}
	// DA: [T*B, 4H]; hPrev: [T*B, H] = h_0, h_1, ..., h_{T-1}.
	dA := Concatenate(das, 0)
	hPrev := make([]*Node, steps)
	hPrev[0] = h0
	for t := 1; t < steps; t++ {
		hPrev[t] = trace[t-1].H
	}
	hPrevAll := StopGradient(Concatenate(hPrev, 0))
	contractRows := func(a, b *Node) *Node { return Dot(a, b).General([]int{0}, nil, []int{0}, nil) } // aᵀ·b
	dWIH := contractRows(xs, dA)
	dWHH := contractRows(hPrevAll, dA)
	dBias := ReduceSum(dA, 0)
	dxs := Dot(dA, w.WIH).General([]int{1}, nil, []int{1}, nil) // DA·Wᵀ: [T*B, in]
	return []*Node{dxs, dWIH, dWHH, dBias}
}

// withCustomGradient returns forward(inputs) with autodiff told to use backward instead of
// differentiating forward's ops. GoMLX only offers single-input custom gradients
// (IdentityWithCustomGradient), so the inputs and a zero block the size of the first numBridged outputs
// are packed into one flat vector that goes through it: the outputs get a zero-valued slice of that
// vector added, so the gradient reaching the vector carries ∂L/∂outputs in its tail, which backward
// turns into ∂L/∂inputs for its head. Outputs past numBridged carry no gradient.
func withCustomGradient(inputs []*Node, numBridged int, forward func(stopped []*Node) []*Node,
	backward func(outGrads []*Node) []*Node) []*Node {
	stopped := make([]*Node, len(inputs))
	for i, x := range inputs {
		stopped[i] = StopGradient(x)
	}
	outs := forward(stopped)
	g := inputs[0].Graph()
	dtype := inputs[0].DType()

	// Packed layout: [flat inputs..., zeros for each bridged output...].
	parts := make([]*Node, 0, len(inputs)+1)
	inSize := 0
	for _, x := range inputs {
		parts = append(parts, Reshape(x, -1))
		inSize += x.Shape().Size()
	}
	outSize := 0
	for _, y := range outs[:numBridged] {
		outSize += y.Shape().Size()
	}
	parts = append(parts, Zeros(g, shapes.Make(dtype, outSize)))
	packed := IdentityWithCustomGradient(Concatenate(parts, 0), func(_, v *Node) *Node {
		outGrads := make([]*Node, numBridged)
		off := inSize
		for j, y := range outs[:numBridged] {
			n := y.Shape().Size()
			outGrads[j] = Reshape(Slice(v, AxisRange(off, off+n)), y.Shape().Dimensions...)
			off += n
		}
		inGrads := backward(outGrads)
		flat := make([]*Node, 0, len(inGrads)+1)
		for _, d := range inGrads {
			flat = append(flat, Reshape(d, -1))
		}
		flat = append(flat, Zeros(g, shapes.Make(dtype, outSize)))
		return Concatenate(flat, 0)
	})
	result := make([]*Node, len(outs))
	copy(result, outs)
	off := inSize
	for j, y := range outs[:numBridged] {
		n := y.Shape().Size()
		result[j] = Add(y, Reshape(Slice(packed, AxisRange(off, off+n)), y.Shape().Dimensions...))
		off += n
	}
	return result
}
