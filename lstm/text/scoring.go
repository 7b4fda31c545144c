package text

import (
	"errors"
	"fmt"
)

// ErrNothingToPredict is wrapped by [NewScoreStreams] for a text of fewer than two tokens: a language model
// predicts each token from the ones before it, so the first token is context and a text needs a second token
// for there to be anything to score.
var ErrNothingToPredict = errors.New("nothing to predict")

// ScoreStreams lays a token sequence out for scoring, the counterpart of [Streams] (training) that drops nothing:
// every token after the first is predicted exactly once, whatever the window length.
//
// The len(ids)−1 targets are cut into NumStreams() contiguous streams of StreamLen() targets (the last stream
// may be shorter). Stream b starts at position b·StreamLen(): its first input is the token before its first
// target, and it is read from the zero state in consecutive windows of SeqLen() steps, state carried from one
// window to the next. Steps past the end of a stream are padding (input and target 0, position −1), which a
// scorer masks out. With one stream the text is read exactly as a single reading from its start would read it;
// more streams trade a cold start at each stream's beginning for parallel rows.
type ScoreStreams struct {
	ids        []int32
	streams    int
	streamLen  int
	seqLen     int
	numWindows int
}

// NewScoreStreams lays ids out as at most streams contiguous streams read in windows of seqLen steps (fewer
// streams when there are fewer targets than streams). A text of fewer than two tokens is an error wrapping
// [ErrNothingToPredict]. ids is not copied and must not change while the ScoreStreams is used.
func NewScoreStreams(ids []int32, streams, seqLen int) (*ScoreStreams, error) {
	if streams < 1 || seqLen < 1 {
		return nil, fmt.Errorf("score streams: %d streams and window length %d must both be at least 1", streams, seqLen)
	}
	if len(ids) < 2 {
		return nil, fmt.Errorf("%w: the text has %d token(s); each token is predicted from the ones before it, "+
			"so the first is only context and scoring needs at least 2", ErrNothingToPredict, len(ids))
	}
	targets := len(ids) - 1
	streamLen := (targets + streams - 1) / streams
	return &ScoreStreams{
		ids: ids, streams: (targets + streamLen - 1) / streamLen, streamLen: streamLen, seqLen: seqLen,
		numWindows: (streamLen + seqLen - 1) / seqLen,
	}, nil
}

// NumStreams is the number of streams (non-empty; at most what was asked for).
func (s *ScoreStreams) NumStreams() int { return s.streams }

// StreamLen is the number of targets of each stream but the last, which may have fewer.
func (s *ScoreStreams) StreamLen() int { return s.streamLen }

// SeqLen is the number of steps per window.
func (s *ScoreStreams) SeqLen() int { return s.seqLen }

// NumWindows is the number of windows that cover every stream.
func (s *ScoreStreams) NumWindows() int { return s.numWindows }

// NumTargets is the number of tokens scored: every token but the first.
func (s *ScoreStreams) NumTargets() int { return len(s.ids) - 1 }

// WindowInto writes window i as flat row-major [rows, SeqLen()] inputs x and targets y, and pos, the position
// in ids of each target (−1 for padding). rows must be at least NumStreams(); rows past the streams are all
// padding (a backend may run a few rows faster than one). The slices must have length rows·SeqLen(). i must
// be in [0, NumWindows()); anything else is a programming error and panics.
func (s *ScoreStreams) WindowInto(i, rows int, x, y []int32, pos []int) {
	if i < 0 || i >= s.numWindows {
		panic(fmt.Sprintf("score streams: window %d out of range [0, %d)", i, s.numWindows))
	}
	if n := rows * s.seqLen; rows < s.streams || len(x) != n || len(y) != n || len(pos) != n {
		panic(fmt.Sprintf("score streams: %d rows (need >= %d) and buffers of lengths %d, %d, %d (want %d)",
			rows, s.streams, len(x), len(y), len(pos), rows*s.seqLen))
	}
	targets := len(s.ids) - 1
	for b := range rows {
		for t := range s.seqLen {
			k := b*s.seqLen + t
			step := i*s.seqLen + t // step within the stream
			p := b*s.streamLen + step + 1
			if b >= s.streams || step >= s.streamLen || p > targets {
				x[k], y[k], pos[k] = 0, 0, -1
				continue
			}
			x[k], y[k], pos[k] = s.ids[p-1], s.ids[p], p
		}
	}
}
