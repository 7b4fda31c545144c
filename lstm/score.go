package lstm

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// TokenScore is one scored token of a text.
type TokenScore struct {
	Token   string  // the token as written in the text (after Unicode normalization)
	LogProb float64 // ln p(token | every token before it)
	Unknown bool    // the vocabulary lacks it: what was scored is <unk>
}

// ScoreResult is how probable a model finds a text.
//
// The first token has nothing before it, so it is not scored: it is read as context, and every later token is
// scored given all the tokens before it, state carried from the start of the text (zero state before the first
// token): one stream, as EvaluateStream reads it, with the same figures.
type ScoreResult struct {
	EvalResult // over the scored tokens: loss, perplexity, bits per token, accuracy, OOV count and rate, in-vocabulary figures

	LogProb     float64      // total natural-log probability of the scored tokens
	Chars       int          // characters those tokens cover (words: with the spaces between them)
	BitsPerChar float64      // −LogProb / ln 2 / Chars: bits per character of text, comparable across levels
	PerToken    []TokenScore // the scored tokens, in order (the text's tokens 2..N)
	// Unseen lists the text's tokens the vocabulary lacks (all of them, the first included), which were read as
	// <unk>: what a caller may warn about.
	Unseen text.Unseen
}

// Score computes the log-probability of text under the model, token by token, after the vocabulary's Unicode
// normalization. Tokens the vocabulary lacks are read as <unk> (see ScoreResult.Unseen). It runs the windowed
// scoring graph on one stream, so long texts score fast. A text of fewer than two tokens is an error wrapping
// text.ErrNothingToPredict that says why.
func (m *Model) Score(txt string) (ScoreResult, error) {
	enc, err := m.Vocab.EncodeText(txt)
	if err != nil {
		return ScoreResult{}, fmt.Errorf("score: %w", err)
	}
	ids, tokens := enc.IDs, enc.Tokens
	s, err := text.NewScoreStreams(ids, 1, m.Config.SeqLen)
	if err != nil {
		return ScoreResult{}, fmt.Errorf("score: %w", err)
	}
	res := ScoreResult{PerToken: make([]TokenScore, len(ids)-1), Unseen: enc.Unseen}
	res.EvalResult, err = m.scoreSplit(s, 0, func(pos int, nll float64) {
		_, known := m.Vocab.ID(tokens[pos])
		res.PerToken[pos-1] = TokenScore{Token: tokens[pos], LogProb: -nll, Unknown: !known}
	})
	if err != nil {
		return ScoreResult{}, fmt.Errorf("score: %w", err)
	}
	for _, ts := range res.PerToken {
		res.LogProb += ts.LogProb
	}
	res.Chars = scoredChars(m.Vocab.Level(), enc.Text, tokens)
	res.BitsPerChar = -res.LogProb / math.Ln2 / float64(res.Chars)
	return res, nil
}

// scoredChars counts the characters (code points) of txt after its first token: the denominator of bits per
// character. At character level that is the number of scored tokens, at grapheme level the code points of the
// scored clusters; at word level it includes the spaces between words, so figures compare with character models
// on the same text.
func scoredChars(level text.Level, txt string, tokens []string) int {
	switch level {
	case text.Char:
		return len(tokens) - 1
	case text.Grapheme:
		n := 0
		for _, tok := range tokens[1:] {
			n += utf8.RuneCountInString(tok)
		}
		return n
	}
	// Word tokenization skips whitespace other than line breaks, then reads the first token verbatim.
	rest := strings.TrimLeftFunc(txt, func(r rune) bool { return r != '\n' && unicode.IsSpace(r) })
	rest = strings.TrimPrefix(rest, tokens[0])
	return max(utf8.RuneCountInString(rest), 1)
}
