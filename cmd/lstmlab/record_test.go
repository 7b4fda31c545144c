package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/internal/testenv"
	"github.com/lstmlab/lstmlab/tracker"
)

// These end-to-end tests check that a run's files belong to one run of one database, that a run is
// rebuilt only from its own record and checkpoint, and that commands that only read work on a
// read-only copy without leaving files.

var smallTrain = []string{"--preset", "tiny", "--set=steps=20", "--set=eval_every=10", "--set=hidden=32", "--set=embed=16",
	"--set=batch=8", "--set=seq_len=32", "-q", "--format", "json"}

func trainJSON(t *testing.T, c *cli, args ...string) map[string]any {
	t.Helper()
	return decode(t, c.ok(append(append([]string{"train"}, smallTrain...), args...)...))
}

// TestTwoDatabasesInOneFolder trains run 1 of two databases in one folder: each run has its own folder,
// and each database's commands use its own run's model.
func TestTwoDatabasesInOneFolder(t *testing.T) {
	dir := t.TempDir()
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	land := generatedText(t, dir, "land.txt", 2, landWords)
	a := &cli{t: t, db: filepath.Join(dir, "a.db"), dir: dir}
	b := &cli{t: t, db: filepath.Join(dir, "b.db"), dir: dir}
	ra := trainJSON(t, a, "--data", sea, "--set=hidden=32")
	rb := trainJSON(t, b, "--data", land, "--set=hidden=48")
	if ra["run_id"] != rb["run_id"] {
		t.Fatalf("run ids %v and %v: the test wants the same id in both databases", ra["run_id"], rb["run_id"])
	}
	if filepath.Dir(ra["checkpoint"].(string)) == filepath.Dir(rb["checkpoint"].(string)) {
		t.Fatalf("both databases' run 1 use the folder %s", filepath.Dir(ra["checkpoint"].(string)))
	}
	// a.db's model still is a.db's: generation works and knows only the sea words' characters.
	out := decode(t, a.ok("generate", "1", "--prompt", "the whale", "--length", "30", "--format", "json"))
	if out["text"] == "" {
		t.Fatal("no text")
	}
	ev := decode(t, b.ok("eval", "1", "--format", "json"))
	if ev["result"].(map[string]any)["tokens"].(float64) == 0 {
		t.Fatalf("eval of b.db's run: %v", ev)
	}
	// A database deleted and created again: run 1 gets a new folder too.
	os.Remove(a.db)
	ra2 := trainJSON(t, a, "--data", sea)
	if filepath.Dir(ra2["checkpoint"].(string)) == filepath.Dir(ra["checkpoint"].(string)) {
		t.Fatal("the re-created database's run 1 reuses the old run 1's folder")
	}
}

// TestForeignCheckpointRefused copies another run's checkpoint (another shape, or the same shape) into a
// run's folder: generate, eval, export and resume refuse it, naming the file and the run.
func TestForeignCheckpointRefused(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	own := trainJSON(t, c, "--data", sea, "--name", "own")
	wide := trainJSON(t, c, "--data", sea, "--name", "wide", "--set=hidden=48")
	twin := trainJSON(t, c, "--data", sea, "--name", "twin") // same shape and vocabulary as own
	for _, other := range []map[string]any{wide, twin} {
		for _, f := range []string{"checkpoint", "best_model"} {
			data, err := os.ReadFile(other[f].(string))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(own[f].(string), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, args := range [][]string{
			{"generate", "own"}, {"eval", "own"}, {"export", "own", "--out", filepath.Join(dir, "x.safetensors")},
			{"resume", "own", "--steps", "30"}, {"train", "--init-from", "own", "--data", sea, "-q"},
		} {
			_, errOut, code := c.run(args...)
			if code == 0 || !strings.Contains(errOut, "not a checkpoint of run 1 (own") || !strings.Contains(errOut, dir) {
				t.Errorf("%v with %s's checkpoint: exit %d, stderr %q; want a refusal naming the file and the run", args, other["run_name"], code, errOut)
			}
		}
	}
	if info := c.runInfo("own"); info.Status != tracker.StatusFinished {
		t.Errorf("a refused resume left the run %s", info.Status)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.safetensors")); err == nil {
		t.Error("export wrote a file from another run's weights")
	}
}

// TestChangedCorpusRefused changes the corpus file (same characters, other text): resume and eval
// refuse, naming both hashes; --allow-data-change resumes and records the new hash.
func TestChangedCorpusRefused(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	trainJSON(t, c, "--data", sea, "--name", "book")
	before := c.runInfo("book").Params["data_sha256"].(string)
	data, _ := os.ReadFile(sea)
	lines := strings.Split(string(data), "\n")
	sort.Strings(lines) // same characters, another text
	if err := os.WriteFile(sea, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"resume", "book", "--steps", "30"}, {"eval", "book"}} {
		_, errOut, code := c.run(args...)
		if code == 0 || !strings.Contains(errOut, before) || strings.Count(errOut, "SHA-256") < 2 {
			t.Errorf("%v on a changed corpus: exit %d, stderr %q; want a refusal naming both hashes", args, code, errOut)
		}
	}
	c.ok("resume", "book", "--steps", "30", "--allow-data-change", "-q")
	info := c.runInfo("book")
	if after := info.Params["data_sha256"]; after == before || info.Params["steps"] != int64(30) {
		t.Errorf("after --allow-data-change: data_sha256 %v (was %s), steps %v", after, before, info.Params["steps"])
	}
	c.ok("eval", "book") // the recorded hash is the new text's now
}

// TestResumeStepsCosine trains a cosine run to its end, then resumes it with --steps: the learning rate
// does not jump (it continues at the rate reached), params.steps is the new total, the change is in the
// param history with its step, and the sample length survives the resume.
func TestResumeStepsCosine(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	trainJSON(t, c, "--data", sea, "--name", "cos", "--set=decay=cosine", "--set=lr=3e-3", "--set=decay_rate=0.1",
		"--set=steps=40", "--sample-length", "17")
	c.ok("resume", "cos", "--steps", "60", "--set", "eval_every=20", "-q")
	db := c.readDB()
	defer db.Close()
	ctx := context.Background()
	info, err := db.FindRun(ctx, "cos")
	if err != nil {
		t.Fatal(err)
	}
	lr, err := db.History(ctx, info.ID, "lr")
	if err != nil || len(lr) != 60 {
		t.Fatalf("lr history: %d points, %v", len(lr), err)
	}
	if lr[40].Value > lr[39].Value*(1+1e-6) {
		t.Errorf("learning rate jumps from %.4g at step 40 to %.4g at step 41", lr[39].Value, lr[40].Value)
	}
	for i := 41; i < 60; i++ {
		if lr[i].Value > lr[i-1].Value*(1+1e-6) || math.Abs(lr[i].Value-3e-4) > 1e-9 {
			t.Errorf("step %d: lr %.4g (step %d: %.4g); a finished cosine run continues at its floor 3e-4", i+1, lr[i].Value, i, lr[i-1].Value)
			break
		}
	}
	if info.Params["steps"] != int64(60) || info.Params["eval_every"] != int64(20) {
		t.Errorf("params after resume: steps %v eval_every %v, want 60 and 20", info.Params["steps"], info.Params["eval_every"])
	}
	changes, err := db.ParamChanges(ctx, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]tracker.ParamChange{}
	for _, ch := range changes {
		got[ch.Key] = ch
	}
	if ch := got["steps"]; ch.Step != 41 || ch.Old != int64(40) || ch.Value != int64(60) {
		t.Errorf("param history of steps: %+v, want 40 → 60 from step 41", ch)
	}
	samples, err := db.Samples(ctx, info.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if n := len([]rune(s.Text)); n != 17 {
			t.Errorf("sample at step %d has %d characters, want the run's sample length 17", s.Step, n)
		}
	}
	if m := info.Metrics["test_loss"]; m.Last.Step != 60 {
		t.Errorf("test_loss last logged at step %d, want 60", m.Last.Step)
	}
}

// TestFinalTestMetricsUseWholeSplit checks the run's test metrics are those of `eval RUN`, which scores
// the whole test split, although eval_windows caps periodic validation.
func TestFinalTestMetricsUseWholeSplit(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	res := trainJSON(t, c, "--data", sea, "--name", "capped", "--set=eval_windows=1")
	test := res["test"].(map[string]any)
	ev := decode(t, c.ok("eval", "capped", "--format", "json"))["result"].(map[string]any)
	if test["tokens"] != ev["tokens"] || math.Abs(test["loss"].(float64)-ev["loss"].(float64)) > 1e-6 {
		t.Errorf("run's test metrics %v, eval's %v: want the same whole split", test, ev)
	}
	if test["tokens"].(float64) <= 8*32 {
		t.Errorf("test scored %v tokens: capped at one window", test["tokens"])
	}
}

// snapshot lists every file under dir with its size and modification time.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		lines = append(lines, path+" "+info.Mode().String()+" "+info.ModTime().String()+" "+strconv.FormatInt(info.Size(), 10))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// TestReadOnlyCopy mounts a tracker folder read-only (a bind mount remounted read-only, as root; where
// mounts are not allowed, the folder is made read-only with chmod, which only binds a non-root user):
// runs, compare, plot, generate, eval and export work on it and create no file there (no -wal/-shm
// either), and a command that writes says the database is read-only.
func TestReadOnlyCopy(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	os.Mkdir(lab, 0o755)
	c := &cli{t: t, db: filepath.Join(lab, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	trainJSON(t, c, "--data", sea, "--name", "one")
	trainJSON(t, c, "--data", sea, "--name", "two", "--set=lr=1e-2")
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o755)
	mounted := false
	if out, err := exec.Command("mount", "--bind", lab, ro).CombinedOutput(); err == nil {
		if out, err := exec.Command("mount", "-o", "remount,ro,bind", ro).CombinedOutput(); err == nil {
			mounted = true
		} else {
			t.Logf("remount read-only: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", ro).Run() })
	} else {
		t.Logf("bind mount not allowed here (%v %s)", err, strings.TrimSpace(string(out)))
	}
	if !mounted {
		if os.Geteuid() == 0 {
			testenv.Missing(t, "permission to mount", "running as root, where chmod cannot make a folder read-only, a read-only bind mount is needed")
		}
		t.Log("falling back to a folder made read-only with chmod")
		ro = lab
		filepath.WalkDir(lab, func(p string, d fs.DirEntry, err error) error { return os.Chmod(p, 0o555) })
		t.Cleanup(func() {
			filepath.WalkDir(lab, func(p string, d fs.DirEntry, err error) error { return os.Chmod(p, 0o755) })
		})
	}
	r := &cli{t: t, db: filepath.Join(ro, "lab.db"), dir: dir}
	before := snapshot(t, lab)
	var runs []map[string]any
	if err := json.Unmarshal([]byte(r.ok("runs", "--format", "json")), &runs); err != nil || len(runs) != 2 {
		t.Fatalf("runs on a read-only copy: %v %v", err, runs)
	}
	r.ok("compare", "one", "two")
	r.ok("plot", "one", "two", "--out", filepath.Join(dir, "curves.png"))
	r.ok("generate", "one", "--length", "20")
	r.ok("eval", "one")
	r.ok("export", "one", "--out", filepath.Join(dir, "one.safetensors"))
	if after := snapshot(t, lab); after != before {
		t.Errorf("read commands changed the read-only folder:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	for _, f := range []string{"lab.db-wal", "lab.db-shm"} {
		if _, err := os.Stat(filepath.Join(lab, f)); err == nil {
			t.Errorf("%s left beside the database", f)
		}
	}
	r.fails("read-only", "train", "--data", sea, "--preset", "tiny", "--set=steps=2")
	r.fails("read-only", "resume", "one", "--steps", "30")
	r.fails("read-only", "rm", "one")
}

// TestFileModes checks the files lstmlab writes are 0644 under umask 022 (0600 under 077): checkpoints,
// best model, plot, export, database.
func TestFileModes(t *testing.T) {
	for _, tc := range []struct {
		umask string
		want  os.FileMode
	}{{"022", 0o644}, {"077", 0o600}} {
		dir := t.TempDir()
		sea := generatedText(t, dir, "sea.txt", 1, seaWords)
		db := filepath.Join(dir, "lab.db")
		export := filepath.Join(dir, "m.safetensors")
		script := "umask " + tc.umask + " && \"$0\" --db \"$1\" train --data \"$2\" " + strings.Join(smallTrain, " ") +
			" > /dev/null && \"$0\" --db \"$1\" export 1 --out \"$3\""
		cmd := exec.Command("sh", "-c", script, binary, db, sea, export)
		cmd.Env = append(os.Environ(), "GOMLX_BACKEND=go")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("umask %s: %v\n%s", tc.umask, err, out)
		}
		runDirs, _ := filepath.Glob(filepath.Join(dir, "runs", "1-*"))
		if len(runDirs) != 1 {
			t.Fatalf("run folders %v", runDirs)
		}
		for _, f := range []string{"checkpoint.safetensors", "best.safetensors", "curves.png", "run.lock"} {
			checkMode(t, filepath.Join(runDirs[0], f), tc.want)
		}
		checkMode(t, export, tc.want)
		checkMode(t, db, tc.want)
	}
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Error(err)
		return
	}
	if info.Mode().Perm() != want {
		t.Errorf("%s: mode %v, want %v", path, info.Mode().Perm(), want)
	}
}

// TestDiskFullFailsTheRun trains onto a small tmpfs (mounted as root) until the disk is full: the
// command fails with one line naming the problem, and the run is recorded as failed.
func TestDiskFullFailsTheRun(t *testing.T) {
	dir := t.TempDir()
	mnt := filepath.Join(dir, "small")
	os.Mkdir(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=900k", "tmpfs", mnt).CombinedOutput(); err != nil {
		testenv.Missing(t, "permission to mount a tmpfs", fmt.Sprintf("%v: %s; run the tests as root", err, strings.TrimSpace(string(out))))
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	c := &cli{t: t, db: filepath.Join(mnt, "lab.db"), dir: dir}
	// Fill most of the disk so that the run's files and history soon fill the rest.
	if err := os.WriteFile(filepath.Join(mnt, "filler"), make([]byte, 420<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := c.run(append([]string{"train", "--data", sea, "--name", "full", "--set=steps=100000", "-q"}, crashTrain...)...)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != 1 || len(lines) != 1 || !(strings.Contains(errOut, "no space left") || strings.Contains(errOut, "disk")) {
		t.Fatalf("training onto a full disk: exit %d, stderr %q; want one line naming the full disk", code, errOut)
	}
	t.Logf("stderr: %s", strings.TrimSpace(errOut))
	c.checkRecord("full", tracker.StatusFailed)
}
