package tracker

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Param types as stored in the params.type column.
const (
	paramInt    = "int"
	paramFloat  = "float"
	paramString = "string"
	paramBool   = "bool"
)

// paramValue is a hyperparameter reduced to one of the four stored types;
// val is an int64, float64, string or bool.
type paramValue struct {
	typ string
	val any
}

// normaliseParam maps a Go value to a stored param. Any integer kind becomes
// int, float32/float64 float, string kinds string and bool bool; named types
// (type Optimizer string) count by their kind. float32 values keep their
// shortest decimal form, so float32(0.001) is stored as 0.001, not
// 0.0010000000474974513.
func normaliseParam(key string, v any) (paramValue, error) {
	if err := validKey("param", key); err != nil {
		return paramValue{}, err
	}
	if v == nil {
		return paramValue{}, fmt.Errorf("param %q is nil", key)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return paramValue{paramInt, rv.Int()}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return paramValue{}, fmt.Errorf("param %q = %d does not fit an int64", key, u)
		}
		return paramValue{paramInt, int64(u)}, nil
	case reflect.Float32:
		f, _ := strconv.ParseFloat(strconv.FormatFloat(rv.Float(), 'g', -1, 32), 64)
		return checkFloatParam(key, f)
	case reflect.Float64:
		return checkFloatParam(key, rv.Float())
	case reflect.String:
		s := rv.String()
		if !utf8.ValidString(s) {
			return paramValue{}, fmt.Errorf("param %q is not valid UTF-8", key)
		}
		return paramValue{paramString, s}, nil
	case reflect.Bool:
		return paramValue{paramBool, rv.Bool()}, nil
	}
	return paramValue{}, fmt.Errorf("param %q has type %T; want an integer, float, string or bool", key, v)
}

func checkFloatParam(key string, f float64) (paramValue, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return paramValue{}, fmt.Errorf("param %q = %v is not a finite number", key, f)
	}
	return paramValue{paramFloat, f}, nil
}

// dbValue is the value as bound into SQL: booleans become 0/1 so filters can
// compare them numerically.
func (p paramValue) dbValue() any {
	if b, ok := p.val.(bool); ok {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return p.val
}

// String formats the value for messages.
func (p paramValue) String() string { return formatParam(p.val) }

// paramFromDB turns a stored (type, value) pair back into a Go value.
func paramFromDB(typ string, raw any) (paramValue, error) {
	bad := fmt.Errorf("stored param of type %s has value %v (%T)", typ, raw, raw)
	switch typ {
	case paramInt, paramBool:
		var n int64
		switch x := raw.(type) {
		case int64:
			n = x
		case float64:
			n = int64(x)
		default:
			return paramValue{}, bad
		}
		if typ == paramBool {
			return paramValue{paramBool, n != 0}, nil
		}
		return paramValue{paramInt, n}, nil
	case paramFloat:
		switch x := raw.(type) {
		case float64:
			return paramValue{paramFloat, x}, nil
		case int64:
			// SQLite may store an integral REAL as an integer.
			return paramValue{paramFloat, float64(x)}, nil
		}
		return paramValue{}, bad
	case paramString:
		switch x := raw.(type) {
		case string:
			return paramValue{paramString, x}, nil
		case []byte:
			return paramValue{paramString, string(x)}, nil
		}
		return paramValue{}, bad
	}
	return paramValue{}, fmt.Errorf("stored param has unknown type %q", typ)
}

// formatParam renders a param value the way tables show it: floats in their
// shortest form (0.001, 3e-05), the rest with %v.
func formatParam(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// FormatParam renders a param value (as returned in RunInfo.Params) for
// display: floats in their shortest form, the rest with %v.
func FormatParam(v any) string { return formatParam(v) }

const maxKeyLen = 250

// validKey checks a param, metric or tag key: non-empty, at most 250 bytes,
// valid UTF-8, no control characters and no surrounding spaces. Anything
// else is allowed (filters reach odd keys with backquotes).
func validKey(kind, key string) error {
	switch {
	case key == "":
		return fmt.Errorf("empty %s name", kind)
	case len(key) > maxKeyLen:
		return fmt.Errorf("%s name %.40q... is longer than %d bytes", kind, key, maxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%s name %q is not valid UTF-8", kind, key)
	case strings.TrimSpace(key) != key:
		return fmt.Errorf("%s name %q has leading or trailing spaces", kind, key)
	case strings.IndexFunc(key, unicode.IsControl) >= 0:
		return fmt.Errorf("%s name %q contains control characters", kind, key)
	}
	return nil
}

// validRunName checks a user-chosen run name. Names made only of digits are
// refused so that a run reference ("42") is never ambiguous between an id
// and a name.
func validRunName(name string) error {
	if err := validKey("run", name); err != nil {
		return err
	}
	if _, err := strconv.ParseInt(name, 10, 64); err == nil {
		return errors.New("run name " + strconv.Quote(name) + " is a number; numbers refer to run ids")
	}
	return nil
}
