package lstm

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestPromptlessTextStartsWithoutBlankLines: without a prompt the start context ends after a line break,
// so a model often writes another one first; those leading line breaks are read but not shown nor
// counted (the report: "generate 2 --length 20" began with an empty line). The same seed still gives the
// same text, and with a prompt every token is kept.
func TestPromptlessTextStartsWithoutBlankLines(t *testing.T) {
	m := samplingModel(t, charVocab(t, sampleCorpus))
	newline, _ := m.Vocab.ID("\n")
	// Make line breaks likely (about half of all draws), so that without the rule most texts would start
	// with one.
	bias := make([]float32, m.Vocab.Size())
	bias[newline] = 3
	if err := m.Store.GetVariable(ParamDecoderBias).SetValue(tensors.FromFlatDataAndDimensions(bias, len(bias))); err != nil {
		t.Fatal(err)
	}
	p, err := m.NextTokenDistribution("")
	if err != nil {
		t.Fatal(err)
	}
	if p[newline] < 0.3 {
		t.Fatalf("a line break after the start context has probability %.2f; the test needs it likely", p[newline])
	}
	breaksInside := 0
	for seed := range uint64(20) {
		opts := SampleOptions{Length: 20, Temperature: 1, Seed: seed}
		out := generate(t, m, opts)
		if strings.HasPrefix(out, "\n") || utf8.RuneCountInString(out) != 20 {
			t.Errorf("seed %d: %q: want 20 characters, not starting with a line break", seed, out)
		}
		breaksInside += strings.Count(out, "\n")
		if again := generate(t, m, opts); again != out {
			t.Errorf("seed %d: %q, then %q", seed, out, again)
		}
		trace, traced, err := m.GenerateTrace(opts)
		if err != nil || traced != out || len(trace) != 20 {
			t.Errorf("seed %d: trace of %d tokens, text %q, %v", seed, len(trace), traced, err)
		}
	}
	if breaksInside == 0 {
		t.Error("no line break inside any text: the rule dropped more than the leading ones")
	}
	startsWithBreak := 0
	for seed := range uint64(20) {
		if out := generate(t, m, SampleOptions{Prompt: "the cat sat.\n", Length: 5, Temperature: 1, Seed: seed}); strings.HasPrefix(out, "\n") {
			startsWithBreak++
		}
	}
	if startsWithBreak == 0 {
		t.Error("with a prompt, no text starts with a line break: the prompt's continuation must be kept as drawn")
	}
}
