package lstm

import (
	"math"
	"strings"
	"testing"
)

// TestColdStartScoresPassagesFromTheZeroState checks the batched ColdStart against EvaluateStream (one
// stream from the zero state) of each passage on its own, for passages that fit and for a text shorter
// than one passage.
func TestColdStartScoresPassagesFromTheZeroState(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	ids, err := m.Vocab.Encode(strings.Repeat(sampleCorpus, 3))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ids []int32 }{{ids}, {ids[:12]}} {
		const passages, length = 5, 20
		got, err := m.ColdStart(c.ids, passages, length)
		if err != nil {
			t.Fatal(err)
		}
		n := min(length, len(c.ids)-1)
		starts := ColdStartStarts(len(c.ids), passages, n)
		var sum float64
		for _, s := range starts {
			r, err := m.EvaluateStream(c.ids[s : s+n+1])
			if err != nil {
				t.Fatal(err)
			}
			sum += r.Loss
		}
		want := sum / float64(len(starts))
		if got.Tokens != len(starts)*n || got.Streams != len(starts) || math.Abs(got.Loss-want) > 1e-5 {
			t.Errorf("%d tokens: cold start %d tokens in %d passages at %.6f nats, passages scored one by one %.6f",
				len(c.ids), got.Tokens, got.Streams, got.Loss, want)
		}
	}
	if s := ColdStartStarts(1000, 3, 99); s[0] != 0 || s[1] != 450 || s[2] != 900 {
		t.Errorf("ColdStartStarts(1000, 3, 99) = %v, want [0 450 900]: the last passage ends at the text's end", s)
	}
}

// TestFreeRunningIsTheSamplesOwnLoss checks FreeRunning against samples drawn alone through the public
// API: with a line break in the vocabulary, GenerateTrace with the prompt "\n" (the zero state reading a
// line break) and seeds seed, seed+1, ... (five: a full group of Stepper rows and one more); without one,
// a one-row Stepper loop from token 0. Each sample drawn side by side must be, token for token, the one
// drawn alone, and the figure the mean −ln p (at temperature 1) of every drawn token.
func TestFreeRunningIsTheSamplesOwnLoss(t *testing.T) {
	const seed, samples, length = 7, 5, 30
	withBreak := samplingModel(t, charVocab(t, sampleCorpus))
	if ids, err := withBreak.Vocab.Encode("\n"); err != nil || len(ids) != 1 || ids[0] != withBreak.StartToken() {
		t.Fatalf(`Encode("\n") = %v, %v; want [StartToken %d]`, ids, err, withBreak.StartToken())
	}
	noBreak := samplingModel(t, charVocab(t, strings.ReplaceAll(sampleCorpus, "\n", " ")))
	if noBreak.StartToken() != 0 {
		t.Fatalf("StartToken without a line break = %d, want 0", noBreak.StartToken())
	}
	alone := map[string]func(m *Model, seed uint64) []GeneratedToken{
		"GenerateTrace from a line break": func(m *Model, seed uint64) []GeneratedToken {
			trace, _, err := m.GenerateTrace(SampleOptions{Prompt: "\n", Length: length, Temperature: 1, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			return trace
		},
		"a one-row Stepper loop from token 0": func(m *Model, seed uint64) []GeneratedToken {
			s, err := m.NewStepper()
			if err != nil {
				t.Fatal(err)
			}
			sampler := NewSampler(SampleOptions{Temperature: 1, Seed: seed})
			var trace []GeneratedToken
			for id := int32(0); len(trace) < length; {
				logits, err := s.Step(id)
				if err != nil {
					t.Fatal(err)
				}
				id, _ = sampler.Sample(logits)
				trace = append(trace, GeneratedToken{ID: id, ModelProb: Probabilities(logits)[id]})
			}
			return trace
		},
	}
	for _, c := range []struct {
		m     *Model
		alone string
	}{{withBreak, "GenerateTrace from a line break"}, {noBreak, "a one-row Stepper loop from token 0"}} {
		got, err := c.m.FreeRunning(samples, length, seed)
		if err != nil {
			t.Fatal(err)
		}
		side, err := c.m.sampleSideBySide([]uint64{seed, seed + 1, seed + 2, seed + 3}, length)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		n := 0
		for i := range uint64(samples) {
			trace := alone[c.alone](c.m, seed+i)
			if len(trace) != length {
				t.Fatalf("%s: sample %d has %d tokens, want %d", c.alone, i, len(trace), length)
			}
			if i < 4 {
				for j := range trace {
					if side[i][j].ID != trace[j].ID || math.Abs(side[i][j].ModelProb-trace[j].ModelProb) > 1e-6 {
						t.Fatalf("sample %d token %d: %+v side by side, %+v by %s", i, j, side[i][j], trace[j], c.alone)
					}
				}
			}
			for _, tok := range trace {
				sum -= math.Log(tok.ModelProb)
				n++
			}
		}
		if want := sum / float64(n); got.Tokens != n || got.Streams != samples || math.Abs(got.Loss-want) > 1e-6 ||
			math.Abs(got.BitsPerToken-got.Loss/math.Ln2) > 1e-12 {
			t.Errorf("free-running %d tokens at %.6f nats, %s %d at %.6f", got.Tokens, got.Loss, c.alone, n, want)
		}
		other, err := c.m.FreeRunning(2, length, seed+100)
		if err != nil {
			t.Fatal(err)
		}
		if other.Loss == got.Loss {
			t.Errorf("another seed gave the same figure %.8f: the seed is not used", got.Loss)
		}
	}
}
