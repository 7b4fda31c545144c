// Package jsonfloat is a float64 with a JSON form for every value: JSON has no NaN or infinity, so
// they are written as MLflow's REST API writes them (protobuf's JSON mapping of a double). The tracker,
// the MLflow client and the model's results share it.
package jsonfloat

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Float is a float64 whose JSON form is a number when finite and,
// as in MLflow's REST API (protobuf's JSON mapping of doubles), the string
// "NaN", "Infinity" or "-Infinity" otherwise.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON implements json.Unmarshaler; it also accepts null as NaN
// and, as protobuf's JSON mapping allows, a number in a string ("0.5").
func (f *Float) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case `"NaN"`, "null":
		*f = Float(math.NaN())
		return nil
	case `"Infinity"`:
		*f = Float(math.Inf(1))
		return nil
	case `"-Infinity"`:
		*f = Float(math.Inf(-1))
		return nil
	}
	var v float64
	err := json.Unmarshal(data, &v)
	if s := ""; err != nil && json.Unmarshal(data, &s) == nil {
		v, err = strconv.ParseFloat(s, 64)
	}
	if err != nil {
		return fmt.Errorf("value %s: want a number, \"NaN\", \"Infinity\" or \"-Infinity\"", data)
	}
	*f = Float(v)
	return nil
}
