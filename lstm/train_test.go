package lstm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/lstmlab/lstmlab/lstm/text"
)

const tinyText = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat by a log.\n"

// tinyModel builds a small char model over corpus and returns it with the encoded corpus.
func tinyModel(t testing.TB, corpus string, edit func(*Config)) (*Model, []int32) {
	t.Helper()
	vocab, err := text.BuildCharVocab(corpus)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := vocab.Encode(corpus)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.EmbedDim, cfg.Hidden, cfg.Layers = 8, 32, 2
	cfg.BatchSize, cfg.SeqLen, cfg.EvalEvery, cfg.Steps = 4, 16, 50, 100
	cfg.LR = 1e-2
	if edit != nil {
		edit(&cfg)
	}
	m, err := New(cfg, vocab, testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	return m, ids
}

// trainLosses trains for the model's cfg.Steps and returns every step's training loss.
func trainLosses(t testing.TB, tr *Trainer) []float64 {
	t.Helper()
	var losses []float64
	_, err := tr.Run(context.Background(), func(ev Event) error {
		if ev.Kind == EventStep {
			losses = append(losses, ev.Loss)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return losses
}

// TestOverfitTinyText checks that every cell can learn a tiny text by heart: the training loss must fall
// below 0.05 nats (from ~3 at the start).
func TestOverfitTinyText(t *testing.T) {
	corpus := strings.Repeat(tinyText, 3) // ~270 characters
	for _, cell := range CellNames() {
		t.Run(cell, func(t *testing.T) {
			m, ids := tinyModel(t, corpus, func(c *Config) { c.Cell, c.Steps, c.BatchSize, c.SeqLen, c.Hidden = cell, 300, 2, 32, 64 })
			tr, err := NewTrainer(m, ids, ids, nil)
			if err != nil {
				t.Fatal(err)
			}
			losses := trainLosses(t, tr)
			if final := losses[len(losses)-1]; final > 0.05 {
				t.Fatalf("training loss after %d steps is %.4f nats, want < 0.05 (first %.3f)", len(losses), final, losses[0])
			}
		})
	}
}

func TestSameSeedSameLosses(t *testing.T) {
	run := func() []float64 {
		m, ids := tinyModel(t, strings.Repeat(tinyText, 2), func(c *Config) { c.Steps, c.Dropout = 12, 0.2 })
		tr, err := NewTrainer(m, ids, ids, nil)
		if err != nil {
			t.Fatal(err)
		}
		return trainLosses(t, tr)
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d: loss %v then %v with the same seed", i+1, a[i], b[i])
		}
	}
	// A different seed must give different losses, or the test above proves nothing.
	m, ids := tinyModel(t, strings.Repeat(tinyText, 2), func(c *Config) { c.Steps, c.Dropout, c.Seed = 12, 0.2, 99 })
	tr, _ := NewTrainer(m, ids, ids, nil)
	if c := trainLosses(t, tr); c[0] == a[0] {
		t.Fatal("a different seed gave the same first loss")
	}
}

// TestTrainingBackendIsReproducible checks the training backend (parallel ops) gives the same losses twice
// for the same seed and the same losses as the sequential backend within float32 noise: parallel execution
// changes when ops run, not what they compute.
func TestTrainingBackendIsReproducible(t *testing.T) {
	parallel, name, err := NewTrainingBackend("go")
	if err != nil {
		t.Fatal(err)
	}
	if name != GoTrainingBackend {
		t.Fatalf("training backend %q, want %q", name, GoTrainingBackend)
	}
	corpus := strings.Repeat(tinyText, 2)
	run := func(backend compute.Backend) []float64 {
		m, ids := tinyModel(t, corpus, func(c *Config) { c.Steps, c.Dropout = 12, 0.2 })
		if backend != nil {
			var err error
			if m, err = New(m.Config, m.Vocab, backend); err != nil {
				t.Fatal(err)
			}
		}
		tr, err := NewTrainer(m, ids, ids, nil)
		if err != nil {
			t.Fatal(err)
		}
		return trainLosses(t, tr)
	}
	a, b, sequential := run(parallel), run(parallel), run(nil)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d: loss %v then %v with the same seed on %s", i+1, a[i], b[i], name)
		}
		if math.Abs(a[i]-sequential[i]) > 1e-4 {
			t.Fatalf("step %d: loss %v on %s, %v on %s", i+1, a[i], name, sequential[i], GoBackend)
		}
	}
}

// TestResumeGivesSameLossesAsUninterruptedRun trains 14 steps in one go, and 7 + 7 with a checkpoint saved,
// loaded and resumed between them, for every cell and both optimizers, with streams reset mid-epoch and
// started at a new offset each epoch (reset_prob, epoch_offset): the losses must be the same. The
// checkpoint falls in the middle of an epoch after the first (epoch > 0, 0 < window < windows per epoch,
// at a non-zero stream offset), so the resumed trainer must rebuild that epoch's rotated streams and
// carry on from the saved window.
func TestResumeGivesSameLossesAsUninterruptedRun(t *testing.T) {
	corpus := strings.Repeat(tinyText, 2)
	for _, cell := range CellNames() {
		for _, opt := range OptimizerNames() {
			t.Run(cell+"/"+opt, func(t *testing.T) {
				edit := func(c *Config) {
					c.Cell, c.Steps, c.Dropout, c.Optimizer, c.Momentum, c.WeightDecay = cell, 14, 0.1, opt, 0.9, 0.01
					c.ResetProb, c.EpochOffset = 0.3, true // resets and moved stream starts on both sides of the resume
					if opt == "sgd" {
						c.LR = 0.3
					}
				}
				m, ids := tinyModel(t, corpus, edit)
				full, _ := NewTrainer(m, ids, ids, nil)
				want := trainLosses(t, full)

				m2, _ := tinyModel(t, corpus, func(c *Config) { edit(c); c.Steps = 7 })
				first, _ := NewTrainer(m2, ids, ids, nil)
				got := trainLosses(t, first)
				path := filepath.Join(t.TempDir(), "ckpt.safetensors")
				if err := first.SaveCheckpoint(path); err != nil {
					t.Fatal(err)
				}
				ck, err := Load(path, testBackend(t))
				if err != nil {
					t.Fatal(err)
				}
				if ck.Model.Cell().Name() != cell {
					t.Fatalf("loaded a %s model, saved a %s", ck.Model.Cell().Name(), cell)
				}
				if st := ck.State; st == nil || st.Step != 7 || st.Epoch == 0 || st.Window == 0 || st.Window >= first.train.NumWindows() ||
					epochOffset(ck.Model.Config, st.Epoch, len(first.trainIDs)) == 0 {
					t.Fatalf("checkpoint state %+v (%d windows per epoch): want step 7 mid-epoch (epoch > 0, 0 < window < windows) at a non-zero stream offset",
						st, first.train.NumWindows())
				}
				ck.Model.Config.Steps = 14
				resumed, err := ResumeTrainer(ck, ids, ids, nil)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, trainLosses(t, resumed)...)
				if len(got) != len(want) {
					t.Fatalf("%d losses after resume, want %d", len(got), len(want))
				}
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-6 {
						t.Fatalf("step %d: resumed loss %v, uninterrupted %v", i+1, got[i], want[i])
					}
				}
			})
		}
	}
}

func TestTruncatedCheckpointIsRejected(t *testing.T) {
	m, _ := tinyModel(t, tinyText, nil)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	for _, n := range []int{0, 7, 100, len(data) / 2, len(data) - 3} {
		if err := os.WriteFile(path, data[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path, testBackend(t)); !errors.Is(err, ErrCorruptCheckpoint) {
			t.Errorf("truncated to %d bytes: err = %v, want ErrCorruptCheckpoint", n, err)
		}
	}
	// Flip one byte of tensor data: the structure stays valid, the checksum catches it.
	flipped := append([]byte{}, data...)
	flipped[len(flipped)-5] ^= 0xff
	_ = os.WriteFile(path, flipped, 0o644)
	if _, err := Load(path, testBackend(t)); !errors.Is(err, ErrCorruptCheckpoint) {
		t.Errorf("flipped byte: err = %v, want ErrCorruptCheckpoint", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing"), testBackend(t)); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestSaveLoadKeepsWeightsAndVocab(t *testing.T) {
	m, _ := tinyModel(t, "汉字 and accents: café — ok\n", nil)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	ck, err := Load(path, testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	if ck.State != nil {
		t.Error("weights-only save came back with a training state")
	}
	if strings.Join(ck.Model.Vocab.Tokens(), "") != strings.Join(m.Vocab.Tokens(), "") {
		t.Error("vocabulary changed")
	}
	a := tensors.MustCopyFlatData[float32](m.Store.GetVariable(ParamLayerWHH(1)).MustValue())
	b := tensors.MustCopyFlatData[float32](ck.Model.Store.GetVariable(ParamLayerWHH(1)).MustValue())
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("weight %d: %v became %v", i, a[i], b[i])
		}
	}
}

// TestGradientsMatchFiniteDifferences checks the full one-layer model's gradients (embedding, hand-written
// backward of the cell, head, loss) against central finite differences of the loss, for every cell, with
// separate and with tied embedding and head weights.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	for _, cell := range CellNames() {
		for _, tied := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tied=%v", cell, tied), func(t *testing.T) {
				m, ids := tinyModel(t, "abcabdacbd", func(c *Config) {
					c.Cell, c.Layers, c.Hidden, c.EmbedDim, c.BatchSize, c.SeqLen, c.TieWeight = cell, 1, 4, 3, 2, 3, tied
					if tied {
						c.EmbedDim = 4
					}
				})
				checkGradientsByFiniteDifferences(t, m, ids)
			})
		}
	}
}

// checkGradientsByFiniteDifferences compares every trainable parameter's gradient (every other entry) of
// the mean training loss of one window of ids (batch 2 × 3 steps, from zero state) with central finite
// differences. The parameters are first redrawn from U(±0.8), so that no gradient is vanishingly small
// (a fresh model's recurrent weights see a near-zero h after a few steps).
func checkGradientsByFiniteDifferences(t *testing.T, m *Model, ids []int32) {
	const steps, batch = 3, 2
	rng := rand.New(rand.NewPCG(21, 22))
	for _, p := range paramSpecs(m.Config, m.Vocab.Size()) {
		if err := m.Store.GetVariable(p.Path).SetValue(tensors.FromFlatDataAndDimensions(uniformInit(0.8)(rng, dimsSize(p.Dims)), p.Dims...)); err != nil {
			t.Fatal(err)
		}
	}
	tokens := timeMajor([]int32{ids[0], ids[1], ids[2], ids[4], ids[5], ids[6]}, batch, steps)
	targets := timeMajor([]int32{ids[1], ids[2], ids[3], ids[5], ids[6], ids[7]}, batch, steps)
	zeros := tensors.FromShape(m.stateShape(batch))
	paths := m.ParamPaths()
	exec := lossGradExec(t, m, steps, paths)
	eval := func() []*tensors.Tensor {
		out, err := exec.Call(tokens, targets, zeros, zeros)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	base := eval()
	const eps = 1e-2
	checked := 0
	for pi, path := range paths {
		v := m.Store.GetVariable(path)
		orig := tensors.MustCopyFlatData[float32](v.MustValue())
		grad := tensors.MustCopyFlatData[float32](base[pi+1])
		nonZero := false
		for i := 0; i < len(orig); i += 2 { // every other element keeps the test quick
			lossAt := func(delta float32) float64 {
				w := append([]float32(nil), orig...)
				w[i] += delta
				if err := v.SetValue(tensors.FromFlatDataAndDimensions(w, v.Shape().Dimensions...)); err != nil {
					t.Fatal(err)
				}
				return float64(tensors.ToScalar[float32](eval()[0]))
			}
			numeric := (lossAt(eps) - lossAt(-eps)) / (2 * eps)
			if d := math.Abs(numeric - float64(grad[i])); d > 2e-3+2e-2*math.Abs(numeric) {
				t.Errorf("%s[%d]: analytic %.5f, finite difference %.5f", path, i, grad[i], numeric)
			}
			nonZero = nonZero || math.Abs(numeric) > 1e-4
			checked++
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(orig, v.Shape().Dimensions...)); err != nil {
			t.Fatal(err)
		}
		if !nonZero {
			t.Errorf("%s: every checked gradient is zero; the comparison proves nothing", path)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d gradient entries checked", checked)
	}
}

func TestFrozenParametersDoNotChange(t *testing.T) {
	m, ids := tinyModel(t, strings.Repeat(tinyText, 2), func(c *Config) { c.Steps = 5 })
	frozen := []string{ParamEmbedding, ParamLayerWIH(0), ParamLayerWHH(0), ParamLayerBias(0)}
	before := map[string][]float32{}
	for _, p := range append(frozen, ParamLayerWHH(1)) {
		before[p] = tensors.MustCopyFlatData[float32](m.Store.GetVariable(p).MustValue())
	}
	tr, err := NewTrainer(m, ids, ids, frozen)
	if err != nil {
		t.Fatal(err)
	}
	trainLosses(t, tr)
	for p, was := range before {
		now := tensors.MustCopyFlatData[float32](m.Store.GetVariable(p).MustValue())
		same := true
		for i := range was {
			same = same && was[i] == now[i]
		}
		isFrozen := p != ParamLayerWHH(1)
		if same != isFrozen {
			t.Errorf("%s: unchanged=%v, frozen=%v", p, same, isFrozen)
		}
		if isFrozen && m.Store.GetVariable(slotPath("m", p)) != nil {
			t.Errorf("%s is frozen but has optimizer state", p)
		}
	}
}

func TestEarlyStoppingStopsWhenValidationStalls(t *testing.T) {
	// Validating on random text the model cannot learn: validation loss soon stops improving.
	m, ids := tinyModel(t, strings.Repeat(tinyText, 2)+syntheticCorpus(600, 20), func(c *Config) {
		c.Steps, c.EvalEvery, c.Patience, c.LR = 400, 5, 2, 3e-2
	})
	val := ids[len(ids)-600:]
	tr, _ := NewTrainer(m, ids[:len(ids)-600], val, nil)
	reason, err := tr.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if reason != StopEarly || tr.State.Step >= 400 {
		t.Fatalf("stopped with %q at step %d, want early stopping before 400", reason, tr.State.Step)
	}
}

func TestConfigValidationNamesTheKey(t *testing.T) {
	for key, edit := range map[string]func(*Config){
		"lr":          func(c *Config) { c.LR = -1 },
		"hidden":      func(c *Config) { c.Hidden = 0 },
		"dropout":     func(c *Config) { c.Dropout = 1.5 },
		"optimizer":   func(c *Config) { c.Optimizer = "adagrad" },
		"tie_weights": func(c *Config) { c.TieWeight = true },
		"lr ":         func(c *Config) { c.LR = math.NaN() },
	} {
		c := DefaultConfig()
		edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(key)) {
			t.Errorf("%s: err = %v", key, err)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("default config invalid: %v", err)
	}
}

func TestLearningRateSchedule(t *testing.T) {
	c := DefaultConfig()
	c.LR, c.Warmup, c.Steps, c.Decay, c.DecayRate = 1, 10, 110, "cosine", 0
	if lr := LearningRate(c, 0); math.Abs(lr-0.1) > 1e-12 {
		t.Errorf("warm-up step 0: %v", lr)
	}
	if lr := LearningRate(c, 10); math.Abs(lr-1) > 1e-12 {
		t.Errorf("end of warm-up: %v", lr)
	}
	if lr := LearningRate(c, 60); math.Abs(lr-0.5) > 1e-9 {
		t.Errorf("cosine midpoint: %v", lr)
	}
	c.Decay, c.DecayEvery, c.DecayRate, c.Warmup = "step", 100, 0.1, 0
	if lr := LearningRate(c, 250); math.Abs(lr-0.01) > 1e-12 {
		t.Errorf("step decay after 2 periods: %v", lr)
	}
}

func TestClipByGlobalNorm(t *testing.T) {
	exec := MustNewExec(testBackend(t), func(a, b *Node) []*Node {
		clipped, norm := clipByGlobalNorm([]*Node{a, b}, 1)
		return []*Node{clipped[0], clipped[1], norm}
	})
	out := exec.MustCall([]float32{3, 0}, []float32{0, 4}) // ‖g‖ = 5
	if n := tensors.ToScalar[float32](out[2]); math.Abs(float64(n)-5) > 1e-5 {
		t.Fatalf("norm %v, want 5", n)
	}
	a, b := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
	if math.Abs(float64(a[0])-0.6) > 1e-5 || math.Abs(float64(b[1])-0.8) > 1e-5 {
		t.Fatalf("clipped to %v %v, want [0.6 0] [0 0.8]", a, b)
	}
}

// TestEvaluationSeesUpdatedWeights checks that a compiled graph reads the weights as they are when it
// runs, not as they were when it was compiled: the trainer's evaluator, compiled before training, must
// agree with one compiled afterwards (GoMLX would embed variables as constants otherwise; see newExec).
func TestEvaluationSeesUpdatedWeights(t *testing.T) {
	corpus := strings.Repeat("the cat sat on the mat. ", 30)
	m, ids := tinyModel(t, corpus, nil)
	tr, err := NewTrainer(m, ids, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, err := tr.Validate()
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	after, err := tr.Validate()
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := m.Evaluate(ids)
	if err != nil {
		t.Fatal(err)
	}
	if after.Val.Loss >= before.Val.Loss-0.1 {
		t.Errorf("validation loss %.4f after 20 steps, %.4f before: the evaluator does not see the new weights", after.Val.Loss, before.Val.Loss)
	}
	if math.Abs(after.Val.Loss-fresh.Loss) > 1e-4 {
		t.Errorf("reused evaluator gives %.6f, a freshly compiled one %.6f", after.Val.Loss, fresh.Loss)
	}
}

func TestTrainFLOPsPerStepFollowsTheFormula(t *testing.T) {
	// The reference shape by hand: per token 4·256·(64+256) + 4·256·(256+256) + 256·89 = 874752
	// multiply-adds forward; ×2 FLOPs each, ×3 for the backward, ×2048 tokens.
	cfg := DefaultConfig()
	if got, want := TrainFLOPsPerStep(cfg, 89), 6.0*2048*874752; got != want {
		t.Errorf("reference shape: %g FLOPs, want %g", got, want)
	}
	// The GRU has 3 gate blocks, the RNN 1: per token 3·256·320 + 3·256·512 + 256·89 and 256·320 + 256·512 + 256·89.
	for cell, perToken := range map[string]float64{"gru": 3*256*320 + 3*256*512 + 256*89, "rnn": 256*320 + 256*512 + 256*89} {
		c := cfg
		c.Cell = cell
		if got, want := TrainFLOPsPerStep(c, 89), 6.0*2048*perToken; got != want {
			t.Errorf("%s: %g FLOPs, want %g", cell, got, want)
		}
	}
	// Linear in the number of tokens.
	small := Config{Cell: "lstm", Layers: 1, Hidden: 16, EmbedDim: 8, BatchSize: 2, SeqLen: 3}
	double := small
	double.BatchSize = 4
	if a, b := TrainFLOPsPerStep(small, 10), TrainFLOPsPerStep(double, 10); b != 2*a {
		t.Errorf("doubling the batch gave %g then %g FLOPs", a, b)
	}
}
