package lstm

import (
	"sync"
	"testing"

	"github.com/gomlx/compute"
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
