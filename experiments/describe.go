package experiments

import (
	"reflect"
	"strings"

	"github.com/lstmlab/lstmlab/lstm"
)

// ConfigKey is one configuration key with its value, the default value
// (lstm.DefaultConfig) and what it does (the field's help tag).
type ConfigKey struct {
	Key     string `json:"key"`
	Value   any    `json:"value"`
	Default any    `json:"default"`
	Help    string `json:"help"`
}

// DescribeConfig lists every key of cfg in the order lstm.Config declares
// them (model, data, optimisation, loop), with its default and help.
func DescribeConfig(cfg lstm.Config) []ConfigKey {
	t := reflect.TypeFor[lstm.Config]()
	v, def := reflect.ValueOf(cfg), reflect.ValueOf(lstm.DefaultConfig())
	var out []ConfigKey
	for i := range t.NumField() {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("json"), ",")[0]
		if key == "" || key == "-" {
			continue
		}
		out = append(out, ConfigKey{Key: key, Value: v.Field(i).Interface(), Default: def.Field(i).Interface(), Help: f.Tag.Get("help")})
	}
	return out
}

// Params that say most and least about a run, for tables that show only some (the runs table: see
// render.RunsOptions.ParamsFirst and ParamsLast). First: the model's cell and shape, then the main training
// knobs, in order; last: corpus paths and hashes, sample settings and counts derived from the rest.
var (
	ParamsFirst = []string{"cell", "layers", "hidden", "embed", "level", "lr", "steps", "dropout", "batch", "seq_len",
		"optimizer", "preset", "init_from", "freeze", "decay", "warmup", "weight_decay", "clip_norm", "tie_weights"}
	ParamsLast = []string{"seed", "eval_every", "eval_windows", "patience", "step_timeout", "val_frac", "test_frac",
		"vocab_size", "num_params", "train_tokens", "extend_vocab", "sample_temperature", "sample_length", "sample_prompt",
		"data_sha256", "data"}
)
