package lstm

import (
	"encoding/json"
	"testing"
)

// TestConfigJSONWithoutCell: a config saved before the cell key existed (or with cell "") reads as an LSTM,
// even decoded into a zero Config as Load does; one with the key keeps it.
func TestConfigJSONWithoutCell(t *testing.T) {
	for _, in := range []string{`{"level":"char","hidden":32}`, `{"cell":"","hidden":32}`} {
		var cfg Config
		if err := json.Unmarshal([]byte(in), &cfg); err != nil || cfg.Cell != DefaultCell || cfg.Hidden != 32 {
			t.Errorf("%s read as cell %q hidden %d (%v), want cell %q", in, cfg.Cell, cfg.Hidden, err, DefaultCell)
		}
	}
	var cfg Config
	if err := json.Unmarshal([]byte(`{"cell":"gru"}`), &cfg); err != nil || cfg.Cell != "gru" {
		t.Errorf("config with cell gru read as %q, %v", cfg.Cell, err)
	}
}
