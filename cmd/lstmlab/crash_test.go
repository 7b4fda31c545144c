package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/internal/atomicfile"
	"github.com/lstmlab/lstmlab/lstm/safetensors"
	"github.com/lstmlab/lstmlab/tracker"
)

// The tests in this file stop real lstmlab processes with real signals — SIGINT, SIGTERM, SIGHUP,
// SIGKILL at random moments (also in the middle of a checkpoint save), SIGSTOP/SIGCONT — and check what
// the README's "Guarantees" section promises: the database passes integrity_check, the run reads
// interrupted at once (running while stopped), resume starts at once, and after it the metric history
// has exactly one point per step.

// crashTrain is a tiny model evaluated (and checkpointed) every 5 steps, so saves are frequent.
var crashTrain = []string{"--preset", "tiny", "--set=eval_every=5", "--set=hidden=32", "--set=embed=16", "--set=batch=8",
	"--set=seq_len=32", "--set=eval_windows=2", "--sample-length", "12"}

// proc is a running lstmlab child.
type proc struct {
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
	lines  chan string // stderr lines
	done   chan struct{}
	code   int
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs lstmlab in the background with the test's database.
func (c *cli) start(args ...string) *proc {
	c.t.Helper()
	cmd := exec.Command(binary, append([]string{"--db", c.db}, args...)...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "GOMLX_BACKEND=go")
	stdout := &lockedBuffer{}
	cmd.Stdout = stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: stdout, stderr: &lockedBuffer{}, lines: make(chan string, 1000), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.stderr.mu.Lock()
			p.stderr.b.WriteString(sc.Text() + "\n")
			p.stderr.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				p.code = 128 + int(ws.Signal())
			}
		}
		close(p.done)
	}()
	c.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitFor reads stderr until a line containing want, failing if the process ends first.
func (p *proc) waitFor(t *testing.T, want string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.done
				t.Fatalf("process ended (exit %d) before printing %q; stderr:\n%s", p.code, want, p.stderr)
			}
			if strings.Contains(line, want) {
				return line
			}
		case <-deadline:
			t.Fatalf("no %q within %v; stderr:\n%s", want, timeout, p.stderr)
		}
	}
}

// wait waits for the process to end and returns its exit code (128+signal when killed).
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("process did not end within %v; stderr:\n%s", timeout, p.stderr)
	}
	return -1
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %v: %v", sig, err)
	}
}

// readDB opens the test database read-only, as another process on the same host would.
func (c *cli) readDB() *tracker.DB {
	c.t.Helper()
	db, err := tracker.OpenWith(c.db, tracker.Options{ReadOnly: true})
	if err != nil {
		c.t.Fatalf("open %s read-only: %v", c.db, err)
	}
	return db
}

// runInfo reads one run.
func (c *cli) runInfo(name string) tracker.RunInfo {
	c.t.Helper()
	db := c.readDB()
	defer db.Close()
	info, err := db.FindRun(context.Background(), name)
	if err != nil {
		c.t.Fatal(err)
	}
	return info
}

// checkRecord checks integrity_check, and that the run reads as want within a second.
func (c *cli) checkRecord(name string, want tracker.Status) {
	c.t.Helper()
	start := time.Now()
	for {
		db := c.readDB()
		if err := db.IntegrityCheck(context.Background()); err != nil {
			db.Close()
			c.t.Fatal(err)
		}
		info, err := db.FindRun(context.Background(), name)
		db.Close()
		if err != nil {
			c.t.Fatal(err)
		}
		if info.Status == want {
			return
		}
		if time.Since(start) > time.Second {
			c.t.Fatalf("run %s reads %s %v after its process ended, want %s", name, info.Status, time.Since(start), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkpointStep reads the training step stored in a checkpoint file.
func checkpointStep(t *testing.T, path string) int {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Step int `json:"step"`
	}
	if err := json.Unmarshal([]byte(f.Metadata["state"]), &state); err != nil {
		t.Fatal(err)
	}
	return state.Step
}

// checkOnePointPerStep checks the history of a run ending at last: train_loss and lr at every step
// 1..last, val_loss and one sample at every evaluation step (multiples of every, and last).
func (c *cli) checkOnePointPerStep(name string, last, every int) {
	c.t.Helper()
	db := c.readDB()
	defer db.Close()
	ctx := context.Background()
	info, err := db.FindRun(ctx, name)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, key := range []string{"train_loss", "lr"} {
		hist, err := db.History(ctx, info.ID, key)
		if err != nil {
			c.t.Fatal(err)
		}
		if len(hist) != last {
			c.t.Errorf("%s: %d points for %d steps", key, len(hist), last)
		}
		for i, p := range hist {
			if p.Step != int64(i+1) {
				c.t.Fatalf("%s: point %d is at step %d: the history has a hole or an extra point", key, i, p.Step)
			}
		}
	}
	var evals []int64
	for s := every; s <= last; s += every {
		evals = append(evals, int64(s))
	}
	if last%every != 0 {
		evals = append(evals, int64(last))
	}
	val, err := db.History(ctx, info.ID, "val_loss")
	if err != nil {
		c.t.Fatal(err)
	}
	samples, err := db.Samples(ctx, info.ID)
	if err != nil {
		c.t.Fatal(err)
	}
	var valSteps, sampleSteps []int64
	for _, p := range val {
		valSteps = append(valSteps, p.Step)
	}
	for _, s := range samples {
		sampleSteps = append(sampleSteps, s.Step)
	}
	if fmt.Sprint(valSteps) != fmt.Sprint(evals) {
		c.t.Errorf("val_loss at steps %v, want %v", valSteps, evals)
	}
	if fmt.Sprint(sampleSteps) != fmt.Sprint(evals) {
		c.t.Errorf("samples at steps %v, want one at each of %v", sampleSteps, evals)
	}
	if s := info.Metrics["train_loss"]; s.Count != int64(last) || s.Last.Step != int64(last) {
		c.t.Errorf("train_loss summary count %d last step %d, want %d", s.Count, s.Last.Step, last)
	}
}

// tempFiles lists the temporary files of interrupted atomic writes in dir.
func tempFiles(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if atomicfile.IsTemp(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestKillNineTrials kills a training process with SIGKILL 24 times, at random moments and (every third
// trial) the instant a checkpoint's temporary file appears, resuming after each kill. After each kill the
// database passes integrity_check, the run reads interrupted within a second, and the next resume starts
// at once and cleans the temporary files; at the end the history has exactly one point per step.
func TestKillNineTrials(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	rng := rand.New(rand.NewPCG(11, 12))
	const trials, every = 24, 5
	var runDir string
	savesHit, tempsCleaned := 0, 0
	for trial := range trials {
		var p *proc
		if trial == 0 {
			p = c.start(append([]string{"train", "--data", sea, "--name", "victim", "--set=steps=100000"}, crashTrain...)...)
			line := p.waitFor(t, "files in ", 60*time.Second)
			runDir = strings.TrimSpace(line[strings.Index(line, "files in ")+len("files in "):])
		} else {
			stale := tempFiles(runDir)
			p = c.start("resume", "victim")
			p.waitFor(t, "resuming run", 30*time.Second)
			if len(stale) > 0 {
				if left := tempFiles(runDir); len(left) > 0 {
					t.Fatalf("trial %d: resume left temporary files %v", trial, left)
				}
				tempsCleaned++
			}
		}
		if trial%3 == 2 {
			// Kill the instant a checkpoint's temporary file exists: in the middle of a save.
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) && len(tempFiles(runDir)) == 0 {
			}
			p.signal(t, syscall.SIGKILL)
			if len(tempFiles(runDir)) > 0 {
				savesHit++
			}
		} else {
			time.Sleep(time.Duration(100+rng.IntN(900)) * time.Millisecond)
			p.signal(t, syscall.SIGKILL)
		}
		if code := p.wait(t, 10*time.Second); code != 128+int(syscall.SIGKILL) {
			t.Fatalf("trial %d: exit %d, want death by SIGKILL; stderr:\n%s", trial, code, p.stderr)
		}
		c.checkRecord("victim", tracker.StatusInterrupted)
	}
	t.Logf("%d kills, %d in the middle of a checkpoint save (temporary file present), %d resumes cleaned temporary files",
		trials, savesHit, tempsCleaned)
	if savesHit == 0 {
		t.Error("no kill hit a checkpoint save")
	}
	// Finish the run a few steps after its last checkpoint: the history must have one point per step.
	last := checkpointStep(t, filepath.Join(runDir, "checkpoint.safetensors"))
	if last < every {
		t.Fatalf("after %d trials the run checkpointed only step %d: the trials were too short", trials, last)
	}
	final := last + 7
	c.ok("resume", "victim", "--steps", strconv.Itoa(final), "-q")
	c.checkRecord("victim", tracker.StatusFinished)
	c.checkOnePointPerStep("victim", final, every)
	if left := tempFiles(runDir); len(left) > 0 {
		t.Errorf("temporary files left after the final resume: %v", left)
	}
}

// TestSignalsStopCleanly sends SIGINT, SIGTERM and SIGHUP to training processes: each exits with the
// shell's status (130, 143, 129) and one line saying how to continue, with the run interrupted, its
// plot drawn, and its checkpoint at the last step logged (every point committed). Resume continues and
// the history has one point per step.
func TestSignalsStopCleanly(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		name := "sig-" + strings.ToLower(unixSignalName(sig))
		p := c.start(append([]string{"train", "--data", sea, "--name", name, "--set=steps=100000"}, crashTrain...)...)
		line := p.waitFor(t, "files in ", 60*time.Second)
		runDir := strings.TrimSpace(line[strings.Index(line, "files in ")+len("files in "):])
		time.Sleep(700 * time.Millisecond)
		p.signal(t, sig)
		if code := p.wait(t, 30*time.Second); code != 128+int(sig) {
			t.Fatalf("%v: exit %d, want %d; stderr:\n%s", sig, code, 128+int(sig), p.stderr)
		}
		lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
		hint := lines[len(lines)-1]
		if !strings.Contains(hint, "stopped by "+unixSignalName(sig)) || !strings.Contains(hint, "resume "+name) {
			t.Errorf("%v: last line %q, want one saying how to resume", sig, hint)
		}
		if strings.Contains(p.stderr.String(), "context canceled") || strings.Contains(p.stderr.String(), "failed") {
			t.Errorf("%v: stderr mentions a failure:\n%s", sig, p.stderr)
		}
		c.checkRecord(name, tracker.StatusInterrupted)
		if _, err := os.Stat(filepath.Join(runDir, "curves.png")); err != nil {
			t.Errorf("%v: no plot: %v", sig, err)
		}
		step := checkpointStep(t, filepath.Join(runDir, "checkpoint.safetensors"))
		info := c.runInfo(name)
		if got := info.Metrics["train_loss"].Last.Step; got != int64(step) || step == 0 {
			t.Errorf("%v: checkpoint at step %d, history ends at step %d", sig, step, got)
		}
		c.ok("resume", name, "--steps", strconv.Itoa(step+6), "-q")
		c.checkOnePointPerStep(name, step+6, 5)
	}
}

func unixSignalName(s syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"}[s]
}

// TestSecondInterruptStopsAtOnce sends Ctrl-C twice: the process exits at once with 130, and the record
// is still consistent: interrupted, integrity ok, and resume gives one point per step.
func TestSecondInterruptStopsAtOnce(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	// hidden=256 (the later --set wins): steps of tens of milliseconds, so the process is still finishing
	// the step the first Ctrl-C interrupted when the second arrives; with crashTrain's 32 units a step and
	// the stop after it could both end within the 2 ms between the signals.
	p := c.start(append(append([]string{"train", "--data", sea, "--name", "twice", "--set=steps=100000"}, crashTrain...), "--set=hidden=256")...)
	line := p.waitFor(t, "files in ", 60*time.Second)
	runDir := strings.TrimSpace(line[strings.Index(line, "files in ")+len("files in "):])
	time.Sleep(500 * time.Millisecond)
	p.signal(t, syscall.SIGINT)
	// The second Ctrl-C is repeated every 2 ms until the process ends: a signal sent while the first is still
	// pending (the process not yet scheduled, on a busy machine) merges into it and would be lost.
	stopRepeating := make(chan struct{})
	go func() {
		for {
			select {
			case <-stopRepeating:
				return
			case <-time.After(2 * time.Millisecond):
				_ = p.cmd.Process.Signal(syscall.SIGINT) // fails harmlessly once the process has ended
			}
		}
	}()
	code := p.wait(t, 5*time.Second)
	close(stopRepeating)
	if code != 130 {
		t.Fatalf("exit %d after two Ctrl-C, want 130; stderr:\n%s", code, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "SIGINT again: stopping now") {
		t.Errorf("no line about the second Ctrl-C:\n%s", p.stderr)
	}
	c.checkRecord("twice", tracker.StatusInterrupted)
	step := checkpointStep(t, filepath.Join(runDir, "checkpoint.safetensors"))
	c.ok("resume", "twice", "--steps", strconv.Itoa(step+6), "-q")
	c.checkOnePointPerStep("twice", step+6, 5)
}

// TestStoppedProcessOwnsItsRun stops a training process with SIGSTOP: the run reads running (its lock
// is held) however long it stays stopped, and rm and resume refuse it naming the process and host.
// After SIGCONT it goes on, and SIGTERM stops it cleanly.
func TestStoppedProcessOwnsItsRun(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	p := c.start(append([]string{"train", "--data", sea, "--name", "paused", "--set=steps=100000"}, crashTrain...)...)
	p.waitFor(t, "files in ", 60*time.Second)
	time.Sleep(300 * time.Millisecond)
	p.signal(t, syscall.SIGSTOP)
	defer p.cmd.Process.Signal(syscall.SIGCONT)
	host, _ := os.Hostname()
	pid := strconv.Itoa(p.cmd.Process.Pid)
	var runs []map[string]any
	if err := json.Unmarshal([]byte(c.ok("runs", "--format", "json")), &runs); err != nil || len(runs) != 1 || runs[0]["status"] != "running" {
		t.Fatalf("stopped run: %v %v", err, runs)
	}
	for _, args := range [][]string{{"rm", "paused"}, {"resume", "paused"}} {
		_, errOut, code := c.run(args...)
		if code == 0 || !strings.Contains(errOut, "process "+pid) || !strings.Contains(errOut, "host "+host) {
			t.Errorf("%v on a stopped run: exit %d, stderr %q; want a refusal naming process %s on host %s", args, code, errOut, pid, host)
		}
	}
	c.checkRecord("paused", tracker.StatusRunning)
	p.signal(t, syscall.SIGCONT)
	time.Sleep(200 * time.Millisecond)
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 30*time.Second); code != 143 {
		t.Fatalf("exit %d after SIGTERM, want 143; stderr:\n%s", code, p.stderr)
	}
	c.checkRecord("paused", tracker.StatusInterrupted)
}

// TestResumeAndSweepStopCleanly: a resume stopped by SIGINT and a sweep stopped by SIGTERM exit like
// train does (130, 143), with their runs interrupted and one line saying how to continue.
func TestResumeAndSweepStopCleanly(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, db: filepath.Join(dir, "lab.db"), dir: dir}
	sea := generatedText(t, dir, "sea.txt", 1, seaWords)
	c.ok(append([]string{"train", "--data", sea, "--name", "base", "--set=steps=10", "-q"}, crashTrain...)...)
	p := c.start("resume", "base", "--steps", "100000")
	p.waitFor(t, "resuming run", 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	p.signal(t, syscall.SIGINT)
	if code := p.wait(t, 30*time.Second); code != 130 || !strings.Contains(p.stderr.String(), "resume base") {
		t.Fatalf("resume stopped by SIGINT: exit %d; stderr:\n%s", code, p.stderr)
	}
	c.checkRecord("base", tracker.StatusInterrupted)

	p = c.start(append([]string{"train", "--data", sea, "--name", "sw", "--sweep", "lr=1e-3,2e-3", "--set=steps=100000"}, crashTrain...)...)
	p.waitFor(t, "files in ", 60*time.Second)
	time.Sleep(500 * time.Millisecond)
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, 30*time.Second); code != 143 || !strings.Contains(p.stderr.String(), "resume sw-1") {
		t.Fatalf("sweep stopped by SIGTERM: exit %d; stderr:\n%s", code, p.stderr)
	}
	c.checkRecord("sw-1", tracker.StatusInterrupted)
	db := c.readDB()
	defer db.Close()
	if _, err := db.FindRun(context.Background(), "sw-2"); err == nil {
		t.Error("the sweep started its next point after SIGTERM")
	}
}
