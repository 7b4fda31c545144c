package experiments

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm"
	"github.com/lstmlab/lstmlab/tracker"
)

// openLab opens a tracker database in dir, closed when the test ends.
func openLab(t *testing.T, dir string) *tracker.DB {
	t.Helper()
	db, err := tracker.Open(filepath.Join(dir, "lab.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func writeText(t *testing.T, dir, name string, seed uint64, words []string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	var sb strings.Builder
	for sb.Len() < 20000 {
		for range 5 + rng.IntN(5) {
			sb.WriteString(words[rng.IntN(len(words))] + " ")
		}
		sb.WriteString(".\n")
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var small = []string{"--set=steps=60", "--set=eval_every=30", "--set=hidden=32", "--set=embed=16", "--set=batch=8", "--set=seq_len=32", "--set=lr=1e-2"}

func trimSet(s []string) []string {
	out := make([]string, len(s))
	for i, kv := range s {
		out[i] = strings.TrimPrefix(kv, "--set=")
	}
	return out
}

// TestFineTuneOntoNewText trains a parent on one generated text, fine-tunes it on a different one (with
// unseen characters, frozen embedding) and checks the new corpus's validation loss falls, the lineage and
// the frozen group are recorded, and shape overrides are refused.
func TestFineTuneOntoNewText(t *testing.T) {
	dir := t.TempDir()
	db := openLab(t, dir)
	ctx := context.Background()
	sea := writeText(t, dir, "sea.txt", 1, strings.Fields("the whale ship sea captain ahab white boat harpoon deck wind"))
	land := writeText(t, dir, "land.txt", 2, strings.Fields("a farmer field grain horse barn rain sun plough market quay zinc"))
	parent, err := Train(ctx, db, TrainOptions{Preset: "tiny", Data: sea, Name: "parent", Overrides: trimSet(small), Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	child, err := Train(ctx, db, TrainOptions{Preset: "tiny", Data: land, Name: "child", InitFrom: "parent",
		Freeze: []string{"embedding"}, Overrides: []string{"steps=60", "eval_every=30", "batch=8", "seq_len=32", "lr=1e-2"}, Backend: "go"})
	if err != nil {
		t.Fatal(err)
	}
	info, err := db.FindRun(ctx, "child")
	if err != nil {
		t.Fatal(err)
	}
	if info.ParentID != parent.RunID || info.Params["freeze"] != "embedding" {
		t.Fatalf("lineage/freeze not recorded: parent %d, params %v", info.ParentID, info.Params["freeze"])
	}
	before := info.Metrics["before_new_val_loss"].Last.Value
	after := info.Metrics["after_new_val_loss"].Last.Value
	if !(after < before) {
		t.Fatalf("new corpus validation loss %.4f before, %.4f after fine-tuning: want a fall", before, after)
	}
	if _, ok := info.Metrics["after_parent_val_loss"]; !ok {
		t.Error("what was forgotten (parent validation loss) was not logged")
	}
	if child.Status != tracker.StatusFinished {
		t.Errorf("child status %s", child.Status)
	}
	_, err = Train(ctx, db, TrainOptions{Preset: "tiny", Data: land, InitFrom: "parent", Overrides: []string{"level=word"}, Backend: "go"})
	if err == nil || !strings.Contains(err.Error(), "level") {
		t.Fatalf("word-level child of a char-level parent: err = %v", err)
	}
}

// TestFineTuneVocabularyUnkOrExtend: without --extend-vocab a child keeps its parent's vocabulary and reads the
// new corpus's unseen characters as <unk>; with it, the vocabulary grows by the characters seen at least
// min_freq times, and a character seen once is still <unk>. Figures are named by level (bpc).
func TestFineTuneVocabularyUnkOrExtend(t *testing.T) {
	dir := t.TempDir()
	db := openLab(t, dir)
	ctx := context.Background()
	sea := writeText(t, dir, "sea.txt", 1, strings.Fields("the whale ship sea captain ahab white boat harpoon deck wind"))
	land := writeText(t, dir, "land.txt", 2, strings.Fields("a farmer field grain horse barn rain sun plough market quay zinc"))
	landText, _ := os.ReadFile(land)
	if err := os.WriteFile(land, append(landText, "жук\n"...), 0o644); err != nil { // ж, у, к: once each
		t.Fatal(err)
	}
	if _, err := Train(ctx, db, TrainOptions{Preset: "tiny", Data: sea, Name: "parent", Overrides: trimSet(small), Backend: "go"}); err != nil {
		t.Fatal(err)
	}
	child := []string{"steps=20", "eval_every=20", "batch=8", "seq_len=32"}
	for _, extend := range []bool{false, true} {
		name := map[bool]string{false: "unk", true: "extended"}[extend]
		if _, err := Train(ctx, db, TrainOptions{Preset: "tiny", Data: land, Name: name, InitFrom: "parent", ExtendVocab: extend,
			Overrides: child, Backend: "go"}); err != nil {
			t.Fatal(err)
		}
	}
	parent, _, err := LoadRunModel(ctx, db, "parent", "go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"unk", "extended"} {
		m, info, err := LoadRunModel(ctx, db, name, "go")
		if err != nil {
			t.Fatal(err)
		}
		_, unseen, err := m.Vocab.EncodeUnseen(string(landText) + "жук\n")
		if err != nil {
			t.Fatal(err)
		}
		_, hasZ := m.Vocab.ID("z")
		_, hasZhe := m.Vocab.ID("ж")
		switch name {
		case "unk":
			if m.Vocab.Size() != parent.Vocab.Size() || hasZ || unseen.Count == 0 {
				t.Errorf("without --extend-vocab: %d tokens (parent %d), z in it %v, %d unseen", m.Vocab.Size(), parent.Vocab.Size(), hasZ, unseen.Count)
			}
		case "extended":
			if m.Vocab.Size() <= parent.Vocab.Size() || !hasZ || hasZhe || unseen.Count != 3 {
				t.Errorf("with --extend-vocab: %d tokens (parent %d), z %v, ж %v, unseen %v", m.Vocab.Size(), parent.Vocab.Size(), hasZ, hasZhe, unseen)
			}
		}
		for _, key := range []string{"before_new_val_bpc", "after_new_val_bpc", "val_bpc", "test_bpc", "val_oov_rate"} {
			if _, ok := info.Metrics[key]; !ok {
				t.Errorf("%s: metric %s not logged", name, key)
			}
		}
	}
}

// TestResumedFineTuneLogsAfterMetrics interrupts a fine-tuning run (its context cancelled, as Ctrl-C
// does) and resumes it: the resumed run keeps its frozen group and sample length, honours
// ResumeOptions.Overrides, and logs its after_* metrics at its last step.
func TestResumedFineTuneLogsAfterMetrics(t *testing.T) {
	dir := t.TempDir()
	db := openLab(t, dir)
	sea := writeText(t, dir, "sea.txt", 1, strings.Fields("the whale ship sea captain ahab white boat harpoon deck wind"))
	land := writeText(t, dir, "land.txt", 2, strings.Fields("a farmer field grain horse barn rain sun plough market quay zinc"))
	if _, err := Train(context.Background(), db, TrainOptions{Preset: "tiny", Data: sea, Name: "parent", Overrides: trimSet(small), Backend: "go"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Train(ctx, db, TrainOptions{Preset: "tiny", Data: land, Name: "child", InitFrom: "parent", Freeze: []string{"embedding"},
		SampleLength: 9, Overrides: []string{"steps=40", "eval_every=10", "batch=8", "seq_len=32"}, Backend: "go",
		Observe: func(ev RunEvent) error {
			if ev.Kind == lstm.EventEval && ev.Step == 20 {
				cancel()
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != tracker.StatusInterrupted {
		t.Fatalf("cancelled fine-tune: status %s", res.Status)
	}
	resumed, err := Resume(context.Background(), db, "child", ResumeOptions{Backend: "go", Overrides: []string{"eval_every=20"}})
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Status != tracker.StatusFinished || resumed.Steps != 40 {
		t.Fatalf("resumed: %s after %d steps", resumed.Status, resumed.Steps)
	}
	info, err := db.FindRun(context.Background(), "child")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"after_new_val_loss", "after_parent_val_loss"} {
		if m, ok := info.Metrics[key]; !ok || m.Last.Step != 40 {
			t.Errorf("%s: %+v, want a point at step 40", key, m)
		}
	}
	if info.Params["eval_every"] != int64(20) || info.Params["freeze"] != "embedding" {
		t.Errorf("eval_every %v after the override (want 20), freeze %v", info.Params["eval_every"], info.Params["freeze"])
	}
	samples, _ := db.Samples(context.Background(), info.ID)
	for _, s := range samples {
		if n := len([]rune(s.Text)); n != 9 {
			t.Errorf("sample at step %d: %d characters, want 9", s.Step, n)
		}
	}
}
