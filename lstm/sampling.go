package lstm

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Sampling: turning logits into the next token. One Sampler serves generation (Generate and friends)
// and the speed benchmark, so what is measured is what users run.

// Sampler draws tokens from logits as SampleOptions say: greedy, or softmax(logits / Temperature) cut by
// TopK then TopP, with its own PCG stream seeded by Seed (the same seed and logits give the same draws).
// It reads only the sampling fields of the options (not Prompt, Length or Stop). Not safe for
// concurrent use.
type Sampler struct {
	opts SampleOptions
	rng  *rand.Rand
}

// NewSampler returns a sampler for opts (check them with opts.Validate first).
func NewSampler(opts SampleOptions) *Sampler {
	return &Sampler{opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, pcgStream))}
}

// Distribution returns the distribution the next token is drawn from: one-hot at the arg-max when greedy,
// else softmax(logits / T) cut by top-k then top-p and renormalised. logits: [V].
func (s *Sampler) Distribution(logits []float32) []float64 {
	return samplingDistribution(logits, s.opts)
}

// Sample draws the next token id from logits [V], returning it with the distribution it was drawn from.
func (s *Sampler) Sample(logits []float32) (int32, []float64) {
	p := s.Distribution(logits)
	return int32(draw(p, s.rng)), p
}

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
