package nb

import (
	"fmt"
	"math"
)

// Baselines are the losses, in nats per token, of three models that need no training, measured on held-out
// tokens: what a trained model's loss must beat to have learned anything beyond them.
type Baselines struct {
	// Uniform = ln V: every token of the vocabulary equally likely (an untrained model starts about here).
	Uniform float64
	// Unigram: each token predicted by its frequency in the training tokens, ignoring context.
	Unigram float64
	// Bigram: each token predicted from the one before it, by the training tokens' pair frequencies.
	Bigram float64
}

// BaselinesOf measures the baselines on eval, estimated from train, for a vocabulary of size tokens (ids
// 0..size-1). Counts are add-one (Laplace) smoothed, so a token or pair never seen in train keeps a small
// probability: p(b) = (n(b)+1)/(N+V) and p(b|a) = (n(a,b)+1)/(n(a)+V). The first eval token is context only.
func BaselinesOf(train, eval []int32, size int) (Baselines, error) {
	if size < 1 || len(eval) < 2 {
		return Baselines{}, fmt.Errorf("baselines: %d tokens to score, vocabulary %d: need 2 and 1", len(eval), size)
	}
	uni := make([]float64, size)
	pair := make(map[[2]int32]float64)
	for i, id := range train {
		if id < 0 || int(id) >= size {
			return Baselines{}, fmt.Errorf("baselines: training token %d is %d, outside the vocabulary 0..%d", i, id, size-1)
		}
		uni[id]++
		if i > 0 {
			pair[[2]int32{train[i-1], id}]++
		}
	}
	// Bigram contexts count the tokens that have a successor (all but the last).
	ctx := append([]float64(nil), uni...)
	if len(train) > 0 {
		ctx[train[len(train)-1]]--
	}
	V, N := float64(size), float64(len(train))
	var b Baselines
	for i := 1; i < len(eval); i++ {
		a, t := eval[i-1], eval[i]
		if t < 0 || int(t) >= size || a < 0 || int(a) >= size {
			return Baselines{}, fmt.Errorf("baselines: evaluation token %d outside the vocabulary 0..%d", i, size-1)
		}
		b.Unigram -= math.Log((uni[t] + 1) / (N + V))
		b.Bigram -= math.Log((pair[[2]int32{a, t}] + 1) / (ctx[a] + V))
	}
	n := float64(len(eval) - 1)
	b.Uniform, b.Unigram, b.Bigram = math.Log(V), b.Unigram/n, b.Bigram/n
	return b, nil
}

// Lines returns the baselines as chart reference lines, divided by unit (1 for nats, math.Ln2 for bits).
func (b Baselines) Lines(unit float64) []Baseline {
	return []Baseline{{"uniform (ln V)", b.Uniform / unit}, {"unigram model", b.Unigram / unit}, {"bigram model", b.Bigram / unit}}
}

// Pearson returns the correlation coefficient r of two equally long series (NaN when either is constant).
func Pearson(a, b []float64) float64 {
	if len(a) != len(b) || len(a) < 2 {
		return math.NaN()
	}
	n := float64(len(a))
	var ma, mb float64
	for k := range a {
		ma += a[k] / n
		mb += b[k] / n
	}
	var cov, va, vb float64
	for k := range a {
		cov += (a[k] - ma) * (b[k] - mb)
		va += (a[k] - ma) * (a[k] - ma)
		vb += (b[k] - mb) * (b[k] - mb)
	}
	return cov / math.Sqrt(va*vb)
}

// BestUnit returns the unit whose series (units[u], one value per position) correlates most strongly with
// target, in absolute value, and that correlation r (its sign says whether the unit goes up or down).
func BestUnit(units [][]float64, target []float64) (int, float64) {
	best, bestR := -1, 0.0
	for u, series := range units {
		if r := Pearson(series, target); !math.IsNaN(r) && (best < 0 || math.Abs(r) > math.Abs(bestR)) {
			best, bestR = u, r
		}
	}
	return best, bestR
}
