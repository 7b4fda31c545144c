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
