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
	"golang.org/x/text/unicode/norm"

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

// pytorchLogits runs PyTorch's nn.Embedding + nn.LSTM + nn.Linear as documented (gates = W_ih x + b_ih +
// W_hh h + b_hh, rows i, f, g, o; logits = decoder.weight h + decoder.bias) in float64 on the exported tensors,
// from zero state, and returns the logits after each token of seq.
func pytorchLogits(t *testing.T, f *safetensors.File, V, E, H, L int, seq []int32) [][]float64 {
	t.Helper()
	emb := floatsOf(t, f, "embedding.weight", V, E)
	dec := floatsOf(t, f, "decoder.weight", V, H)
	decB := floatsOf(t, f, "decoder.bias", V)
	h := make([][]float64, L)
	c := make([][]float64, L)
	for k := range L {
		h[k], c[k] = make([]float64, H), make([]float64, H)
	}
	var out [][]float64
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
		out = append(out, logits)
	}
	return out
}

// TestExportFollowsPyTorchLSTM runs PyTorch's nn.LSTM equations in plain Go on the exported tensors, and checks
// the logits equal this model's own forward pass; then scores a text with characters the vocabulary lacks, mapped
// to <unk> the way the README's PyTorch snippet does (NFC, then each character's id or <unk>'s), and checks the
// log-probabilities equal Model.Score's.
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
	seq := ids[:6]
	want := pytorchLogits(t, f, V, E, H, L, seq)

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

	// The README snippet's mapping, from the exported metadata alone: tokens, "<unk>", NFC.
	var meta struct {
		Tokens    []string `json:"tokens"`
		Normalize string   `json:"normalize"`
	}
	if err := json.Unmarshal([]byte(f.Metadata["vocab"]), &meta); err != nil || meta.Normalize != "nfc" {
		t.Fatalf("vocab metadata %s: %v", f.Metadata["vocab"], err)
	}
	stoi := map[string]int32{}
	for i, tok := range meta.Tokens {
		stoi[tok] = int32(i)
	}
	unk, ok := stoi["<unk>"]
	if !ok {
		t.Fatal("the exported vocabulary has no <unk>")
	}
	const txt = "the Zebra sat on a mat near Cafe\u0301 ç=# 🐳."
	var mapped []int32
	unseen := 0
	for _, r := range norm.NFC.String(txt) {
		id, ok := stoi[string(r)]
		if !ok {
			id, unseen = unk, unseen+1
		}
		mapped = append(mapped, id)
	}
	res, err := m.Score(txt)
	if err != nil {
		t.Fatal(err)
	}
	if unseen < 5 || res.Unseen.Count != unseen || len(res.PerToken) != len(mapped)-1 {
		t.Fatalf("%d unseen characters mapped by hand, Score saw %d; %d scored for %d ids", unseen, res.Unseen.Count,
			len(res.PerToken), len(mapped))
	}
	logits := pytorchLogits(t, f, V, E, H, L, mapped[:len(mapped)-1])
	for i, lg := range logits {
		lg32 := make([]float32, len(lg))
		for j, x := range lg {
			lg32[j] = float32(x)
		}
		if lp := logSoftmaxAt(lg32, int(mapped[i+1])); math.Abs(lp-res.PerToken[i].LogProb) > 1e-4 {
			t.Fatalf("token %d (%q): PyTorch semantics %g, Score %g", i+1, res.PerToken[i].Token, lp, res.PerToken[i].LogProb)
		}
	}
}
