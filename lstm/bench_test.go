package lstm

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// syntheticCorpus returns n characters over an alphabet of vocab distinct runes (the Moby Dick
// vocabulary is about this size), deterministic.
func syntheticCorpus(n, vocab int) string {
	rng := rand.New(rand.NewPCG(3, 4))
	var sb strings.Builder
	for range n {
		sb.WriteRune(rune('!' + rng.IntN(vocab)))
	}
	return sb.String()
}

func benchTrainer(b *testing.B, batch, seq int, hand bool) *Trainer {
	corpus := syntheticCorpus(batch*seq*4+10, 80)
	vocab, err := text.BuildCharVocab(corpus)
	if err != nil {
		b.Fatal(err)
	}
	ids, _ := vocab.Encode(corpus)
	cfg := DefaultConfig()
	cfg.BatchSize, cfg.SeqLen, cfg.Steps = batch, seq, 1<<30
	m, err := New(cfg, vocab, testBackend(b))
	if err != nil {
		b.Fatal(err)
	}
	m.HandGrad = hand
	tr, err := NewTrainer(m, ids, ids, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tr.Step(); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	return tr
}

func benchmarkTrain(b *testing.B, batch, seq int, hand bool) {
	tr := benchTrainer(b, batch, seq, hand)
	b.ResetTimer()
	for range b.N {
		if _, err := tr.Step(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch*seq)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkTrainB32T64(b *testing.B)         { benchmarkTrain(b, 32, 64, true) }
func BenchmarkTrainB32T64Autodiff(b *testing.B) { benchmarkTrain(b, 32, 64, false) }
func BenchmarkTrainB64T128(b *testing.B)        { benchmarkTrain(b, 64, 128, true) }
