package tracker

import (
	"math"
	"strings"
	"testing"
	"time"
)

type optimizerName string

func TestNormaliseParam(t *testing.T) {
	cases := []struct {
		in      any
		typ     string
		val     any
		display string
	}{
		{256, paramInt, int64(256), "256"},
		{uint8(7), paramInt, int64(7), "7"},
		{time.Second, paramInt, int64(1e9), "1000000000"},
		{0.001, paramFloat, 0.001, "0.001"},
		{float32(0.001), paramFloat, 0.001, "0.001"},
		{"adam", paramString, "adam", "adam"},
		{optimizerName("sgd"), paramString, "sgd", "sgd"},
		{true, paramBool, true, "true"},
	}
	for _, c := range cases {
		p, err := normaliseParam("k", c.in)
		if err != nil {
			t.Errorf("normaliseParam(%v): %v", c.in, err)
			continue
		}
		if p.typ != c.typ || p.val != c.val || p.String() != c.display {
			t.Errorf("normaliseParam(%v) = %s %v %q, want %s %v %q", c.in, p.typ, p.val, p.String(), c.typ, c.val, c.display)
		}
		back, err := paramFromDB(p.typ, p.dbValue())
		if err != nil || back != p {
			t.Errorf("round trip of %v: %v, %v", c.in, back, err)
		}
	}
}

func TestNormaliseParamRejects(t *testing.T) {
	bad := map[string]any{
		"nil": nil, "nan": math.NaN(), "inf": math.Inf(1), "slice": []int{1},
		"huge": uint64(math.MaxUint64), "utf8": "\xff",
	}
	for name, v := range bad {
		if _, err := normaliseParam(name, v); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("normaliseParam(%q, %v) = %v; want an error naming the key", name, v, err)
		}
	}
}

func TestValidKey(t *testing.T) {
	for _, k := range []string{"", " lr", "lr ", "a\nb", "\xff", strings.Repeat("x", 251)} {
		if validKey("metric", k) == nil {
			t.Errorf("validKey(%q) accepted", k)
		}
	}
	for _, k := range []string{"val_loss", "val loss", "train/loss", "δ"} {
		if err := validKey("metric", k); err != nil {
			t.Errorf("validKey(%q): %v", k, err)
		}
	}
	if validRunName("42") == nil || validRunName("-7") == nil {
		t.Error("numeric run names accepted")
	}
	if err := validRunName("moby-42"); err != nil {
		t.Error(err)
	}
}

func TestParamFromDBRejectsGarbage(t *testing.T) {
	if _, err := paramFromDB("int", "x"); err == nil {
		t.Error("int from string accepted")
	}
	if _, err := paramFromDB("tensor", int64(1)); err == nil {
		t.Error("unknown type accepted")
	}
	if p, err := paramFromDB("float", int64(3)); err != nil || p.val != 3.0 {
		t.Errorf("integral float: %v %v", p, err)
	}
}
