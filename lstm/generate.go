package lstm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// stepGraph is one step of the whole model for a batch of single tokens, the graph generation and
// scoring run once per token (the "single-step graph: token, h, c → logits, h', c'"):
//
//	tokens: [B] int32    h0, c0: [L, B, H]    returns logits [B, V] and h', c' [L, B, H]
//	weightsT: per layer k, W_k and U_k transposed: [4H, in] then [4H, H] (see transposedWeights)
//
// It computes the same pre-activations x·W + h·U + b as CellStep and runs the same cell and head as
// training's forward pass, without dropout, so a sequence fed one token at a time gives the logits
// training computes for it (tested).
func (m *Model) stepGraph(tokens, h0, c0 *Node, weightsT []*Node) (logits, hT, cT *Node) {
	cfg := m.Config
	g := tokens.Graph()
	batch := tokens.Shape().Dimensions[0]
	// x: [B, E]
	x := Gather(m.param(g, ParamEmbedding), ExpandAxes(tokens, -1))
	hs := make([]*Node, cfg.Layers)
	cs := make([]*Node, cfg.Layers)
	// timesTransposed returns a·bᵀ for a: [B, n], bT: [4H, n].
	timesTransposed := func(a, bT *Node) *Node { return Dot(a, bT).General([]int{1}, nil, []int{1}, nil) }
	for k := range cfg.Layers {
		// hk, ck: [B, H], this layer's slice of the carried state.
		hk := Reshape(Slice(h0, AxisElem(k), AxisRange(), AxisRange()), batch, cfg.Hidden)
		ck := Reshape(Slice(c0, AxisElem(k), AxisRange(), AxisRange()), batch, cfg.Hidden)
		// z: [B, 4H] = x·W + h·U + b
		z := Add(timesTransposed(x, weightsT[2*k]), timesTransposed(hk, weightsT[2*k+1]))
		z = Add(z, BroadcastToDims(ExpandAxes(m.param(g, ParamLayerBias(k)), 0), z.Shape().Dimensions...))
		s := CellFromPreactivation(z, ck)
		hs[k], cs[k] = s.H, s.C
		x = s.H // the next layer reads this layer's h_t
	}
	return m.head(g, x), Stack(hs, 0), Stack(cs, 0)
}

// Stepper feeds a model one token at a time with its hidden and cell state carried from step to step:
// the engine of generation, scoring and next-token distributions. The single-step graph is compiled
// once (on the first Step) and the state stays in the tensors the graph returned (no copy to the host
// and back); only the logits come to the host. It always reads the model's current weights, so a
// Stepper made before more training sees the trained weights. Not safe for concurrent use.
type Stepper struct {
	m    *Model
	exec *model.Exec
	h, c *tensors.Tensor // [L, stepperRows, H]

	// The recurrent weights transposed, and the variable values they were computed from (see
	// transposedWeights). Why transposed: with W as [in, 4H] each output column of x·W walks W with a
	// stride of 4H floats (4 KiB at H = 256), which the backend's small-product kernel reads ~1.5× slower
	// than the contiguous rows of Wᵀ (measured [4, 256]·[256, 1024]: 87 µs against 58 µs).
	transposeExec *model.Exec
	weightsT      []*tensors.Tensor
	weightsOf     []*tensors.Tensor
}

// recurrentParams lists, per layer, the paths of W and U: the weights the step graph takes transposed.
func (m *Model) recurrentParams() []string {
	var paths []string
	for k := range m.Config.Layers {
		paths = append(paths, ParamLayerWIH(k), ParamLayerWHH(k))
	}
	return paths
}

// NewStepper returns a Stepper over m with zero state (batch 1).
func (m *Model) NewStepper() (*Stepper, error) {
	exec, err := m.newExec(func(g *Graph, in []*Node) []*Node {
		logits, h, c := m.stepGraph(in[0], in[1], in[2], in[3:])
		return []*Node{Slice(logits, AxisRange(0, 1)), h, c} // only stream 0 is real (stepperRows)
	})
	if err != nil {
		return nil, fmt.Errorf("build single-step graph: %w", err)
	}
	transposeExec, err := m.newExec(func(g *Graph, _ []*Node) []*Node {
		var out []*Node
		for _, p := range m.recurrentParams() {
			out = append(out, Transpose(m.param(g, p), 0, 1))
		}
		return out
	})
	if err != nil {
		return nil, fmt.Errorf("build weight transposition graph: %w", err)
	}
	s := &Stepper{m: m, exec: exec, transposeExec: transposeExec}
	s.Reset()
	return s, nil
}

// transposedWeights returns the recurrent weights transposed, computing them again when a variable
// holds a new value (training and loading set new tensors; GoMLX never changes a variable's tensor
// in place).
func (s *Stepper) transposedWeights() ([]*tensors.Tensor, error) {
	paths := s.m.recurrentParams()
	current := make([]*tensors.Tensor, len(paths))
	stale := s.weightsT == nil
	for i, p := range paths {
		v := s.m.Store.GetVariable(p)
		if v == nil {
			return nil, fmt.Errorf("parameter %s missing from the store", p)
		}
		value, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", p, err)
		}
		current[i] = value
		stale = stale || value != s.weightsOf[i]
	}
	if stale {
		out, err := s.m.call(s.transposeExec, "transpose weights")
		if err != nil {
			return nil, err
		}
		s.weightsT, s.weightsOf = out, current
	}
	return s.weightsT, nil
}

// stepperRows is how many streams a Stepper's graph runs, of which only the first is used. Why not
// one: the pure-Go backend's small matrix products (compute v0.1.14) are about ten times slower for a
// single row than for four — measured 1.5 ms against 0.14 ms for [1|4, 513]·[513, 1024] — so feeding
// three idle streams (token 0, their own carried state) alongside makes a generated token several
// times faster. LSTM streams never mix, so the first stream's logits and state are exact (tested).
const stepperRows = 4

// Reset zeroes the hidden and cell state, as at the start of a text.
func (s *Stepper) Reset() {
	shape := s.m.stateShape(stepperRows)
	s.h, s.c = tensors.FromShape(shape), tensors.FromShape(shape)
}

// Step reads token and returns the logits [V] of the token that follows it.
func (s *Stepper) Step(token int32) ([]float32, error) {
	if token < 0 || int(token) >= s.m.Vocab.Size() {
		return nil, fmt.Errorf("step: token id %d outside the vocabulary 0..%d", token, s.m.Vocab.Size()-1)
	}
	weightsT, err := s.transposedWeights()
	if err != nil {
		return nil, fmt.Errorf("step: %w", err)
	}
	tokens := make([]int32, stepperRows) // stream 0 reads token; the idle streams read token 0
	tokens[0] = token
	args := append([]any{tokens, s.h, s.c}, anySlice(weightsT)...)
	out, err := s.m.call(s.exec, "generation step", args...)
	if err != nil {
		return nil, fmt.Errorf("step: %w", err)
	}
	logits, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return nil, fmt.Errorf("step: read logits: %w", err)
	}
	s.h, s.c = out[1], out[2]
	return logits, nil
}

// anySlice returns ts as a []any, for Exec.Call's variadic arguments.
func anySlice(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// Feed reads ids in order (at least one) and returns the logits of the token that follows the last.
func (s *Stepper) Feed(ids []int32) ([]float32, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("feed: no tokens")
	}
	var logits []float32
	for _, id := range ids {
		var err error
		if logits, err = s.Step(id); err != nil {
			return nil, err
		}
	}
	return logits, nil
}

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
	// option and seed.
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

// Probabilities returns softmax(logits) (computed in float64, stable for any scale).
func Probabilities(logits []float32) []float64 {
	return softmaxScaled(logits, 1)
}

// softmaxScaled returns softmax(logits / temperature) in float64. The maximum is subtracted first, so
// a tiny temperature sends every other probability to exactly 0 instead of overflowing.
func softmaxScaled(logits []float32, temperature float64) []float64 {
	maxLogit := math.Inf(-1)
	for _, l := range logits {
		maxLogit = math.Max(maxLogit, float64(l))
	}
	p := make([]float64, len(logits))
	var sum float64
	for i, l := range logits {
		p[i] = math.Exp((float64(l) - maxLogit) / temperature)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// argMax returns the index of the largest value, the lowest index on ties.
func argMax(xs []float32) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// Entropy returns the entropy of a distribution in nats: −Σ p ln p.
func Entropy(p []float64) float64 {
	var h float64
	for _, x := range p {
		if x > 0 {
			h -= x * math.Log(x)
		}
	}
	return h
}

// samplingDistribution returns the distribution the next token is drawn from under opts: one-hot at
// the arg-max when greedy, else softmax(logits / T) cut by top-k then top-p and renormalised.
func samplingDistribution(logits []float32, opts SampleOptions) []float64 {
	if opts.greedy() {
		p := make([]float64, len(logits))
		p[argMax(logits)] = 1
		return p
	}
	p := softmaxScaled(logits, opts.Temperature)
	topK := opts.TopK > 0 && opts.TopK < len(p)
	topP := opts.TopP > 0 && opts.TopP < 1
	if !topK && !topP {
		return p
	}
	// order: token ids by decreasing probability, lowest id first on ties (so top-k = 1 is arg-max).
	order := make([]int, len(p))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0
	})
	keep := len(order)
	if topK {
		keep = opts.TopK
	}
	if topP {
		var kept float64
		for _, id := range order[:keep] {
			kept += p[id]
		}
		// The nucleus: the shortest prefix of order whose mass reaches TopP of what top-k kept.
		var cum float64
		for n, id := range order[:keep] {
			cum += p[id]
			if cum >= opts.TopP*kept {
				keep = n + 1
				break
			}
		}
	}
	out := make([]float64, len(p))
	var sum float64
	for _, id := range order[:keep] {
		out[id] = p[id]
		sum += p[id]
	}
	for _, id := range order[:keep] {
		out[id] /= sum
	}
	return out
}

// draw picks an index with probability p[i] using rng.
func draw(p []float64, rng *rand.Rand) int {
	u := rng.Float64()
	var cum float64
	last := 0
	for i, x := range p {
		if x <= 0 {
			continue
		}
		cum += x
		last = i
		if u < cum {
			return i
		}
	}
	return last // u landed past the sum's rounding error: the last token with mass
}

// pcgStream is the second PCG word: fixed, so the Seed alone decides the draws.
const pcgStream = 0x6c73746d

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
// state and a line break: training sees the zero state only at the start of each epoch, so a model has
// barely learnt what follows it and may begin with rare symbols even greedily; a line break after lines of
// text is what it sees at the start of every line. Sampled rather than greedy lines, because greedy text
// tends to loop without ever breaking the line. Measured on Moby Dick (2×128 model, 300 steps): the first
// 20 characters of validation lines cost 2.41 nats/char after this context, 2.59 after the zero state and a
// line break, 2.30 after the 256 characters that really precede them (BenchmarkStartContext).
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
	rng := rand.New(rand.NewPCG(opts.Seed, pcgStream))
	dec := newDecoder(m.Vocab, promptIDs)
	out := stopFilter{stop: opts.Stop, emit: emit}
	for n := range opts.Length {
		p := samplingDistribution(logits, opts)
		id := int32(draw(p, rng))
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
