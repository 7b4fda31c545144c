package experiments

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/lstmlab/lstmlab/lstm"
)

// configFields maps each override key (the json tag of an lstm.Config field) to the field's index.
func configFields() map[string]int {
	t := reflect.TypeFor[lstm.Config]()
	fields := map[string]int{}
	for i := range t.NumField() {
		if tag := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]; tag != "" && tag != "-" {
			fields[tag] = i
		}
	}
	return fields
}

// ConfigKeys lists every key an override may set, sorted.
func ConfigKeys() []string {
	var keys []string
	for k := range configFields() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ParseOverride splits "key=value".
func ParseOverride(kv string) (key, value string, err error) {
	key, value, ok := strings.Cut(kv, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return "", "", fmt.Errorf("override %q: want key=value", kv)
	}
	return key, strings.TrimSpace(value), nil
}

// SetConfigValue sets one key of cfg from its text form, checking the type. It does not validate
// ranges: call cfg.Validate once all overrides are applied.
func SetConfigValue(cfg *lstm.Config, key, value string) error {
	idx, ok := configFields()[key]
	if !ok {
		return fmt.Errorf("unknown key %q (known: %s)", key, strings.Join(ConfigKeys(), ", "))
	}
	f := reflect.ValueOf(cfg).Elem().Field(idx)
	switch f.Kind() {
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			// Accept "1e4"-style integers people type for step counts.
			x, ferr := strconv.ParseFloat(value, 64)
			if ferr != nil || x != float64(int64(x)) {
				return fmt.Errorf("key %s: %q is not an integer", key, value)
			}
			n = int64(x)
		}
		f.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("key %s: %q is not a number", key, value)
		}
		f.SetFloat(x)
	case reflect.Bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("key %s: %q is not true or false", key, value)
		}
		f.SetBool(b)
	case reflect.String:
		f.SetString(value)
	default:
		return fmt.Errorf("key %s: unsupported type %s", key, f.Kind())
	}
	return nil
}

// ApplyOverrides applies "key=value" overrides to cfg in order, then validates the result, so an
// error always names the key at fault.
func ApplyOverrides(cfg *lstm.Config, overrides []string) error {
	for _, kv := range overrides {
		key, value, err := ParseOverride(kv)
		if err != nil {
			return err
		}
		if err := SetConfigValue(cfg, key, value); err != nil {
			return err
		}
	}
	return cfg.Validate()
}

// ConfigParams returns cfg as typed key → value pairs (the override keys), for logging hyperparameters.
func ConfigParams(cfg lstm.Config) map[string]any {
	out := map[string]any{}
	v := reflect.ValueOf(cfg)
	for key, idx := range configFields() {
		out[key] = v.Field(idx).Interface()
	}
	return out
}
