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
//	returns ys: [T*B, H] (every h_t), the final hT, cT: [B, H], and every step's intermediates
//
// xSteps, when not nil, are the same inputs one node per step (x_t: [B, H], the previous layer's h_t):
// reading them instead of slicing xs lets step t of this layer start as soon as step t of the layer below
// is done, so an executor that runs independent ops in parallel can overlap the layers (a wavefront).
//
// With handGrad, autodiff does not differentiate the unrolled loop: the backward pass is the
// hand-written BPTT of layerBackward, which computes the weight gradients with one large product over
// all T·B rows instead of T small ones (GoMLX's autodiff inserts a transpose per step there). Both paths
// give the same gradients (tested); the hand-written one is several times faster.
// Gradients never flow into h0 and c0 (truncated BPTT: state is carried, gradients stop at windows).
func layerForward(xs *Node, xSteps []*Node, h0, c0 *Node, w layerWeights, steps int, handGrad bool) (ys, hT, cT *Node, trace []Step) {
	if !handGrad {
		ys, hT, cT, trace = unrollLayer(xs, xSteps, StopGradient(h0), StopGradient(c0), w, steps)
		return
	}
	var stoppedSteps []*Node
	for _, x := range xSteps {
		stoppedSteps = append(stoppedSteps, StopGradient(x))
	}
	in := []*Node{xs, w.WIH, w.WHH, w.Bias}
	outs := withCustomGradient(in, 1,
		func(sg []*Node) []*Node {
			var y *Node
			y, hT, cT, trace = unrollLayer(sg[0], stoppedSteps, StopGradient(h0), StopGradient(c0),
				layerWeights{WIH: sg[1], WHH: sg[2], Bias: sg[3]}, steps)
			return []*Node{y}
		},
		func(outGrads []*Node) []*Node {
			return layerBackward(outGrads[0], StopGradient(xs), h0, w, trace)
		})
	return outs[0], hT, cT, trace
}

// appendOnes returns [x, 1]: x with a column of ones appended ([N, in] → [N, in+1]). With the bias
// appended to the weights as a last row, [x, 1]·[W; b] = x·W + b: the bias rides along in the product.
// Why: the pure-Go backend broadcasts a [4H] bias over rows ~4× slower than it copies, and in the
// backward pass the same trick gives ∂L/∂b as the last row of [xs, 1]ᵀ·DA, without a reduction.
func appendOnes(x *Node) *Node {
	rows := x.Shape().Dimensions[0]
	return Concatenate([]*Node{x, Ones(x.Graph(), shapes.Make(x.DType(), rows, 1))}, 1)
}

// unrollLayer is the forward pass: T cell steps, each computing its four gate pre-activations with one
// product z_t = [x_t, h_{t-1}, 1]·[W; U; b]. The usual alternative, one [T*B, in]·W product for all steps
// before the loop, measured no faster on the pure-Go backend (its Slice copies element by element, so
// cutting each step's [B, 4H] rows out of that projection and adding them cost what the batching saved),
// and it makes every step of a layer wait for the whole layer below.
func unrollLayer(xs *Node, xSteps []*Node, h0, c0 *Node, w layerWeights, steps int) (ys, hT, cT *Node, trace []Step) {
	batch := h0.Shape().Dimensions[0]
	// wAll: [in+H+1, 4H], the stacked input weights, recurrent weights and biases (once per window).
	wAll := Concatenate([]*Node{w.WIH, w.WHH, ExpandAxes(w.Bias, 0)}, 0)
	ones := Ones(xs.Graph(), shapes.Make(xs.DType(), batch, 1))
	h, c := h0, c0
	hs := make([]*Node, steps)
	trace = make([]Step, steps)
	for t := range steps {
		var xt *Node // [B, in]
		if xSteps != nil {
			xt = xSteps[t]
		} else {
			xt = Slice(xs, AxisRange(t*batch, (t+1)*batch), AxisRange())
		}
		// z: [B, 4H]
		z := MatMul(Concatenate([]*Node{xt, h, ones}, 1), wAll)
		s := CellFromPreactivation(z, c)
		trace[t] = s
		h, c = s.H, s.C
		hs[t] = h
	}
	return Concatenate(hs, 0), h, c, trace
}

// layerBackward is the hand-written backward pass (BPTT) of unrollLayer through a window, given
// dys = ∂L/∂ys [T*B, H] and the layer's input xs [T*B, in]. It returns ∂L/∂xs, ∂L/∂W, ∂L/∂U, ∂L/∂b.
//
// Per step, from dh_t (the output gradient plus what flows back from step t+1) and dc_t:
//
//	do = dh ⊙ tanh(c_t)        dc += dh ⊙ o ⊙ (1 − tanh²(c_t))
//	di = dc ⊙ c̃    df = dc ⊙ c_{t-1}    dc̃ = dc ⊙ i    dc_{t-1} = dc ⊙ f   ← the ∂c_t/∂c_{t-1} = f_t path
//	da = [di·i(1−i), df·f(1−f), dc̃·(1−c̃²), do·o(1−o)]   (pre-activation gradients, [B, 4H])
//	dh_{t-1} = da·Uᵀ
//
// and after the loop, over all T·B rows at once: [dW; db] = [xs, 1]ᵀ·DA, dU = h_{prev}ᵀ·DA, dxs = DA·Wᵀ.
// The per-step products share factors (dh⊙o, dc⊙i, dc⊙f) so that a step takes 20 elementwise ops
// instead of 24: at T·L = 128 steps of [B, H] tensors, op count is what the Go backend pays for.
func layerBackward(dys, xs, h0 *Node, w layerWeights, trace []Step) []*Node {
	steps := len(trace)
	batch := h0.Shape().Dimensions[0]
	in := xs.Shape().Dimensions[1]
	wHHt := Transpose(w.WHH, 0, 1) // [4H, H], once per window
	das := make([]*Node, steps)
	var dhNext, dcNext *Node
	for t := steps - 1; t >= 0; t-- {
		s := trace[t]
		dh := Slice(dys, AxisRange(t*batch, (t+1)*batch), AxisRange())
		if dhNext != nil {
			dh = Add(dh, dhNext)
		}
		dhO := Mul(dh, s.O)                       // dh ⊙ o
		dc := Mul(dhO, OneMinus(Square(s.TanhC))) // dh ⊙ o ⊙ (1 − tanh²c)
		if dcNext != nil {
			dc = Add(dc, dcNext)
		}
		dcI := Mul(dc, s.I)   // dc ⊙ i = dc̃
		dcIG := Mul(dcI, s.G) // dc ⊙ c̃ ⊙ i = di ⊙ i
		dcF := Mul(dc, s.F)   // dc ⊙ f = dc_{t-1}
		das[t] = Concatenate([]*Node{
			Mul(dcIG, OneMinus(s.I)),              // di·i(1−i)
			Mul(Mul(dcF, s.CPrev), OneMinus(s.F)), // df·f(1−f)
			Sub(dcI, Mul(dcIG, s.G)),              // dc̃·(1−c̃²)
			Mul(Mul(dhO, s.TanhC), OneMinus(s.O)), // do·o(1−o)
		}, 1)
		if t > 0 {
			dhNext = MatMul(das[t], wHHt)
			dcNext = dcF
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
	// aᵀ·DA with the transpose made explicit on the narrow left operand: the Go backend's matmul needs the
	// contracting axis last on the left, and left to itself DotGeneral would transpose both operands,
	// including the 4H-wide DA (measured: ~70 ms of a 0.8 s step).
	contractRows := func(a, dA *Node) *Node { return MatMul(Transpose(a, 0, 1), dA) }
	dWb := contractRows(appendOnes(xs), dA) // [in+1, 4H]: the rows of dW, then db
	dWIH := Slice(dWb, AxisRange(0, in), AxisRange())
	dBias := Reshape(Slice(dWb, AxisElem(in), AxisRange()), -1)
	dWHH := contractRows(hPrevAll, dA)
	dxs := Dot(dA, w.WIH).General([]int{1}, nil, []int{1}, nil) // DA·Wᵀ: [T*B, in], no transpose needed
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
