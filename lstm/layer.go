package lstm

import (
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
)

// projection computes one step's pre-activations a_t = x_t·Wx + h_{t-1}·Wh + b: [B, P] from x_t [B, in]
// and h_{t-1} [B, H].
type projection func(xt, h *Node) *Node

// fusedProjection is training's projection: one product per step, a_t = [x_t, h_{t-1}, 1]·[Wx; Wh; b], with
// the stacked weights [in+H+1, P] built once per window. The usual alternative, one [T*B, in]·Wx product
// for all steps before the loop, is no faster on the pure-Go backend (its Slice copies element by element:
// cutting each step's rows out of that projection costs what the batching saves; docs/benchmarks.md), and
// it makes every step of a layer wait for the whole layer below.
func fusedProjection(wx, wh, b *Node, batch int) projection {
	wAll := Concatenate([]*Node{wx, wh, ExpandAxes(b, 0)}, 0)
	ones := Ones(wx.Graph(), shapes.Make(wx.DType(), batch, 1))
	return func(xt, h *Node) *Node { return MatMul(Concatenate([]*Node{xt, h, ones}, 1), wAll) }
}

// preparedProjection is generation's projection, from weights prepared once per weight update (see
// preparedWeights): a_t = x_t·Wxᵀᵀ + h_{t-1}·Whᵀᵀ + b with wxT [P, in], whT [P, H]. Why transposed: with Wx
// as [in, P] each output column walks Wx with a stride of P floats (4 KiB for an LSTM at H = 256), which
// the pure-Go backend's small-product kernel reads slower than the contiguous rows of Wxᵀ
// (docs/benchmarks.md).
func preparedProjection(wxT, whT, b *Node) projection {
	timesTransposed := func(a, bT *Node) *Node { return Dot(a, bT).General([]int{1}, nil, []int{1}, nil) }
	return func(xt, h *Node) *Node {
		a := Add(timesTransposed(xt, wxT), timesTransposed(h, whT))
		return Add(a, BroadcastToDims(ExpandAxes(b, 0), a.Shape().Dimensions...))
	}
}

// layerForward runs one layer of cell over a window of T time steps, time-major and flattened:
//
//	xs: [T*B, in] (rows t*B .. t*B+B-1 are time step t)    h0, c0: [B, H]    params: the layer's parameters
//	returns ys: [T*B, H] (every h_t), the final hT, cT: [B, H], and every step's intermediates
//
// c0 is carried through unchanged (cT = c0) for cells without a cell state.
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
func layerForward(cell Cell, xs *Node, xSteps []*Node, h0, c0 *Node, params []*Node, steps int, handGrad bool) (ys, hT, cT *Node, trace []Step) {
	batch := h0.Shape().Dimensions[0]
	wx, wh, b := cell.fuse(params)
	if !handGrad {
		ys, hT, cT, trace = unrollLayer(cell, xs, xSteps, StopGradient(h0), StopGradient(c0), fusedProjection(wx, wh, b, batch), steps)
		return
	}
	var stoppedSteps []*Node
	for _, x := range xSteps {
		stoppedSteps = append(stoppedSteps, StopGradient(x))
	}
	in := []*Node{xs, wx, wh, b}
	outs := withCustomGradient(in, 1,
		func(sg []*Node) []*Node {
			var y *Node
			y, hT, cT, trace = unrollLayer(cell, sg[0], stoppedSteps, StopGradient(h0), StopGradient(c0),
				fusedProjection(sg[1], sg[2], sg[3], batch), steps)
			return []*Node{y}
		},
		func(outGrads []*Node) []*Node {
			return layerBackward(cell, outGrads[0], StopGradient(xs), h0, wx, wh, trace)
		})
	return outs[0], hT, cT, trace
}

// unrollLayer is the forward pass of one layer: T cell steps, each computing its pre-activations with
// project. It is the one loop training, evaluation, inspection and generation (T = 1) all run.
func unrollLayer(cell Cell, xs *Node, xSteps []*Node, h0, c0 *Node, project projection, steps int) (ys, hT, cT *Node, trace []Step) {
	batch := h0.Shape().Dimensions[0]
	h, c := h0, c0
	if !cell.HasCellState() {
		c = nil
	}
	hs := make([]*Node, steps)
	trace = make([]Step, steps)
	for t := range steps {
		var xt *Node // [B, in]
		switch {
		case xSteps != nil:
			xt = xSteps[t]
		case steps == 1: // generation: the window is one step (a Slice would copy it)
			xt = xs
		default:
			xt = Slice(xs, AxisRange(t*batch, (t+1)*batch), AxisRange())
		}
		s := cell.step(project(xt, h), h, c) // a: [B, P]
		trace[t] = s
		h, c = s.H, s.C
		hs[t] = h
	}
	if c == nil {
		c = c0
	}
	return Concatenate(hs, 0), h, c, trace
}

// appendOnes returns [x, 1]: x with a column of ones appended ([N, in] → [N, in+1]). With the bias
// appended to the weights as a last row, [x, 1]·[W; b] = x·W + b: the bias rides along in the product.
// Why: the pure-Go backend broadcasts a [P] bias over rows ~4× slower than it copies, and in the
// backward pass the same trick gives ∂L/∂b as the last row of [xs, 1]ᵀ·DA, without a reduction.
func appendOnes(x *Node) *Node {
	rows := x.Shape().Dimensions[0]
	return Concatenate([]*Node{x, Ones(x.Graph(), shapes.Make(x.DType(), rows, 1))}, 1)
}

// layerBackward is the hand-written backward pass (BPTT) of unrollLayer through a window, given
// dys = ∂L/∂ys [T*B, H] and the layer's input xs [T*B, in]. It returns ∂L/∂xs, ∂L/∂Wx, ∂L/∂Wh, ∂L/∂b.
//
// Per step, from t = T-1 down to 0, the cell's backward step turns dh_t (the output gradient plus what
// flows back from step t+1) and dc_t into da_t = ∂L/∂a_t [B, P]; then dh_{t-1} = da_t·Whᵀ (+ the cell's
// direct term). After the loop, over all T·B rows at once: [dWx; db] = [xs, 1]ᵀ·DA, dWh = h_{prev}ᵀ·DA,
// dxs = DA·Wxᵀ.
func layerBackward(cell Cell, dys, xs, h0 *Node, wx, wh *Node, trace []Step) []*Node {
	steps := len(trace)
	batch := h0.Shape().Dimensions[0]
	in := xs.Shape().Dimensions[1]
	whT := Transpose(wh, 0, 1) // [P, H], once per window
	das := make([]*Node, steps)
	var dhNext, dcNext *Node
	for t := steps - 1; t >= 0; t-- {
		dh := Slice(dys, AxisRange(t*batch, (t+1)*batch), AxisRange())
		if dhNext != nil {
			dh = Add(dh, dhNext)
		}
		da, dhDirect, dcPrev := cell.backward(trace[t], dh, dcNext)
		das[t] = da
		if t > 0 {
			dhNext = MatMul(da, whT)
			if dhDirect != nil {
				dhNext = Add(dhNext, dhDirect)
			}
			dcNext = dcPrev
		}
	}
	// DA: [T*B, P]; hPrev: [T*B, H] = h_0, h_1, ..., h_{T-1}.
	dA := Concatenate(das, 0)
	hPrev := make([]*Node, steps)
	hPrev[0] = h0
	for t := 1; t < steps; t++ {
		hPrev[t] = trace[t-1].H
	}
	hPrevAll := StopGradient(Concatenate(hPrev, 0))
	// aᵀ·DA with the transpose made explicit on the narrow left operand: the Go backend's matmul needs the
	// contracting axis last on the left, and left to itself DotGeneral would transpose both operands,
	// including the P-wide DA (docs/benchmarks.md, "No transposes of 4H-wide gradients").
	contractRows := func(a, dA *Node) *Node { return MatMul(Transpose(a, 0, 1), dA) }
	dWb := contractRows(appendOnes(xs), dA) // [in+1, P]: the rows of dWx, then db
	dWx := Slice(dWb, AxisRange(0, in), AxisRange())
	db := Reshape(Slice(dWb, AxisElem(in), AxisRange()), -1)
	dWh := contractRows(hPrevAll, dA)
	dxs := Dot(dA, wx).General([]int{1}, nil, []int{1}, nil) // DA·Wxᵀ: [T*B, in], no transpose needed
	return []*Node{dxs, dWx, dWh, db}
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
