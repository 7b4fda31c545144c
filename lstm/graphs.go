package lstm

import (
	"fmt"
	"sync"

	. "github.com/gomlx/gomlx/core/graph" //nolint:staticcheck // GoMLX graph code reads like math with a dot import.
	"github.com/gomlx/gomlx/ml/model"
)

// Compiled graphs are kept per model, so that evaluating, generating, scoring or tracing again does not
// compile again (on XLA a compilation takes seconds). A graph is compiled the first time it runs with
// given input shapes; a model keeps the maxCachedGraphs it used last.

// maxCachedGraphs bounds the graphs a model keeps: graphs keyed by a text's length (Trace, Predict,
// GradientNorms) would otherwise pile up.
const maxCachedGraphs = 16

// graphCache holds a model's compiled graphs by key. The zero value is ready to use.
type graphCache struct {
	mu    sync.Mutex
	execs map[string]*cachedExec
	clock int // incremented on every use: the least recently used graph is evicted first
}

type cachedExec struct {
	exec *model.Exec
	used int
}

// cachedExec returns the graph compiled for key, building it with fn the first time. key names what
// fn computes and any dimension fn reads from Go values rather than from its inputs' shapes (the
// number of steps of an unrolled window, for instance): a graph compiles again by itself for new input
// shapes, but not for a new closure.
func (m *Model) cachedExec(key string, fn func(g *Graph, in []*Node) []*Node) (*model.Exec, error) {
	c := &m.graphs
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock++
	if e, ok := c.execs[key]; ok {
		e.used = c.clock
		return e.exec, nil
	}
	exec, err := m.newExec(fn)
	if err != nil {
		return nil, fmt.Errorf("build graph %s: %w", key, err)
	}
	if c.execs == nil {
		c.execs = map[string]*cachedExec{}
	}
	if len(c.execs) >= maxCachedGraphs {
		oldest := ""
		for k, e := range c.execs {
			if oldest == "" || e.used < c.execs[oldest].used {
				oldest = k
			}
		}
		// Dropped, not finalized: a call on another goroutine may still be running it; the garbage
		// collector frees it once nothing refers to it.
		delete(c.execs, oldest)
	}
	c.execs[key] = &cachedExec{exec: exec, used: c.clock}
	return exec, nil
}

// newExec compiles fn, a graph over m's variables, for m's backend. The graph is marked as training
// whatever it computes, because GoMLX reads that mark to decide how variables enter a graph: in a graph
// not marked as training, on a backend that prefers it (the pure-Go backend does, to pre-pack weights
// for inference), a variable's current value is embedded as a constant. lstmlab compiles each graph
// once and runs it while the weights change (training steps, evaluations between them, generation
// after more training), so variables must always be parameters. The mark changes nothing else here:
// dropout and evaluation mode are lstmlab's own train flag (TestEvaluationSeesUpdatedWeights).
func (m *Model) newExec(fn func(g *Graph, in []*Node) []*Node) (*model.Exec, error) {
	return model.NewExec(m.Backend, m.Store, func(_ *model.Scope, g *Graph, in []*Node) []*Node {
		m.Store.SetTraining(g, true)
		return fn(g, in)
	})
}
