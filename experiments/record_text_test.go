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
