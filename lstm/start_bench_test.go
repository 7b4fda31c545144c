package lstm

import (
	"math/rand/v2"
	"os"
	"testing"
)

// BenchmarkStartContext measures how well each way of starting a text without a prompt predicts the real
// beginnings of lines: a 2×128 model trained 300 steps on Moby Dick (the first 90 %) reads 100 random lines of
// the rest, and the benchmark reports the mean loss (nats/char) of their first 20 characters after the zero
// state and a line break (zero_nl), after the start context generation uses (start_context), and after the 256
// characters that really precede each line (true_context, the floor). Needs data/moby-dick.txt (main.sh
// fetches it). Run: go test ./lstm -run '^$' -bench StartContext -benchtime 1x
func BenchmarkStartContext(b *testing.B) {
	data, err := os.ReadFile("../data/moby-dick.txt")
	if err != nil {
		b.Skipf("needs the Moby Dick corpus: %v", err)
	}
	for b.Loop() {
		m, ids := tinyModel(b, string(data), func(c *Config) {
			c.Hidden, c.Layers, c.EmbedDim, c.Steps, c.BatchSize, c.SeqLen, c.LR = 128, 2, 64, 300, 32, 64, 3e-3
		})
		cut := len(ids) * 9 / 10
		tr, err := NewTrainer(m, ids[:cut], ids[cut:], nil)
		if err != nil {
			b.Fatal(err)
		}
		trainLosses(b, tr)
		newline, _ := m.Vocab.ID("\n")
		var starts []int
		for i := cut + 256; i < len(ids)-20; i++ {
			if ids[i-1] == newline && ids[i] != newline {
				starts = append(starts, i)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		const lines, chars = 100, 20
		contexts := map[string]func(s *Stepper, at int) ([]float32, error){
			"zero_nl":       func(s *Stepper, _ int) ([]float32, error) { return s.Step(newline) },
			"start_context": func(s *Stepper, _ int) ([]float32, error) { return m.readStart(s) },
			"true_context":  func(s *Stepper, at int) ([]float32, error) { return s.Feed(ids[at-256 : at]) },
		}
		sums := map[string]float64{}
		for range lines {
			at := starts[rng.IntN(len(starts))]
			for name, start := range contexts {
				s, err := m.NewStepper()
				if err != nil {
					b.Fatal(err)
				}
				logits, err := start(s, at)
				for k := range chars {
					if err != nil {
						b.Fatal(err)
					}
					sums[name] -= logSoftmaxAt(logits, int(ids[at+k]))
					logits, err = s.Step(ids[at+k])
				}
			}
		}
		for name, sum := range sums {
			b.ReportMetric(sum/(lines*chars), name+"_nats/char")
		}
	}
}
