package lstm

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/gomlx/compute"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// The Go benchmarks here time the pieces of the reference measurement on the shared test
// backend (go:ops_sequential) or on LSTMLAB_BENCH_BACKEND when set (e.g. "go:parallelism=-1"), e.g.
//
//	GOEXPERIMENT=simd go test ./lstm/ -run '^$' -bench 'Train|MatMul' -benchtime 10x
//
// BenchmarkReferenceReport runs the whole RunBenchmark (as `lstmlab bench` does) and logs its table;
// LSTMLAB_BENCH_CORPUS names the corpus file (the Moby Dick text) whose vocabulary sizes the model.

// benchBackend returns the backend the benchmarks run on and its name.
func benchBackend(b *testing.B) (compute.Backend, string) {
	name := os.Getenv("LSTMLAB_BENCH_BACKEND")
	if name == "" {
		return testBackend(b), GoBackend
	}
	backend, cfg, err := NewBackend(name)
	if err != nil {
		b.Fatal(err)
	}
	return backend, cfg
}

func benchTrainer(b *testing.B, batch, seq int, hand bool) *Trainer {
	corpus := syntheticText(batch*seq*4+10, 89)
	vocab, err := text.BuildCharVocab(corpus)
	if err != nil {
		b.Fatal(err)
	}
	ids, _ := vocab.Encode(corpus)
	cfg := DefaultConfig()
	cfg.BatchSize, cfg.SeqLen, cfg.Steps = batch, seq, 1<<30
	backend, _ := benchBackend(b)
	m, err := New(cfg, vocab, backend)
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
	seconds := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(batch*seq)/seconds, "tokens/s")
	cfg := tr.Model.Config
	b.ReportMetric(TrainFLOPsPerStep(cfg.Layers, cfg.Hidden, cfg.EmbedDim, tr.Model.Vocab.Size(), batch, seq)/seconds/1e9, "GFLOP/s")
}

func BenchmarkTrainB32T64(b *testing.B)         { benchmarkTrain(b, 32, 64, true) }
func BenchmarkTrainB32T64Autodiff(b *testing.B) { benchmarkTrain(b, 32, 64, false) }
func BenchmarkTrainB64T128(b *testing.B)        { benchmarkTrain(b, 64, 128, true) }

// BenchmarkMatMulPeak times the float32 n×n by n×n products behind the report's peak figure.
func BenchmarkMatMulPeak(b *testing.B) {
	backend, _ := benchBackend(b)
	for _, n := range []int{512, 1024} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var peak MatMulPeak
			for range b.N {
				var err error
				if peak, err = measureMatMulPeak(backend, n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(peak.GFLOPS, "GFLOP/s")
		})
	}
}

// BenchmarkReferenceReport runs the reference measurement once per iteration and logs it.
func BenchmarkReferenceReport(b *testing.B) {
	backend, name := benchBackend(b)
	opts := DefaultBenchOptions()
	if path := os.Getenv("LSTMLAB_BENCH_CORPUS"); path != "" {
		corpus, err := text.LoadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		opts.Corpus, opts.CorpusName = corpus.Text, path
	}
	for range b.N {
		r, err := RunBenchmark(backend, name, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Log("\n" + r.Table())
		for _, t := range r.Train {
			b.ReportMetric(t.TokensPerSec, fmt.Sprintf("tokens/s-%dx%d", t.Batch, t.SeqLen))
		}
		b.ReportMetric(r.Generate.TokensPerSec, "gen-tokens/s")
	}
}

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
