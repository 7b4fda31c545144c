package lstm

import (
	"sync"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/ml/model"
)

var (
	sharedBackendOnce sync.Once
	sharedBackend     compute.Backend
	sharedBackendErr  error
)

// testBackend returns the pure-Go backend (the one that works everywhere), shared by all tests:
// tensors cannot move between backend instances.
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	sharedBackendOnce.Do(func() { sharedBackend, _, sharedBackendErr = NewBackend("go") })
	if sharedBackendErr != nil {
		t.Fatalf("open backend: %v", sharedBackendErr)
	}
	return sharedBackend
}

// withShape returns a model sharing base's weights, vocabulary and backend, with another batch and window
// (a fresh Model: its compiled graphs are its own).
func withShape(base *Model, batch, seq int) *Model {
	cfg := base.Config
	cfg.BatchSize, cfg.SeqLen = batch, seq
	return &Model{Config: cfg, Vocab: base.Vocab, Backend: base.Backend, Store: base.Store, HandGrad: base.HandGrad}
}

// lossGradExec compiles, in training mode (dropout on), the mean loss of one window of steps from the
// given state and its gradient with respect to each parameter in paths.
// Inputs: tokens, targets [steps·B] time-major, h0, c0 [L, B, H]. Outputs: mean loss, then one gradient per path.
func lossGradExec(t *testing.T, m *Model, steps int, paths []string) *model.Exec {
	t.Helper()
	exec, err := m.newExec(func(g *Graph, in []*Node) []*Node {
		out := m.forward(g, in[0], in[2], in[3], steps, true)
		loss, _ := nll(out.Logits, in[1])
		mean := ReduceAllMean(loss)
		params := make([]*Node, len(paths))
		for i, p := range paths {
			params[i] = m.param(g, p)
		}
		return append([]*Node{mean}, Gradient(mean, params...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	return exec
}
