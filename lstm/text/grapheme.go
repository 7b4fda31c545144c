package text

import (
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Graphemes splits s into extended grapheme clusters (Unicode UAX #29, by github.com/rivo/uniseg): what a reader
// sees as one character. "é" written as "e" + U+0301, "🇫🇷", "👍🏽", a ZWJ family "👩‍👩‍👧" and the Devanagari
// syllable "ते" (consonant and vowel sign) are one cluster each; "\r\n" is one cluster too.
func Graphemes(s string) []string {
	clusters := make([]string, 0, len(s))
	state := -1
	for s != "" {
		var cluster string
		cluster, s, _, state = uniseg.FirstGraphemeClusterInString(s, state)
		clusters = append(clusters, cluster)
	}
	return clusters
}

// standalone reports whether a grapheme cluster stays one cluster whatever text surrounds it, so that emitting it
// as a token can neither split nor orphan anything. Clusters that fail are fragments the segmenter leaves only at
// the start of a text or after a line break: a lone combining mark, joiner or emoji modifier (which would attach
// to the cluster before it, GB9/GB9a), a lone prepended mark (which would attach to the cluster after it, GB9b),
// and a lone regional indicator (half a flag, GB12/13). Grapheme vocabularies leave them out, so they encode as
// [UnkToken]. (Conjoining Hangul jamo could still join across tokens; NFC composes them into syllables first.)
func standalone(cluster string) bool {
	if uniseg.GraphemeClusterCount("a"+cluster) != 2 || uniseg.GraphemeClusterCount(cluster+"a") != 2 {
		return false
	}
	r, size := utf8.DecodeRuneInString(cluster)
	return !(size == len(cluster) && r >= 0x1F1E6 && r <= 0x1F1FF) // a regional indicator on its own
}
