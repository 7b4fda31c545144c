package lstm

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/lstmlab/lstmlab/lstm/safetensors"
	"github.com/lstmlab/lstmlab/lstm/text"
)

func floatsOf(t *testing.T, f *safetensors.File, name string, dims ...int) []float64 {
	t.Helper()
	st, ok := f.Tensors[name]
	if !ok {
		t.Fatalf("exported file lacks %s", name)
	}
	if fmt.Sprint(st.Shape) != fmt.Sprint(dims) {
		t.Fatalf("%s has shape %v, PyTorch expects %v", name, st.Shape, dims)
	}
	out := make([]float64, len(st.Data)/4)
	for i := range out {
		out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(st.Data[4*i:])))
	}
	return out
}

// TestExportFollowsPyTorchLSTM runs PyTorch's nn.LSTM equations (as documented: gates = W_ih x + b_ih +
// W_hh h + b_hh, rows i, f, g, o; logits = decoder.weight h + decoder.bias) in plain Go on the exported
// tensors, and checks the logits equal this model's own forward pass.
func TestExportFollowsPyTorchLSTM(t *testing.T) {
	m, ids := tinyModel(t, tinyText, func(c *Config) { c.Layers, c.Hidden, c.EmbedDim = 2, 5, 3 })
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := m.ExportPyTorch(path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var vocab text.Vocab
	if err := json.Unmarshal([]byte(f.Metadata["vocab"]), &vocab); err != nil || vocab.Size() != m.Vocab.Size() {
		t.Fatalf("vocab metadata: %v (size %d)", err, vocab.Size())
	}
	V, E, H, L := m.Vocab.Size(), 3, 5, 2
	emb := floatsOf(t, f, "embedding.weight", V, E)
	dec := floatsOf(t, f, "decoder.weight", V, H)
	decB := floatsOf(t, f, "decoder.bias", V)
	seq := ids[:6]

	// PyTorch semantics in float64.
	h := make([][]float64, L)
	c := make([][]float64, L)
	for k := range L {
		h[k], c[k] = make([]float64, H), make([]float64, H)
	}
	var want [][]float64
	for _, tok := range seq {
		x := emb[int(tok)*E : int(tok)*E+E]
		for k := range L {
			in := len(x)
			wih := floatsOf(t, f, fmt.Sprintf("lstm.weight_ih_l%d", k), 4*H, in)
			whh := floatsOf(t, f, fmt.Sprintf("lstm.weight_hh_l%d", k), 4*H, H)
			bih := floatsOf(t, f, fmt.Sprintf("lstm.bias_ih_l%d", k), 4*H)
			bhh := floatsOf(t, f, fmt.Sprintf("lstm.bias_hh_l%d", k), 4*H)
			gates := make([]float64, 4*H)
			for r := range 4 * H {
				s := bih[r] + bhh[r]
				for j := range in {
					s += wih[r*in+j] * x[j]
				}
				for j := range H {
					s += whh[r*H+j] * h[k][j]
				}
				gates[r] = s
			}
			nh := make([]float64, H)
			for j := range H {
				i, fg, g, o := refSigmoid(gates[j]), refSigmoid(gates[H+j]), math.Tanh(gates[2*H+j]), refSigmoid(gates[3*H+j])
				c[k][j] = fg*c[k][j] + i*g
				nh[j] = o * math.Tanh(c[k][j])
			}
			h[k] = nh
			x = nh
		}
		logits := make([]float64, V)
		for v := range V {
			s := decB[v]
			for j := range H {
				s += dec[v*H+j] * x[j]
			}
			logits[v] = s
		}
		want = append(want, logits)
	}

	// This model's forward pass on the same sequence (batch 1).
	exec, err := model.NewExec(m.Backend, m.Store, func(_ *model.Scope, g *Graph, in []*Node) *Node {
		return m.forward(g, in[0], in[1], in[2], len(seq), false).Logits
	})
	if err != nil {
		t.Fatal(err)
	}
	zeros := tensors.FromShape(m.stateShape(1))
	out, err := exec.Call(seq, zeros, zeros)
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out[0])
	for s := range seq {
		for v := range V {
			if d := math.Abs(float64(got[s*V+v]) - want[s][v]); d > 1e-4 {
				t.Fatalf("step %d token %d: model %v, PyTorch semantics on export %v", s, v, got[s*V+v], want[s][v])
			}
		}
	}
}
