package nb

import (
	"cmp"
	"slices"
	"strings"

	"github.com/lstmlab/lstmlab/lstm"
)

// TopTokens returns the ids of the n most probable tokens of p, most probable first (lower id first on
// ties).
func TopTokens(p []float64, n int) []int32 {
	ids := make([]int32, len(p))
	for i := range ids {
		ids[i] = int32(i)
	}
	slices.SortStableFunc(ids, func(a, b int32) int { return cmp.Compare(p[b], p[a]) })
	return ids[:min(n, len(ids))]
}

// Visible shows line breaks as ¶, for one-line table cells.
func Visible(s string) string { return strings.ReplaceAll(s, "\n", " ¶ ") }

// Tick is ✓ for true and nothing for false, for table cells.
func Tick(ok bool) string {
	if ok {
		return "✓"
	}
	return ""
}

// DistinctLines counts the complete lines of a generated text (those followed by a line break; the last,
// cut off by the length limit, is left out) and how many of them are different.
func DistinctLines(txt string) (distinct, total int) {
	lines := strings.Split(txt, "\n")
	seen := map[string]bool{}
	for _, l := range lines[:len(lines)-1] {
		if l = strings.TrimSpace(l); l != "" {
			total++
			seen[l] = true
		}
	}
	return len(seen), total
}

// MostSurprising returns the index of the scored token with the lowest log-probability.
func MostSurprising(tokens []lstm.TokenScore) int {
	worst := 0
	for i, t := range tokens {
		if t.LogProb < tokens[worst].LogProb {
			worst = i
		}
	}
	return worst
}
