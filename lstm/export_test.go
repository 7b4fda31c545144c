package lstm

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"

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

// TestExportFollowsPyTorch exports a 2-layer model of every cell and checks the export with PyTorch's
// documented equations (checkExportFollowsPyTorch).
func TestExportFollowsPyTorch(t *testing.T) {
	for _, cell := range CellNames() {
		t.Run(cell, func(t *testing.T) {
			m, ids := tinyModel(t, tinyText, func(c *Config) { c.Cell, c.Layers, c.Hidden, c.EmbedDim = cell, 2, 5, 3 })
			checkExportFollowsPyTorch(t, m, ids[:6])
		})
	}
}

// checkExportFollowsPyTorch exports m and runs, in plain float64 Go on the exported tensors under their
// PyTorch names and layouts, the equations PyTorch documents for nn.Embedding, nn.LSTM / nn.GRU / nn.RNN
// (tanh) and nn.Linear, over seq from zero state; the logits must equal this model's own forward pass. It
// also checks the metadata (format, cell, vocabulary, the modules to build).
func checkExportFollowsPyTorch(t *testing.T, m *Model, seq []int32) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := m.ExportPyTorch(path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cell := m.Cell().Name()
	var vocab text.Vocab
	if err := json.Unmarshal([]byte(f.Metadata["vocab"]), &vocab); err != nil || vocab.Size() != m.Vocab.Size() {
		t.Fatalf("vocab metadata: %v (size %d)", err, vocab.Size())
	}
	if f.Metadata["cell"] != cell || f.Metadata["format"] != "lstmlab-pytorch-"+cell+"-lm" {
		t.Errorf("metadata cell %q, format %q", f.Metadata["cell"], f.Metadata["format"])
	}
	wantCount := 3 + 4*m.Config.Layers // embedding, decoder weight and bias, four tensors per layer
	if len(f.Tensors) != wantCount {
		t.Errorf("%d tensors exported, nn.%s's state_dict has %d", len(f.Tensors), cell, wantCount)
	}
	V := m.Vocab.Size()
	want := pytorchLogits(t, f, m, seq)
	got := forwardLogits(t, m, seq)
	for s := range seq {
		for v := range V {
			if d := math.Abs(float64(got[s][v]) - want[s][v]); d > 1e-4 {
				t.Fatalf("%s step %d token %d: model %v, PyTorch semantics on export %v", cell, s, v, got[s][v], want[s][v])
			}
		}
	}
}

// pytorchLogits runs, in plain float64 Go on the exported tensors f under their PyTorch names and layouts, the
// equations PyTorch documents for nn.Embedding, nn.LSTM / nn.GRU / nn.RNN (tanh) and nn.Linear, over seq
// from zero state, and returns the logits after each token. m gives only the shape and cell.
func pytorchLogits(t *testing.T, f *safetensors.File, m *Model, seq []int32) [][]float64 {
	t.Helper()
	cell := m.Cell().Name()
	V, E, H, L := m.Vocab.Size(), m.Config.EmbedDim, m.Config.Hidden, m.Config.Layers
	G := m.Cell().Blocks()
	emb := floatsOf(t, f, "embedding.weight", V, E)
	dec := floatsOf(t, f, "decoder.weight", V, H)
	decB := floatsOf(t, f, "decoder.bias", V)

	// PyTorch semantics in float64.
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
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
			name := func(s string) string { return fmt.Sprintf("%s.%s_l%d", cell, s, k) }
			wih := floatsOf(t, f, name("weight_ih"), G*H, in)
			whh := floatsOf(t, f, name("weight_hh"), G*H, H)
			bih := floatsOf(t, f, name("bias_ih"), G*H)
			bhh := floatsOf(t, f, name("bias_hh"), G*H)
			// gi = W_ih x + b_ih, gh = W_hh h + b_hh: [G·H], rows in PyTorch's gate order.
			gi, gh := make([]float64, G*H), make([]float64, G*H)
			for r := range G * H {
				gi[r], gh[r] = bih[r], bhh[r]
				for j := range in {
					gi[r] += wih[r*in+j] * x[j]
				}
				for j := range H {
					gh[r] += whh[r*H+j] * h[k][j]
				}
			}
			nh := make([]float64, H)
			for j := range H {
				switch cell {
				case "lstm": // i, f, g, o
					i, fg := sigmoid(gi[j]+gh[j]), sigmoid(gi[H+j]+gh[H+j])
					g, o := math.Tanh(gi[2*H+j]+gh[2*H+j]), sigmoid(gi[3*H+j]+gh[3*H+j])
					c[k][j] = fg*c[k][j] + i*g
					nh[j] = o * math.Tanh(c[k][j])
				case "gru": // r, z, n
					r, z := sigmoid(gi[j]+gh[j]), sigmoid(gi[H+j]+gh[H+j])
					n := math.Tanh(gi[2*H+j] + r*gh[2*H+j])
					nh[j] = (1-z)*n + z*h[k][j]
				case "rnn":
					nh[j] = math.Tanh(gi[j] + gh[j])
				}
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
	return want
}

// TestExportMapsUnseenLikePyTorch scores a text with characters the vocabulary lacks, mapped to <unk> the way
// the README's PyTorch snippet does (NFC, then each character's id or <unk>'s), through PyTorch's equations on
// the export, and checks the log-probabilities equal Model.Score's.
func TestExportMapsUnseenLikePyTorch(t *testing.T) {
	m, _ := tinyModel(t, tinyText, func(c *Config) { c.Layers, c.Hidden, c.EmbedDim = 2, 5, 3 })
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := m.ExportPyTorch(path); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
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
	logits := pytorchLogits(t, f, m, mapped[:len(mapped)-1])
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
