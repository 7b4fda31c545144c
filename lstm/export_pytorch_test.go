//go:build pytorch

// This test runs real PyTorch, so it is not part of the counted suite (scripts/test.sh; CI does not install
// PyTorch): run it with
//
//	go test -tags pytorch ./lstm/ -run PyTorch
//
// It needs /usr/bin/python3 with torch (Debian: apt-get install python3-torch); without them it fails.

package lstm

import (
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportLoadsIntoPyTorch trains a few steps of a 2-layer model of every cell (with separate and tied
// head weights), exports it, loads the export strictly into PyTorch's nn.LSTM / nn.GRU / nn.RNN with
// peers/load_export.py (the README's snippet), and checks PyTorch's logits over a text equal lstmlab's.
func TestExportLoadsIntoPyTorch(t *testing.T) {
	for _, cell := range CellNames() {
		for _, tied := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tied=%v", cell, tied), func(t *testing.T) {
				m, ids := tinyModel(t, strings.Repeat(tinyText, 2), func(c *Config) {
					c.Cell, c.Layers, c.Hidden, c.EmbedDim, c.TieWeight, c.Steps = cell, 2, 12, 6, tied, 5
					if tied {
						c.EmbedDim = 12
					}
				})
				tr, err := NewTrainer(m, ids, ids, nil)
				if err != nil {
					t.Fatal(err)
				}
				trainLosses(t, tr)
				path := filepath.Join(t.TempDir(), "model.safetensors")
				if err := m.ExportPyTorch(path); err != nil {
					t.Fatal(err)
				}
				seq := ids[:20]
				args := []string{"../peers/load_export.py", path}
				for _, id := range seq {
					args = append(args, fmt.Sprint(id))
				}
				out, err := exec.Command("/usr/bin/python3", args...).Output()
				if err != nil {
					if ee, ok := err.(*exec.ExitError); ok {
						t.Fatalf("load_export.py: %v\n%s", err, ee.Stderr)
					}
					t.Fatalf("load_export.py: %v", err)
				}
				var theirs [][]float64
				if err := json.Unmarshal(out, &theirs); err != nil {
					t.Fatalf("load_export.py printed %q: %v", out, err)
				}
				ours := forwardLogits(t, m, seq)
				if len(theirs) != len(ours) {
					t.Fatalf("PyTorch gave %d positions, want %d", len(theirs), len(ours))
				}
				for s := range ours {
					for v := range ours[s] {
						if d := math.Abs(float64(ours[s][v]) - theirs[s][v]); d > 1e-4 {
							t.Fatalf("position %d token %d: lstmlab %v, PyTorch %v", s, v, ours[s][v], theirs[s][v])
						}
					}
				}
			})
		}
	}
}
