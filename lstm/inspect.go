package lstm

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
)

// CellWeights are one layer's weights on the host, row-major, in this project's layout (columns are the
// cell's gate blocks, G = Cell.Blocks() of them, each H wide):
//
//	WIH [In, G·H]   WHH [H, G·H]   Bias [G·H]   BiasHH [G·H] (GRU only: b_hh; the others have one bias)
//
// LSTM columns i, f, g (c̃), o; GRU r, z, n (Bias = b_ih); RNN one block.
type CellWeights struct {
	Cell         string // "lstm" (also when empty), "gru" or "rnn"
	In, Hidden   int
	WIH, WHH     []float32
	Bias, BiasHH []float32
}

// params returns the weights in the order of the cell's parameters.
func (w CellWeights) params(cell Cell) [][]float32 {
	if cell.Name() == "gru" {
		return [][]float32{w.WIH, w.WHH, w.Bias, w.BiasHH}
	}
	return [][]float32{w.WIH, w.WHH, w.Bias}
}

// CellValues are the values of one cell step, each [H] (or [batch·H] row-major): the fields of the
// model's cell are set (Cell.Values names them), the others are nil.
type CellValues struct {
	I, F, G, O []float32 // LSTM gates: input, forget, candidate c̃ and output
	R, Z, N    []float32 // GRU: reset and update gates, candidate n
	C          []float32 // LSTM: the new cell state c_t
	H          []float32 // every cell: the new hidden state h_t
}

// Value returns the value Cell.Values calls name ("i", "f", "g", "o", "r", "z", "n", "c" or "h"); nil for
// another name or a value the cell does not compute.
func (v CellValues) Value(name string) []float32 {
	if p := v.field(name); p != nil {
		return *p
	}
	return nil
}

func (v *CellValues) field(name string) *[]float32 {
	switch name {
	case "i":
		return &v.I
	case "f":
		return &v.F
	case "g":
		return &v.G
	case "o":
		return &v.O
	case "r":
		return &v.R
	case "z":
		return &v.Z
	case "n":
		return &v.N
	case "c":
		return &v.C
	case "h":
		return &v.H
	}
	return nil
}

// RunCellStep runs one step of the cell w.Cell names on given weights and inputs (x [In], h and c [H];
// c is ignored, and may be nil, for cells without a cell state) on backend and returns everything the
// step computes — the function the notebooks use to walk through the equations number by number. It
// runs exactly the graph code training uses (the cell's fuse, the fused product and its step).
func RunCellStep(backend compute.Backend, w CellWeights, x, h, c []float32) (CellValues, error) {
	cell, err := CellByName(w.Cell)
	if err != nil {
		return CellValues{}, fmt.Errorf("cell step: %w", err)
	}
	H := w.Hidden
	if c == nil && !cell.HasCellState() {
		c = make([]float32, H)
	}
	specs := cell.params(0, w.In, H)
	switch {
	case len(x) != w.In:
		return CellValues{}, fmt.Errorf("cell step: x has %d values, want In = %d", len(x), w.In)
	case len(h) != H || len(c) != H:
		return CellValues{}, fmt.Errorf("cell step: h and c need %d values, have %d and %d", H, len(h), len(c))
	}
	args := []any{tensors.FromFlatDataAndDimensions(x, 1, w.In), tensors.FromFlatDataAndDimensions(h, 1, H),
		tensors.FromFlatDataAndDimensions(c, 1, H)}
	for i, p := range w.params(cell) {
		if n := dimsSize(specs[i].Dims); len(p) != n {
			return CellValues{}, fmt.Errorf("cell step: %s weights %s need %d values (%v), have %d", cell.Name(), specs[i].Path, n, specs[i].Dims, len(p))
		}
		args = append(args, tensors.FromFlatDataAndDimensions(p, specs[i].Dims...))
	}
	exec, err := NewExec(backend, func(in []*Node) []*Node {
		wx, wh, b := cell.fuse(in[3:])
		s := cell.step(fusedProjection(wx, wh, b, 1)(in[0], in[1]), in[1], in[2])
		return s.Values
	})
	if err != nil {
		return CellValues{}, fmt.Errorf("cell step: %w", err)
	}
	out, err := exec.Call(args...)
	if err != nil {
		return CellValues{}, fmt.Errorf("cell step: %w", err)
	}
	var vals CellValues
	for i, name := range cell.Values() {
		if *vals.field(name), err = tensors.CopyFlatData[float32](out[i]); err != nil {
			return CellValues{}, err
		}
	}
	return vals, nil
}

// LayerWeights returns layer k's weights on the host.
func (m *Model) LayerWeights(k int) (CellWeights, error) {
	if k < 0 || k >= m.Config.Layers {
		return CellWeights{}, fmt.Errorf("layer %d: the model has layers 0..%d", k, m.Config.Layers-1)
	}
	w := CellWeights{Cell: m.Cell().Name(), In: layerInput(m.Config, k), Hidden: m.Config.Hidden}
	var values [][]float32
	for _, p := range m.LayerParams(k) {
		v, err := tensors.CopyFlatData[float32](m.Store.GetVariable(p).MustValue())
		if err != nil {
			return w, fmt.Errorf("layer %d: %s: %w", k, p, err)
		}
		values = append(values, v)
	}
	w.WIH, w.WHH, w.Bias = values[0], values[1], values[2]
	if len(values) > 3 {
		w.BiasHH = values[3]
	}
	return w, nil
}

// TraceStep is what every layer computed at one position of a traced text.
type TraceStep struct {
	Token  string       // the input token at this position
	Layers []CellValues // per layer: the cell's values (gates, c, h) after reading Token
}

// Trace runs the model over text (state starting at zero, no dropout) and returns every value of every
// layer's cell (Cell.Values: gates, cell and hidden state) at every position — for gate heatmaps and for
// following what a unit tracks.
func (m *Model) Trace(text string) ([]TraceStep, error) {
	ids, err := m.Vocab.Encode(text)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("trace: empty text")
	}
	T, L := len(ids), m.Config.Layers
	names := m.Cell().Values()
	exec, err := m.cachedExec(fmt.Sprintf("trace/T=%d", T), func(g *Graph, in []*Node) []*Node {
		out := m.forward(g, in[0], in[1], in[2], T, false)
		var nodes []*Node
		for _, layer := range out.Traces {
			for j := range names {
				perStep := make([]*Node, T)
				for t, s := range layer {
					perStep[t] = s.Values[j]
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
	out, err := m.call(exec, "trace", ids, zeros, zeros)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	H := m.Config.Hidden
	steps := make([]TraceStep, T)
	for t := range steps {
		steps[t] = TraceStep{Token: m.Vocab.Token(ids[t]), Layers: make([]CellValues, L)}
	}
	for k := range L {
		for j, name := range names {
			vals, err := tensors.CopyFlatData[float32](out[len(names)*k+j])
			if err != nil {
				return nil, err
			}
			for t := range T {
				*steps[t].Layers[k].field(name) = vals[t*H : (t+1)*H]
			}
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
