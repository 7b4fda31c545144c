package text

import (
	"math"
	"slices"
	"testing"
)

func seq(n int) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(i)
	}
	return ids
}

func TestSplitDefault(t *testing.T) {
	ids := seq(1000)
	train, val, test, err := Split(ids, DefaultValFrac, DefaultTestFrac)
	if err != nil {
		t.Fatal(err)
	}
	if len(train) != 900 || len(val) != 50 || len(test) != 50 {
		t.Fatalf("sizes %d/%d/%d, want 900/50/50", len(train), len(val), len(test))
	}
	// By position: concatenating the parts gives back the sequence.
	if !slices.Equal(slices.Concat(train, val, test), ids) {
		t.Error("parts are not the sequence in order")
	}
	// Appending to one part must not overwrite the next.
	_ = append(train, -1)
	if val[0] != 900 {
		t.Errorf("append to train overwrote validation: %d", val[0])
	}
	train2, val2, test2, _ := Split(ids, DefaultValFrac, DefaultTestFrac)
	if !slices.Equal(train, train2) || !slices.Equal(val, val2) || !slices.Equal(test, test2) {
		t.Error("split not deterministic")
	}
}

func TestSplitSizes(t *testing.T) {
	cases := []struct {
		n                       int
		val, test               float64
		wantTrain, wantV, wantT int
	}{
		{101, 0.1, 0.1, 81, 10, 10},
		{10, 0, 0, 10, 0, 0},
		{10, 0.2, 0, 8, 2, 0},
		{7, 0.5, 0.3, 1, 4, 2}, // round(3.5)=4, round(2.1)=2, train gets the rest
	}
	for _, c := range cases {
		train, val, test, err := Split(seq(c.n), c.val, c.test)
		if err != nil {
			t.Errorf("n=%d %v/%v: %v", c.n, c.val, c.test, err)
			continue
		}
		if len(train) != c.wantTrain || len(val) != c.wantV || len(test) != c.wantT {
			t.Errorf("n=%d %v/%v: sizes %d/%d/%d, want %d/%d/%d", c.n, c.val, c.test,
				len(train), len(val), len(test), c.wantTrain, c.wantV, c.wantT)
		}
	}
}

func TestSplitErrors(t *testing.T) {
	for _, c := range []struct {
		n         int
		val, test float64
	}{
		{100, -0.1, 0.05}, {100, 0.05, 1}, {100, math.NaN(), 0}, // bad fractions
		{100, 0.6, 0.4}, // nothing left to train on
		{5, 0.05, 0.05}, // parts round to zero tokens
		{0, 0, 0},       // no tokens at all
	} {
		if _, _, _, err := Split(seq(c.n), c.val, c.test); err == nil {
			t.Errorf("Split(n=%d, %v, %v) succeeded", c.n, c.val, c.test)
		}
	}
}
