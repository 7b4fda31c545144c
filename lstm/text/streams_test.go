package text

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestStreamsShapesAndTargets(t *testing.T) {
	ids := seq(103) // stream length (103-1)/4 = 25 → 3 windows of 8; 4·24 = 96 inputs used
	s, err := NewStreams(ids, 4, 8)
	if err != nil {
		t.Fatal(err)
	}
	if s.Batch() != 4 || s.SeqLen() != 8 || s.NumWindows() != 3 || s.NumTokens() != 96 {
		t.Fatalf("batch %d seq %d windows %d tokens %d", s.Batch(), s.SeqLen(), s.NumWindows(), s.NumTokens())
	}
	for i := range s.NumWindows() {
		x, y := s.Window(i)
		if len(x) != 32 || len(y) != 32 {
			t.Fatalf("window %d: lengths %d, %d", i, len(x), len(y))
		}
		for j := range x {
			if y[j] != x[j]+1 { // ids are positions, so the next token is the next number
				t.Fatalf("window %d position %d: target %d does not follow input %d", i, j, y[j], x[j])
			}
		}
		// Row b starts at b·24 + i·8.
		for b := range 4 {
			if got, want := x[b*8], int32(b*24+i*8); got != want {
				t.Errorf("window %d row %d starts at %d, want %d", i, b, got, want)
			}
		}
	}
}

func TestStreamsContinuity(t *testing.T) {
	// Arbitrary ids (not positions) so that continuity is checked on content.
	ids := make([]int32, 500)
	for i := range ids {
		ids[i] = int32((i*7919 + 13) % 97)
	}
	s, err := NewStreams(ids, 3, 10)
	if err != nil {
		t.Fatal(err)
	}
	// Concatenating row b of every window gives one contiguous slice of ids, and consecutive rows are adjacent.
	streamLen := s.NumWindows() * s.SeqLen()
	for b := range s.Batch() {
		var row, targets []int32
		for i := range s.NumWindows() {
			x, y := s.Window(i)
			row = append(row, x[b*10:(b+1)*10]...)
			targets = append(targets, y[b*10:(b+1)*10]...)
			if i+1 < s.NumWindows() {
				next, _ := s.Window(i + 1)
				if y[b*10+9] != next[b*10] {
					t.Errorf("row %d: last target of window %d is %d, next window starts with %d",
						b, i, y[b*10+9], next[b*10])
				}
			}
		}
		if want := ids[b*streamLen : (b+1)*streamLen]; !slices.Equal(row, want) {
			t.Errorf("row %d is not a contiguous stream", b)
		}
		if want := ids[b*streamLen+1 : (b+1)*streamLen+1]; !slices.Equal(targets, want) {
			t.Errorf("row %d targets are not the stream shifted by one", b)
		}
	}
}

func TestStreamsMinimumAndErrors(t *testing.T) {
	s, err := NewStreams(seq(4*5+1), 4, 5)
	if err != nil || s.NumWindows() != 1 {
		t.Fatalf("exactly batch·seqLen+1 tokens: %v, %d windows", err, s.NumWindows())
	}
	_, err = NewStreams(seq(20), 4, 5)
	if !errors.Is(err, ErrTooShort) {
		t.Fatalf("error %v does not wrap ErrTooShort", err)
	}
	for _, want := range []string{"20 tokens", "batch size 4", "sequence length 5", "at least 21"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := NewStreams(seq(100), 0, 5); err == nil {
		t.Error("batch 0 accepted")
	}
	if _, err := NewStreams(seq(100), 2, -1); err == nil {
		t.Error("seqLen -1 accepted")
	}
}

func TestWindowIntoReusesBuffers(t *testing.T) {
	s, _ := NewStreams(seq(50), 2, 4)
	x, y := make([]int32, 8), make([]int32, 8)
	s.WindowInto(1, x, y)
	wx, wy := s.Window(1)
	if !slices.Equal(x, wx) || !slices.Equal(y, wy) {
		t.Errorf("WindowInto %v %v differs from Window %v %v", x, y, wx, wy)
	}
}

func TestWindowOutOfRangePanics(t *testing.T) {
	s, _ := NewStreams(seq(50), 2, 4)
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "out of range") {
			t.Errorf("recovered %v, want an out-of-range panic", r)
		}
	}()
	s.Window(s.NumWindows())
}
