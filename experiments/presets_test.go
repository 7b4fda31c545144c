package experiments

import (
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm"
)

// TestPresetsAreValid checks every preset's configuration passes validation and that an empty name means
// the default preset.
func TestPresetsAreValid(t *testing.T) {
	names := PresetNames()
	if len(names) < 3 {
		t.Fatalf("presets: %v", names)
	}
	for _, name := range names {
		p, err := LookupPreset(name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != name || p.Description == "" {
			t.Errorf("preset %q: name %q, description %q", name, p.Name, p.Description)
		}
		if err := p.Config.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
		// Issue 17: every preset meets the initial state at random text positions.
		if def := lstm.DefaultConfig(); p.Config.ResetProb != def.ResetProb || p.Config.EpochOffset != def.EpochOffset || !def.EpochOffset || def.ResetProb <= 0 {
			t.Errorf("preset %s: reset_prob %g, epoch_offset %t; want the default recipe (reset_prob %g, epoch_offset true)",
				name, p.Config.ResetProb, p.Config.EpochOffset, def.ResetProb)
		}
	}
	seed, _ := LookupPreset("seed")
	if c := seed.Config; c.Layers != 2 || c.Hidden != 256 || c.LR != 1e-3 || c.BatchSize != 128 || c.Steps != 10000 || c.EvalEvery != 100 {
		t.Errorf("seed preset drifted from the recipe: %+v", c)
	}
	def, err := LookupPreset("")
	if err != nil || def.Name != DefaultPreset {
		t.Fatalf("empty preset name: %q, %v", def.Name, err)
	}
}

// TestUnknownPresetListsKnownOnes checks the error a typo gets names the known presets.
func TestUnknownPresetListsKnownOnes(t *testing.T) {
	_, err := LookupPreset("mobi")
	if err == nil || !strings.Contains(err.Error(), `"mobi"`) || !strings.Contains(err.Error(), "moby") {
		t.Fatalf("unknown preset: err = %v", err)
	}
}

// TestDescribeConfig: every key has its help text (the comment of its lstm.Config field) and the
// preset's value, in declaration order.
func TestDescribeConfig(t *testing.T) {
	p, err := LookupPreset("tiny")
	if err != nil {
		t.Fatal(err)
	}
	keys := DescribeConfig(p.Config)
	if len(keys) != len(ConfigKeys()) || keys[0].Key != "cell" {
		t.Fatalf("%d keys (want %d), first %q", len(keys), len(ConfigKeys()), keys[0].Key)
	}
	for _, k := range keys {
		if k.Help == "" {
			t.Errorf("key %s has no help text", k.Key)
		}
		if k.Key == "hidden" && (k.Value != 64 || k.Default != 256 || !strings.Contains(k.Help, "hidden")) {
			t.Errorf("hidden: %+v", k)
		}
	}
}
