package text

import (
	"errors"
	"testing"
)

// TestScoreStreamsCoverEveryTargetOnce checks the scoring layout for texts shorter than a window, of exactly
// a window, and longer, in one stream and many: every position 1..n−1 is a target exactly once, with the
// token before it as input, and each row reads its positions in order.
func TestScoreStreamsCoverEveryTargetOnce(t *testing.T) {
	for _, c := range []struct{ n, streams, seqLen, rows int }{
		{2, 1, 8, 4}, {3, 1, 8, 1}, {9, 1, 8, 4}, {10, 1, 8, 4}, {100, 1, 7, 4},
		{100, 4, 8, 4}, {101, 32, 8, 32}, {1000, 3, 16, 5}, {5, 32, 4, 32},
	} {
		ids := make([]int32, c.n)
		for i := range ids {
			ids[i] = int32(1000 + i) // token = 1000 + position, so inputs and targets show where they came from
		}
		s, err := NewScoreStreams(ids, c.streams, c.seqLen)
		if err != nil {
			t.Fatal(err)
		}
		if s.NumStreams() > c.streams || s.NumTargets() != c.n-1 {
			t.Fatalf("%+v: %d streams, %d targets", c, s.NumStreams(), s.NumTargets())
		}
		seen := make([]int, c.n)
		last := make([]int, c.rows) // last position each row scored
		size := c.rows * c.seqLen
		x, y, pos := make([]int32, size), make([]int32, size), make([]int, size)
		for i := range s.NumWindows() {
			s.WindowInto(i, c.rows, x, y, pos)
			for k, p := range pos {
				if p < 0 {
					continue
				}
				row := k / c.seqLen
				if x[k] != int32(999+p) || y[k] != int32(1000+p) {
					t.Fatalf("%+v window %d: target %d has input %d, target %d", c, i, p, x[k], y[k])
				}
				if last[row] != 0 && p != last[row]+1 {
					t.Fatalf("%+v window %d row %d: position %d after %d", c, i, row, p, last[row])
				}
				last[row] = p
				seen[p]++
			}
		}
		for p := 1; p < c.n; p++ {
			if seen[p] != 1 {
				t.Fatalf("%+v: position %d scored %d times", c, p, seen[p])
			}
		}
	}
}

func TestScoreStreamsNeedTwoTokens(t *testing.T) {
	for _, n := range []int{0, 1} {
		_, err := NewScoreStreams(make([]int32, n), 1, 8)
		if !errors.Is(err, ErrNothingToPredict) {
			t.Errorf("%d tokens: error %v, want ErrNothingToPredict", n, err)
		}
	}
	if _, err := NewScoreStreams(make([]int32, 5), 0, 8); err == nil {
		t.Error("0 streams accepted")
	}
}
