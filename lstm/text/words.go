package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// NewlineToken is the word-level token for a line break. Word-level tokenization keeps line breaks as tokens
// (one per "\n", so a blank line is two of them) because otherwise a word model would generate one endless line:
// with them it learns verse, dialogue and paragraph structure, as a character model does.
const NewlineToken = "\n"

// SplitWords splits s into word-level tokens, reading it as grapheme clusters ([Graphemes]) so that no token
// splits what a reader sees as one character:
//
//   - a word is a maximal run of clusters that start with a Unicode letter, number or combining mark; an
//     apostrophe (' or ’) between two such clusters stays inside the word, so "don't" and "Ahab’s" are single
//     tokens, and accents (even decomposed) stay on their letters;
//   - every other non-space cluster (punctuation, hyphens, dashes, symbols, emoji with their modifiers, flags,
//     ZWJ sequences) is a token on its own, so "ago—never" is "ago", "—", "never" and "👍🏽" is one token;
//   - each line break is the token [NewlineToken]; other whitespace (spaces, tabs, '\r') only separates tokens.
//
// Case is kept as written. Text without spaces between words (Chinese, Japanese) must be segmented beforehand
// (e.g. "我 喜欢 吃 苹果"); an unsegmented run of ideographs is one word. s should be valid UTF-8: each invalid byte
// becomes a token of its own.
func SplitWords(s string) []string {
	var tokens []string
	clusters := Graphemes(s)
	for i := 0; i < len(clusters); i++ {
		c := clusters[i]
		r, size := utf8.DecodeRuneInString(c)
		switch {
		case c == "\n" || c == "\r\n":
			tokens = append(tokens, NewlineToken)
		case unicode.IsSpace(r):
			if rest := c[size:]; rest != "" {
				tokens = append(tokens, rest) // marks on a space (a spacing accent): kept, not dropped
			}
		case isWordRune(r):
			end := wordEnd(clusters, i+1)
			tokens = append(tokens, strings.Join(clusters[i:end], ""))
			i = end - 1
		default:
			tokens = append(tokens, c)
		}
	}
	return tokens
}

// wordEnd returns the index of the cluster after the word that continues at clusters[i].
func wordEnd(clusters []string, i int) int {
	for ; i < len(clusters); i++ {
		r, _ := utf8.DecodeRuneInString(clusters[i])
		if isWordRune(r) {
			continue
		}
		// An apostrophe joins the word only when a word follows: "don't" is a word, "whalemen'" is not.
		if isApostrophe(clusters[i]) && i+1 < len(clusters) {
			if next, _ := utf8.DecodeRuneInString(clusters[i+1]); isWordRune(next) {
				continue
			}
		}
		break
	}
	return i
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r))
}

func isApostrophe(cluster string) bool { return cluster == "'" || cluster == "’" }

// Tokens that attach to the word before them (no space in front) or to the word after them (no space behind),
// when word-level tokens are joined back into text.
var (
	noSpaceBefore = setOf(".", ",", ";", ":", "!", "?", ")", "]", "}", "…", "%", "’", "”", "»",
		"-", "–", "—", "/", "，", "。", "、", "；", "：", "？", "！", "）", "」", "』", "》", "】", "〉")
	noSpaceAfter = setOf("(", "[", "{", "“", "‘", "«", "¿", "¡", "$", "£", "€", "¥",
		"-", "–", "—", "/", "（", "「", "『", "《", "【", "〈")
)

func setOf(items ...string) map[string]bool {
	set := make(map[string]bool, len(items))
	for _, item := range items {
		set[item] = true
	}
	return set
}

// JoinWords joins word-level tokens back into text, the best-effort inverse of [SplitWords]: words are separated by
// one space, except that closing punctuation attaches to the word before it, opening brackets and quotes to the
// word after it, hyphens and dashes to both, and [NewlineToken] becomes a line break with no spaces around it.
// Straight quotes (" and ') alternate between opening and closing. Joining cannot restore spacing that
// tokenization dropped (double spaces, tabs, a space before "!"), so it is exact only for conventionally spaced text.
func JoinWords(tokens []string) string {
	var b strings.Builder
	glueNext := true // at the start of the text and of each line, no space is needed
	quoteOpen := map[string]bool{}
	for _, tok := range tokens {
		if tok == NewlineToken {
			b.WriteString(NewlineToken)
			glueNext = true
			continue
		}
		attachBefore, attachAfter := noSpaceBefore[tok], noSpaceAfter[tok]
		if tok == `"` || tok == "'" {
			// A straight quote is closing when one of its kind is open, opening otherwise.
			attachBefore, attachAfter = quoteOpen[tok], !quoteOpen[tok]
			quoteOpen[tok] = !quoteOpen[tok]
		}
		if !glueNext && !attachBefore {
			b.WriteByte(' ')
		}
		b.WriteString(tok)
		glueNext = attachAfter
	}
	return b.String()
}
