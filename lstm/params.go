package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// Parameter names, as stored in the model's Store (and in checkpoints). The export to safetensors
// renames them to PyTorch's names (see export.go).
//
//	/embedding/table   [V, E]      token embedding
//	/lstm_{k}/w_ih     [in, 4H]    input weights W of layer k (in = E for k = 0, else H); gate columns i, f, g, o
//	/lstm_{k}/w_hh     [H, 4H]     recurrent weights U of layer k; same gate columns
//	/lstm_{k}/bias     [4H]        gate biases b; the forget slice starts at 1
//	/decoder/weight    [H, V]      head W_y (absent with tie_weights: the head then uses the embedding table)
//	/decoder/bias      [V]         head b_y
const (
	ParamEmbedding     = "/embedding/table"
	ParamDecoderWeight = "/decoder/weight"
	ParamDecoderBias   = "/decoder/bias"
)

// ParamLayerWIH is the path of layer k's input weights.
func ParamLayerWIH(k int) string { return fmt.Sprintf("/lstm_%d/w_ih", k) }

// ParamLayerWHH is the path of layer k's recurrent weights.
func ParamLayerWHH(k int) string { return fmt.Sprintf("/lstm_%d/w_hh", k) }

// ParamLayerBias is the path of layer k's biases.
func ParamLayerBias(k int) string { return fmt.Sprintf("/lstm_%d/bias", k) }

// ForgetBiasInit is the initial value of the forget-gate bias. Starting at 1 keeps f_t near σ(1) ≈ 0.73, so
// the cell remembers by default early in training and gradients flow along c (Gers et al. 2000;
// Jozefowicz et al. 2015 found it closes much of the gap to more elaborate cells).
const ForgetBiasInit = 1.0

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

// paramSpecs lists the model's parameters in a fixed order (the order seeds are drawn in, so the same
// seed always gives the same weights, whatever the backend).
func paramSpecs(cfg Config, vocabSize int) []paramSpec {
	h := cfg.Hidden
	lstmScale := 1 / math.Sqrt(float64(h)) // PyTorch's nn.LSTM default
	// The embedding starts as nn.Embedding does, N(0, 1): unit-scale inputs move the first layer's gates from
	// the first step. With ±0.1 (word_language_model's choice) a char model sat on the unigram plateau
	// (~3.1 nats) about three times longer on Moby Dick: a 2×128 model's validation loss after 240 steps was
	// 2.88 with ±0.1 and 2.41 with N(0, 1) (notebook 02's run; PyTorch showed the same gap). A tied
	// embedding is also the head's weight, whose logits must start small, so it keeps ±0.1.
	embedInit := normalInit(1)
	if cfg.TieWeight {
		embedInit = uniformInit(0.1)
	}
	specs := []paramSpec{{ParamEmbedding, []int{vocabSize, cfg.EmbedDim}, embedInit}}
	for k := range cfg.Layers {
		in := cfg.EmbedDim
		if k > 0 {
			in = h
		}
		specs = append(specs,
			paramSpec{ParamLayerWIH(k), []int{in, 4 * h}, uniformInit(lstmScale)},
			paramSpec{ParamLayerWHH(k), []int{h, 4 * h}, uniformInit(lstmScale)},
			paramSpec{ParamLayerBias(k), []int{4 * h}, func(_ *rand.Rand, n int) []float32 {
				v := make([]float32, n)
				for i := GateForget * h; i < (GateForget+1)*h; i++ {
					v[i] = ForgetBiasInit
				}
				return v
			}},
		)
	}
	if !cfg.TieWeight {
		specs = append(specs, paramSpec{ParamDecoderWeight, []int{h, vocabSize}, uniformInit(lstmScale)})
	}
	specs = append(specs, paramSpec{ParamDecoderBias, []int{vocabSize}, func(_ *rand.Rand, n int) []float32 { return make([]float32, n) }})
	return specs
}

// initParams creates every parameter in store with seeded values drawn on the host, so that
// initialisation is identical on every backend.
func initParams(store *model.Store, cfg Config, vocabSize int) error {
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x15744))
	for _, p := range paramSpecs(cfg, vocabSize) {
		n := 1
		for _, d := range p.Dims {
			n *= d
		}
		if _, err := store.CreateVariable(p.Path, tensors.FromFlatDataAndDimensions(p.Init(rng, n), p.Dims...)); err != nil {
			return fmt.Errorf("create parameter %s: %w", p.Path, err)
		}
	}
	return nil
}
