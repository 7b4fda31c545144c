package lstm

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/lstmlab/lstmlab/lstm/safetensors"
)

// ExportFormat is the metadata "format" of exported files.
const ExportFormat = "lstmlab-pytorch-lstm-lm"

// ExportPyTorch writes the model's weights to a safetensors file that loads with load_state_dict
// (strict) into PyTorch's
//
//	embedding = nn.Embedding(V, E); lstm = nn.LSTM(E, H, num_layers=L, batch_first=True); decoder = nn.Linear(H, V)
//
// with no transposing by hand: names embedding.weight [V, E], lstm.weight_ih_l{k} [4H, in],
// lstm.weight_hh_l{k} [4H, H], lstm.bias_ih_l{k} and lstm.bias_hh_l{k} [4H], decoder.weight [V, H],
// decoder.bias [V]. Gate rows are in PyTorch's order i, f, g, o, which is this project's order too, so
// only the matrices are transposed (we store [in, 4H] for x·W; PyTorch stores [4H, in] for W·x).
// This model has one bias per gate; it is exported as bias_ih, and bias_hh is zero (their sum is what
// PyTorch uses). The vocabulary and config are in the metadata ("vocab", "config").
func (m *Model) ExportPyTorch(path string) error {
	cfg := m.Config
	f := &safetensors.File{Metadata: map[string]string{}, Tensors: map[string]safetensors.Tensor{}}
	get := func(p string) ([]float32, []int, error) {
		v := m.Store.GetVariable(p)
		if v == nil {
			return nil, nil, fmt.Errorf("export %s: parameter %s missing", path, p)
		}
		t, err := v.Value()
		if err != nil {
			return nil, nil, fmt.Errorf("export %s: %s: %w", path, p, err)
		}
		data, err := tensors.CopyFlatData[float32](t)
		return data, t.Shape().Dimensions, err
	}
	put := func(name string, data []float32, dims ...int) {
		f.Tensors[name] = safetensors.Tensor{DType: "F32", Shape: dims, Data: float32Bytes(data)}
	}
	emb, embDims, err := get(ParamEmbedding)
	if err != nil {
		return err
	}
	put("embedding.weight", emb, embDims...)
	for k := range cfg.Layers {
		wih, d, err := get(ParamLayerWIH(k))
		if err != nil {
			return err
		}
		put(fmt.Sprintf("lstm.weight_ih_l%d", k), transpose(wih, d[0], d[1]), d[1], d[0])
		whh, d, err := get(ParamLayerWHH(k))
		if err != nil {
			return err
		}
		put(fmt.Sprintf("lstm.weight_hh_l%d", k), transpose(whh, d[0], d[1]), d[1], d[0])
		b, d, err := get(ParamLayerBias(k))
		if err != nil {
			return err
		}
		put(fmt.Sprintf("lstm.bias_ih_l%d", k), b, d...)
		put(fmt.Sprintf("lstm.bias_hh_l%d", k), make([]float32, len(b)), d...)
	}
	if cfg.TieWeight {
		put("decoder.weight", emb, embDims...) // [V, E=H] already
	} else {
		w, d, err := get(ParamDecoderWeight)
		if err != nil {
			return err
		}
		put("decoder.weight", transpose(w, d[0], d[1]), d[1], d[0])
	}
	b, d, err := get(ParamDecoderBias)
	if err != nil {
		return err
	}
	put("decoder.bias", b, d...)

	cfgJSON, _ := json.Marshal(cfg)
	vocabJSON, err := json.Marshal(m.Vocab)
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	f.Metadata["format"] = ExportFormat
	f.Metadata["config"] = string(cfgJSON)
	f.Metadata["vocab"] = string(vocabJSON)
	f.Metadata["gate_order"] = "i,f,g,o"
	f.Metadata["pytorch"] = fmt.Sprintf("nn.Embedding(%d, %d); nn.LSTM(%d, %d, num_layers=%d, batch_first=True); nn.Linear(%d, %d)",
		m.Vocab.Size(), cfg.EmbedDim, cfg.EmbedDim, cfg.Hidden, cfg.Layers, cfg.Hidden, m.Vocab.Size())
	return safetensors.WriteFile(path, f)
}

// transpose returns the [cols, rows] transpose of a row-major [rows, cols] matrix.
func transpose(x []float32, rows, cols int) []float32 {
	out := make([]float32, len(x))
	for r := range rows {
		for c := range cols {
			out[c*rows+r] = x[r*cols+c]
		}
	}
	return out
}

func float32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}
