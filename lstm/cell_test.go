package lstm

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	gomlxlstm "github.com/gomlx/gomlx/ml/layers/lstm"
)

// The reference steps below are the cells' equations in plain float64 Go, written independently of the
// graph code they check, on this project's layout: wIH [in][G·H], wHH [H][G·H], gate blocks in columns.
func refSigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// refAffine returns the columns of x·wIH + b and h·wHH (b may be nil).
func refAffine(x, h []float64, wIH, wHH [][]float64, b []float64) (xw, hw []float64) {
	cols := len(wIH[0])
	xw, hw = make([]float64, cols), make([]float64, cols)
	for j := range cols {
		if b != nil {
			xw[j] = b[j]
		}
		for k := range x {
			xw[j] += x[k] * wIH[k][j]
		}
		for k := range h {
			hw[j] += h[k] * wHH[k][j]
		}
	}
	return xw, hw
}

// refStep holds a reference step's values by name (Cell.Values).
type refStep map[string][]float64

// refCellStep: x [in], h, c [H]; wIH [in][4H], wHH [H][4H], b [4H]; gate order i, f, g, o.
func refCellStep(x, h, c []float64, wIH, wHH [][]float64, b []float64) refStep {
	n := len(h)
	xw, hw := refAffine(x, h, wIH, wHH, b)
	r := refStep{}
	for _, k := range []string{"i", "f", "g", "o", "c", "h"} {
		r[k] = make([]float64, n)
	}
	for j := range n {
		pre := func(k int) float64 { return xw[k*n+j] + hw[k*n+j] }
		r["i"][j] = refSigmoid(pre(0))
		r["f"][j] = refSigmoid(pre(1))
		r["g"][j] = math.Tanh(pre(2))
		r["o"][j] = refSigmoid(pre(3))
		r["c"][j] = r["f"][j]*c[j] + r["i"][j]*r["g"][j]
		r["h"][j] = r["o"][j] * math.Tanh(r["c"][j])
	}
	return r
}

// refGRUStep: PyTorch's nn.GRU equations; wIH [in][3H], wHH [H][3H], bIH, bHH [3H]; blocks r, z, n.
func refGRUStep(x, h []float64, wIH, wHH [][]float64, bIH, bHH []float64) refStep {
	n := len(h)
	xw, hw := refAffine(x, h, wIH, wHH, bIH)
	r := refStep{"r": make([]float64, n), "z": make([]float64, n), "n": make([]float64, n), "h": make([]float64, n)}
	for j := range n {
		r["r"][j] = refSigmoid(xw[j] + hw[j] + bHH[j])
		r["z"][j] = refSigmoid(xw[n+j] + hw[n+j] + bHH[n+j])
		r["n"][j] = math.Tanh(xw[2*n+j] + r["r"][j]*(hw[2*n+j]+bHH[2*n+j]))
		r["h"][j] = (1-r["z"][j])*r["n"][j] + r["z"][j]*h[j]
	}
	return r
}

// refRNNStep: h' = tanh(x·W + h·U + b).
func refRNNStep(x, h []float64, wIH, wHH [][]float64, b []float64) refStep {
	xw, hw := refAffine(x, h, wIH, wHH, b)
	r := refStep{"h": make([]float64, len(h))}
	for j := range h {
		r["h"][j] = math.Tanh(xw[j] + hw[j])
	}
	return r
}

func randMatrix(rng *rand.Rand, rows, cols int) [][]float64 {
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
		for j := range m[i] {
			m[i][j] = rng.Float64()*2 - 1
		}
	}
	return m
}

func flat32(m [][]float64) []float32 {
	var out []float32
	for _, row := range m {
		for _, v := range row {
			out = append(out, float32(v))
		}
	}
	return out
}

// refCase is one cell's random weights and inputs with the reference step's values.
type refCase struct {
	w       CellWeights
	x, h, c []float32
	want    refStep
}

// newRefCase draws weights and inputs for cell and computes the reference step.
func newRefCase(cell string, rng *rand.Rand, in, hidden int) refCase {
	blocks := map[string]int{"lstm": 4, "gru": 3, "rnn": 1}[cell]
	x, h, c := randMatrix(rng, 1, in), randMatrix(rng, 1, hidden), randMatrix(rng, 1, hidden)
	wIH, wHH := randMatrix(rng, in, blocks*hidden), randMatrix(rng, hidden, blocks*hidden)
	b, bHH := randMatrix(rng, 1, blocks*hidden), randMatrix(rng, 1, blocks*hidden)
	rc := refCase{w: CellWeights{Cell: cell, In: in, Hidden: hidden, WIH: flat32(wIH), WHH: flat32(wHH), Bias: flat32(b)},
		x: flat32(x), h: flat32(h), c: flat32(c)}
	switch cell {
	case "lstm":
		rc.want = refCellStep(x[0], h[0], c[0], wIH, wHH, b[0])
	case "gru":
		rc.w.BiasHH = flat32(bHH)
		rc.want = refGRUStep(x[0], h[0], wIH, wHH, b[0], bHH[0])
	case "rnn":
		rc.want = refRNNStep(x[0], h[0], wIH, wHH, b[0])
	}
	return rc
}

// TestCellStepMatchesFloat64Reference runs one step of every cell through RunCellStep (the graph code
// training runs: fuse, the fused product, the cell's step) against its equations in float64.
func TestCellStepMatchesFloat64Reference(t *testing.T) {
	backend := testBackend(t)
	for _, cell := range CellNames() {
		t.Run(cell, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			rc := newRefCase(cell, rng, 5, 3)
			got, err := RunCellStep(backend, rc.w, rc.x, rc.h, rc.c)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := CellByName(cell)
			for _, name := range c.Values() {
				g, ref := got.Value(name), rc.want[name]
				if len(g) != len(ref) {
					t.Fatalf("%s: %d values, want %d", name, len(g), len(ref))
				}
				for j := range ref {
					if d := math.Abs(float64(g[j]) - ref[j]); d > 1e-5 {
						t.Errorf("%s[%d] = %v, reference %v (|diff| %g)", name, j, g[j], ref[j], d)
					}
				}
			}
		})
	}
}

// TestLSTMStepMatchesGoMLXLayer checks this project's LSTM against an independent implementation: GoMLX's
// own ml/layers/lstm (ONNX layout: gates i, o, f, c; weights [dir, 4, H, in]; biases [dir, 8, H]), run on
// the same weights converted to that layout, over a few steps of a batch; h and c must agree.
func TestLSTMStepMatchesGoMLXLayer(t *testing.T) {
	const steps, batch, in, hidden = 4, 3, 5, 6
	rng := rand.New(rand.NewPCG(11, 12))
	xs := randTensor(rng, steps*batch, in) // time-major rows
	wIH, wHH, bias := randTensor(rng, in, 4*hidden), randTensor(rng, hidden, 4*hidden), randTensor(rng, 4*hidden)
	h0, c0 := randTensor(rng, batch, hidden), randTensor(rng, batch, hidden)

	// onnx converts a [rows, 4H] weight (columns i, f, g, o) into ONNX's [1, 4, H, rows] (gates i, o, f, c).
	onnxOrder := []int{GateInput, GateOutput, GateForget, GateCandidate}
	onnx := func(w *Node) *Node {
		var gates []*Node
		for _, k := range onnxOrder {
			gates = append(gates, Transpose(blockCols(w, k, hidden), 0, 1)) // [H, rows]
		}
		return ExpandAxes(Stack(gates, 0), 0)
	}
	exec := MustNewExec(testBackend(t), func(in []*Node) []*Node {
		xs, wIH, wHH, bias, h0, c0 := in[0], in[1], in[2], in[3], in[4], in[5]
		// This project's layer.
		_, hT, cT, trace := layerForward(lstmCell{}, xs, nil, h0, c0, []*Node{wIH, wHH, bias}, steps, false)
		// GoMLX's: x [batch, seq, in]; biases = ours as ONNX's Wb, and a zero Rb.
		x := Transpose(Reshape(xs, steps, batch, -1), 0, 1)
		b := Reshape(bias, 1, 4, hidden)
		var bGates []*Node
		for _, k := range onnxOrder {
			bGates = append(bGates, Slice(b, AxisRange(), AxisElem(k), AxisRange()))
		}
		wb := Concatenate(bGates, 1)                         // [1, 4, H]
		biases := Concatenate([]*Node{wb, ZerosLike(wb)}, 1) // [1, 8, H]
		all, lastH, lastC := gomlxlstm.NewWithWeights(x, onnx(wIH), onnx(wHH), biases, nil).
			InitialStates(ExpandAxes(h0, 0), ExpandAxes(c0, 0)).Done()
		var ours []*Node
		for _, s := range trace {
			ours = append(ours, s.H)
		}
		return []*Node{Stack(ours, 0), hT, cT, Reshape(all, steps, batch, hidden), Reshape(lastH, batch, hidden), Reshape(lastC, batch, hidden)}
	})
	out := exec.MustCall(xs, wIH, wHH, bias, h0, c0)
	for k, name := range []string{"every h_t", "h_T", "c_T"} {
		ours, theirs := tensors.MustCopyFlatData[float32](out[k]), tensors.MustCopyFlatData[float32](out[k+3])
		for j := range ours {
			if d := math.Abs(float64(ours[j] - theirs[j])); d > 1e-5 {
				t.Fatalf("%s[%d]: lstmlab %v, GoMLX's ml/layers/lstm %v", name, j, ours[j], theirs[j])
			}
		}
	}
}

// TestRunCellStepRejectsWrongWeights checks the one-line errors of RunCellStep.
func TestRunCellStepRejectsWrongWeights(t *testing.T) {
	rc := newRefCase("gru", rand.New(rand.NewPCG(1, 1)), 4, 3)
	for name, edit := range map[string]func(*CellWeights){
		"missing b_hh":  func(w *CellWeights) { w.BiasHH = nil },
		"short weights": func(w *CellWeights) { w.WHH = w.WHH[:5] },
		"unknown cell":  func(w *CellWeights) { w.Cell = "transformer" },
	} {
		w := rc.w
		edit(&w)
		if _, err := RunCellStep(testBackend(t), w, rc.x, rc.h, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := RunCellStep(testBackend(t), rc.w, rc.x[:2], rc.h, nil); err == nil {
		t.Error("short x accepted")
	}
}
