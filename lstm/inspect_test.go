package lstm

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRunCellStepMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const in, hidden = 4, 3
	x, h, c := randMatrix(rng, 1, in), randMatrix(rng, 1, hidden), randMatrix(rng, 1, hidden)
	wIH, wHH, b := randMatrix(rng, in, 4*hidden), randMatrix(rng, hidden, 4*hidden), randMatrix(rng, 1, 4*hidden)
	want := refCellStep(x[0], h[0], c[0], wIH, wHH, b[0])
	// Cell left empty: the LSTM, as notebook 01 builds its weights.
	got, err := RunCellStep(testBackend(t), CellWeights{In: in, Hidden: hidden, WIH: flat32(wIH), WHH: flat32(wHH), Bias: flat32(b)},
		flat32(x), flat32(h), flat32(c))
	if err != nil {
		t.Fatal(err)
	}
	for j := range hidden {
		if math.Abs(float64(got.H[j])-want["h"][j]) > 1e-5 || math.Abs(float64(got.F[j])-want["f"][j]) > 1e-5 {
			t.Fatalf("unit %d: h %v f %v, reference h %v f %v", j, got.H[j], got.F[j], want["h"][j], want["f"][j])
		}
	}
	if got.R != nil || got.Value("z") != nil {
		t.Error("an LSTM step set GRU values")
	}
	if _, err := RunCellStep(testBackend(t), CellWeights{In: in, Hidden: hidden}, flat32(x), flat32(h), flat32(c)); err == nil {
		t.Error("missing weights accepted")
	}
}

// TestTraceFollowsTheCell checks Trace against the cell run by hand on the model's own weights, for every
// cell: the first position of layer 0 is one step from zero state on the first token's embedding.
func TestTraceFollowsTheCell(t *testing.T) {
	for _, cellName := range CellNames() {
		t.Run(cellName, func(t *testing.T) {
			m, _ := tinyModel(t, tinyText, func(c *Config) { c.Cell, c.Layers, c.Hidden, c.EmbedDim = cellName, 2, 4, 3 })
			steps, err := m.Trace("the cat")
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) != 7 || steps[0].Token != "t" || len(steps[0].Layers) != 2 {
				t.Fatalf("trace shape: %d steps, first %+v", len(steps), steps[0])
			}
			w, err := m.LayerWeights(0)
			if err != nil {
				t.Fatal(err)
			}
			if w.Cell != cellName {
				t.Errorf("LayerWeights says cell %q", w.Cell)
			}
			id, _ := m.Vocab.ID("t")
			table, _ := m.embeddingRow(id)
			zero := make([]float32, 4)
			one, err := RunCellStep(testBackend(t), w, table, zero, zero)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range m.Cell().Values() {
				traced, ran := steps[0].Layers[0].Value(name), one.Value(name)
				if len(traced) != 4 || len(ran) != 4 {
					t.Fatalf("%s: traced %d values, step %d", name, len(traced), len(ran))
				}
				for j := range 4 {
					if math.Abs(float64(ran[j]-traced[j])) > 1e-5 {
						t.Fatalf("%s[%d]: trace %v, cell %v", name, j, traced[j], ran[j])
					}
				}
			}
			// Upper layers and later positions are filled too.
			if last := steps[6].Layers[1]; len(last.H) != 4 || (cellName == "lstm") != (last.C != nil) {
				t.Errorf("last position, layer 1: %+v", last)
			}
		})
	}
}
