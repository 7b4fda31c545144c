package lstm

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// ModelKeys are the Config keys that fix a model's shape and tokenization: a fine-tuned model inherits
// them from its parent and may not change them.
var ModelKeys = []string{"cell", "level", "min_freq", "normalize", "embed", "hidden", "layers", "tie_weights"}

// FineTuneCopy returns a new model on backend holding m's weights (not its optimizer state, step or RNG:
// a fine-tuning run starts its own), with cfg's training settings and vocab, which must extend
// m.Vocab: old token ids keep their rows exactly; rows for new tokens are initialised (embedding like a
// fresh model, head weights at zero and head bias at the lowest existing bias, so a new token starts
// as unlikely as the rarest old one instead of disturbing what the parent predicts).
func (m *Model) FineTuneCopy(cfg Config, vocab *text.Vocab, backend compute.Backend) (*Model, error) {
	cfg.Cell, cfg.Level, cfg.MinFreq, cfg.Normalize, cfg.EmbedDim, cfg.Hidden, cfg.Layers, cfg.TieWeight =
		m.Cell().Name(), m.Config.Level, m.Config.MinFreq, m.Config.Normalize, m.Config.EmbedDim, m.Config.Hidden, m.Config.Layers, m.Config.TieWeight
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkVocab(cfg, vocab); err != nil {
		return nil, fmt.Errorf("fine-tune: %w", err)
	}
	oldV, newV := m.Vocab.Size(), vocab.Size()
	if newV < oldV || !slices.Equal(vocab.Tokens()[:oldV], m.Vocab.Tokens()) {
		return nil, fmt.Errorf("fine-tune: the vocabulary must extend the parent's (same tokens, same ids)")
	}
	child := &Model{Config: cfg, Vocab: vocab, Backend: backend, Store: model.NewStore(), HandGrad: m.HandGrad}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0xf17e))
	for _, p := range paramSpecs(cfg, newV) {
		v := m.Store.GetVariable(p.Path)
		if v == nil {
			return nil, fmt.Errorf("fine-tune: parent lacks parameter %s", p.Path)
		}
		old, err := tensors.CopyFlatData[float32](v.MustValue())
		if err != nil {
			return nil, fmt.Errorf("fine-tune: read %s: %w", p.Path, err)
		}
		data := old
		if newV > oldV {
			switch p.Path {
			case ParamEmbedding: // [V, E]: append rows
				data = append(old, p.Init(rng, (newV-oldV)*cfg.EmbedDim)...)
			case ParamDecoderWeight: // [H, V]: widen each row with zeros
				data = make([]float32, cfg.Hidden*newV)
				for h := range cfg.Hidden {
					copy(data[h*newV:], old[h*oldV:(h+1)*oldV])
				}
			case ParamDecoderBias: // [V]
				lowest := slices.Min(old)
				data = append(old, make([]float32, newV-oldV)...)
				for i := oldV; i < newV; i++ {
					data[i] = lowest
				}
			}
		}
		if _, err := child.Store.CreateVariable(p.Path, tensors.FromFlatDataAndDimensions(data, p.Dims...)); err != nil {
			return nil, fmt.Errorf("fine-tune: %s: %w", p.Path, err)
		}
	}
	if err := child.Store.SetRNGStateFromSeed(cfg.Seed); err != nil {
		return nil, fmt.Errorf("seed dropout RNG: %w", err)
	}
	return child, nil
}

// ParamGroups maps the freeze group names users type to parameter paths: "embedding", "<cell>.K" (layer
// K's parameters: "lstm.0", "gru.1", "rnn.0" ...), "decoder" (the head; with tied weights only its bias,
// the weight being the embedding).
func (m *Model) ParamGroups() map[string][]string {
	groups := map[string][]string{"embedding": {ParamEmbedding}, "decoder": {ParamDecoderBias}}
	if !m.Config.TieWeight {
		groups["decoder"] = []string{ParamDecoderWeight, ParamDecoderBias}
	}
	for k := range m.Config.Layers {
		groups[fmt.Sprintf("%s.%d", m.Cell().Name(), k)] = m.LayerParams(k)
	}
	return groups
}
