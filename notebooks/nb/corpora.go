package nb

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"
)

// The corpora below are generated, so the notebooks know what a perfect model would do with them.

// Animals generates about n characters from four sentence templates whose slots take one of eight equally
// likely words (the verb slot one of four), the same text every time, and returns it with its entropy floor
// in bits per character: the bits of every random choice made (3 per word of eight, 2 per verb of four and
// per template of four), over the characters written. No model can do better on average than the floor.
//
//	The {adjective} {animal} {jumps|runs|walks|flies} over the {place}.
//	A {animal} sleeps near the {place}.
//	Every morning the {animal} goes to the {place}.
//	The {adjective} {animal} and the {animal} play.
func Animals(n int) (string, float64) {
	rng := rand.New(rand.NewPCG(2024, 1))
	bits := 0.0
	pick := func(words ...string) string {
		bits += math.Log2(float64(len(words)))
		return words[rng.IntN(len(words))]
	}
	animal := func() string { return pick("cat", "dog", "fox", "owl", "hen", "bee", "yak", "pig") }
	adjective := func() string { return pick("little", "old", "brown", "quick", "happy", "sleepy", "tiny", "grey") }
	place := func() string { return pick("garden", "river", "barn", "meadow", "pond", "hill", "forest", "wood") }
	var b strings.Builder
	for b.Len() < n {
		bits += 2 // one template of four
		switch rng.IntN(4) {
		case 0:
			fmt.Fprintf(&b, "The %s %s %s over the %s.\n", adjective(), animal(), pick("jumps", "runs", "walks", "flies"), place())
		case 1:
			fmt.Fprintf(&b, "A %s sleeps near the %s.\n", animal(), place())
		case 2:
			fmt.Fprintf(&b, "Every morning the %s goes to the %s.\n", animal(), place())
		case 3:
			fmt.Fprintf(&b, "The %s %s and the %s play.\n", adjective(), animal(), animal())
		}
	}
	return b.String(), bits / float64(b.Len())
}

// fillerWords are the words of the generated phrases: short, common, all lower case.
var fillerWords = []string{"the", "whale", "sea", "ship", "and", "of", "a", "to", "in", "old", "man", "boat",
	"white", "deep", "wind", "sail", "we", "will", "never", "find", "him", "go", "now"}

// phrase returns 1 to 12 words drawn at random from fillerWords, the number of words log-uniform (short
// phrases as common as long ones at every scale).
func phrase(rng *rand.Rand) string {
	w := make([]string, 1+int(math.Exp(rng.Float64()*math.Log(12))))
	for i := range w {
		w[i] = fillerWords[rng.IntN(len(fillerWords))]
	}
	return strings.Join(w, " ")
}

// Quotes generates about n characters of phrases of random words, half of them quoted:
//
//	wind man the sail. "we will never find him." said the mate. deep of.
//
// wrapped into lines of at most 60 characters. Inside and outside quotes the words are drawn alike, so the
// only way to know what follows a full stop — a closing quote, or a space — is to remember whether a quote
// was opened: the one long-range fact in the text. seed chooses the text (same seed, same text).
func Quotes(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 7))
	speakers := []string{"the mate", "ishmael", "the captain", "a sailor"}
	var b strings.Builder
	col := 0
	for b.Len() < n {
		s := phrase(rng) + "."
		if rng.IntN(2) == 0 {
			s = `"` + phrase(rng) + `." said ` + speakers[rng.IntN(len(speakers))] + "."
		}
		for _, w := range strings.Fields(s) {
			switch {
			case col > 0 && col+1+len(w) > 60:
				b.WriteString("\n")
				col = 0
			case col > 0:
				b.WriteString(" ")
				col++
			}
			b.WriteString(w)
			col += len(w)
		}
	}
	return b.String() + "\n"
}

// InsideQuotes marks each token 1 when it is inside a quotation — from an opening quote mark up to, not
// including, the closing one — else 0.
func InsideQuotes(tokens []string) []float64 {
	marks := make([]float64, len(tokens))
	inside := false
	for k, t := range tokens {
		if t == `"` {
			inside = !inside
			if !inside {
				continue
			}
		}
		if inside {
			marks[k] = 1
		}
	}
	return marks
}

// Brackets are the bracket pairs of the long-dependency task: an opening bracket, filler, '=', and the
// matching closing bracket, which only a model that remembered the opener can predict.
const (
	Openers = "([{<"
	Closers = ")]}>"
)

// BracketLine returns one line of the bracket task: one of four opening brackets, k characters of filler
// (random words, cut to k characters), '=', the matching closing bracket and a line break, e.g.
// "[the sea and=]\n" for k = 11. k is the distance: the closing bracket is predicted k+1 characters after
// the opener was read.
func BracketLine(rng *rand.Rand, k int) string {
	o := rng.IntN(len(Openers))
	var f strings.Builder
	for f.Len() < k {
		if f.Len() > 0 {
			f.WriteByte(' ')
		}
		f.WriteString(fillerWords[rng.IntN(len(fillerWords))])
	}
	return string(Openers[o]) + f.String()[:k] + "=" + string(Closers[o]) + "\n"
}

// BracketCorpus generates about n characters of bracket lines with distances from 1 to maxK drawn
// log-uniformly: as many lines with k in 1..9 as in 10..99, as in real text, where most dependencies are
// short and a few are long.
func BracketCorpus(n, maxK int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 11))
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(BracketLine(rng, int(math.Exp(rng.Float64()*math.Log(float64(maxK)+1)))))
	}
	return b.String()
}

// BracketProbes returns count test lines of distance exactly k, each starting with a line break (as lines
// follow one another in the corpus) and ending with its closing bracket (no line break): the last
// character is the one to predict.
func BracketProbes(k, count int, seed uint64) []string {
	rng := rand.New(rand.NewPCG(seed, uint64(k)))
	lines := make([]string, count)
	for i := range lines {
		lines[i] = "\n" + strings.TrimSuffix(BracketLine(rng, k), "\n")
	}
	return lines
}

// RealWordShare returns the share of the words of text (runs of letters, lower-cased) found in known,
// leaving out the last word (a sample's length limit may cut it), and how many words that was.
func RealWordShare(text string, known map[string]bool) (float64, int) {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) })
	if len(words) < 2 {
		return 0, 0
	}
	words = words[:len(words)-1]
	real := 0
	for _, w := range words {
		if known[w] {
			real++
		}
	}
	return float64(real) / float64(len(words)), len(words)
}

// WordSet returns the set of words (runs of letters, lower-cased) of text.
func WordSet(text string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		set[w] = true
	}
	return set
}
