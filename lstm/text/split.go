package text

import (
	"fmt"
	"math"
)

// Default split fractions: 90% train, 5% validation, 5% test.
const (
	DefaultValFrac  = 0.05
	DefaultTestFrac = 0.05
)

// Split cuts ids by position into train, validation and test parts: the first part is training, then
// validation (round(n·valFrac) tokens), then test (round(n·testFrac) tokens). Cutting by position, not at random,
// keeps each part contiguous text, as truncated BPTT needs, and makes the split deterministic. A zero fraction gives
// an empty part; a non-zero fraction that rounds to no tokens is an error, as are fractions outside [0, 1) and
// fractions that leave no training text. The parts share ids' memory (with capacities capped, so appending to one
// cannot overwrite another).
func Split(ids []int32, valFrac, testFrac float64) (train, val, test []int32, err error) {
	for _, f := range []struct {
		name  string
		value float64
	}{{"validation", valFrac}, {"test", testFrac}} {
		if !(f.value >= 0 && f.value < 1) { // also rejects NaN
			return nil, nil, nil, fmt.Errorf("split: %s fraction %v must be in [0, 1)", f.name, f.value)
		}
	}
	n := len(ids)
	nVal := int(math.Round(float64(n) * valFrac))
	nTest := int(math.Round(float64(n) * testFrac))
	if valFrac > 0 && nVal == 0 || testFrac > 0 && nTest == 0 {
		return nil, nil, nil, fmt.Errorf("split: %d tokens are too few for a %v validation and %v test fraction "+
			"(a part would be empty)", n, valFrac, testFrac)
	}
	nTrain := n - nVal - nTest
	if nTrain <= 0 {
		return nil, nil, nil, fmt.Errorf("split: validation fraction %v and test fraction %v of %d tokens leave "+
			"no training tokens", valFrac, testFrac, n)
	}
	train = ids[:nTrain:nTrain]
	val = ids[nTrain : nTrain+nVal : nTrain+nVal]
	test = ids[nTrain+nVal : n : n]
	return train, val, test, nil
}
