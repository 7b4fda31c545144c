package tracker

import (
	"context"
	"math"
	"testing"
)

func TestRemoteRunLinks(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{Name: "a"})
	must(t, r.Finish(StatusFinished))
	const s1, s2 = "http://127.0.0.1:5000", "https://mlflow.example.org"

	if id, err := db.RemoteRun(ctx, r.ID(), s1); err != nil || id != "" {
		t.Fatalf("before linking: %q, %v; want empty", id, err)
	}
	must(t, db.SetRemoteRun(ctx, r.ID(), s1, "abc"))
	must(t, db.SetRemoteRun(ctx, r.ID(), s2, "xyz"))
	must(t, db.SetRemoteRun(ctx, r.ID(), s1, "def")) // a server that lost the run gave it a new id
	for uri, want := range map[string]string{s1: "def", s2: "xyz", "http://other": ""} {
		if id, err := db.RemoteRun(ctx, r.ID(), uri); err != nil || id != want {
			t.Errorf("RemoteRun(%s) = %q, %v; want %q", uri, id, err, want)
		}
	}
	if err := db.SetRemoteRun(ctx, 999, s1, "x"); err == nil {
		t.Error("linking a missing run succeeded")
	}
	if err := db.SetRemoteRun(ctx, r.ID(), s1, ""); err == nil {
		t.Error("an empty remote id was accepted")
	}
	if _, err := db.DeleteRun(ctx, r.ID(), false); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM remote_runs`); n != 0 {
		t.Errorf("%d links left after deleting the run; want 0", n)
	}
}

func TestPointsAfter(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{Name: "a"})
	values := []float64{3, math.NaN(), math.Inf(1), math.Inf(-1), 1}
	for i, v := range values {
		must(t, r.LogMetric("loss", int64(10*i), v))
	}
	must(t, r.LogMetric("acc", 0, 0.5))
	// Still buffered: PointsAfter must see them.
	all, err := db.PointsAfter(ctx, r.ID(), "loss", -1, 0)
	must(t, err)
	if len(all) != len(values) {
		t.Fatalf("got %d points, want %d", len(all), len(values))
	}
	for i, p := range all {
		want := values[i]
		if p.Step != int64(10*i) || !(p.Value == want || math.IsNaN(p.Value) && math.IsNaN(want)) {
			t.Errorf("point %d = step %d value %v; want step %d value %v", i, p.Step, p.Value, 10*i, want)
		}
	}
	tail, err := db.PointsAfter(ctx, r.ID(), "loss", 10, 2)
	must(t, err)
	if len(tail) != 2 || tail[0].Step != 20 || tail[1].Step != 30 {
		t.Errorf("after step 10, limit 2: %+v; want steps 20 and 30", tail)
	}
	none, err := db.PointsAfter(ctx, r.ID(), "loss", 40, 0)
	must(t, err)
	if len(none) != 0 {
		t.Errorf("after the last step: %d points, want 0", len(none))
	}
}
