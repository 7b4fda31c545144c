package lstm

import (
	"context"
	"math"
	"strings"
	"testing"
)

// trapCorpus is a text whose 4 training streams of the pre-issue-17 layout each start with "\n@", the
// only place '@' occurs: a model that meets the initial state only at those starts learns that after
// the empty state a line break is followed by '@', although in the text a line break is followed by
// '@' only 4 times in about 30.
func trapCorpus(streamLen int) string {
	words := []string{"the ", "whale ", "sea ", "ship ", "and ", "a ", "boat ", "of ", "captain ", "ahab ", "white "}
	var b strings.Builder
	for s := range 4 {
		block := "\n@"
		for i := 0; len(block) < streamLen; i++ {
			w := words[(i*7+s*3+i*i)%len(words)]
			if i%4 == 3 {
				w = strings.TrimSpace(w) + "\n"
			}
			block += w
		}
		b.WriteString(block[:streamLen])
	}
	b.WriteString("\n")
	return b.String()
}

// TestInitialStateIsNotTiedToStreamStarts is the regression test of issue 17's cause: with the state
// reset only at each epoch's start and the streams always starting at the same text, a model learns
// what follows the empty state there and writes it from an empty prompt (Moby Dick: the table of
// contents at the start of stream 0; docs/benchmarks.md, "Recipe (issue 17)"). The
// default recipe (random stream offsets each epoch, random resets) must not learn it; the old recipe
// must, or the trap proves nothing.
func TestInitialStateIsNotTiedToStreamStarts(t *testing.T) {
	const streamLen = 160 // 10 windows of 16 per epoch
	corpus := trapCorpus(streamLen)
	trappedProb := func(edit func(*Config)) float64 {
		m, ids := tinyModel(t, corpus, func(c *Config) {
			c.Layers, c.Hidden, c.EmbedDim, c.BatchSize, c.SeqLen = 1, 32, 8, 4, 16
			c.Steps, c.EvalEvery, c.LR = 300, 1000, 1e-2
			if edit != nil {
				edit(c)
			}
		})
		tr, err := NewTrainer(m, ids, ids[:100], nil)
		if err != nil {
			t.Fatal(err)
		}
		if tr.train.NumWindows()*16 != streamLen {
			t.Fatalf("streams of %d tokens, want %d: the trap is not at the stream starts", tr.train.NumWindows()*16, streamLen)
		}
		if _, err := tr.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		s, err := m.NewStepper() // from the initial state, after a line break
		if err != nil {
			t.Fatal(err)
		}
		newline, _ := m.Vocab.ID("\n")
		logits, err := s.Step(newline)
		if err != nil {
			t.Fatal(err)
		}
		at, ok := m.Vocab.ID("@")
		if !ok {
			t.Fatal("'@' is not in the vocabulary")
		}
		return Probabilities(logits)[at]
	}
	old := trappedProb(func(c *Config) { c.ResetProb, c.EpochOffset = 0, false })
	if old < 0.7 {
		t.Fatalf("old recipe: p('@' | empty state, line break) = %.3f, want the trap (> 0.7)", old)
	}
	now := trappedProb(nil)
	t.Logf("p('@' | empty state, line break): old recipe %.3f, default recipe %.3f", old, now)
	if now > 0.4 {
		t.Errorf("default recipe: p('@' | empty state, line break) = %.3f (old recipe %.3f), want < 0.4: "+
			"the model ties the initial state to the streams' starting text", now, old)
	}
}

// TestResetProbResetsStreamsMidEpoch checks the random resets: about ResetProb of the streams per
// window after the first of each epoch, none when it is 0, and the same draws for the same seed.
func TestResetProbResetsStreamsMidEpoch(t *testing.T) {
	count := func(p float64, seed int64) (resets, chances int) {
		m, ids := tinyModel(t, strings.Repeat(tinyText, 8), func(c *Config) { c.ResetProb, c.Seed, c.Steps = p, seed, 60 })
		tr, err := NewTrainer(m, ids, ids, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Run(context.Background(), func(ev Event) error {
			if ev.Kind == EventStep {
				resets += ev.Resets
				if w := (ev.Step - 1) % tr.train.NumWindows(); w > 0 {
					chances += m.Config.BatchSize
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return resets, chances
	}
	if r, _ := count(0, 1); r != 0 {
		t.Errorf("reset_prob 0: %d resets", r)
	}
	r, n := count(0.3, 1)
	if sd := math.Sqrt(float64(n) * 0.3 * 0.7); math.Abs(float64(r)-0.3*float64(n)) > 4*sd {
		t.Errorf("reset_prob 0.3: %d resets in %d chances", r, n)
	}
	if again, _ := count(0.3, 1); again != r {
		t.Errorf("same seed: %d resets, then %d", r, again)
	}
}
