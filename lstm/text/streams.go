package text

import (
	"errors"
	"fmt"
)

// ErrTooShort is wrapped by [NewStreams] when there are fewer tokens than one batch needs.
var ErrTooShort = errors.New("corpus shorter than one batch")

// Streams serves a token sequence for truncated backpropagation through time, the way char-rnn and PyTorch's
// word_language_model batch it.
//
// The sequence is cut into Batch() contiguous streams of equal length (the remainder at the end is dropped, so
// every window has the same static shape), and each stream is read in consecutive windows of SeqLen() tokens.
// Row b of window i+1 continues exactly where row b of window i ended, so a model may carry its hidden and cell
// state from window i to window i+1 (stopping gradients at the boundary) and still see each stream as one long
// text. Targets are the inputs shifted by one token along the original sequence.
//
// With S = NumWindows()·SeqLen() tokens per stream, row b of window i reads inputs
// ids[b·S + i·SeqLen() : b·S + (i+1)·SeqLen()] and targets one position later.
type Streams struct {
	ids        []int32
	batch      int
	seqLen     int
	numWindows int
}

// NewStreams prepares ids for batches of batch streams × seqLen steps. It needs at least batch·seqLen+1 tokens
// (one window, plus the target of its last step); fewer is an error wrapping [ErrTooShort] that names the sizes.
// ids is not copied and must not change while the Streams is used.
func NewStreams(ids []int32, batch, seqLen int) (*Streams, error) {
	if batch < 1 || seqLen < 1 {
		return nil, fmt.Errorf("streams: batch size %d and sequence length %d must both be at least 1", batch, seqLen)
	}
	if need := batch*seqLen + 1; len(ids) < need {
		return nil, fmt.Errorf("streams: %w: %d tokens, but batch size %d × sequence length %d needs at least %d; "+
			"use a longer text, a smaller batch or a shorter sequence length", ErrTooShort, len(ids), batch, seqLen, need)
	}
	// The last token is only ever a target, hence len-1.
	streamLen := (len(ids) - 1) / batch
	return &Streams{ids: ids, batch: batch, seqLen: seqLen, numWindows: streamLen / seqLen}, nil
}

// Batch is the number of parallel streams (rows of each window).
func (s *Streams) Batch() int { return s.batch }

// SeqLen is the number of steps per window (columns of each window).
func (s *Streams) SeqLen() int { return s.seqLen }

// NumWindows is the number of windows in one pass (an epoch) over the data.
func (s *Streams) NumWindows() int { return s.numWindows }

// NumTokens is the number of input tokens one pass over all windows covers (the rest are dropped).
func (s *Streams) NumTokens() int { return s.batch * s.numWindows * s.seqLen }

// Window returns window i as flat row-major [Batch(), SeqLen()] inputs x and targets y, in new slices:
// x[b·SeqLen()+t] is step t of stream b, y is the token that follows it. i must be in [0, NumWindows()), like a
// slice index; another i is a programming error and panics.
func (s *Streams) Window(i int) (x, y []int32) {
	x = make([]int32, s.batch*s.seqLen)
	y = make([]int32, s.batch*s.seqLen)
	s.WindowInto(i, x, y)
	return x, y
}

// WindowInto is [Streams.Window] writing into x and y, which must have length Batch()·SeqLen(); reusing them saves
// an allocation per step in a training loop.
func (s *Streams) WindowInto(i int, x, y []int32) {
	if i < 0 || i >= s.numWindows {
		panic(fmt.Sprintf("streams: window %d out of range [0, %d)", i, s.numWindows))
	}
	if n := s.batch * s.seqLen; len(x) != n || len(y) != n {
		panic(fmt.Sprintf("streams: window buffers have lengths %d and %d, want %d", len(x), len(y), n))
	}
	streamLen := s.numWindows * s.seqLen
	for b := range s.batch {
		start := b*streamLen + i*s.seqLen
		row := x[b*s.seqLen : (b+1)*s.seqLen]
		copy(row, s.ids[start:start+s.seqLen])
		copy(y[b*s.seqLen:(b+1)*s.seqLen], s.ids[start+1:start+1+s.seqLen])
	}
}
