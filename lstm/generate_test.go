package lstm

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/lstmlab/lstmlab/lstm/text"
)

const sampleCorpus = "the cat sat on the mat.\nthe dog sat on the log.\na cat and a dog met on a mat.\n"

// samplingModel builds an untrained 2-layer model (hidden 16, embedding 8) over vocab.
func samplingModel(t testing.TB, vocab *text.Vocab) *Model {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Hidden, cfg.EmbedDim, cfg.Layers = 16, 8, 2
	cfg.Level, cfg.Normalize = string(vocab.Level()), string(vocab.Normalization())
	m, err := New(cfg, vocab, testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func charVocab(t testing.TB, corpus string) *text.Vocab {
	t.Helper()
	v, err := text.BuildCharVocab(corpus)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func generate(t testing.TB, m *Model, opts SampleOptions) string {
	t.Helper()
	out, err := m.Generate(opts)
	if err != nil {
		t.Fatalf("generate %+v: %v", opts, err)
	}
	return out
}

// minLogitGap feeds prompt then the continuation ids and returns the smallest gap between the
// largest and second-largest logit over the steps that chose those ids.
func minLogitGap(t *testing.T, m *Model, prompt string, ids []int32) float64 {
	t.Helper()
	s, err := m.NewStepper()
	if err != nil {
		t.Fatal(err)
	}
	primer, err := m.Vocab.Encode(prompt)
	if err != nil {
		t.Fatal(err)
	}
	feed := slices.Concat(primer, ids[:len(ids)-1])
	gap := math.Inf(1)
	for i, id := range feed {
		logits, err := s.Step(id)
		if err != nil {
			t.Fatal(err)
		}
		if i < len(primer)-1 {
			continue
		}
		sorted := slices.Clone(logits)
		slices.Sort(sorted)
		gap = math.Min(gap, float64(sorted[len(sorted)-1]-sorted[len(sorted)-2]))
	}
	return gap
}

func TestGenerateTemperatureToZeroIsGreedy(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	opts := SampleOptions{Prompt: "the ", Length: 40, Greedy: true}
	trace, greedy, err := m.GenerateTrace(opts)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int32, len(trace))
	for i, g := range trace {
		ids[i] = g.ID
	}
	gap := minLogitGap(t, m, opts.Prompt, ids)
	if gap <= 0 {
		t.Fatalf("the greedy path has a tie (gap %g): the limit is not unique", gap)
	}
	if got := generate(t, m, SampleOptions{Prompt: "the ", Length: 40, Temperature: 0, Seed: 3}); got != greedy {
		t.Errorf("temperature 0 gave %q, greedy %q", got, greedy)
	}
	// Non-zero temperatures go through the softmax, not the arg-max shortcut. Once T is small against
	// the smallest logit gap on the way (every other token has probability below e^(−gap/T)), each
	// draw is the arg-max; T = 1e-300 checks that nothing overflows on the way to the limit.
	for _, temp := range []float64{gap / 40, gap / 1000, 1e-300} {
		for seed := range uint64(3) {
			got := generate(t, m, SampleOptions{Prompt: "the ", Length: 40, Temperature: temp, Seed: seed})
			if got != greedy {
				t.Errorf("temperature %g (logit gap %g) seed %d gave %q, greedy %q", temp, gap, seed, got, greedy)
			}
		}
	}
	// A high temperature on the same model does sample something else: the comparison above can fail.
	if hot := generate(t, m, SampleOptions{Prompt: "the ", Length: 40, Temperature: 1, Seed: 1}); hot == greedy {
		t.Errorf("temperature 1 reproduced the greedy text %q", greedy)
	}
}

func TestGenerateTopKOneIsGreedy(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	greedy := generate(t, m, SampleOptions{Prompt: "a cat", Length: 50, Greedy: true})
	for seed := range uint64(3) {
		got := generate(t, m, SampleOptions{Prompt: "a cat", Length: 50, Temperature: 1, TopK: 1, Seed: seed})
		if got != greedy {
			t.Errorf("top-k 1 seed %d gave %q, greedy %q", seed, got, greedy)
		}
	}
}

func TestGenerateTinyTopPIsGreedy(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	greedy := generate(t, m, SampleOptions{Prompt: "a cat", Length: 50, Greedy: true})
	for seed := range uint64(3) {
		got := generate(t, m, SampleOptions{Prompt: "a cat", Length: 50, Temperature: 1, TopP: 1e-9, Seed: seed})
		if got != greedy {
			t.Errorf("top-p 1e-9 seed %d gave %q, greedy %q", seed, got, greedy)
		}
	}
}

func TestGenerateSeedReproducesSample(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	opts := SampleOptions{Prompt: "the", Length: 60, Temperature: 1, Seed: 7}
	first, second := generate(t, m, opts), generate(t, m, opts)
	if first != second {
		t.Errorf("same seed, different samples:\n%q\n%q", first, second)
	}
	opts.Seed = 8
	if other := generate(t, m, opts); other == first {
		t.Errorf("seeds 7 and 8 gave the same sample %q", first)
	}
}

func TestGenerateLengthRespected(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	for _, n := range []int{0, 1, 25} {
		out := generate(t, m, SampleOptions{Prompt: "the", Length: n, Temperature: 1, Seed: 1})
		if got := utf8.RuneCountInString(out); got != n {
			t.Errorf("length %d: generated %d characters (%q)", n, got, out)
		}
	}
}

func TestGenerateStopString(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	opts := SampleOptions{Prompt: "the", Length: 200, Temperature: 1, Seed: 11}
	full := generate(t, m, opts)
	// A stop string the unstopped sample contains, first seen well after the start.
	stop := full[20:22]
	want := full[:strings.Index(full, stop)]
	opts.Stop = stop
	got := generate(t, m, opts)
	if got != want {
		t.Errorf("stop %q: got %q, want %q (full sample %q)", stop, got, want, full)
	}
	// Streaming with a stop string: the pieces never contain it, even split across pieces.
	var pieces []string
	if err := m.GenerateFunc(opts, func(p string) error { pieces = append(pieces, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if joined := strings.Join(pieces, ""); joined != want {
		t.Errorf("streamed %q, want %q", joined, want)
	}
	// A stop string that never comes leaves the full length.
	opts.Stop = "never appears"
	if got := generate(t, m, opts); got != full {
		t.Errorf("absent stop string changed the sample: %q vs %q", got, full)
	}
}

func TestGenerateFuncStreamsAndStopsOnError(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	opts := SampleOptions{Prompt: "the", Length: 30, Temperature: 1, Seed: 2}
	var pieces []string
	if err := m.GenerateFunc(opts, func(p string) error { pieces = append(pieces, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(pieces) != 30 {
		t.Errorf("got %d pieces, want one per character (30)", len(pieces))
	}
	if joined, whole := strings.Join(pieces, ""), generate(t, m, opts); joined != whole {
		t.Errorf("streamed %q, Generate gave %q", joined, whole)
	}
	errEnough := errors.New("enough")
	calls := 0
	err := m.GenerateFunc(opts, func(string) error {
		calls++
		if calls == 3 {
			return errEnough
		}
		return nil
	})
	if !errors.Is(err, errEnough) || calls != 3 {
		t.Errorf("emit error: got %v after %d calls, want %v after 3", err, calls, errEnough)
	}
}

func TestGenerateUnknownPromptCharacter(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	// Unseen characters are read as <unk>: the prompt "the Zoo" is "the ", <unk>, "oo".
	withZ, err := m.NextTokenDistribution("the Zoo")
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewStepper()
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := m.Vocab.Encode("the ")
	o, _ := m.Vocab.ID("o")
	unk, _ := m.Vocab.UnkID()
	logits, err := s.Feed(append(ids, unk, o, o))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range Probabilities(logits) {
		if math.Abs(p-withZ[i]) > 1e-9 {
			t.Fatalf("token %d: after \"the Zoo\" %g, after \"the <unk>oo\" %g", i, withZ[i], p)
		}
	}
	if out, err := m.Generate(SampleOptions{Prompt: "the Zebra ç", Length: 5, Temperature: 1}); err != nil || utf8.RuneCountInString(out) != 5 {
		t.Errorf("prompt with unseen characters: got %q, %v", out, err)
	}
	// A character vocabulary saved before <unk> was reserved still says what is wrong.
	var old text.Vocab
	if err := json.Unmarshal([]byte(`{"level":"char","tokens":["t","h","e"," "]}`), &old); err != nil {
		t.Fatal(err)
	}
	cfg := m.Config
	cfg.Normalize = "none"
	mo, err := New(cfg, &old, testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = mo.Generate(SampleOptions{Prompt: "the Zebra", Length: 5})
	if !errors.Is(err, text.ErrUnknownToken) || !strings.Contains(err.Error(), `"Z"`) {
		t.Errorf("vocabulary without <unk>: got %v, want an error naming \"Z\"", err)
	}
}

func TestGenerateChinesePrompt(t *testing.T) {
	corpus := "我喜欢吃苹果。苹果很好吃。\n你喜欢吃什么？我喜欢吃面条。\n"
	v := charVocab(t, corpus)
	m := samplingModel(t, v)
	out := generate(t, m, SampleOptions{Prompt: "我喜欢", Length: 12, Temperature: 1, Seed: 5})
	if got := utf8.RuneCountInString(out); got != 12 {
		t.Fatalf("generated %d characters, want 12: %q", got, out)
	}
	for _, r := range out {
		if _, ok := v.ID(string(r)); !ok {
			t.Errorf("generated %q, not in the vocabulary", r)
		}
	}
}

func TestGenerateWordLevel(t *testing.T) {
	v, err := text.BuildWordVocab(sampleCorpus, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := samplingModel(t, v)
	trace, out, err := m.GenerateTrace(SampleOptions{Prompt: "the cat", Length: 20, Temperature: 1, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(trace) != 20 {
		t.Fatalf("trace has %d tokens, want 20", len(trace))
	}
	// The text is the traced tokens, joined with the spacing of Decode (which continues the prompt).
	var ids []int32
	for _, g := range trace {
		ids = append(ids, g.ID)
	}
	prompt, _ := v.Encode("the cat")
	withPrompt := v.Decode(slices.Concat(prompt, ids))
	if want := strings.TrimPrefix(withPrompt, v.Decode(prompt)); out != want {
		t.Errorf("word-level text %q, want %q", out, want)
	}
}

func TestSampleOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		opts SampleOptions
		key  string
	}{
		{SampleOptions{Length: -1}, "length"},
		{SampleOptions{Length: 5, Temperature: -0.5}, "temperature"},
		{SampleOptions{Length: 5, Temperature: math.NaN()}, "temperature"},
		{SampleOptions{Length: 5, TopK: -2}, "top_k"},
		{SampleOptions{Length: 5, TopP: 1.5}, "top_p"},
		{SampleOptions{Length: 5, TopP: -0.1}, "top_p"},
	} {
		err := tc.opts.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%+v: got %v, want an error naming %s", tc.opts, err, tc.key)
		}
	}
	m := samplingModel(t, charVocab(t, sampleCorpus))
	if _, err := m.Generate(SampleOptions{Length: 3, TopP: 2}); err == nil {
		t.Error("Generate accepted top_p = 2")
	}
	if err := (SampleOptions{Length: 5, Temperature: 0.7, TopK: 10, TopP: 0.9}).Validate(); err != nil {
		t.Errorf("valid options rejected: %v", err)
	}
}

func TestSamplingDistribution(t *testing.T) {
	logits := []float32{2, 0.5, 3, -1, 1} // probabilities in order of id: 2nd, 4th, 1st, 5th, 3rd
	p := Probabilities(logits)
	nonZero := func(q []float64) (n int, sum float64) {
		for _, x := range q {
			if x > 0 {
				n++
			}
			sum += x
		}
		return
	}
	// Temperature: softmax(l / T).
	hot := samplingDistribution(logits, SampleOptions{Temperature: 2})
	q := Probabilities([]float32{1, 0.25, 1.5, -0.5, 0.5})
	for i := range hot {
		if math.Abs(hot[i]-q[i]) > 1e-12 {
			t.Errorf("temperature 2: p[%d] = %g, want %g", i, hot[i], q[i])
		}
	}
	// Top-k keeps the k most probable, renormalised.
	top2 := samplingDistribution(logits, SampleOptions{Temperature: 1, TopK: 2})
	if n, sum := nonZero(top2); n != 2 || math.Abs(sum-1) > 1e-12 || top2[2] == 0 || top2[0] == 0 {
		t.Errorf("top-k 2: %v", top2)
	}
	if want := p[2] / (p[2] + p[0]); math.Abs(top2[2]-want) > 1e-12 {
		t.Errorf("top-k 2 renormalised p[2] = %g, want %g", top2[2], want)
	}
	// Top-p keeps the smallest set reaching the mass: p[2]+p[0] ≈ 0.85, so 0.8 keeps two and 0.9 three.
	if n, _ := nonZero(samplingDistribution(logits, SampleOptions{Temperature: 1, TopP: 0.8})); n != 2 {
		t.Errorf("top-p 0.8 kept %d tokens, want 2 (p = %v)", n, p)
	}
	if n, _ := nonZero(samplingDistribution(logits, SampleOptions{Temperature: 1, TopP: 0.9})); n != 3 {
		t.Errorf("top-p 0.9 kept %d tokens, want 3 (p = %v)", n, p)
	}
	// A vanishing temperature is the arg-max.
	cold := samplingDistribution(logits, SampleOptions{Temperature: 1e-3})
	if cold[2] != 1 {
		t.Errorf("temperature 1e-3: %v, want one-hot at 2", cold)
	}
	// Draws follow the distribution.
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, len(p))
	const n = 20000
	for range n {
		counts[draw(p, rng)]++
	}
	for i := range p {
		if got := float64(counts[i]) / n; math.Abs(got-p[i]) > 0.015 {
			t.Errorf("token %d drawn %.3f of the time, p = %.3f", i, got, p[i])
		}
	}
}

func TestGenerateTraceProbabilitiesAndEntropy(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	maxEntropy := math.Log(float64(m.Vocab.Size()))
	trace, out, err := m.GenerateTrace(SampleOptions{Prompt: "the", Length: 20, Temperature: 1, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for i, g := range trace {
		sb.WriteString(m.Vocab.Decode([]int32{g.ID})) // <unk> is written as U+FFFD
		// At temperature 1 with nothing cut, the sampling distribution is the model's.
		if math.Abs(g.Prob-g.ModelProb) > 1e-12 || math.Abs(g.Entropy-g.ModelEntropy) > 1e-12 {
			t.Errorf("step %d: sampling (%g, %g) differs from model (%g, %g)", i, g.Prob, g.Entropy, g.ModelProb, g.ModelEntropy)
		}
		if g.Prob <= 0 || g.Prob > 1 || g.Entropy < 0 || g.Entropy > maxEntropy+1e-9 {
			t.Errorf("step %d: probability %g, entropy %g (max %g)", i, g.Prob, g.Entropy, maxEntropy)
		}
	}
	if sb.String() != out {
		t.Errorf("trace tokens %q differ from the text %q", sb.String(), out)
	}
	// Each traced probability is what NextTokenDistribution gives after the text so far.
	dist, err := m.NextTokenDistribution("the" + out[:5])
	if err != nil {
		t.Fatal(err)
	}
	if got := dist[trace[5].ID]; math.Abs(got-trace[5].ModelProb) > 1e-6 {
		t.Errorf("NextTokenDistribution gives %g for step 5's token, the trace %g", got, trace[5].ModelProb)
	}
	var sum float64
	for _, x := range dist {
		sum += x
	}
	if len(dist) != m.Vocab.Size() || math.Abs(sum-1) > 1e-9 {
		t.Errorf("distribution of %d tokens sums to %g", len(dist), sum)
	}
	// Greedy draws from a one-hot distribution: probability 1, entropy 0; a lower temperature lowers entropy.
	greedy, _, err := m.GenerateTrace(SampleOptions{Prompt: "the", Length: 5, Greedy: true})
	if err != nil {
		t.Fatal(err)
	}
	cold, _, err := m.GenerateTrace(SampleOptions{Prompt: "the", Length: 5, Temperature: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range greedy {
		if greedy[i].Prob != 1 || greedy[i].Entropy != 0 {
			t.Errorf("greedy step %d: probability %g, entropy %g", i, greedy[i].Prob, greedy[i].Entropy)
		}
		if cold[i].Entropy >= cold[i].ModelEntropy {
			t.Errorf("temperature 0.5 step %d: entropy %g not below the model's %g", i, cold[i].Entropy, cold[i].ModelEntropy)
		}
	}
}

// TestEmptyPromptStartsAtALineStart checks the documented start context: from the zero state, a line break,
// three sampled lines (temperature 1, seed 0), then the line break that ends them; the same for every
// sampling option.
func TestEmptyPromptStartsAtALineStart(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	if got := m.Vocab.Token(m.StartToken()); got != "\n" {
		t.Fatalf("start token %q, want a line break", got)
	}
	fromEmpty, err := m.NextTokenDistribution("")
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewStepper()
	if err != nil {
		t.Fatal(err)
	}
	newline := m.StartToken()
	logits, err := s.Step(newline)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(0, pcgStream))
	var lines, written int
	for ; written < 600; written++ {
		id := int32(draw(Probabilities(logits), rng))
		if id == newline {
			if lines++; lines == 3 {
				break
			}
		}
		if logits, err = s.Step(id); err != nil {
			t.Fatal(err)
		}
	}
	if logits, err = s.Step(newline); err != nil {
		t.Fatal(err)
	}
	for i, p := range Probabilities(logits) {
		if math.Abs(p-fromEmpty[i]) > 1e-9 {
			t.Fatalf("token %d: empty prompt %g, the start context read by hand (%d tokens) %g", i, fromEmpty[i], written, p)
		}
	}
	if blank, _ := m.NextTokenDistribution(" "); slices.Equal(blank, fromEmpty) {
		t.Error("a prompt of one space gave the start context") // so the comparison above can fail
	}
	if out := generate(t, m, SampleOptions{Length: 10, Temperature: 1}); utf8.RuneCountInString(out) != 10 {
		t.Errorf("empty prompt generated %q", out)
	}
	noNewline := samplingModel(t, charVocab(t, "abc"))
	if out := generate(t, noNewline, SampleOptions{Length: 5, Greedy: true}); utf8.RuneCountInString(out) != 5 {
		t.Errorf("empty prompt without a line break in the vocabulary generated %q", out)
	}
}

// TestPromptlessGreedyTextLooksLikeTheCorpus trains a small model on text with a few rare symbols and checks
// that, with no prompt, its first greedy characters are frequent characters of the corpus.
func TestPromptlessGreedyTextLooksLikeTheCorpus(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields("the whale ship sea captain white boat deck wind wave sailor and over under")
	var b strings.Builder
	b.WriteString("#1 @ {x} [y] ~ | ^ & $ % * + = < >\n") // rare symbols, once each
	for b.Len() < 60000 {
		for range 4 + rng.IntN(5) {
			b.WriteString(words[rng.IntN(len(words))] + " ")
		}
		b.WriteString("and the sea.\n")
	}
	corpus := b.String()
	// Under one epoch: training sees the zero state only in its first window, at the corpus's first line.
	m, ids := tinyModel(t, corpus, func(c *Config) { c.Steps, c.BatchSize, c.SeqLen, c.Hidden = 150, 4, 64, 48 })
	tr, err := NewTrainer(m, ids, ids[:200], nil)
	if err != nil {
		t.Fatal(err)
	}
	trainLosses(t, tr)
	counts := map[rune]int{}
	for _, r := range corpus {
		counts[r]++
	}
	frequent := map[string]bool{}
	for r, n := range counts {
		if n >= len(corpus)/100 { // at least 1% of the text
			frequent[string(r)] = true
		}
	}
	// The start context predicts how the corpus's lines begin better than the bare zero state and a line break:
	// lower loss on the first 10 characters of 100 lines (measured: 0.74 against 1.00 nats/character).
	newline, _ := m.Vocab.ID("\n")
	var lineStarts []int
	for i := 1; i < len(ids)-10 && len(lineStarts) < 100; i++ {
		if ids[i-1] == newline {
			lineStarts = append(lineStarts, i)
		}
	}
	lineLoss := func(start func(*Stepper) ([]float32, error)) float64 {
		var sum float64
		for _, i := range lineStarts {
			s, err := m.NewStepper()
			if err != nil {
				t.Fatal(err)
			}
			logits, err := start(s)
			for k := range 10 {
				if err != nil {
					t.Fatal(err)
				}
				sum -= logSoftmaxAt(logits, int(ids[i+k]))
				logits, err = s.Step(ids[i+k])
			}
		}
		return sum / float64(10*len(lineStarts))
	}
	context := lineLoss(m.readStart)
	bare := lineLoss(func(s *Stepper) ([]float32, error) { return s.Step(newline) })
	if !(context < bare) {
		t.Errorf("first characters of lines: %.3f nats/char from the start context, %.3f from the zero state", context, bare)
	}
	trace, out, err := m.GenerateTrace(SampleOptions{Length: 12, Greedy: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range trace {
		if !frequent[g.Token] {
			t.Errorf("greedy text without a prompt %q has %q, under 1%% of the corpus (%d of %d characters)",
				out, g.Token, counts[[]rune(g.Token)[0]], len(corpus))
		}
	}
}

// forwardLogits runs training's forward pass (no dropout) over ids from zero state, batch 1, and
// returns the logits of every position: [len(ids)][V].
func forwardLogits(t *testing.T, m *Model, ids []int32) [][]float32 {
	t.Helper()
	steps := len(ids)
	exec, err := m.newExec(func(g *Graph, in []*Node) []*Node {
		return []*Node{m.forward(g, in[0], in[1], in[2], steps, false).Logits}
	})
	if err != nil {
		t.Fatal(err)
	}
	zeros := tensors.FromShape(m.stateShape(1))
	out, err := exec.Call(ids, zeros, zeros)
	if err != nil {
		t.Fatal(err)
	}
	flat, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		t.Fatal(err)
	}
	V := m.Vocab.Size()
	rows := make([][]float32, steps)
	for i := range rows {
		rows[i] = flat[i*V : (i+1)*V]
	}
	return rows
}

// TestStepperMatchesTrainingForward checks, for every cell, that the Stepper (one token at a time through the
// generation graph: prepared weights, 4 rows) gives the logits of training's forward pass over the same
// sequence, and that Reset returns to the zero state.
func TestStepperMatchesTrainingForward(t *testing.T) {
	for _, cell := range CellNames() {
		t.Run(cell, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Cell, cfg.Hidden, cfg.EmbedDim, cfg.Layers = cell, 16, 8, 2
			cfg.Dropout = 0.5 // must not matter: neither path applies dropout outside training
			m, err := New(cfg, charVocab(t, sampleCorpus), testBackend(t))
			if err != nil {
				t.Fatal(err)
			}
			ids, err := m.Vocab.Encode("the dog met a cat.\n")
			if err != nil {
				t.Fatal(err)
			}
			want := forwardLogits(t, m, ids)
			s, err := m.NewStepper()
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i, id := range ids {
				got, err := s.Step(id)
				if err != nil {
					t.Fatal(err)
				}
				for j := range got {
					worst = math.Max(worst, math.Abs(float64(got[j]-want[i][j])))
				}
			}
			if worst > 1e-5 {
				t.Errorf("step graph and training forward differ by up to %g", worst)
			}
			// Reset returns to the zero state: the first logits come back.
			s.Reset()
			first, err := s.Step(ids[0])
			if err != nil {
				t.Fatal(err)
			}
			for j := range first {
				if math.Abs(float64(first[j]-want[0][j])) > 1e-5 {
					t.Fatalf("after Reset, logit %d is %g, want %g", j, first[j], want[0][j])
				}
			}
			if _, err := s.Step(int32(m.Vocab.Size())); err == nil {
				t.Error("Step accepted a token id outside the vocabulary")
			}
		})
	}
}

// TestStepperSeesTrainedWeights checks the Stepper's promise: one made before more training gives the
// trained model's logits afterwards (the same as a Stepper made after training), not the old ones.
func TestStepperSeesTrainedWeights(t *testing.T) {
	corpus := strings.Repeat("the cat sat on the mat. ", 30)
	m, ids := tinyModel(t, corpus, nil)
	newStepper := func() *Stepper {
		s, err := m.NewStepper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// logitsAfterPrefix reads the corpus's first 5 tokens from the zero state.
	logitsAfterPrefix := func(s *Stepper) []float32 {
		s.Reset()
		logits, err := s.Feed(ids[:5])
		if err != nil {
			t.Fatal(err)
		}
		return logits
	}
	early := newStepper()
	before := logitsAfterPrefix(early)
	tr, err := NewTrainer(m, ids, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	got, want := logitsAfterPrefix(early), logitsAfterPrefix(newStepper())
	moved := 0.0
	for j := range want {
		if math.Abs(float64(got[j]-want[j])) > 1e-5 {
			t.Fatalf("logit %d: %g from the Stepper made before training, %g from one made after", j, got[j], want[j])
		}
		moved = math.Max(moved, math.Abs(float64(want[j]-before[j])))
	}
	if moved < 1e-3 {
		t.Errorf("training moved no logit by more than %g: the test would not notice stale weights", moved)
	}
}
