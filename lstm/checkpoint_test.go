package lstm

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm/safetensors"
)

// The owner and every metadata entry are covered by the checksum: editing the step, the config or the
// owner in a checkpoint is detected like damaged weights.
func TestCheckpointChecksumCoversMetadata(t *testing.T) {
	m, ids := tinyModel(t, tinyText, nil)
	tr, err := NewTrainer(m, ids, ids, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.safetensors")
	if err := tr.SaveCheckpointOwned(path, "run-uuid-1"); err != nil {
		t.Fatal(err)
	}
	ck, err := Load(path, testBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	if ck.Owner != "run-uuid-1" || ck.Version != 2 || ck.State.Step != 1 {
		t.Fatalf("loaded owner %q version %d step %d", ck.Owner, ck.Version, ck.State.Step)
	}
	for key, edit := range map[string]func(string) string{
		"state":  func(s string) string { return strings.Replace(s, `"step":1`, `"step":7`, 1) },
		"config": func(s string) string { return strings.Replace(s, `"hidden":32`, `"hidden":33`, 1) },
		"owner":  func(string) string { return "run-uuid-2" },
		"vocab":  func(s string) string { return strings.Replace(s, `"a"`, `"b"`, 1) },
	} {
		f, err := safetensors.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		before := f.Metadata[key]
		f.Metadata[key] = edit(before)
		if f.Metadata[key] == before {
			t.Fatalf("edit of %s changed nothing", key)
		}
		edited := filepath.Join(t.TempDir(), key+".safetensors")
		if err := safetensors.WriteFile(edited, f); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(edited, testBackend(t)); !errors.Is(err, ErrCorruptCheckpoint) || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("checkpoint with edited %s: err = %v, want a checksum mismatch", key, err)
		}
	}
	// A format 1 file (checksum over the tensors only, no owner) still loads.
	f, _ := safetensors.ReadFile(path)
	delete(f.Metadata, "owner")
	f.Metadata["format_version"] = "1"
	f.Metadata["checksum"] = safetensors.Checksum(f.Tensors)
	v1 := filepath.Join(t.TempDir(), "v1.safetensors")
	if err := safetensors.WriteFile(v1, f); err != nil {
		t.Fatal(err)
	}
	if ck, err := Load(v1, testBackend(t)); err != nil || ck.Version != 1 || ck.Owner != "" {
		t.Errorf("format 1 checkpoint: %v", err)
	}
}

// Extending a cosine run continues from the rate it had reached: no jump at the resume step, and the
// rate ends at lr·decay_rate at the new total.
func TestReanchorLRHasNoJump(t *testing.T) {
	old := DefaultConfig()
	old.Decay, old.LR, old.DecayRate, old.Warmup, old.Steps = "cosine", 3e-3, 0.1, 10, 100
	for _, stop := range []int{50, 100} { // interrupted half-way, finished
		cfg := old
		cfg.Steps = 200
		a := ReanchorLR(old, nil, cfg, stop)
		if a == nil {
			t.Fatal("no anchor for a changed cosine schedule")
		}
		before := ScheduledLR(old, nil, stop-1)
		at := ScheduledLR(cfg, a, stop)
		if at > before+1e-12 || math.Abs(at-ScheduledLR(old, nil, stop)) > 1e-12 {
			t.Errorf("stopped at %d: rate %.3g before, %.3g after resume (the old schedule had %.3g)", stop, before, at, ScheduledLR(old, nil, stop))
		}
		// A re-stretched schedule would have jumped up here (the bug this replaces).
		if stretched := LearningRate(cfg, stop); stop == 100 && stretched <= at {
			t.Errorf("stretched rate %.3g not above the anchored %.3g: the test proves nothing", stretched, at)
		}
		if end := ScheduledLR(cfg, a, 200); math.Abs(end-cfg.LR*cfg.DecayRate) > 1e-12 {
			t.Errorf("rate at the new last step %.3g, want %.3g", end, cfg.LR*cfg.DecayRate)
		}
		for s := stop; s < 200; s++ {
			if ScheduledLR(cfg, a, s+1) > ScheduledLR(cfg, a, s)+1e-15 {
				t.Fatalf("rate rises at step %d", s+1)
			}
		}
	}
	// The same settings need no anchor; a new lr scales the reached rate.
	if a := ReanchorLR(old, nil, old, 50); a != nil {
		t.Errorf("unchanged schedule got anchor %+v", a)
	}
	half := old
	half.LR = old.LR / 2
	if a := ReanchorLR(old, nil, half, 50); a == nil || math.Abs(a.LR-ScheduledLR(old, nil, 50)/2) > 1e-15 {
		t.Errorf("lr halved: anchor %+v", a)
	}
}
