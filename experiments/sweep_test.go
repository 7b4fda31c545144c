package experiments

import (
	"strings"
	"testing"
)

func TestSweepGrid(t *testing.T) {
	sw, err := ParseSweep([]string{"hidden=64,128", "lr=1e-3,3e-3,1e-2"})
	if err != nil {
		t.Fatal(err)
	}
	points := sw.Points()
	if len(points) != 6 {
		t.Fatalf("%d points, want 6", len(points))
	}
	if strings.Join(points[0], " ") != "hidden=64 lr=1e-3" || strings.Join(points[5], " ") != "hidden=128 lr=1e-2" {
		t.Fatalf("grid order: %v", points)
	}
}

func TestSweepRejectsBadSpecs(t *testing.T) {
	for _, spec := range [][]string{{"hidden"}, {"hidden="}, {"nosuch=1,2"}, {"hidden=1,x"}, {"lr=1", "lr=2"}} {
		if _, err := ParseSweep(spec); err == nil {
			t.Errorf("%v: want an error", spec)
		}
	}
}
