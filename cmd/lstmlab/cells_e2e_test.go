package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm/safetensors"
)

// TestCLICells drives the real binary with the GRU and the plain RNN (`--set cell=gru|rnn`) through what
// users do with an LSTM: train, resume, generate, eval, export (PyTorch names of that cell), fine-tune
// with a frozen layer group of that cell, compare; and the errors for a wrong cell.
func TestCLICells(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	land := generatedText(t, dir, "land.txt", 2, landWords)
	for _, cell := range []string{"gru", "rnn"} {
		t.Run(cell, func(t *testing.T) {
			c.t = t
			args := append([]string{"train", "--preset", "tiny", "--data", sea, "--name", cell, "--set", "cell=" + cell, "--format", "json", "-q"},
				strings.Fields(tinyTrain)...)
			res := decode(t, c.ok(args...))
			if res["status"] != "finished" || res["steps"].(float64) != 40 {
				t.Fatalf("train: %v", res)
			}
			if r := decode(t, c.ok("resume", cell, "--steps", "50", "--format", "json", "-q")); r["steps"].(float64) != 50 {
				t.Fatalf("resume: %v", r)
			}
			g1 := decode(t, c.ok("generate", cell, "--prompt", "the whale", "--length", "30", "--seed", "3", "--format", "json"))
			g2 := decode(t, c.ok("generate", cell, "--prompt", "the whale", "--length", "30", "--seed", "3", "--format", "json"))
			if g1["text"] != g2["text"] || g1["text"] == "" {
				t.Fatalf("generate: %q vs %q", g1["text"], g2["text"])
			}
			if ev := decode(t, c.ok("eval", cell, "--format", "json")); ev["result"].(map[string]any)["bits_per_token"].(float64) <= 0 {
				t.Fatalf("eval: %v", ev)
			}

			// Export: the tensors nn.GRU / nn.RNN load strictly, and the metadata says which.
			st := filepath.Join(dir, cell+".safetensors")
			c.ok("export", cell, "--out", st)
			f, err := safetensors.ReadFile(st)
			if err != nil {
				t.Fatal(err)
			}
			var cfg map[string]any
			if err := json.Unmarshal([]byte(f.Metadata["config"]), &cfg); err != nil || cfg["cell"] != cell || f.Metadata["cell"] != cell {
				t.Errorf("export metadata: cell %q, config %v (%v)", f.Metadata["cell"], cfg["cell"], err)
			}
			for _, name := range []string{cell + ".weight_ih_l0", cell + ".weight_hh_l0", cell + ".bias_ih_l0", cell + ".bias_hh_l0", "embedding.weight", "decoder.weight"} {
				if _, ok := f.Tensors[name]; !ok {
					t.Errorf("export lacks %s", name)
				}
			}
			if _, ok := f.Tensors["lstm.weight_ih_l0"]; ok {
				t.Errorf("a %s export has LSTM tensors", cell)
			}

			// Fine-tune onto another text with the cell's first layer frozen; the cell cannot change.
			child := cell + "-land"
			c.ok("train", "--init-from", cell, "--data", land, "--name", child, "--freeze", "embedding,"+cell+".0",
				"--set=steps=10", "--set=eval_every=10", "-q")
			c.fails("known: decoder, embedding, "+cell+".0", "train", "--init-from", cell, "--data", land, "--freeze", "lstm.0", "-q")
			c.fails("cell", "train", "--init-from", cell, "--data", land, "--set", "cell=lstm", "-q")
			if cmp := c.ok("compare", cell, child); !strings.Contains(cmp, child) {
				t.Errorf("compare:\n%s", cmp)
			}
		})
	}
	c.t = t
	// Runs of different cells compare on the cell key.
	if cmp := c.ok("compare", "gru", "rnn", "--only-changed"); !strings.Contains(cmp, "cell") {
		t.Errorf("compare gru rnn --only-changed does not show the cell:\n%s", cmp)
	}
	c.fails("invalid cell", append([]string{"train", "--preset", "tiny", "--data", sea, "--set", "cell=transformer", "-q"}, strings.Fields(tinyTrain)...)...)
}
