package tracker

import (
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/tracker/filter"
)

func TestNumberOf(t *testing.T) {
	cases := []struct {
		v    filter.Value
		want any
	}{
		{filter.Value{Kind: filter.Number, Text: "3", Int: 3, IsInt: true, Num: 3}, int64(3)},
		{filter.Value{Kind: filter.Number, Text: "0.5", Num: 0.5}, 0.5},
		{filter.Value{Kind: filter.Bool, Text: "true", Bool: true}, int64(1)},
		{filter.Value{Kind: filter.String, Text: "256"}, int64(256)},
		{filter.Value{Kind: filter.String, Text: "1e-3"}, 1e-3},
		{filter.Value{Kind: filter.String, Text: "FALSE"}, int64(0)},
		{filter.Value{Kind: filter.String, Text: "adam"}, nil},
	}
	for _, c := range cases {
		if got := numberOf(c.v); got != c.want {
			t.Errorf("numberOf(%+v) = %#v, want %#v", c.v, got, c.want)
		}
	}
}

func TestParseTimeLiteral(t *testing.T) {
	day := time.Date(2025, 1, 31, 0, 0, 0, 0, time.Local).UnixMilli()
	cases := map[string]int64{
		"2025-01-31":           day,
		"2025-01-31 14:00":     day + 14*3600*1000,
		"2025-01-31T00:00:00Z": time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC).UnixMilli(),
	}
	for text, want := range cases {
		got, err := parseTimeLiteral(filter.Value{Kind: filter.String, Text: text})
		if err != nil || got != want {
			t.Errorf("parseTimeLiteral(%q) = %d, %v; want %d", text, got, err, want)
		}
	}
	// Numbers are milliseconds, as MLflow's start_time; those that are not
	// whole int64s stay float64 (SQLite compares them exactly).
	if got, err := parseTimeLiteral(filter.Value{Kind: filter.Number, Num: 1.5}); err != nil || got != 1.5 {
		t.Errorf("fractional ms: %v %v", got, err)
	}
	if got, err := parseTimeLiteral(filter.Value{Kind: filter.Number, Num: 17e11, Int: 17e11, IsInt: true}); err != nil || got != int64(17e11) {
		t.Errorf("whole ms: %v %v", got, err)
	}
	for _, bad := range []filter.Value{{Kind: filter.String, Text: "soon"}, {Kind: filter.Bool, Text: "true"}} {
		if _, err := parseTimeLiteral(bad); err == nil {
			t.Errorf("parseTimeLiteral(%+v) accepted", bad)
		}
	}
}
