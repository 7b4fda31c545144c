package experiments

import (
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm"
)

func TestApplyOverrides(t *testing.T) {
	cfg := lstm.DefaultConfig()
	if err := ApplyOverrides(&cfg, []string{"hidden=128", "lr=3e-4", "tie_weights=false", "decay=cosine", "steps=1e4"}); err != nil {
		t.Fatal(err)
	}
	if cfg.Hidden != 128 || cfg.LR != 3e-4 || cfg.Decay != "cosine" || cfg.Steps != 10000 {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
}

func TestOverrideErrorsNameTheKey(t *testing.T) {
	for kv, want := range map[string]string{
		"hiden=3":       `unknown key "hiden"`,
		"lr=-1":         "invalid lr",
		"hidden=abc":    "key hidden",
		"steps=1.5":     "key steps",
		"dropout=2":     "invalid dropout",
		"tie_weights=7": "key tie_weights",
		"novalue":       "want key=value",
		"=3":            "want key=value",
	} {
		cfg := lstm.DefaultConfig()
		err := ApplyOverrides(&cfg, []string{kv})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to mention %q", kv, err, want)
		}
	}
}

func TestPresetsAreValid(t *testing.T) {
	for _, name := range PresetNames() {
		p, err := LookupPreset(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Config.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
	seed, _ := LookupPreset("seed")
	if c := seed.Config; c.Layers != 2 || c.Hidden != 256 || c.LR != 1e-3 || c.BatchSize != 128 || c.Steps != 10000 || c.EvalEvery != 100 {
		t.Errorf("seed preset drifted from the recipe: %+v", c)
	}
	if _, err := LookupPreset("huge"); err == nil || !strings.Contains(err.Error(), "tiny") {
		t.Errorf("unknown preset error should list the known ones: %v", err)
	}
}

func TestConfigParamsCoversEveryKey(t *testing.T) {
	params := ConfigParams(lstm.DefaultConfig())
	for _, k := range ConfigKeys() {
		if _, ok := params[k]; !ok {
			t.Errorf("key %s missing from logged params", k)
		}
	}
	if params["hidden"] != 256 {
		t.Errorf("hidden logged as %v", params["hidden"])
	}
}
