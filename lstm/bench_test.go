package lstm

import (
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/gomlx/compute"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// The Go benchmarks here time training steps and generated tokens at the reference shape (2 × 256,
// embedding 64, vocabulary 89) on the pure-Go backend in each job's configuration (GoTrainingBackend for
// training, GoBackend for generation), or on LSTMLAB_BENCH_BACKEND for both when set, e.g.
//
//	go test ./lstm/ -run '^$' -bench 'TrainB32T64$|Generate$' -benchtime 6x -count 5
//
// The whole reference report (`lstmlab bench`) is internal/bench's BenchmarkReferenceReport.

// benchBackends caches one backend per job: tensors cannot move between backend instances, and opening
// one per benchmark would leak worker pools.
var benchBackends = map[Job]compute.Backend{}

// benchBackend returns the backend benchmarks of job run on.
func benchBackend(b *testing.B, job Job) compute.Backend {
	if be, ok := benchBackends[job]; ok {
		return be
	}
	be, _, err := OpenBackend(os.Getenv("LSTMLAB_BENCH_BACKEND"), job)
	if err != nil {
		b.Fatal(err)
	}
	benchBackends[job] = be
	return be
}

// benchConfig is the reference shape at batch × seq for cell.
func benchConfig(batch, seq int) Config {
	cfg := DefaultConfig()
	cfg.BatchSize, cfg.SeqLen, cfg.Steps = batch, seq, 1<<30
	return cfg
}

func benchTrainer(b *testing.B, cfg Config, hand bool) *Trainer {
	corpus := syntheticCorpus(cfg.BatchSize*cfg.SeqLen*4+10, 89)
	vocab, err := text.BuildCharVocab(corpus)
	if err != nil {
		b.Fatal(err)
	}
	ids, _ := vocab.Encode(corpus)
	m, err := New(cfg, vocab, benchBackend(b, Training))
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

func benchmarkTrain(b *testing.B, cfg Config, hand bool) {
	tr := benchTrainer(b, cfg, hand)
	b.ResetTimer()
	for range b.N {
		if _, err := tr.Step(); err != nil {
			b.Fatal(err)
		}
	}
	seconds := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(cfg.BatchSize*cfg.SeqLen)/seconds, "tokens/s")
	b.ReportMetric(TrainFLOPsPerStep(cfg, tr.Model.Vocab.Size())/seconds/1e9, "GFLOP/s")
}

func BenchmarkTrainB32T64(b *testing.B)         { benchmarkTrain(b, benchConfig(32, 64), true) }
func BenchmarkTrainB32T64Autodiff(b *testing.B) { benchmarkTrain(b, benchConfig(32, 64), false) }
func BenchmarkTrainB64T128(b *testing.B)        { benchmarkTrain(b, benchConfig(64, 128), true) }

// BenchmarkGenerate measures single-stream sampling (one token per step graph call, temperature 1
// on the host) at the reference shape: 2 layers × 256 hidden, embedding 64, vocabulary 80.
func BenchmarkGenerate(b *testing.B) { benchmarkGenerate(b, DefaultConfig()) }

// BenchmarkGenerateTiny measures the same on the tiny preset's shape (1 layer × 64, embedding 16), where
// the per-token overhead around the step graph weighs most.
func BenchmarkGenerateTiny(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Layers, cfg.Hidden, cfg.EmbedDim = 1, 64, 16
	benchmarkGenerate(b, cfg)
}

// BenchmarkGenerateNoWatchdog measures what the per-call watchdog costs a generated token.
func BenchmarkGenerateNoWatchdog(b *testing.B) {
	cfg := DefaultConfig()
	cfg.StepTimeout = 0
	benchmarkGenerate(b, cfg)
}

// BenchmarkTinyValidate measures one periodic validation of the tiny preset's shape (1 layer × 64,
// embedding 16, 32-step windows, eval_windows 10) over a 60,000-token split: 32 streams × 10 windows,
// 10,240 tokens scored, on the training backend (the one validation runs on).
func BenchmarkTinyValidate(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Layers, cfg.Hidden, cfg.EmbedDim, cfg.BatchSize, cfg.SeqLen, cfg.EvalLimit = 1, 64, 16, 16, 32, 10
	corpus := syntheticCorpus(60_000, 80)
	vocab := charVocab(b, corpus)
	ids, _ := vocab.Encode(corpus)
	m, err := New(cfg, vocab, benchBackend(b, Training))
	if err != nil {
		b.Fatal(err)
	}
	tr, err := NewTrainer(m, ids[:4096], ids, nil)
	if err != nil {
		b.Fatal(err)
	}
	ev, err := tr.Validate() // compiles outside the timing
	if err != nil || ev.Val.Tokens != 32*10*32 {
		b.Fatalf("validation scored %+v (%v), want 32 streams × 10 windows × 32 tokens", ev.Val, err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := tr.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkGenerate(b *testing.B, cfg Config) {
	corpus := syntheticCorpus(4000, 80)
	m, err := New(cfg, charVocab(b, corpus), benchBackend(b, Inference))
	if err != nil {
		b.Fatal(err)
	}
	s, err := m.NewStepper()
	if err != nil {
		b.Fatal(err)
	}
	logits, err := s.Step(0) // compiles the step graph outside the timing
	if err != nil {
		b.Fatal(err)
	}
	sampler := NewSampler(SampleOptions{Temperature: 1})
	b.ResetTimer()
	for range b.N {
		id, _ := sampler.Sample(logits)
		if logits, err = s.Step(id); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
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
