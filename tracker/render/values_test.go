package render

import (
	"math"
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	cases := map[time.Duration]string{
		45*time.Second + 400*time.Millisecond:      "45s",
		3*time.Minute + 5*time.Second:              "3m05s",
		time.Hour + 2*time.Minute + 40*time.Second: "1h03m",
		-time.Second: "",
	}
	for d, want := range cases {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestFormatMetric(t *testing.T) {
	cases := map[float64]string{1.23456: "1.235", 0.000342: "0.000342", 12345.6: "12346", -22680.2: "-22680", 3.2e9: "3.2e+09", 1234567: "1.235e+06", math.Inf(-1): "-Inf", math.Inf(1): "+Inf"}
	for v, want := range cases {
		if got := formatMetric(v); got != want {
			t.Errorf("formatMetric(%v) = %q, want %q", v, got, want)
		}
	}
	numbers := []struct {
		v        float64
		decimals int
		want     string
	}{
		{2.0992, 4, "2.0992"}, {22.04, 2, "22.04"}, {999999.4, 2, "999999.40"}, {2.2506e190, 2, "2.251e+190"},
		{-3e7, 0, "-3e+07"}, {1.256e50, -1, "1.256e+50"}, {2.5e6, -1, "2.5e+06"}, {math.Inf(1), 3, "+Inf"}, {math.NaN(), 2, "NaN"},
	}
	for _, c := range numbers {
		if got := Number(c.v, c.decimals); got != c.want {
			t.Errorf("Number(%v, %d) = %q, want %q", c.v, c.decimals, got, c.want)
		}
	}
	if formatMetric(math.NaN()) != "NaN" {
		t.Error("NaN")
	}
	if formatTime(time.Time{}) != "" || formatParam(nil, false) != "" || formatParam(0.5, true) != "0.5" {
		t.Error("formatTime/formatParam of missing values")
	}
}
