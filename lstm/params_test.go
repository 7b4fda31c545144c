package lstm

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestInitIsPyTorchs checks the documented initialisation (params.go) for every cell: recurrent weights
// and biases U(±1/√H), a bias that stands for b_ih + b_hh on ±2/√H and spread past ±1/√H (a sum of two
// draws), no forget-gate offset, head weight and bias U(±1/√H), embedding N(0, 1).
func TestInitIsPyTorchs(t *testing.T) {
	const hidden = 64
	bound := 1 / math.Sqrt(hidden)
	for _, cell := range CellNames() {
		t.Run(cell, func(t *testing.T) {
			m, _ := tinyModel(t, strings.Repeat(tinyText, 2), func(c *Config) { c.Cell, c.Hidden, c.EmbedDim = cell, hidden, 32 })
			values := func(path string) []float32 {
				v, err := m.Store.GetVariable(path).Value()
				if err != nil {
					t.Fatal(err)
				}
				return tensors.MustCopyFlatData[float32](v)
			}
			// within checks that every value lies in ±limit and that they fill it (max |x| above 80% of
			// reach, where reach is the distribution's own bound).
			within := func(path string, xs []float32, limit, reach float64) {
				t.Helper()
				most := 0.0
				for _, x := range xs {
					most = math.Max(most, math.Abs(float64(x)))
				}
				if most > limit || most < 0.8*reach {
					t.Errorf("%s: max |x| = %.4f, want within ±%.4f and above %.4f", path, most, limit, 0.8*reach)
				}
			}
			for k := range m.Config.Layers {
				for _, p := range m.LayerParams(k) {
					xs := values(p)
					sum := strings.HasSuffix(p, "/bias") // LSTM and RNN: b_ih + b_hh in one tensor
					if sum {
						within(p, xs, 2*bound, 1.5*bound)
					} else {
						within(p, xs, bound, bound)
					}
				}
			}
			if cell == "lstm" {
				b := values(ParamLayerBias(0))
				var mean float64
				for _, x := range b[GateForget*hidden : (GateForget+1)*hidden] {
					mean += float64(x) / hidden
				}
				if math.Abs(mean) > 0.1 { // sd of the mean ≈ 0.013; the old forget-gate offset was 1
					t.Errorf("forget-gate bias mean %.3f, want no offset (≈ 0)", mean)
				}
			}
			within(ParamDecoderWeight, values(ParamDecoderWeight), bound, bound)
			within(ParamDecoderBias, values(ParamDecoderBias), bound, 0.5*bound) // few values: a looser fill
			var ss float64
			emb := values(ParamEmbedding)
			for _, x := range emb {
				ss += float64(x) * float64(x)
			}
			if sd := math.Sqrt(ss / float64(len(emb))); math.Abs(sd-1) > 0.15 {
				t.Errorf("embedding sd %.3f, want N(0, 1)", sd)
			}
		})
	}
}
