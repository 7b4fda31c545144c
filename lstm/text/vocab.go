package text

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Level says what a token is: a Unicode code point or a word (or punctuation mark).
type Level string

const (
	// Char tokenizes text into Unicode code points: "é", "—" and "苹" are one token each.
	Char Level = "char"
	// Word tokenizes text with [SplitWords]: words, punctuation marks and line breaks.
	Word Level = "word"
)

// ParseLevel turns "char" or "word" into a [Level].
func ParseLevel(s string) (Level, error) {
	switch Level(s) {
	case Char, Word:
		return Level(s), nil
	}
	return "", fmt.Errorf("unknown tokenization level %q: want %q or %q", s, Char, Word)
}

// UnkToken stands for every token the vocabulary does not hold. Word vocabularies always have it, at id 0;
// character vocabularies have it only after [Vocab.AddUnk]. Neither tokenizer can produce it from text ("<unk>"
// in a text is "<", "unk", ">" for words and five characters for chars), so it never collides with real text.
const UnkToken = "<unk>"

// ErrUnknownToken is wrapped by [Vocab.Encode] when a character is not in a vocabulary without [UnkToken].
var ErrUnknownToken = errors.New("token not in vocabulary")

// Vocab maps tokens to ids 0..Size()-1 and back, for one [Level].
//
// Ids are positions in an ordered token list: character vocabularies are sorted by code point, word vocabularies
// start with [UnkToken] and then go by decreasing frequency (ties alphabetical), and [Vocab.Extend] appends. The
// order is deterministic for a given text, so the same corpus always gives the same ids.
type Vocab struct {
	level   Level
	tokens  []string
	index   map[string]int32
	runes   map[rune]int32 // char level only: avoids building a string per rune when encoding
	minFreq int            // word level: the cut-off used to build, and to extend, the vocabulary
}

// BuildCharVocab returns the character vocabulary of text: one token per distinct Unicode code point, sorted by
// code point. It has no [UnkToken] unless [Vocab.AddUnk] is called.
func BuildCharVocab(text string) (*Vocab, error) {
	if err := checkVocabText(text); err != nil {
		return nil, fmt.Errorf("build char vocabulary: %w", err)
	}
	seen := map[rune]bool{}
	var runes []rune
	for _, r := range text {
		if !seen[r] {
			seen[r] = true
			runes = append(runes, r)
		}
	}
	slices.Sort(runes)
	tokens := make([]string, len(runes))
	for i, r := range runes {
		tokens[i] = string(r)
	}
	return newVocab(Char, tokens, 0)
}

// BuildWordVocab returns the word vocabulary of text (see [SplitWords]): [UnkToken] at id 0, then every token that
// occurs at least minFreq times, most frequent first. Rarer tokens will encode as [UnkToken], which is how the
// model learns what to predict for words it has not seen.
func BuildWordVocab(text string, minFreq int) (*Vocab, error) {
	if minFreq < 1 {
		return nil, fmt.Errorf("build word vocabulary: minimum frequency %d must be at least 1", minFreq)
	}
	if err := checkVocabText(text); err != nil {
		return nil, fmt.Errorf("build word vocabulary: %w", err)
	}
	tokens := append([]string{UnkToken}, frequentTokens(SplitWords(text), minFreq, nil)...)
	return newVocab(Word, tokens, minFreq)
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

// frequentTokens counts words not in skip and returns those seen at least minFreq times, most frequent first,
// ties in string order so that the result is deterministic.
func frequentTokens(words []string, minFreq int, skip map[string]int32) []string {
	counts := map[string]int{}
	for _, w := range words {
		if _, known := skip[w]; !known {
			counts[w]++
		}
	}
	var kept []string
	for w, n := range counts {
		if n >= minFreq {
			kept = append(kept, w)
		}
	}
	slices.SortFunc(kept, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	return kept
}

// newVocab checks tokens and builds the indexes.
func newVocab(level Level, tokens []string, minFreq int) (*Vocab, error) {
	if _, err := ParseLevel(string(level)); err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%s vocabulary has no tokens", level)
	}
	v := &Vocab{level: level, minFreq: minFreq, index: make(map[string]int32, len(tokens))}
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
		if minFreq < 1 {
			return nil, fmt.Errorf("word vocabulary minimum frequency %d must be at least 1", minFreq)
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
	if v.level == Char && tok != UnkToken && utf8.RuneCountInString(tok) != 1 {
		return fmt.Errorf("char vocabulary: token %q is not a single character", tok)
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

// MinFreq is the frequency cut-off of a word vocabulary (0 for characters); [Vocab.Extend] applies it too.
func (v *Vocab) MinFreq() int { return v.minFreq }

// ID returns the id of tok and whether the vocabulary holds it.
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

// AddUnk makes unknown characters encode as [UnkToken] instead of failing, by appending it to the vocabulary
// if it is not there yet (existing ids do not move). It returns the id of [UnkToken].
func (v *Vocab) AddUnk() int32 {
	if id, ok := v.UnkID(); ok {
		return id
	}
	// UnkToken is valid at both levels and is not in the vocabulary, so add cannot fail.
	_ = v.add(UnkToken)
	return int32(len(v.tokens) - 1)
}

// Clone returns an independent copy, e.g. to extend a child model's vocabulary while keeping the parent's.
func (v *Vocab) Clone() *Vocab {
	c, err := newVocab(v.level, v.tokens, v.minFreq)
	if err != nil {
		panic(fmt.Sprintf("clone of a valid vocabulary failed: %v", err)) // cannot happen: v passed the same checks
	}
	return c
}

// Tokenize splits s into this vocabulary's kind of tokens (characters or [SplitWords] words), known or not.
func (v *Vocab) Tokenize(s string) ([]string, error) {
	if offset, ok := firstInvalidUTF8(s); !ok {
		return nil, fmt.Errorf("tokenize: %w at byte offset %d", ErrInvalidUTF8, offset)
	}
	if v.level == Word {
		return SplitWords(s), nil
	}
	tokens := make([]string, 0, len(s))
	for _, r := range s {
		tokens = append(tokens, string(r))
	}
	return tokens, nil
}

// Encode turns s into token ids. Tokens not in the vocabulary become [UnkToken] when the vocabulary has it;
// otherwise (a character vocabulary without [Vocab.AddUnk]) Encode fails with an error wrapping
// [ErrUnknownToken] that names the first unknown character and where it is. Invalid UTF-8 is an error too.
func (v *Vocab) Encode(s string) ([]int32, error) {
	if len(v.tokens) == 0 {
		return nil, errors.New("encode: empty vocabulary (build one with BuildCharVocab or BuildWordVocab)")
	}
	unk, hasUnk := v.UnkID()
	if offset, ok := firstInvalidUTF8(s); !ok {
		return nil, fmt.Errorf("encode: %w at byte offset %d", ErrInvalidUTF8, offset)
	}
	if v.level == Word {
		words := SplitWords(s)
		ids := make([]int32, len(words))
		for i, w := range words {
			id, ok := v.index[w]
			if !ok {
				id = unk
			}
			ids[i] = id
		}
		return ids, nil
	}
	ids := make([]int32, 0, len(s))
	line, column := 1, 0
	for _, r := range s {
		column++
		id, ok := v.runes[r]
		if !ok {
			if !hasUnk {
				return nil, fmt.Errorf("encode: %w: character %q (U+%04X) at character %d (line %d, column %d) "+
					"is not among the %d characters of the vocabulary; use text the model was trained on, "+
					"or add %s to the vocabulary", ErrUnknownToken, r, r, len(ids)+1, line, column, v.Size(), UnkToken)
			}
			id = unk
		}
		ids = append(ids, id)
		if r == '\n' {
			line, column = line+1, 0
		}
	}
	return ids, nil
}

// Decode turns ids back into text. Characters are concatenated, so Decode(Encode(s)) == s for any s whose
// characters are all in the vocabulary. Words are re-joined by [JoinWords]. [UnkToken] and out-of-range ids decode
// to "<unk>" at word level and to the replacement character U+FFFD at character level (so that each id stays
// one character).
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

// Missing returns the distinct tokens of text that the vocabulary lacks, in order of first appearance: what
// would become [UnkToken] (or fail to encode) when fine-tuning on text without extending the vocabulary.
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

// Extend appends the tokens of text that the vocabulary lacks and returns them; existing ids do not change, so
// a model's embedding and output rows for them stay valid and only the new rows need initialising. New
// characters are appended in code-point order; new words need [Vocab.MinFreq] occurrences in text and are
// appended most frequent first.
func (v *Vocab) Extend(text string) ([]string, error) {
	if offset, ok := firstInvalidUTF8(text); !ok {
		return nil, fmt.Errorf("extend %s vocabulary: %w at byte offset %d", v.level, ErrInvalidUTF8, offset)
	}
	var added []string
	if v.level == Word {
		added = frequentTokens(SplitWords(text), v.minFreq, v.index)
	} else {
		missing, _ := v.Missing(text) // text is valid UTF-8, so this cannot fail
		added = missing
		slices.SortFunc(added, func(a, b string) int {
			ra, _ := utf8.DecodeRuneInString(a)
			rb, _ := utf8.DecodeRuneInString(b)
			return int(ra) - int(rb)
		})
	}
	for _, tok := range added {
		if err := v.add(tok); err != nil {
			return nil, fmt.Errorf("extend %s vocabulary: %w", v.level, err)
		}
	}
	return added, nil
}

// vocabJSON is the serialised form: the token list is the whole mapping, since ids are positions.
type vocabJSON struct {
	Level   Level    `json:"level"`
	Tokens  []string `json:"tokens"`
	MinFreq int      `json:"min_freq,omitempty"`
}

// MarshalJSON writes {"level": ..., "tokens": [...], "min_freq": ...}; ids are positions in "tokens".
func (v Vocab) MarshalJSON() ([]byte, error) {
	return json.Marshal(vocabJSON{Level: v.level, Tokens: v.tokens, MinFreq: v.minFreq})
}

// UnmarshalJSON reads what [Vocab.MarshalJSON] writes and checks it: a known level, no duplicate or empty
// tokens, single characters at char level, and [UnkToken] at word level.
func (v *Vocab) UnmarshalJSON(data []byte) error {
	var j vocabJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("decode vocabulary: %w", err)
	}
	if j.Level == Char {
		j.MinFreq = 0
	}
	decoded, err := newVocab(j.Level, j.Tokens, j.MinFreq)
	if err != nil {
		return fmt.Errorf("decode vocabulary: %w", err)
	}
	*v = *decoded
	return nil
}
