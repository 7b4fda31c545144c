package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// SampleOptions say how Generate draws tokens. The zero value (apart from Length) is greedy decoding
// from the start context.
type SampleOptions struct {
	// Prompt primes the model: its tokens (after the vocabulary's Unicode normalization) are read one
	// by one, carrying state, before anything is generated; it is not part of the returned text. Tokens
	// the vocabulary lacks are read as <unk> (Vocab.EncodeUnseen says which).
	//
	// A prompt with no tokens starts from the start context, the beginning of a line after lines of
	// text: from the zero state the model reads a line break (StartToken), then writes three lines of
	// its own, unseen (sampled at temperature 1 with a fixed seed, at most 600 tokens), and reads the
	// line break that ends them; the visible text starts there. It is the same for every sampling
	// option and seed. Line breaks the model then writes before anything else (blank lines) are read
	// but left out of the text and of Length (at most leadingBreaks of them), so the text never begins
	// with an empty line; with a prompt, every generated token is kept.
	Prompt string
	// Length is the most tokens to generate (0 generates nothing).
	Length int
	// Temperature divides the logits before the softmax: 1 samples from the model as it is, below 1
	// sharpens, above 1 flattens. 0 means greedy; as it tends to 0 sampling tends to greedy.
	Temperature float64
	// TopK keeps only the K most probable tokens before drawing (0 = off; K ≥ vocabulary = off).
	TopK int
	// TopP keeps the smallest set of most probable tokens whose probability adds up to at least TopP
	// (nucleus sampling; 0 or 1 = off). Applied after TopK.
	TopP float64
	// Greedy always takes the most probable token (arg-max, lowest id on ties), ignoring the above.
	Greedy bool
	// Seed seeds the random draws (PCG): the same model, options and seed give the same text.
	Seed uint64
	// Stop ends generation as soon as the generated text (not the prompt) contains it. The stop string
	// itself is cut: the text returned or streamed ends just before it, like the "stop" of the OpenAI
	// API. Empty = never stop early.
	Stop string
}

// Validate checks the options, naming the offending one.
func (o SampleOptions) Validate() error {
	switch {
	case o.Length < 0:
		return fmt.Errorf("invalid length: %d (want >= 0 tokens)", o.Length)
	case math.IsNaN(o.Temperature) || math.IsInf(o.Temperature, 0) || o.Temperature < 0:
		return fmt.Errorf("invalid temperature: %g (want >= 0; 0 = greedy)", o.Temperature)
	case o.TopK < 0:
		return fmt.Errorf("invalid top_k: %d (want >= 0; 0 = off)", o.TopK)
	case math.IsNaN(o.TopP) || o.TopP < 0 || o.TopP > 1:
		return fmt.Errorf("invalid top_p: %g (want 0 <= top_p <= 1; 0 or 1 = off)", o.TopP)
	}
	return nil
}

// greedy reports whether the options ask for arg-max decoding.
func (o SampleOptions) greedy() bool { return o.Greedy || o.Temperature == 0 }

// StartToken returns the token the start context begins with: a line break when the vocabulary has one, else
// token 0.
func (m *Model) StartToken() int32 {
	if id, ok := m.Vocab.ID(text.NewlineToken); ok {
		return id
	}
	return 0
}

// The start context (see SampleOptions.Prompt): the model writes startLines lines of its own, sampled at
// temperature 1 with a fixed seed (startSeed), at most startLines·startLineTokens tokens.
const (
	startLines      = 3
	startLineTokens = 200
	startSeed       = 0
)

// readStart reads the start context into s and returns the logits of the first token. Why not just the zero
// state and a line break: training meets the zero state far less often than carried state (at each epoch's
// start and at the few random stream resets of reset_prob, each before whatever text the window holds), so a
// model knows little of what follows it at a line's start and may begin with rare symbols even greedily; a
// line break after lines of text is what it sees at the start of every line. Sampled rather than greedy lines, because greedy text
// tends to loop without ever breaking the line. The first characters of a line cost less after this
// context than after the zero state (BenchmarkStartContext; figures in docs/benchmarks.md).
func (m *Model) readStart(s *Stepper) ([]float32, error) {
	newline, hasNewline := m.Vocab.ID(text.NewlineToken)
	logits, err := s.Step(m.StartToken())
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(startSeed, pcgStream))
	lines := 0
	for range startLines * startLineTokens {
		id := int32(draw(Probabilities(logits), rng))
		if hasNewline && id == newline {
			if lines++; lines == startLines {
				break
			}
		}
		if logits, err = s.Step(id); err != nil {
			return nil, err
		}
	}
	if hasNewline {
		return s.Step(newline)
	}
	return logits, nil
}

// encodePrompt returns the prompt's ids (none for an empty prompt, or a word-level prompt of only spaces).
// Tokens the vocabulary lacks are read as <unk>; Vocab.EncodeUnseen tells which.
func (m *Model) encodePrompt(prompt string) ([]int32, error) {
	if prompt == "" {
		return nil, nil
	}
	ids, err := m.Vocab.Encode(prompt)
	if err != nil {
		return nil, fmt.Errorf("prompt: %w", err)
	}
	return ids, nil
}

// prime reads promptIDs into s, or the start context when there are none, and returns the logits of the
// token that follows.
func (m *Model) prime(s *Stepper, promptIDs []int32) ([]float32, error) {
	if len(promptIDs) == 0 {
		return m.readStart(s)
	}
	return s.Feed(promptIDs)
}

// NextTokenDistribution returns the model's probabilities (temperature 1, nothing cut) of every
// vocabulary token coming right after prompt (after the start context when prompt has no tokens).
func (m *Model) NextTokenDistribution(prompt string) ([]float64, error) {
	promptIDs, err := m.encodePrompt(prompt)
	if err != nil {
		return nil, fmt.Errorf("next-token distribution: %w", err)
	}
	s, err := m.NewStepper()
	if err != nil {
		return nil, err
	}
	logits, err := m.prime(s, promptIDs)
	if err != nil {
		return nil, fmt.Errorf("next-token distribution: %w", err)
	}
	return Probabilities(logits), nil
}

// GeneratedToken describes one generated token, for plots of how sure the model was.
type GeneratedToken struct {
	ID    int32
	Token string // the vocabulary token (words without the spacing Decode adds)
	// Prob is the chosen token's probability and Entropy (nats) the entropy of the distribution it
	// was drawn from — after temperature, top-k and top-p (greedy: 1 and 0).
	Prob, Entropy float64
	// ModelProb and ModelEntropy are the same under the model's own distribution (temperature 1,
	// nothing cut): how surprising the choice was to the model.
	ModelProb, ModelEntropy float64
}

// Generate primes the model with opts.Prompt and samples up to opts.Length tokens, returning the
// generated text (without the prompt, cut before opts.Stop).
func (m *Model) Generate(opts SampleOptions) (string, error) {
	var b strings.Builder
	err := m.GenerateFunc(opts, func(piece string) error {
		b.WriteString(piece)
		return nil
	})
	return b.String(), err
}

// GenerateFunc is Generate streaming: emit receives the text as it is generated, piece by piece
// (a token's text, with a leading space for words where Decode puts one). Text that might be the
// beginning of opts.Stop is held back until it is known not to be. An error from emit stops
// generation and is returned wrapped.
func (m *Model) GenerateFunc(opts SampleOptions, emit func(piece string) error) error {
	return m.generate(opts, emit, nil)
}

// GenerateTrace generates like Generate and returns every generated token with its probability and
// the entropy of the distribution it came from (including the tokens that completed opts.Stop), and
// the generated text.
func (m *Model) GenerateTrace(opts SampleOptions) ([]GeneratedToken, string, error) {
	var trace []GeneratedToken
	var b strings.Builder
	err := m.generate(opts, func(piece string) error {
		b.WriteString(piece)
		return nil
	}, &trace)
	return trace, b.String(), err
}

// generate is the sampling loop behind Generate, GenerateFunc and GenerateTrace.
func (m *Model) generate(opts SampleOptions, emit func(string) error, trace *[]GeneratedToken) error {
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if emit == nil {
		return fmt.Errorf("generate: nil emit function")
	}
	promptIDs, err := m.encodePrompt(opts.Prompt)
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if opts.Length == 0 {
		return nil
	}
	s, err := m.NewStepper()
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	logits, err := m.prime(s, promptIDs)
	if err != nil {
		return fmt.Errorf("generate: prime: %w", err)
	}
	sampler := NewSampler(opts)
	dec := newDecoder(m.Vocab, promptIDs)
	out := stopFilter{stop: opts.Stop, emit: emit}
	skip := 0 // line breaks a prompt-less text may still drop before its first visible token
	if len(promptIDs) == 0 {
		skip = leadingBreaks
	}
	for n := 0; n < opts.Length; n++ {
		id, p := sampler.Sample(logits)
		if skip > 0 && m.isLineBreak(id) {
			// Read, not shown: the text starts at the first token that is not a line break.
			skip--
			dec.add(id)
			if logits, err = s.Step(id); err != nil {
				return fmt.Errorf("generate: leading line break: %w", err)
			}
			n--
			continue
		}
		skip = 0
		if trace != nil {
			raw := Probabilities(logits)
			*trace = append(*trace, GeneratedToken{
				ID: id, Token: m.Vocab.Token(id), Prob: p[id], Entropy: Entropy(p),
				ModelProb: raw[id], ModelEntropy: Entropy(raw),
			})
		}
		stopped, err := out.write(dec.add(id))
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		if stopped || n == opts.Length-1 {
			break
		}
		if logits, err = s.Step(id); err != nil {
			return fmt.Errorf("generate: token %d: %w", n+1, err)
		}
	}
	if err := out.flush(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	return nil
}

// leadingBreaks is the most line breaks a prompt-less generation leaves out before its first visible
// token (a model that writes nothing else still gives text: line breaks).
const leadingBreaks = 64

// isLineBreak reports whether token id is a line break ("\n", "\r\n" or "\r").
func (m *Model) isLineBreak(id int32) bool {
	switch m.Vocab.Token(id) {
	case "\n", "\r\n", "\r":
		return true
	}
	return false
}

// decoder turns generated ids into text pieces incrementally. Characters decode one by one; words are
// re-joined with the prompt in front (JoinWords only appends, so the new piece is the new suffix), which
// gives the right spacing and quote pairing across the prompt/continuation boundary.
type decoder struct {
	vocab *text.Vocab
	ids   []int32 // word level: prompt ids followed by the generated ones
	done  int     // word level: bytes of Decode(ids) already returned (or belonging to the prompt)
}

func newDecoder(v *text.Vocab, promptIDs []int32) *decoder {
	d := &decoder{vocab: v}
	if v.Level() == text.Word {
		d.ids = slices.Clone(promptIDs)
		d.done = len(v.Decode(d.ids))
	}
	return d
}

// add returns the text id adds to what was generated before it.
func (d *decoder) add(id int32) string {
	if d.vocab.Level() != text.Word {
		return d.vocab.Decode([]int32{id})
	}
	d.ids = append(d.ids, id)
	all := d.vocab.Decode(d.ids)
	piece := all[d.done:]
	d.done = len(all)
	return piece
}

// stopFilter passes generated text on to emit until the stop string appears, holding back any tail
// that could be the start of the stop string.
type stopFilter struct {
	stop    string
	emit    func(string) error
	pending string // text received but not yet emitted
}

// write takes the next piece of text and reports whether the stop string has now appeared (in which
// case everything before it has been emitted and the rest dropped).
func (f *stopFilter) write(piece string) (bool, error) {
	if f.stop == "" {
		if piece == "" {
			return false, nil
		}
		return false, f.emit(piece)
	}
	f.pending += piece
	if i := strings.Index(f.pending, f.stop); i >= 0 {
		before := f.pending[:i]
		f.pending = ""
		if before == "" {
			return true, nil
		}
		return true, f.emit(before)
	}
	// Hold back the longest tail of pending that is a proper prefix of stop.
	hold := 0
	for k := min(len(f.stop)-1, len(f.pending)); k > 0; k-- {
		if strings.HasSuffix(f.pending, f.stop[:k]) {
			hold = k
			break
		}
	}
	ready := f.pending[:len(f.pending)-hold]
	f.pending = f.pending[len(f.pending)-hold:]
	if ready == "" {
		return false, nil
	}
	return false, f.emit(ready)
}

// flush emits whatever was held back (generation ended without completing the stop string).
func (f *stopFilter) flush() error {
	if f.pending == "" {
		return nil
	}
	p := f.pending
	f.pending = ""
	return f.emit(p)
}
