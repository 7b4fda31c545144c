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

func TestScoreMatchesEvaluationLoss(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	const txt = "the cat met the dog on a log.\n"
	res, err := m.Score(txt)
	if err != nil {
		t.Fatal(err)
	}
	n := utf8.RuneCountInString(txt)
	if res.Tokens != n-1 || len(res.PerToken) != n-1 || res.Chars != n-1 {
		t.Fatalf("scored %d tokens (%d listed, %d chars), want %d", res.Tokens, len(res.PerToken), res.Chars, n-1)
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
	if math.Abs(res.NLL- -res.LogProb/float64(res.Tokens)) > 1e-12 || math.Abs(res.Perplexity-math.Exp(res.NLL)) > 1e-9 ||
		math.Abs(res.BitsPerChar-res.NLL/math.Ln2) > 1e-12 {
		t.Errorf("inconsistent metrics: %+v", res)
	}
	// An untrained model is close to uniform: perplexity near the vocabulary size.
	if v := float64(m.Vocab.Size()); res.Perplexity < v/2 || res.Perplexity > v*2 {
		t.Errorf("untrained perplexity %g, vocabulary %g", res.Perplexity, v)
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
	if got, want := res.PerToken[len(res.PerToken)-1].LogProb, math.Log(dist[id]); math.Abs(got-want) > 1e-6 {
		t.Errorf("last token log-probability %g, distribution says %g", got, want)
	}
}

func TestScoreRejectsBadText(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	for _, txt := range []string{"", "a"} {
		if _, err := m.Score(txt); err == nil || !strings.Contains(err.Error(), "at least 2") {
			t.Errorf("Score(%q): got %v, want a too-short error", txt, err)
		}
	}
	_, err := m.Score("the Zebra")
	if !errors.Is(err, text.ErrUnknownToken) || !strings.Contains(err.Error(), `'Z'`) {
		t.Errorf("unknown character: got %v, want an error naming 'Z'", err)
	}
	if _, err := m.Score("the \xff cat"); err == nil {
		t.Error("Score accepted invalid UTF-8")
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
	ids, _ := v.Encode(txt)
	if want := -forwardNLL(t, m, ids); math.Abs(res.LogProb-want) > 1e-3 {
		t.Errorf("word Score %g, training forward pass %g", res.LogProb, want)
	}
}
