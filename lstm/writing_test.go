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

// TestFreeRunningIsTheSamplesOwnLoss checks FreeRunning against GenerateTrace: the samples drawn side by
// side are, token for token, the ones GenerateTrace draws alone with seeds seed, seed+1, ... (five: a full
// group of Stepper rows and one more), and the figure is the mean −ln p of their tokens at temperature 1.
func TestFreeRunningIsTheSamplesOwnLoss(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	const seed, samples, length = 7, 5, 30
	got, err := m.FreeRunning(samples, length, seed)
	if err != nil {
		t.Fatal(err)
	}
	side, err := m.sampleSideBySide([]uint64{seed, seed + 1, seed + 2, seed + 3}, length)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	n := 0
	for i := range uint64(samples) {
		trace, _, err := m.GenerateTrace(SampleOptions{Length: length, Temperature: 1, Seed: seed + i})
		if err != nil {
			t.Fatal(err)
		}
		if i < 4 {
			if len(side[i]) != len(trace) {
				t.Fatalf("sample %d: %d tokens side by side, %d alone", i, len(side[i]), len(trace))
			}
			for j := range trace {
				if side[i][j].ID != trace[j].ID || math.Abs(side[i][j].ModelProb-trace[j].ModelProb) > 1e-6 {
					t.Fatalf("sample %d token %d: %+v side by side, %+v alone", i, j, side[i][j], trace[j])
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
		t.Errorf("free-running %d tokens at %.6f nats, GenerateTrace %d at %.6f", got.Tokens, got.Loss, n, want)
	}
	other, err := m.FreeRunning(2, length, seed+100)
	if err != nil {
		t.Fatal(err)
	}
	if other.Loss == got.Loss {
		t.Errorf("another seed gave the same figure %.8f: the seed is not used", got.Loss)
	}
}
