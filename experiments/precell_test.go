package experiments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/lstmlab/lstmlab/lstm/safetensors"
)

// stripCheckpointCell rewrites a checkpoint as an lstmlab from before the `cell` key wrote it: the config in
// its metadata without the key, the format 2 checksum recomputed. The checksum is the documented one
// (lstm/checkpoint.go, metadataChecksum: SHA-256 over the length-prefixed metadata entries in key order,
// then the tensors' checksum), spelled out here because that function is unexported.
func stripCheckpointCell(t *testing.T, path string) {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg["cell"]; !ok {
		t.Fatalf("%s: config has no cell key to strip", path)
	}
	delete(cfg, "cell")
	b, _ := json.Marshal(cfg)
	f.Metadata["config"] = string(b)
	keys := make([]string, 0, len(f.Metadata))
	for k := range f.Metadata {
		if k != "checksum" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(f.Metadata[k]), f.Metadata[k])
	}
	h.Write([]byte(safetensors.Checksum(f.Tensors)))
	f.Metadata["checksum"] = hex.EncodeToString(h.Sum(nil))
	if err := safetensors.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
}

// TestRunFromBeforeTheCellKey: a run trained before the `cell` key existed (checkpoints whose config lacks
// it; its record with or without it) still loads, generates and resumes: a config without the key is an LSTM.
func TestRunFromBeforeTheCellKey(t *testing.T) {
	for _, stripRecord := range []bool{false, true} {
		t.Run(fmt.Sprintf("record_without_cell=%v", stripRecord), func(t *testing.T) {
			dir := t.TempDir()
			db, res := trainSmall(t, dir, "steps=20", "eval_every=10")
			ctx := context.Background()
			stripCheckpointCell(t, res.Checkpoint)
			stripCheckpointCell(t, res.Best)
			if stripRecord {
				var rec map[string]any
				if _, err := db.Record(ctx, res.RunID, &rec); err != nil {
					t.Fatal(err)
				}
				delete(rec["config"].(map[string]any), "cell")
				run, err := db.ResumeRun(ctx, res.RunID)
				if err != nil {
					t.Fatal(err)
				}
				if err := run.SetRecord(rec); err != nil {
					t.Fatal(err)
				}
				if err := run.Abandon(); err != nil {
					t.Fatal(err)
				}
			}
			m, _, err := LoadRunModel(ctx, db, "small", "go")
			if err != nil {
				t.Fatalf("load a run from before the cell key: %v", err)
			}
			if m.Config.Cell != "lstm" {
				t.Errorf("loaded cell %q, want lstm", m.Config.Cell)
			}
			more, err := Resume(ctx, db, "small", ResumeOptions{Backend: "go", Steps: 30})
			if err != nil {
				t.Fatalf("resume a run from before the cell key: %v", err)
			}
			if more.Steps != 30 {
				t.Errorf("resumed to step %d, want 30", more.Steps)
			}
		})
	}
}
