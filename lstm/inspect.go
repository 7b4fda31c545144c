package lstm

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
)

// CellWeights are one LSTM cell's weights on the host, row-major: WIH [In, 4H], WHH [H, 4H], Bias [4H],
// gate columns in the order i, f, g (c̃), o.
type CellWeights struct {
	In, Hidden     int
	WIH, WHH, Bias []float32
}

// CellValues are every intermediate of one cell step, each [H] (or [batch·H] row-major).
type CellValues struct {
	I, F, G, O []float32 // input, forget, candidate (c̃) and output gates
	C, H       []float32 // new cell and hidden state
}

// RunCellStep runs one LSTM cell step on given weights and inputs (x [In], h and c [H]) on backend and
// returns every intermediate — the function the notebooks use to walk through the equations number by
// number. It runs exactly the graph code training uses (CellStep).
func RunCellStep(backend compute.Backend, w CellWeights, x, h, c []float32) (CellValues, error) {
	H := w.Hidden
	switch {
	case len(x) != w.In:
		return CellValues{}, fmt.Errorf("cell step: x has %d values, want In = %d", len(x), w.In)
	case len(h) != H || len(c) != H:
		return CellValues{}, fmt.Errorf("cell step: h and c need %d values, have %d and %d", H, len(h), len(c))
	case len(w.WIH) != w.In*4*H || len(w.WHH) != H*4*H || len(w.Bias) != 4*H:
		return CellValues{}, fmt.Errorf("cell step: weights must be [%d,%d], [%d,%d] and [%d]", w.In, 4*H, H, 4*H, 4*H)
	}
	exec, err := NewExec(backend, func(x, h, c, wIH, wHH, b *Node) []*Node {
		s := CellStep(x, h, c, wIH, wHH, b)
		return []*Node{s.I, s.F, s.G, s.O, s.C, s.H}
	})
	if err != nil {
		return CellValues{}, fmt.Errorf("cell step: %w", err)
	}
	out, err := exec.Exec(
		tensors.FromFlatDataAndDimensions(x, 1, w.In), tensors.FromFlatDataAndDimensions(h, 1, H),
		tensors.FromFlatDataAndDimensions(c, 1, H), tensors.FromFlatDataAndDimensions(w.WIH, w.In, 4*H),
		tensors.FromFlatDataAndDimensions(w.WHH, H, 4*H), tensors.FromFlatDataAndDimensions(w.Bias, 4*H))
	if err != nil {
		return CellValues{}, fmt.Errorf("cell step: %w", err)
	}
	vals := make([][]float32, len(out))
	for i, t := range out {
		if vals[i], err = tensors.CopyFlatData[float32](t); err != nil {
			return CellValues{}, err
		}
	}
	return CellValues{I: vals[0], F: vals[1], G: vals[2], O: vals[3], C: vals[4], H: vals[5]}, nil
}

// LayerWeights returns layer k's weights on the host.
func (m *Model) LayerWeights(k int) (CellWeights, error) {
	if k < 0 || k >= m.Config.Layers {
		return CellWeights{}, fmt.Errorf("layer %d: the model has layers 0..%d", k, m.Config.Layers-1)
	}
	get := func(p string) ([]float32, error) {
		return tensors.CopyFlatData[float32](m.Store.GetVariable(p).MustValue())
	}
	w := CellWeights{In: m.Config.EmbedDim, Hidden: m.Config.Hidden}
	if k > 0 {
		w.In = m.Config.Hidden
	}
	var err error
	if w.WIH, err = get(ParamLayerWIH(k)); err != nil {
		return w, err
	}
	if w.WHH, err = get(ParamLayerWHH(k)); err != nil {
		return w, err
	}
	w.Bias, err = get(ParamLayerBias(k))
	return w, err
}

// TraceStep is what every layer computed at one position of a traced text.
type TraceStep struct {
	Token  string       // the input token at this position
	Layers []CellValues // per layer: gates, c and h after reading Token
}

// Trace runs the model over text (state starting at zero, no dropout) and returns every gate, cell and
// hidden value at every position — for gate heatmaps and for following what a cell unit tracks.
func (m *Model) Trace(text string) ([]TraceStep, error) {
	ids, err := m.Vocab.Encode(text)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("trace: empty text")
	}
	T, L := len(ids), m.Config.Layers
	exec, err := m.newExec(func(g *Graph, in []*Node) []*Node {
		out := m.forward(g, in[0], in[1], in[2], T, false)
		var nodes []*Node
		for _, layer := range out.Traces {
			for _, pick := range []func(Step) *Node{
				func(s Step) *Node { return s.I }, func(s Step) *Node { return s.F }, func(s Step) *Node { return s.G },
				func(s Step) *Node { return s.O }, func(s Step) *Node { return s.C }, func(s Step) *Node { return s.H },
			} {
				perStep := make([]*Node, T)
				for t, s := range layer {
					perStep[t] = pick(s)
				}
				nodes = append(nodes, Concatenate(perStep, 0)) // [T, H] (batch 1)
			}
		}
		return nodes
	})
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	zeros := tensors.FromShape(m.stateShape(1))
	out, err := exec.Call(ids, zeros, zeros)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	H := m.Config.Hidden
	steps := make([]TraceStep, T)
	for t := range steps {
		steps[t] = TraceStep{Token: m.Vocab.Token(ids[t]), Layers: make([]CellValues, L)}
	}
	for k := range L {
		var vals [6][]float32
		for j := range 6 {
			if vals[j], err = tensors.CopyFlatData[float32](out[6*k+j]); err != nil {
				return nil, err
			}
		}
		for t := range T {
			row := func(v []float32) []float32 { return v[t*H : (t+1)*H] }
			steps[t].Layers[k] = CellValues{I: row(vals[0]), F: row(vals[1]), G: row(vals[2]), O: row(vals[3]), C: row(vals[4]), H: row(vals[5])}
		}
	}
	return steps, nil
}

// embeddingRow returns the embedding vector of token id.
func (m *Model) embeddingRow(id int32) ([]float32, error) {
	table, err := tensors.CopyFlatData[float32](m.Store.GetVariable(ParamEmbedding).MustValue())
	if err != nil {
		return nil, err
	}
	e := m.Config.EmbedDim
	return table[int(id)*e : int(id)*e+e], nil
}
