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
