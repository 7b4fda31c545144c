package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lstmlab/lstmlab/lstm"
)

// The end-to-end test builds the real lstmlab binary and drives it like a user would, against a real
// database file and generated text: train, resume, generate, eval, runs, compare, plot, export, rm,
// and bad inputs, each of which must fail with one clear line and no Go stack trace.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lstmlab-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "lstmlab")
	// -buildvcs=auto: stamp the commit where git can tell it (lstmlab version reports it), whatever
	// GOFLAGS says.
	build := exec.Command("go", "build", "-buildvcs=auto", "-o", binary, ".")
	build.Env = append(os.Environ(), "GOEXPERIMENT=simd")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build lstmlab: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// generatedText writes a small English-like corpus the model can learn something from.
func generatedText(t *testing.T, dir, name string, seed uint64, words []string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var sb strings.Builder
	sb.WriteString("Call me Ishmael, said the sailor.\n")
	for sb.Len() < 30000 {
		for range 6 + rng.IntN(6) {
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteByte(' ')
		}
		sb.WriteString(".\n")
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var seaWords = strings.Fields("the whale ship sea captain ahab white boat harpoon deck wind wave sailor cried and over under")
var landWords = strings.Fields("a farmer field grain horse barn rain sun plough market village road cart mill bread")

type cli struct {
	t   *testing.T
	db  string
	dir string
}

// run executes lstmlab with the test's database; it returns stdout, stderr and the exit code.
func (c *cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(binary, append([]string{"--db", c.db}, args...)...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "GOMLX_BACKEND=go")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run lstmlab %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// ok runs a command that must succeed.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("lstmlab %s: exit %d\nstderr: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// fails runs a command that must fail with one clear line mentioning want, and no stack trace.
func (c *cli) fails(want string, args ...string) {
	c.t.Helper()
	_, errOut, code := c.run(args...)
	if code == 0 {
		c.t.Fatalf("lstmlab %s: succeeded, want failure mentioning %q", strings.Join(args, " "), want)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, want) || strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
		c.t.Fatalf("lstmlab %s: stderr %q, want one line mentioning %q", strings.Join(args, " "), errOut, want)
	}
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, s)
	}
	return v
}

const tinyTrain = "--set=steps=40 --set=eval_every=20 --set=hidden=32 --set=embed=16 --set=batch=8 --set=seq_len=32"

func TestCLIEndToEnd(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)

	// train: a tracked run with samples, checkpoint and plot.
	out := c.ok(append([]string{"train", "--preset", "tiny", "--data", sea, "--name", "first", "--format", "json", "-q"}, strings.Fields(tinyTrain)...)...)
	res := decode(t, out)
	if res["status"] != "finished" || res["steps"].(float64) != 40 || res["sample"] == "" || res["sample_prompt"] == "" || res["sample_step"].(float64) != 40 {
		t.Fatalf("train result: %v", res)
	}
	for _, f := range []string{"plot", "checkpoint", "best_model"} {
		if _, err := os.Stat(res[f].(string)); err != nil {
			t.Fatalf("%s missing: %v", f, err)
		}
	}

	// resume a finished run for more steps: the same run id carries on.
	out = c.ok("resume", "first", "--steps", "60", "--format", "json", "-q")
	if r := decode(t, out); r["run_id"] != res["run_id"] || r["steps"].(float64) != 60 {
		t.Fatalf("resume: %v", r)
	}

	// generate: reproducible with a seed; greedy equals temperature 0.
	g1 := decode(t, c.ok("generate", "first", "--prompt", "the whale", "--length", "40", "--seed", "3", "--format", "json"))
	g2 := decode(t, c.ok("generate", "first", "--prompt", "the whale", "--length", "40", "--seed", "3", "--format", "json"))
	if g1["text"] != g2["text"] || g1["text"] == "" {
		t.Fatalf("same seed, different text: %q vs %q", g1["text"], g2["text"])
	}
	greedy := c.ok("generate", "first", "--prompt", "the", "--greedy", "--length", "30")
	cold := c.ok("generate", "first", "--prompt", "the", "--temperature", "0", "--length", "30")
	if greedy != cold {
		t.Fatalf("greedy %q != temperature 0 %q", greedy, cold)
	}

	// eval on the test split and on another file.
	ev := decode(t, c.ok("eval", "first", "--format", "json"))
	if r := ev["result"].(map[string]any); r["bits_per_token"].(float64) <= 0 || r["unit"] != "char" {
		t.Fatalf("eval: %v", ev)
	}
	c.ok("eval", "first", "--data", sea)

	// a second run, then list, filter, compare and plot them.
	c.ok(append([]string{"train", "--preset", "tiny", "--data", sea, "--name", "second", "-q", "--set=lr=1e-2"}, strings.Fields(tinyTrain)...)...)
	var runs []map[string]any
	if err := json.Unmarshal([]byte(c.ok("runs", "--format", "json")), &runs); err != nil || len(runs) != 2 {
		t.Fatalf("runs: %v %v", err, runs)
	}
	filtered := c.ok("runs", "--filter", "params.lr > 0.005", "--format", "csv")
	if !strings.Contains(filtered, "second") || strings.Contains(filtered, "first") {
		t.Fatalf("filter: %s", filtered)
	}
	cmp := c.ok("compare", "first", "second", "--only-changed")
	if !strings.Contains(cmp, "lr ") || strings.Contains(cmp, "\nhidden ") || strings.Contains(cmp, "\n    hidden ") {
		t.Fatalf("compare --only-changed:\n%s", cmp)
	}
	png := filepath.Join(dir, "curves.png")
	c.ok("plot", "first", "second", "--out", png)
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("plot: %v", err)
	}
	svg := filepath.Join(dir, "curves.svg")
	c.ok("plot", "first", "--metric", "val_bpc", "--out", svg)
	if b, err := os.ReadFile(svg); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Fatalf("svg plot: %v", err)
	}

	// export for PyTorch.
	st := filepath.Join(dir, "model.safetensors")
	c.ok("export", "first", "--out", st)
	if b, err := os.ReadFile(st); err != nil || !bytes.Contains(b, []byte("lstm.weight_ih_l0")) {
		t.Fatalf("export: %v", err)
	}

	// bench prints one JSON document.
	b := decode(t, c.ok("bench", "--quick", "--format", "json"))
	if len(b) == 0 {
		t.Fatal("bench: empty report")
	}
	// --corpus names a file whose characters become the vocabulary; a missing one is an error.
	benchText := filepath.Join(t.TempDir(), "bench.txt")
	if err := os.WriteFile(benchText, []byte("abc cab. bca!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bc := decode(t, c.ok("bench", "--quick", "--format", "json", "--corpus", benchText))
	if model, _ := bc["model"].(map[string]any); model["vocab"] != float64(8) || model["corpus"] != benchText {
		t.Errorf("bench --corpus %s: model %v, want a vocabulary of <unk> and its 7 distinct characters", benchText, bc["model"])
	}
	c.fails("no-such-file.txt", "bench", "--quick", "--corpus", "no-such-file.txt")
	// Training is measured on the backend `train` uses, generation on the one `generate` uses (the
	// commands run with GOMLX_BACKEND=go).
	if b["backend"] != lstm.GoBackend || b["train_backend"] != lstm.GoTrainingBackend {
		t.Errorf("bench: backend %v, train_backend %v; want %s and %s", b["backend"], b["train_backend"], lstm.GoBackend, lstm.GoTrainingBackend)
	}

	// rm deletes a run.
	c.ok("rm", "second", "--files")
	c.fails("second", "generate", "second")

	// Bad inputs: one clear line each, non-zero exit, data already stored untouched.
	empty := filepath.Join(dir, "empty.txt")
	_ = os.WriteFile(empty, nil, 0o644)
	binFile := filepath.Join(dir, "blob.bin")
	_ = os.WriteFile(binFile, []byte{0, 1, 2, 0, 0, 3, 4, 0}, 0o644)
	badUTF8 := filepath.Join(dir, "latin1.txt")
	_ = os.WriteFile(badUTF8, []byte("caf\xe9 au lait\n"), 0o644)
	c.fails("does not exist", "train", "--preset", "tiny", "--data", filepath.Join(dir, "missing.txt"))
	c.fails("empty", "train", "--preset", "tiny", "--data", empty)
	c.fails("binary", "train", "--preset", "tiny", "--data", binFile)
	c.fails("UTF-8", "train", "--preset", "tiny", "--data", badUTF8)
	c.fails("unknown preset", "train", "--preset", "huge", "--data", sea)
	c.fails(`unknown key "hiden"`, "train", "--preset", "tiny", "--data", sea, "--set", "hiden=3")
	c.fails("invalid lr", "train", "--preset", "tiny", "--data", sea, "--set", "lr=-1")
	c.fails("unknown flag", "train", "--bogus")
	c.fails("nosuchrun", "generate", "nosuchrun")
	c.fails("unknown backend", "train", "--preset", "tiny", "--data", sea, "--backend", "tpu")
	c.fails("xla", "train", "--preset", "tiny", "--data", sea, "--backend", "xla:cuda")
	c.fails("filter", "runs", "--filter", "params.lr >> 3")
	// The library's errors name options; the CLI names its flags.
	c.fails("--freeze needs --init-from", "train", "--preset", "tiny", "--data", sea, "--freeze", "embedding")
	c.fails("already reached step 60 of 60: pass --steps N with N > 60", "resume", "first")
	c.fails(`sweep axis "hidden": want key=v1,v2`, "train", "--preset", "tiny", "--data", sea, "--sweep", "hidden")

	// A corrupt checkpoint is a clear error, and a corrupt database is refused untouched.
	ckpt := res["best_model"].(string)
	data, _ := os.ReadFile(ckpt)
	_ = os.WriteFile(ckpt, data[:len(data)/2], 0o644)
	c.fails("checkpoint", "generate", "first")
	junk := filepath.Join(dir, "junk.db")
	_ = os.WriteFile(junk, []byte("this is not a database at all, just text"), 0o644)
	_, errOut, code := (&cli{t: t, db: junk, dir: dir}).run("runs")
	after, _ := os.ReadFile(junk)
	if code == 0 || strings.Contains(errOut, "goroutine") || string(after) != "this is not a database at all, just text" {
		t.Fatalf("corrupt database: exit %d, stderr %q, file changed: %v", code, errOut, string(after) != "this is not a database at all, just text")
	}
}
