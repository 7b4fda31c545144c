package lstm

import (
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/ml/model"
)

// cached returns the model's compiled graph for key (nil if none).
func cached(m *Model, key string) *model.Exec {
	m.graphs.mu.Lock()
	defer m.graphs.mu.Unlock()
	if e, ok := m.graphs.execs[key]; ok {
		return e.exec
	}
	return nil
}

// TestCompiledGraphsAreReused checks that evaluating, generating, scoring and stepping again reuse the
// model's compiled graphs instead of building new ones, and that graphs keyed by length stay bounded.
func TestCompiledGraphsAreReused(t *testing.T) {
	m, ids := tinyModel(t, strings.Repeat(tinyText, 3), nil)
	first, err := m.Evaluate(ids)
	if err != nil {
		t.Fatal(err)
	}
	eval := cached(m, "eval")
	if eval == nil {
		t.Fatal("Evaluate left no compiled graph")
	}
	again, err := m.Evaluate(ids)
	if err != nil || again != first || cached(m, "eval") != eval {
		t.Fatalf("second Evaluate: %+v (first %+v), %v; same graph: %v", again, first, err, cached(m, "eval") == eval)
	}
	if _, err := m.Generate(SampleOptions{Prompt: "the ", Length: 5, Temperature: 1}); err != nil {
		t.Fatal(err)
	}
	step, prepare := cached(m, "step"), cached(m, "prepare")
	if step == nil || prepare == nil {
		t.Fatal("Generate left no compiled step graph")
	}
	if _, err := m.Score("the cat sat"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.NextTokenDistribution("the"); err != nil {
		t.Fatal(err)
	}
	if cached(m, "step") != step || cached(m, "prepare") != prepare {
		t.Error("scoring compiled the step graph again")
	}

	// Traces of many lengths: the cache keeps at most maxCachedGraphs, and an evicted graph compiles again
	// with the same result.
	short, err := m.Trace("the")
	if err != nil {
		t.Fatal(err)
	}
	for n := 4; n < 4+maxCachedGraphs+2; n++ {
		if _, err := m.Trace(strings.Repeat("a", n)); err != nil {
			t.Fatal(err)
		}
	}
	m.graphs.mu.Lock()
	n := len(m.graphs.execs)
	m.graphs.mu.Unlock()
	if n > maxCachedGraphs {
		t.Errorf("%d graphs cached, at most %d allowed", n, maxCachedGraphs)
	}
	if cached(m, "trace/T=3") != nil {
		t.Error("the least recently used graph was not evicted")
	}
	again3, err := m.Trace("the")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again3[2].Layers[1].H, short[2].Layers[1].H) {
		t.Error("a trace compiled again after eviction differs")
	}
}
