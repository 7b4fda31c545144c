package experiments

import (
	"testing"

	"github.com/lstmlab/lstmlab/tracker"
)

// TestRecordFromParamsNormalization: a run recorded before the normalize key trained on text as written, so
// its rebuilt record says "none" (as its checkpoint's config does); a run that logged the key keeps it.
func TestRecordFromParamsNormalization(t *testing.T) {
	for want, params := range map[string]map[string]any{
		"none": {"level": "char", "min_freq": int64(1)},
		"nfc":  {"level": "char", "min_freq": int64(2), "normalize": "nfc"},
	} {
		rec, err := recordFromParams(tracker.RunInfo{ID: 1, Name: "old", Params: params})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Config.Normalize != want {
			t.Errorf("params %v: normalize %q, want %q", params, rec.Config.Normalize, want)
		}
	}
}

// TestRecordFromParamsRecipe: a run recorded before the reset_prob and epoch_offset keys trained without
// them (its checkpoint's config has neither), so its rebuilt record resumes without them; a run that logged
// them keeps them.
func TestRecordFromParamsRecipe(t *testing.T) {
	for _, c := range []struct {
		params map[string]any
		prob   float64
		offset bool
	}{
		{map[string]any{"level": "char"}, 0, false},
		{map[string]any{"level": "char", "reset_prob": 0.05, "epoch_offset": true}, 0.05, true},
	} {
		rec, err := recordFromParams(tracker.RunInfo{ID: 1, Name: "old", Params: c.params})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Config.ResetProb != c.prob || rec.Config.EpochOffset != c.offset {
			t.Errorf("params %v: reset_prob %g, epoch_offset %t; want %g, %t", c.params, rec.Config.ResetProb, rec.Config.EpochOffset, c.prob, c.offset)
		}
	}
}
