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
	Token   string  // the token as written in the text
	LogProb float64 // ln p(token | every token before it)
	Unknown bool    // the vocabulary lacks it: what was scored is <unk>
}

// ScoreResult is how probable a model finds a text.
//
// The first token has nothing before it, so it is not scored: it is read as context and every later
// token is scored given all the tokens before it, state carried from the start of the text (zero
// state before the first token). This is the convention of Evaluate (and of training's loss), so a
// text scored here and evaluated there give the same loss.
type ScoreResult struct {
	Tokens      int          // tokens scored: the text's tokens minus the first
	Chars       int          // characters those tokens cover (words: with the spaces between them)
	LogProb     float64      // total natural-log probability of the scored tokens
	PerToken    []TokenScore // the scored tokens, in order (the text's tokens 2..N)
	NLL         float64      // mean negative log-likelihood, nats per token: −LogProb / Tokens
	Perplexity  float64      // exp(NLL)
	BitsPerChar float64      // −LogProb / ln 2 / Chars; at character level the same as bits per token
}

// Score computes the log-probability of text under the model, token by token, with the single-step
// graph (exact for any length; one step per token). The text needs at least two tokens. Characters a
// character vocabulary lacks are an error unless it has <unk>.
func (m *Model) Score(txt string) (ScoreResult, error) {
	ids, err := m.Vocab.Encode(txt)
	if err != nil {
		return ScoreResult{}, fmt.Errorf("score: %w", err)
	}
	if len(ids) < 2 {
		return ScoreResult{}, fmt.Errorf("score: the text has %d token(s); need at least 2 (the first is context and is not scored)", len(ids))
	}
	tokens, err := m.Vocab.Tokenize(txt)
	if err != nil {
		return ScoreResult{}, fmt.Errorf("score: %w", err)
	}
	if len(tokens) != len(ids) {
		return ScoreResult{}, fmt.Errorf("score: tokenizer gave %d tokens but encoding %d ids", len(tokens), len(ids))
	}
	s, err := m.NewStepper()
	if err != nil {
		return ScoreResult{}, fmt.Errorf("score: %w", err)
	}
	res := ScoreResult{Tokens: len(ids) - 1, PerToken: make([]TokenScore, 0, len(ids)-1)}
	for i, id := range ids[:len(ids)-1] {
		logits, err := s.Step(id)
		if err != nil {
			return ScoreResult{}, fmt.Errorf("score: token %d: %w", i+1, err)
		}
		next := ids[i+1]
		lp := logSoftmaxAt(logits, int(next))
		res.LogProb += lp
		_, known := m.Vocab.ID(tokens[i+1])
		res.PerToken = append(res.PerToken, TokenScore{Token: tokens[i+1], LogProb: lp, Unknown: !known})
	}
	res.Chars = scoredChars(m.Vocab.Level(), txt, tokens)
	res.NLL = -res.LogProb / float64(res.Tokens)
	res.Perplexity = math.Exp(res.NLL)
	res.BitsPerChar = -res.LogProb / math.Ln2 / float64(res.Chars)
	return res, nil
}

// logSoftmaxAt returns ln softmax(logits)[i], in float64.
func logSoftmaxAt(logits []float32, i int) float64 {
	maxLogit := math.Inf(-1)
	for _, l := range logits {
		maxLogit = math.Max(maxLogit, float64(l))
	}
	var sum float64
	for _, l := range logits {
		sum += math.Exp(float64(l) - maxLogit)
	}
	return float64(logits[i]) - maxLogit - math.Log(sum)
}

// scoredChars counts the characters of txt after its first token: the denominator of bits per
// character. At character level that is the number of scored tokens; at word level it includes the
// spaces between words, so figures compare with character models on the same text.
func scoredChars(level text.Level, txt string, tokens []string) int {
	if level != text.Word {
		return len(tokens) - 1
	}
	// Word tokenization skips whitespace other than line breaks, then reads the first token verbatim.
	rest := strings.TrimLeftFunc(txt, func(r rune) bool { return r != '\n' && unicode.IsSpace(r) })
	rest = strings.TrimPrefix(rest, tokens[0])
	return max(utf8.RuneCountInString(rest), 1)
}
