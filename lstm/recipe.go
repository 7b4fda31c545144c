package lstm

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/lstmlab/lstmlab/lstm/text"
)

// Where training meets the initial state (issue 17).
//
// Truncated BPTT carries each stream's state from window to window and resets it once per epoch, so a
// model meets the zero state only at the streams' starting positions, and with a fixed layout these are
// the same text every epoch: the book's table of contents for stream 0 of Moby Dick. Trained for many
// epochs, a large model learns that "a fresh state means that text"; started from the empty state it
// then writes a table of contents and stays there, its free-running figure far above its test figure
// (docs/benchmarks.md, "Recipe (issue 17)"). Two changes fix it, both reproducible from the seed (so resume
// stays exact):
//
//   - EpochOffset: each epoch after the first cuts the streams from the training text rotated by a
//     random offset, so streams start at other text every epoch;
//   - ResetProb: before each window, each stream starts from the initial state with this probability,
//     so the model meets the initial state at random text positions throughout training.

// epochOffset is where epoch's streams start in the training text: 0 for the first epoch (or without
// EpochOffset), else a position drawn from the seed and the epoch.
func epochOffset(cfg Config, epoch, n int) int {
	if !cfg.EpochOffset || epoch == 0 || n < 2 {
		return 0
	}
	return rand.New(rand.NewPCG(uint64(cfg.Seed), 0xe90c0000+uint64(epoch))).IntN(n)
}

// rotated returns ids[offset:] followed by ids[:offset] (ids itself when offset is 0).
func rotated(ids []int32, offset int) []int32 {
	if offset == 0 {
		return ids
	}
	return slices.Concat(ids[offset:], ids[:offset])
}

// prepareEpoch cuts the training streams for the current epoch when they were cut for another one
// (a new epoch, or a trainer resumed mid-run).
func (t *Trainer) prepareEpoch() error {
	if t.streamsEpoch == t.State.Epoch {
		return nil
	}
	cfg := t.Model.Config
	s, err := text.NewStreams(rotated(t.trainIDs, epochOffset(cfg, t.State.Epoch, len(t.trainIDs))), cfg.BatchSize, cfg.SeqLen)
	if err != nil {
		return fmt.Errorf("training split: %w", err)
	}
	t.train, t.streamsEpoch = s, t.State.Epoch
	return nil
}

// resetRows returns the streams that start the window of step from the initial state (besides the
// reset at each epoch's start): each with probability cfg.ResetProb, drawn from the seed and the step.
func resetRows(cfg Config, step int) []int {
	if cfg.ResetProb <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5e5e70000000+uint64(step)))
	var rows []int
	for b := range cfg.BatchSize {
		if rng.Float64() < cfg.ResetProb {
			rows = append(rows, b)
		}
	}
	return rows
}
