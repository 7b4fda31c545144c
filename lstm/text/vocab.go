package text

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Level says what a token is: a Unicode code point, a grapheme cluster or a word (or punctuation mark).
type Level string

const (
	// Char tokenizes text into Unicode code points: "é", "—" and "苹" are one token each, and so are a combining
	// accent, a zero-width joiner and an emoji skin-tone modifier, which sampling can then place anywhere.
	Char Level = "char"
	// Grapheme tokenizes text into extended grapheme clusters ([Graphemes], UAX #29): what a reader sees as one
	// character. "é" (even as "e" + U+0301), "🇫🇷", "👍🏽" and a ZWJ emoji sequence are one token each, so sampling
	// can never split them or leave a mark or joiner on its own.
	Grapheme Level = "grapheme"
	// Word tokenizes text with [SplitWords]: words, punctuation marks and symbols, and line breaks.
	Word Level = "word"
)

// ParseLevel turns "char", "grapheme" or "word" into a [Level].
func ParseLevel(s string) (Level, error) {
	switch Level(s) {
	case Char, Grapheme, Word:
		return Level(s), nil
	}
	return "", fmt.Errorf("unknown tokenization level %q: want %q, %q or %q", s, Char, Grapheme, Word)
}

// UnkToken stands for every token the vocabulary does not hold: tokens rarer than the vocabulary's minimum
// frequency in the corpus it was built from (which is how the model learns what to predict for, and after, a
// token it does not know) and tokens of other texts it never saw. Vocabularies built by [BuildVocab] have it at
// id 0, at every level; character vocabularies saved before it was reserved can get it with [Vocab.AddUnk].
// No tokenizer produces it from text ("<unk>" in a text is "<", "unk", ">" for words and five characters
// otherwise), so it never collides with real text.
const UnkToken = "<unk>"

// ErrUnknownToken is wrapped by [Vocab.Encode] when a token is not in a vocabulary that has no [UnkToken] (a
// character vocabulary saved before <unk> was reserved).
var ErrUnknownToken = errors.New("token not in vocabulary")

// Vocab maps tokens to ids 0..Size()-1 and back, for one [Level], after normalising text to one Unicode
// [Normalization]. It is the whole tokenizer: everything that turns text into ids (corpus, prompts, scored text)
// goes through it, so every path normalises and segments text the same way.
//
// Ids are positions in an ordered token list: [UnkToken] first, then characters and grapheme clusters in code
// point order, words by decreasing frequency (ties alphabetical); [Vocab.Extend] appends. The order is
// deterministic for a given text, so the same corpus always gives the same ids.
type Vocab struct {
	level   Level
	tokens  []string
	index   map[string]int32
	runes   map[rune]int32 // char level only: avoids building a string per rune when encoding
	minFreq int            // the cut-off used to build, and to extend, the vocabulary
	norm    Normalization
}

// VocabOptions say how [BuildVocab] builds a vocabulary.
type VocabOptions struct {
	Level Level // Char, Grapheme or Word
	// MinFreq is the fewest occurrences in the text a token needs to get its own id (at least 1); rarer tokens
	// encode as [UnkToken], which trains <unk>'s embedding and output row on them. 1 keeps every token.
	MinFreq int
	// Normalize is the Unicode normalization applied to the text here and to every text encoded later;
	// "" means [NFC].
	Normalize Normalization
}

// BuildVocab returns the vocabulary of text at o.Level: [UnkToken] at id 0, then every token of the
// (normalised) text seen at least o.MinFreq times. Grapheme clusters that are fragments (a combining mark,
// joiner or half a flag left alone at the start of the text or of a line, see [Graphemes]) get no id either:
// a sampled fragment would attach to whatever precedes it. Errors: an unknown level or normalization,
// MinFreq below 1, empty text or invalid UTF-8.
func BuildVocab(text string, o VocabOptions) (*Vocab, error) {
	if _, err := ParseLevel(string(o.Level)); err != nil {
		return nil, fmt.Errorf("build vocabulary: %w", err)
	}
	normalize, err := ParseNormalization(string(o.Normalize))
	if err != nil {
		return nil, fmt.Errorf("build %s vocabulary: %w", o.Level, err)
	}
	if o.MinFreq < 1 {
		return nil, fmt.Errorf("build %s vocabulary: minimum frequency %d must be at least 1", o.Level, o.MinFreq)
	}
	if err := checkVocabText(text); err != nil {
		return nil, fmt.Errorf("build %s vocabulary: %w", o.Level, err)
	}
	v := &Vocab{level: o.Level, minFreq: o.MinFreq, norm: normalize}
	tokens := append([]string{UnkToken}, v.frequentTokens(normalize.Apply(text), nil)...)
	return newVocab(o.Level, tokens, o.MinFreq, normalize)
}

// BuildCharVocab returns the character vocabulary of text, NFC-normalised: [UnkToken], then one token per
// distinct Unicode code point, in code point order.
func BuildCharVocab(text string) (*Vocab, error) {
	return BuildVocab(text, VocabOptions{Level: Char, MinFreq: 1})
}

// BuildWordVocab returns the word vocabulary of text (see [SplitWords]), NFC-normalised: [UnkToken] at id 0,
// then every token that occurs at least minFreq times, most frequent first.
func BuildWordVocab(text string, minFreq int) (*Vocab, error) {
	return BuildVocab(text, VocabOptions{Level: Word, MinFreq: minFreq})
}

// checkVocabText rejects text a vocabulary cannot be built from.
func checkVocabText(text string) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("%w: the text has no tokens", ErrEmpty)
	}
	if offset, ok := firstInvalidUTF8(text); !ok {
		return fmt.Errorf("%w at byte offset %d", ErrInvalidUTF8, offset)
	}
	return nil
}

// frequentTokens splits text (already normalised) into v's level of tokens and returns those not in skip seen at
// least v.minFreq times (grapheme fragments never): characters and clusters in code point order, words most
// frequent first with ties in string order, so that the result is deterministic.
func (v *Vocab) frequentTokens(text string, skip map[string]int32) []string {
	counts := map[string]int{}
	if v.level == Char {
		runeCounts := map[rune]int{}
		for _, r := range text {
			runeCounts[r]++
		}
		for r, n := range runeCounts {
			counts[string(r)] = n
		}
	} else {
		for _, tok := range v.split(text) {
			counts[tok]++
		}
	}
	var kept []string
	for tok, n := range counts {
		if _, known := skip[tok]; known || n < max(v.minFreq, 1) {
			continue
		}
		if v.level == Grapheme && !standalone(tok) {
			continue
		}
		kept = append(kept, tok)
	}
	slices.SortFunc(kept, func(a, b string) int {
		if v.level == Word && counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b) // byte order of UTF-8 is code point order
	})
	return kept
}

// split cuts normalised text into this vocabulary's kind of tokens.
func (v *Vocab) split(s string) []string {
	switch v.level {
	case Word:
		return SplitWords(s)
	case Grapheme:
		return Graphemes(s)
	}
	tokens := make([]string, 0, len(s))
	for _, r := range s {
		tokens = append(tokens, string(r))
	}
	return tokens
}

// newVocab checks tokens and builds the indexes.
func newVocab(level Level, tokens []string, minFreq int, normalize Normalization) (*Vocab, error) {
	if _, err := ParseLevel(string(level)); err != nil {
		return nil, err
	}
	if _, err := ParseNormalization(string(normalize)); err != nil || normalize == "" {
		return nil, fmt.Errorf("%s vocabulary: unknown normalization %q", level, normalize)
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s vocabulary has no tokens", level)
	}
	if minFreq < 1 {
		return nil, fmt.Errorf("%s vocabulary minimum frequency %d must be at least 1", level, minFreq)
	}
	v := &Vocab{level: level, minFreq: minFreq, norm: normalize, index: make(map[string]int32, len(tokens))}
	if level == Char {
		v.runes = make(map[rune]int32, len(tokens))
	}
	for _, tok := range tokens {
		if err := v.add(tok); err != nil {
			return nil, err
		}
	}
	if level == Word {
		if _, ok := v.UnkID(); !ok {
			return nil, fmt.Errorf("word vocabulary lacks %s", UnkToken)
		}
	}
	return v, nil
}

// add appends one token after checking it fits the level.
func (v *Vocab) add(tok string) error {
	if tok == "" || !utf8.ValidString(tok) {
		return fmt.Errorf("%s vocabulary: invalid token %q", v.level, tok)
	}
	if _, dup := v.index[tok]; dup {
		return fmt.Errorf("%s vocabulary: token %q appears twice", v.level, tok)
	}
	if tok != UnkToken {
		switch {
		case v.level == Char && utf8.RuneCountInString(tok) != 1:
			return fmt.Errorf("char vocabulary: token %q is not a single character", tok)
		case v.level == Grapheme && uniseg.GraphemeClusterCount(tok) != 1:
			return fmt.Errorf("grapheme vocabulary: token %q is not a single grapheme cluster", tok)
		}
	}
	id := int32(len(v.tokens))
	v.tokens = append(v.tokens, tok)
	v.index[tok] = id
	if v.level == Char && tok != UnkToken {
		r, _ := utf8.DecodeRuneInString(tok)
		v.runes[r] = id
	}
	return nil
}

// Level is the tokenization level of the vocabulary.
func (v *Vocab) Level() Level { return v.level }

// Size is the number of tokens, i.e. the number of rows of the embedding and of the output layer.
func (v *Vocab) Size() int { return len(v.tokens) }

// MinFreq is the frequency cut-off the vocabulary was built with; [Vocab.Extend] applies it too.
func (v *Vocab) MinFreq() int { return v.minFreq }

// Normalization is the Unicode normalization applied to every text before it is tokenized.
func (v *Vocab) Normalization() Normalization { return v.norm }

// ID returns the id of tok and whether the vocabulary holds it. tok is looked up as given, not normalised.
func (v *Vocab) ID(tok string) (int32, bool) {
	id, ok := v.index[tok]
	return id, ok
}

// Token returns the token with the given id, or "" when id is out of range.
func (v *Vocab) Token(id int32) string {
	if id < 0 || int(id) >= len(v.tokens) {
		return ""
	}
	return v.tokens[id]
}

// Tokens returns a copy of the tokens in id order.
func (v *Vocab) Tokens() []string { return slices.Clone(v.tokens) }

// UnkID returns the id of [UnkToken] and whether the vocabulary has one.
func (v *Vocab) UnkID() (int32, bool) { return v.ID(UnkToken) }

// AddUnk makes unknown tokens encode as [UnkToken] instead of failing, by appending it to the vocabulary if it
// is not there yet (existing ids do not move): for character vocabularies saved before <unk> was reserved. It
// returns the id of [UnkToken].
func (v *Vocab) AddUnk() int32 {
	if id, ok := v.UnkID(); ok {
		return id
	}
	// UnkToken is valid at every level and is not in the vocabulary, so add cannot fail.
	_ = v.add(UnkToken)
	return int32(len(v.tokens) - 1)
}

// Clone returns an independent copy, e.g. to extend a child model's vocabulary while keeping the parent's.
func (v *Vocab) Clone() *Vocab {
	c, err := newVocab(v.level, v.tokens, v.minFreq, v.norm)
	if err != nil {
		panic(fmt.Sprintf("clone of a valid vocabulary failed: %v", err)) // cannot happen: v passed the same checks
	}
	return c
}

// Tokenize normalises s and splits it into this vocabulary's kind of tokens (characters, grapheme clusters or
// [SplitWords] words), known or not: the tokens [Vocab.Encode] gives ids to, one for one.
func (v *Vocab) Tokenize(s string) ([]string, error) {
	if offset, ok := firstInvalidUTF8(s); !ok {
		return nil, fmt.Errorf("tokenize: %w at byte offset %d", ErrInvalidUTF8, offset)
	}
	return v.split(v.norm.Apply(s)), nil
}

// Unseen is what a vocabulary lacked in a text it encoded: each such token was read as [UnkToken]. The library
// reports it; callers decide whether to warn (lstmlab's CLI prints [Unseen.String] as a warning).
type Unseen struct {
	Level  Level
	Count  int      // how many of the text's tokens the vocabulary lacks
	Tokens []string // those tokens, each once, in order of first appearance
}

// String summarises u in one line, naming the first few tokens: `2 characters not in the vocabulary were read
// as <unk> (1 distinct: "ç")`. It is "" when nothing was unseen.
func (u Unseen) String() string {
	if u.Count == 0 {
		return ""
	}
	const shown = 5
	quoted := make([]string, 0, shown)
	for _, tok := range u.Tokens[:min(len(u.Tokens), shown)] {
		quoted = append(quoted, strconv.Quote(tok))
	}
	list := strings.Join(quoted, ", ")
	if more := len(u.Tokens) - shown; more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	verb := "were"
	if u.Count == 1 {
		verb = "was"
	}
	return fmt.Sprintf("%d %s not in the vocabulary %s read as %s (%d distinct: %s)", u.Count,
		u.Level.Unit().Plural(u.Count), verb, UnkToken, len(u.Tokens), list)
}

// Encode turns s into token ids after normalising it. Tokens not in the vocabulary become [UnkToken] (see
// [Vocab.EncodeUnseen] to learn which). Errors: invalid UTF-8, and an unknown token in a vocabulary without
// [UnkToken] (wrapping [ErrUnknownToken], naming the token and where it is).
func (v *Vocab) Encode(s string) ([]int32, error) {
	ids, _, err := v.EncodeUnseen(s)
	return ids, err
}

// EncodeUnseen is [Vocab.Encode] that also reports the tokens the vocabulary lacked (read as [UnkToken]).
func (v *Vocab) EncodeUnseen(s string) ([]int32, Unseen, error) {
	e, err := v.encode(s, false)
	return e.IDs, e.Unseen, err
}

// Encoded is a text as a vocabulary reads it.
type Encoded struct {
	Text   string   // the text after the vocabulary's Unicode normalization
	Tokens []string // its tokens, as written in Text
	IDs    []int32  // their ids ([UnkToken]'s for the tokens the vocabulary lacks)
	Unseen Unseen   // what the vocabulary lacked
}

// EncodeText is [Vocab.EncodeUnseen] that also returns the normalised text and its tokens (what
// [Vocab.Tokenize] returns), normalising and tokenizing the text once. Errors are EncodeUnseen's.
func (v *Vocab) EncodeText(s string) (Encoded, error) { return v.encode(s, true) }

// encode normalises and tokenizes s once; the tokens are kept only when asked (character-level
// encoding of a corpus would otherwise make a string per character).
func (v *Vocab) encode(s string, keepTokens bool) (Encoded, error) {
	unseen := Unseen{Level: v.level}
	if len(v.tokens) == 0 {
		return Encoded{Unseen: unseen}, errors.New("encode: empty vocabulary (build one with BuildVocab)")
	}
	if offset, ok := firstInvalidUTF8(s); !ok {
		return Encoded{Unseen: unseen}, fmt.Errorf("encode: %w at byte offset %d", ErrInvalidUTF8, offset)
	}
	s = v.norm.Apply(s)
	unk, hasUnk := v.UnkID()
	seen := map[string]bool{}
	// unknown records tok, or fails when there is no <unk> to read it as; where says where it is.
	unknown := func(tok string, where func() string) error {
		if !hasUnk {
			return fmt.Errorf("encode: %w: %s %q%s is not among the %d tokens of the vocabulary, which has no %s "+
				"(it was saved before lstmlab reserved one for characters); use text the model was trained on, "+
				"or fine-tune the model, which adds %s", ErrUnknownToken, v.level.Unit().Name, tok, where(), v.Size(),
				UnkToken, UnkToken)
		}
		unseen.Count++
		if !seen[tok] {
			seen[tok] = true
			unseen.Tokens = append(unseen.Tokens, tok)
		}
		return nil
	}
	if v.level != Char {
		tokens := v.split(s)
		ids := make([]int32, len(tokens))
		for i, tok := range tokens {
			id, ok := v.index[tok]
			if !ok {
				if err := unknown(tok, func() string { return fmt.Sprintf(" (token %d)", i+1) }); err != nil {
					return Encoded{Unseen: unseen}, err
				}
				id = unk
			}
			ids[i] = id
		}
		if !keepTokens {
			tokens = nil
		}
		return Encoded{Text: s, Tokens: tokens, IDs: ids, Unseen: unseen}, nil
	}
	ids := make([]int32, 0, len(s))
	var tokens []string
	line, column := 1, 0
	for _, r := range s {
		column++
		id, ok := v.runes[r]
		if !ok {
			where := func() string {
				return fmt.Sprintf(" (U+%04X) at character %d (line %d, column %d)", r, len(ids)+1, line, column)
			}
			if err := unknown(string(r), where); err != nil {
				return Encoded{Unseen: unseen}, err
			}
			id = unk
		}
		ids = append(ids, id)
		if keepTokens {
			tokens = append(tokens, string(r))
		}
		if r == '\n' {
			line, column = line+1, 0
		}
	}
	return Encoded{Text: s, Tokens: tokens, IDs: ids, Unseen: unseen}, nil
}

// Decode turns ids back into text. Characters and grapheme clusters are concatenated, so Decode(Encode(s)) is
// the normalised s whenever its tokens are all in the vocabulary. Words are re-joined by [JoinWords].
// [UnkToken] and out-of-range ids decode to "<unk>" at word level and to the replacement character U+FFFD
// otherwise (so that each id stays one character).
func (v *Vocab) Decode(ids []int32) string {
	if v.level == Word {
		words := make([]string, len(ids))
		for i, id := range ids {
			words[i] = v.Token(id)
			if words[i] == "" {
				words[i] = UnkToken
			}
		}
		return JoinWords(words)
	}
	var b strings.Builder
	b.Grow(len(ids))
	for _, id := range ids {
		if tok := v.Token(id); tok != "" && tok != UnkToken {
			b.WriteString(tok)
		} else {
			b.WriteRune(utf8.RuneError)
		}
	}
	return b.String()
}

// Missing returns the distinct tokens of text (normalised) that the vocabulary lacks, in order of first
// appearance: what would become [UnkToken] when fine-tuning on text without extending the vocabulary.
func (v *Vocab) Missing(text string) ([]string, error) {
	tokens, err := v.Tokenize(text)
	if err != nil {
		return nil, fmt.Errorf("missing tokens: %w", err)
	}
	var missing []string
	seen := map[string]bool{}
	for _, tok := range tokens {
		if _, known := v.index[tok]; !known && !seen[tok] {
			seen[tok] = true
			missing = append(missing, tok)
		}
	}
	return missing, nil
}

// Extend appends the tokens of text (normalised) that the vocabulary lacks and that occur at least
// [Vocab.MinFreq] times in it, and returns them; existing ids do not change, so a model's embedding and output
// rows for them stay valid and only the new rows need initialising. New characters and grapheme clusters are
// appended in code point order, new words most frequent first.
func (v *Vocab) Extend(text string) ([]string, error) {
	if offset, ok := firstInvalidUTF8(text); !ok {
		return nil, fmt.Errorf("extend %s vocabulary: %w at byte offset %d", v.level, ErrInvalidUTF8, offset)
	}
	added := v.frequentTokens(v.norm.Apply(text), v.index)
	for _, tok := range added {
		if err := v.add(tok); err != nil {
			return nil, fmt.Errorf("extend %s vocabulary: %w", v.level, err)
		}
	}
	return added, nil
}

// vocabJSON is the serialised form: the token list is the whole mapping, since ids are positions.
type vocabJSON struct {
	Level     Level         `json:"level"`
	Tokens    []string      `json:"tokens"`
	MinFreq   int           `json:"min_freq,omitempty"`
	Normalize Normalization `json:"normalize,omitempty"`
}

// MarshalJSON writes {"level": ..., "tokens": [...], "min_freq": ..., "normalize": ...}; ids are positions in
// "tokens".
func (v Vocab) MarshalJSON() ([]byte, error) {
	return json.Marshal(vocabJSON{Level: v.level, Tokens: v.tokens, MinFreq: v.minFreq, Normalize: v.norm})
}

// UnmarshalJSON reads what [Vocab.MarshalJSON] writes and checks it: a known level and normalization, no
// duplicate or empty tokens, single characters at char level, single grapheme clusters at grapheme level, and
// [UnkToken] at word level. Vocabularies saved before normalization existed (no "normalize") decode as
// [NoNormalization], character vocabularies without "min_freq" with a cut-off of 1: what they were built with.
func (v *Vocab) UnmarshalJSON(data []byte) error {
	var j vocabJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode vocabulary: %w", err)
	}
	if j.Normalize == "" {
		j.Normalize = NoNormalization
	}
	if j.MinFreq == 0 && j.Level != Word {
		j.MinFreq = 1
	}
	decoded, err := newVocab(j.Level, j.Tokens, j.MinFreq, j.Normalize)
	if err != nil {
		return fmt.Errorf("decode vocabulary: %w", err)
	}
	*v = *decoded
	return nil
}
