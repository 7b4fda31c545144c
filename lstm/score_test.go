package lstm

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// forwardNLL is the evaluation loss of training's forward pass over ids (batch 1, one window of
// len(ids)-1 steps, zero state): the summed negative log-likelihood of ids[1:] given what precedes.
func forwardNLL(t *testing.T, m *Model, ids []int32) float64 {
	t.Helper()
	steps := len(ids) - 1
	exec, err := m.newExec(func(g *Graph, in []*Node) []*Node {
		out := m.forward(g, in[0], in[2], in[3], steps, false)
		loss, _ := nll(out.Logits, in[1])
		return []*Node{ReduceAllSum(loss)}
	})
	if err != nil {
		t.Fatal(err)
	}
	zeros := tensors.FromShape(m.stateShape(1))
	out, err := exec.Call(ids[:steps], ids[1:], zeros, zeros)
	if err != nil {
		t.Fatal(err)
	}
	return scalar(out[0])
}

// logSoftmaxAt returns ln softmax(logits)[i], in float64.
func logSoftmaxAt(logits []float32, i int) float64 {
	maxLogit := math.Inf(-1)
	for _, l := range logits {
		maxLogit = math.Max(maxLogit, float64(l))
	}
	var sum float64
	for _, l := range logits {
		sum += math.Exp(float64(l) - maxLogit)
	}
	return float64(logits[i]) - maxLogit - math.Log(sum)
}

// stepperLogProbs is the reference reading of a text: one token at a time with the single-step graph from
// the zero state, ln p(ids[i] | ids[:i]) for i = 1..n-1.
func stepperLogProbs(t *testing.T, m *Model, ids []int32) []float64 {
	t.Helper()
	s, err := m.NewStepper()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(ids)-1)
	for i, id := range ids[:len(ids)-1] {
		logits, err := s.Step(id)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = logSoftmaxAt(logits, int(ids[i+1]))
	}
	return out
}

// checkAgainstStepper checks Score's per-token log-probabilities against the one-token-at-a-time reading.
func checkAgainstStepper(t *testing.T, m *Model, txt string, res ScoreResult) {
	t.Helper()
	ids, err := m.Vocab.Encode(txt)
	if err != nil {
		t.Fatal(err)
	}
	want := stepperLogProbs(t, m, ids)
	if len(res.PerToken) != len(want) || res.Tokens != len(want) {
		t.Fatalf("scored %d tokens (%d listed), the text has %d after the first", res.Tokens, len(res.PerToken), len(want))
	}
	for i, w := range want {
		if d := math.Abs(res.PerToken[i].LogProb - w); d > 1e-4 {
			t.Fatalf("token %d (%q): Score %g, step by step %g", i+1, res.PerToken[i].Token, res.PerToken[i].LogProb, w)
		}
	}
}

func TestScoreMatchesEvaluationLoss(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	const txt = "the cat met the dog on a log.\n"
	res, err := m.Score(txt)
	if err != nil {
		t.Fatal(err)
	}
	n := utf8.RuneCountInString(txt)
	if res.Tokens != n-1 || len(res.PerToken) != n-1 || res.Chars != n-1 || res.Streams != 1 || res.Level != text.Char {
		t.Fatalf("scored %d tokens (%d listed, %d chars, %d streams, level %q), want %d", res.Tokens, len(res.PerToken),
			res.Chars, res.Streams, res.Level, n-1)
	}
	var sum float64
	for _, ts := range res.PerToken {
		if ts.LogProb >= 0 || ts.Unknown {
			t.Errorf("token %q: log-probability %g, unknown %v", ts.Token, ts.LogProb, ts.Unknown)
		}
		sum += ts.LogProb
	}
	if math.Abs(sum-res.LogProb) > 1e-9 {
		t.Errorf("per-token log-probabilities sum to %g, total is %g", sum, res.LogProb)
	}
	if res.PerToken[0].Token != "h" || res.PerToken[len(res.PerToken)-1].Token != "\n" {
		t.Errorf("per-token list should be the text's tokens 2..N, got first %q last %q",
			res.PerToken[0].Token, res.PerToken[len(res.PerToken)-1].Token)
	}
	ids, _ := m.Vocab.Encode(txt)
	if want := -forwardNLL(t, m, ids); math.Abs(res.LogProb-want) > 1e-3 {
		t.Errorf("Score log-probability %g, training forward pass gives %g", res.LogProb, want)
	}
	checkAgainstStepper(t, m, txt, res)
	if math.Abs(res.Loss- -res.LogProb/float64(res.Tokens)) > 1e-12 || math.Abs(res.Perplexity-math.Exp(res.Loss)) > 1e-9 ||
		math.Abs(res.BitsPerChar-res.Loss/math.Ln2) > 1e-12 || math.Abs(res.BitsPerToken-res.BitsPerChar) > 1e-12 {
		t.Errorf("inconsistent metrics: %+v", res.EvalResult)
	}
	if res.OOV != 0 || res.OOVRate != 0 || math.Abs(res.InVocabLoss-res.Loss) > 1e-12 {
		t.Errorf("no unseen character, yet OOV %d (%g), in-vocabulary loss %g vs %g", res.OOV, res.OOVRate, res.InVocabLoss, res.Loss)
	}
	// An untrained model is close to uniform: perplexity near the vocabulary size.
	if v := float64(m.Vocab.Size()); res.Perplexity < v/2 || res.Perplexity > v*2 {
		t.Errorf("untrained perplexity %g, vocabulary %g", res.Perplexity, v)
	}
}

// TestScoreIsTheWholeTextWhateverTheRunShape scores a text of several windows under different batch sizes and
// window lengths: Score, EvaluateStream and the step-by-step reading agree to 1e-4, every token after the first
// is scored, and nothing depends on the run's shape.
func TestScoreIsTheWholeTextWhateverTheRunShape(t *testing.T) {
	txt := strings.Repeat("a cat and a dog met on a mat. ", 5) + "the end\n" // 158 characters
	base := samplingModel(t, charVocab(t, sampleCorpus))
	ids, _ := base.Vocab.Encode(txt)
	want := stepperLogProbs(t, base, ids)
	var wantSum float64
	for _, lp := range want {
		wantSum += lp
	}
	for _, shape := range []struct{ batch, seq int }{{32, 64}, {4, 16}, {64, 128}, {1, 7}} {
		m := withShape(base, shape.batch, shape.seq)
		res, err := m.Score(txt)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstStepper(t, m, txt, res)
		ev, err := m.EvaluateStream(ids)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Tokens != len(ids)-1 || math.Abs(ev.Loss*float64(ev.Tokens)+wantSum) > 1e-4*float64(ev.Tokens) ||
			math.Abs(ev.Loss-res.Loss) > 1e-9 || ev.Accuracy != res.Accuracy {
			t.Errorf("batch %d × %d: EvaluateStream %+v, Score %+v, step by step %g nats in total", shape.batch, shape.seq,
				ev, res.EvalResult, -wantSum)
		}
	}
}

// TestScoreShortTexts: a one-token text says why nothing can be scored; a two-token and a sub-window text are
// scored exactly.
func TestScoreShortTexts(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	for _, txt := range []string{"", "a"} {
		_, err := m.Score(txt)
		if !errors.Is(err, text.ErrNothingToPredict) || !strings.Contains(err.Error(), "at least 2") ||
			!strings.Contains(err.Error(), "context") {
			t.Errorf("Score(%q): %v, want an error saying the first token is only context", txt, err)
		}
		ids, _ := m.Vocab.Encode(txt)
		if _, err := m.EvaluateStream(ids); !errors.Is(err, text.ErrNothingToPredict) {
			t.Errorf("EvaluateStream(%q): %v", txt, err)
		}
	}
	for _, txt := range []string{"at", "a dog"} { // 1 and 4 targets, under one 64-step window
		res, err := m.Score(txt)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstStepper(t, m, txt, res)
	}
	if _, err := m.Score("the \xff cat"); err == nil {
		t.Error("Score accepted invalid UTF-8")
	}
}

func TestScoreAgreesWithNextTokenDistribution(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	res, err := m.Score("a dog sat")
	if err != nil {
		t.Fatal(err)
	}
	dist, err := m.NextTokenDistribution("a dog sa")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := m.Vocab.ID("t")
	if got, want := res.PerToken[len(res.PerToken)-1].LogProb, math.Log(dist[id]); math.Abs(got-want) > 1e-5 {
		t.Errorf("last token log-probability %g, distribution says %g", got, want)
	}
}

// TestScoreUnseenTokens: at every level, tokens the vocabulary lacks are read as <unk>, reported (which and how
// many), counted as out-of-vocabulary, and left out of the in-vocabulary figures; never an error.
func TestScoreUnseenTokens(t *testing.T) {
	for _, c := range []struct {
		level   text.Level
		txt     string
		unseen  []string
		count   int
		scored  int // tokens after the first
		unknown int // of those, unseen
	}{
		{text.Char, "the Zoo ate ç=#", []string{"Z", "ç", "=", "#"}, 4, 14, 4},
		{text.Grapheme, "the Zoo 👍🏽 cat", []string{"Z", "👍🏽"}, 2, 12, 2},
		{text.Word, "the zebra sat on a quokka .", []string{"zebra", "quokka"}, 2, 6, 2},
	} {
		v, err := text.BuildVocab(sampleCorpus, text.VocabOptions{Level: c.level, MinFreq: 1})
		if err != nil {
			t.Fatal(err)
		}
		m := samplingModel(t, v)
		res, err := m.Score(c.txt)
		if err != nil {
			t.Fatalf("%s: %v", c.level, err)
		}
		if res.Unseen.Count != c.count || strings.Join(res.Unseen.Tokens, "|") != strings.Join(c.unseen, "|") {
			t.Errorf("%s: unseen %+v, want %q", c.level, res.Unseen, c.unseen)
		}
		if res.Tokens != c.scored || res.OOV != c.unknown || math.Abs(res.OOVRate-float64(c.unknown)/float64(c.scored)) > 1e-12 {
			t.Errorf("%s: %d scored, OOV %d (%g); want %d, %d", c.level, res.Tokens, res.OOV, res.OOVRate, c.scored, c.unknown)
		}
		var known, knownNLL float64
		unk, _ := v.UnkID()
		dist, _ := m.NextTokenDistribution("the") // <unk> is a real row of the model: it has a probability
		for _, ts := range res.PerToken {
			if ts.Unknown {
				continue
			}
			known++
			knownNLL -= ts.LogProb
		}
		if math.Abs(res.InVocabLoss-knownNLL/known) > 1e-9 || math.Abs(res.InVocabPerplexity-math.Exp(res.InVocabLoss)) > 1e-9 {
			t.Errorf("%s: in-vocabulary loss %g, want %g", c.level, res.InVocabLoss, knownNLL/known)
		}
		if !(dist[unk] > 0) {
			t.Errorf("%s: <unk> has probability %g", c.level, dist[unk])
		}
		checkAgainstStepper(t, m, c.txt, res)
		if _, err := m.Generate(SampleOptions{Prompt: c.txt, Length: 3, Temperature: 1}); err != nil {
			t.Errorf("%s: prompt with unseen tokens: %v", c.level, err)
		}
	}
}

func TestScoreWordLevel(t *testing.T) {
	v, err := text.BuildWordVocab(sampleCorpus, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := samplingModel(t, v)
	const txt = "  the zebra sat on a mat."
	res, err := m.Score(txt)
	if err != nil {
		t.Fatal(err)
	}
	// Tokens: the zebra sat on a mat . → 6 scored; "zebra" is <unk>.
	if res.Tokens != 6 || res.PerToken[0].Token != "zebra" || !res.PerToken[0].Unknown || res.PerToken[1].Unknown {
		t.Errorf("word scores: %+v", res.PerToken)
	}
	// Characters after the first token: " zebra sat on a mat." is 20.
	if res.Chars != 20 {
		t.Errorf("scored %d characters, want 20", res.Chars)
	}
	if want := -res.LogProb / math.Ln2 / 20; math.Abs(res.BitsPerChar-want) > 1e-12 {
		t.Errorf("bits per character %g, want %g", res.BitsPerChar, want)
	}
	if res.BitsName() != "bpw" || math.Abs(res.BitsPerToken-res.Loss/math.Ln2) > 1e-12 {
		t.Errorf("word level: %s %g, want bpw = loss / ln 2", res.BitsName(), res.BitsPerToken)
	}
	ids, _ := v.Encode(txt)
	if want := -forwardNLL(t, m, ids); math.Abs(res.LogProb-want) > 1e-3 {
		t.Errorf("word Score %g, training forward pass %g", res.LogProb, want)
	}
}
