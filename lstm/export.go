package lstm

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/lstmlab/lstmlab/lstm/safetensors"
)

// ExportFormat is the metadata "format" of exported LSTM models; a GRU's is "lstmlab-pytorch-gru-lm" and a
// plain RNN's "lstmlab-pytorch-rnn-lm" (ExportFormatOf).
const ExportFormat = "lstmlab-pytorch-lstm-lm"

// ExportFormatOf is the metadata "format" of an exported model of cell.
func ExportFormatOf(cell Cell) string { return "lstmlab-pytorch-" + cell.Name() + "-lm" }

// ExportPyTorch writes the model's weights to a safetensors file that loads with load_state_dict
// (strict) into PyTorch's
//
//	embedding = nn.Embedding(V, E); <cell> = nn.LSTM | nn.GRU | nn.RNN(E, H, num_layers=L, batch_first=True); decoder = nn.Linear(H, V)
//
// held under the names "embedding", the cell's name ("lstm", "gru" or "rnn") and "decoder" (for
// example an nn.ModuleDict), with no transposing by hand: embedding.weight [V, E],
// <cell>.weight_ih_l{k} [G·H, in], <cell>.weight_hh_l{k} [G·H, H], <cell>.bias_ih_l{k} and
// <cell>.bias_hh_l{k} [G·H] (G = Cell.Blocks(): 4, 3 or 1), decoder.weight [V, H], decoder.bias [V].
// Gate rows are in PyTorch's order, which is this project's order too (LSTM i, f, g, o; GRU r, z, n),
// so only the matrices are transposed (this project stores [in, G·H] for x·W; PyTorch [G·H, in] for
// W·x). The LSTM and the RNN have one bias per gate; it is exported as bias_ih, and bias_hh is zero (their
// sum is what PyTorch uses); the GRU has both. The metadata holds "format", "cell", "config", "vocab",
// "gate_order" and "pytorch" (the modules to build, in words).
func (m *Model) ExportPyTorch(path string) error {
	cfg := m.Config
	cell := m.Cell()
	f := &safetensors.File{Metadata: map[string]string{}, Tensors: map[string]safetensors.Tensor{}}
	get := func(p string) (hostTensor, error) {
		v := m.Store.GetVariable(p)
		if v == nil {
			return hostTensor{}, fmt.Errorf("export %s: parameter %s missing", path, p)
		}
		t, err := v.Value()
		if err != nil {
			return hostTensor{}, fmt.Errorf("export %s: %s: %w", path, p, err)
		}
		data, err := tensors.CopyFlatData[float32](t)
		return hostTensor{data, t.Shape().Dimensions}, err
	}
	put := func(name string, t hostTensor) {
		f.Tensors[name] = safetensors.Tensor{DType: "F32", Shape: t.Dims, Data: float32Bytes(t.Data)}
	}
	emb, err := get(ParamEmbedding)
	if err != nil {
		return err
	}
	put("embedding.weight", emb)
	for k := range cfg.Layers {
		var params []hostTensor
		for _, p := range m.LayerParams(k) {
			t, err := get(p)
			if err != nil {
				return err
			}
			params = append(params, t)
		}
		for name, t := range cell.export(k, params) {
			put(cell.Name()+"."+name, t)
		}
	}
	if cfg.TieWeight {
		put("decoder.weight", emb) // [V, E=H] already
	} else {
		w, err := get(ParamDecoderWeight)
		if err != nil {
			return err
		}
		put("decoder.weight", transposed(w))
	}
	b, err := get(ParamDecoderBias)
	if err != nil {
		return err
	}
	put("decoder.bias", b)

	cfgJSON, _ := json.Marshal(cfg)
	vocabJSON, err := json.Marshal(m.Vocab)
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	f.Metadata["format"] = ExportFormatOf(cell)
	f.Metadata["cell"] = cell.Name()
	f.Metadata["config"] = string(cfgJSON)
	f.Metadata["vocab"] = string(vocabJSON)
	f.Metadata["gate_order"] = strings.Join(cell.Values()[:cell.Blocks()], ",")
	f.Metadata["pytorch"] = fmt.Sprintf("nn.Embedding(%d, %d); %s; nn.Linear(%d, %d)",
		m.Vocab.Size(), cfg.EmbedDim, cell.PyTorchModule(cfg.EmbedDim, cfg.Hidden, cfg.Layers), cfg.Hidden, m.Vocab.Size())
	return safetensors.WriteFile(path, f)
}

// transposed returns the transpose of a row-major matrix.
// singleBiasExport exports layer k of a cell with one bias per block (LSTM, RNN; parameters W_ih, W_hh, b)
// in PyTorch's names: the weights transposed to PyTorch's [blocks·H, in] layout, the bias as bias_ih and a
// zero bias_hh (PyTorch only uses their sum).
func singleBiasExport(k int, p []hostTensor) map[string]hostTensor {
	return map[string]hostTensor{
		fmt.Sprintf("weight_ih_l%d", k): transposed(p[0]),
		fmt.Sprintf("weight_hh_l%d", k): transposed(p[1]),
		fmt.Sprintf("bias_ih_l%d", k):   p[2],
		fmt.Sprintf("bias_hh_l%d", k):   {make([]float32, len(p[2].Data)), p[2].Dims},
	}
}

func transposed(t hostTensor) hostTensor {
	rows, cols := t.Dims[0], t.Dims[1]
	out := make([]float32, len(t.Data))
	for r := range rows {
		for c := range cols {
			out[c*rows+r] = t.Data[r*cols+c]
		}
	}
	return hostTensor{out, []int{cols, rows}}
}

func float32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}
