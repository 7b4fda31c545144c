package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Parameter names, as stored in the model's Store (and in checkpoints). The export to safetensors
// renames them to PyTorch's names (see export.go).
//
//	/embedding/table   [V, E]      token embedding
//	/<cell>_{k}/...                layer k's parameters, named by its cell (see Model.LayerParams and the
//	                               cell files: /lstm_{k}/w_ih, /gru_{k}/b_hh, /rnn_{k}/bias ...)
//	/decoder/weight    [H, V]      head W_y (absent with tie_weights: the head then uses the embedding table)
//	/decoder/bias      [V]         head b_y
const (
	ParamEmbedding     = "/embedding/table"
	ParamDecoderWeight = "/decoder/weight"
	ParamDecoderBias   = "/decoder/bias"
)

// Initialisation is PyTorch's (nn.Embedding, nn.LSTM/nn.GRU/nn.RNN, nn.Linear), so that a model starts as
// the textbook recipe and the PyTorch peers start:
//
//   - embedding N(0, 1) (nn.Embedding; ±0.1 when tied, see paramSpecs);
//   - every recurrent weight and bias U(−√k, √k), k = 1/hidden_size (PyTorch's nn.LSTM, nn.GRU and nn.RNN
//     docs, "Variables"); a bias lstmlab keeps as one tensor where PyTorch has b_ih + b_hh (the LSTM's and
//     the RNN's) is drawn as that sum of two such uniforms, so no gate starts with an offset (no forget-gate
//     bias of 1);
//   - head weight and bias U(±1/√H) (nn.Linear: bound 1/√fan_in, fan_in = H).
//
// Why: with the zero biases and forget-gate bias 1 lstmlab had before, a 2×512 model learned markedly less
// per step than with PyTorch's biases (figures in docs/benchmarks.md, "Recipe (issue 17)").

// paramSpec is one trainable parameter: its path, shape and initial values.
type paramSpec struct {
	Path string
	Dims []int
	Init func(rng *rand.Rand, n int) []float32
}

func uniformInit(scale float64) func(*rand.Rand, int) []float32 {
	return func(rng *rand.Rand, n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((rng.Float64()*2 - 1) * scale)
		}
		return v
	}
}

func normalInit(stddev float64) func(*rand.Rand, int) []float32 {
	return func(rng *rand.Rand, n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * stddev)
		}
		return v
	}
}

// biasSumInit draws a bias that stands for PyTorch's b_ih + b_hh, each U(±scale): the sum of two uniforms
// (a triangular distribution on ±2·scale), drawn b_ih then b_hh per element.
func biasSumInit(scale float64) func(*rand.Rand, int) []float32 {
	return func(rng *rand.Rand, n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((rng.Float64()*2-1)*scale + (rng.Float64()*2-1)*scale)
		}
		return v
	}
}

// layerInput is the input width of layer k: the embedding for the first layer, the layer below's h above.
func layerInput(cfg Config, k int) int {
	if k == 0 {
		return cfg.EmbedDim
	}
	return cfg.Hidden
}

// paramSpecs lists the model's parameters in a fixed order (the order seeds are drawn in, so the same
// seed always gives the same weights, whatever the backend).
func paramSpecs(cfg Config, vocabSize int) []paramSpec {
	h := cfg.Hidden
	// The embedding starts as nn.Embedding does, N(0, 1): unit-scale inputs move the first layer's gates from
	// the first step; with ±0.1 (word_language_model's choice) a char model sits on the unigram plateau
	// much longer (docs/benchmarks.md). A tied embedding is also the head's weight, whose logits must start
	// small, so it keeps ±0.1.
	embedInit := normalInit(1)
	if cfg.TieWeight {
		embedInit = uniformInit(0.1)
	}
	specs := []paramSpec{{ParamEmbedding, []int{vocabSize, cfg.EmbedDim}, embedInit}}
	cell := cfg.cell()
	for k := range cfg.Layers {
		specs = append(specs, cell.params(k, layerInput(cfg, k), h)...)
	}
	if !cfg.TieWeight {
		specs = append(specs, paramSpec{ParamDecoderWeight, []int{h, vocabSize}, uniformInit(1 / math.Sqrt(float64(h)))}) // nn.Linear's weight
	}
	specs = append(specs, paramSpec{ParamDecoderBias, []int{vocabSize}, uniformInit(1 / math.Sqrt(float64(h)))}) // nn.Linear's bias
	return specs
}

// LayerParams returns the paths of layer k's parameters, in the order of its cell (e.g. an LSTM layer's
// W, U, b: /lstm_{k}/w_ih, /lstm_{k}/w_hh, /lstm_{k}/bias).
func (m *Model) LayerParams(k int) []string {
	var paths []string
	for _, p := range m.Cell().params(k, layerInput(m.Config, k), m.Config.Hidden) {
		paths = append(paths, p.Path)
	}
	return paths
}

// initParams creates every parameter in store with seeded values drawn on the host, so that
// initialisation is identical on every backend.
func initParams(store *model.Store, cfg Config, vocabSize int) error {
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x15744))
	for _, p := range paramSpecs(cfg, vocabSize) {
		if _, err := store.CreateVariable(p.Path, tensors.FromFlatDataAndDimensions(p.Init(rng, dimsSize(p.Dims)), p.Dims...)); err != nil {
			return fmt.Errorf("create parameter %s: %w", p.Path, err)
		}
	}
	return nil
}

// shapesOf is the shape of a dtype tensor with dims.
func shapesOf(dtype dtypes.DType, dims ...int) shapes.Shape { return shapes.Make(dtype, dims...) }

// dimsSize is the number of elements of a tensor of shape dims.
func dimsSize(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}
