package lstm

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
)

// refSigmoid and the reference step below are the LSTM equations in plain float64 Go, written
// independently of the graph code they check.
func refSigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

type refStep struct{ i, f, g, o, c, h []float64 }

// refCellStep: x [in], h, c [H]; wIH [in][4H], wHH [H][4H], b [4H]; gate order i, f, g, o.
func refCellStep(x, h, c []float64, wIH, wHH [][]float64, b []float64) refStep {
	n := len(h)
	pre := make([]float64, 4*n)
	for j := range pre {
		s := b[j]
		for k := range x {
			s += x[k] * wIH[k][j]
		}
		for k := range h {
			s += h[k] * wHH[k][j]
		}
		pre[j] = s
	}
	r := refStep{make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)}
	for j := range n {
		r.i[j] = refSigmoid(pre[j])
		r.f[j] = refSigmoid(pre[n+j])
		r.g[j] = math.Tanh(pre[2*n+j])
		r.o[j] = refSigmoid(pre[3*n+j])
		r.c[j] = r.f[j]*c[j] + r.i[j]*r.g[j]
		r.h[j] = r.o[j] * math.Tanh(r.c[j])
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

func TestCellStepMatchesFloat64Reference(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(7, 7))
	const in, hidden = 5, 3
	x, h, c := randMatrix(rng, 1, in), randMatrix(rng, 1, hidden), randMatrix(rng, 1, hidden)
	wIH, wHH, b := randMatrix(rng, in, 4*hidden), randMatrix(rng, hidden, 4*hidden), randMatrix(rng, 1, 4*hidden)
	want := refCellStep(x[0], h[0], c[0], wIH, wHH, b[0])

	exec := MustNewExec(backend, func(x, h, c, wIH, wHH, b *Node) []*Node {
		s := CellStep(x, h, c, wIH, wHH, b)
		return []*Node{s.I, s.F, s.G, s.O, s.C, s.H}
	})
	out := exec.MustExec(
		tensors.FromFlatDataAndDimensions(flat32(x), 1, in), tensors.FromFlatDataAndDimensions(flat32(h), 1, hidden),
		tensors.FromFlatDataAndDimensions(flat32(c), 1, hidden), tensors.FromFlatDataAndDimensions(flat32(wIH), in, 4*hidden),
		tensors.FromFlatDataAndDimensions(flat32(wHH), hidden, 4*hidden), tensors.FromFlatDataAndDimensions(flat32(b), 4*hidden))
	for k, ref := range [][]float64{want.i, want.f, want.g, want.o, want.c, want.h} {
		got := tensors.MustCopyFlatData[float32](out[k])
		for j := range ref {
			if d := math.Abs(float64(got[j]) - ref[j]); d > 1e-5 {
				t.Errorf("%s[%d] = %v, reference %v (|diff| %g)", []string{"i", "f", "g", "o", "c", "h"}[k], j, got[j], ref[j], d)
			}
		}
	}
}
