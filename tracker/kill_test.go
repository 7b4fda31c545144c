package tracker

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// killEnv tells a re-executed test binary to act as the writer process.
const killEnv = "LSTMLAB_TRACKER_KILL_CHILD_DB"

// TestKilledWriter runs a real writer process, kills it with SIGKILL in
// the middle of logging, and checks that nothing it had flushed is lost,
// the file passes integrity_check, and the run shows as interrupted at
// once.
func TestKilledWriter(t *testing.T) {
	if path := os.Getenv(killEnv); path != "" {
		killChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "runs.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), killEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	// Wait for the child to report its run id once 100 steps are durable,
	// then let it write some more before killing it.
	var runID int64
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if _, err := fmt.Sscanf(lines.Text(), "ready %d", &runID); err == nil {
			break
		}
	}
	if runID == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("child never became ready")
	}
	time.Sleep(50 * time.Millisecond)
	must(t, cmd.Process.Kill()) // SIGKILL: no deferred code runs in the child
	cmd.Wait()

	// At once, with the default 30 s StaleAfter: the kernel released the
	// child's run lock when it died, and that is what readers on this host
	// go by.
	db, err := Open(path)
	must(t, err)
	defer db.Close()
	must(t, db.IntegrityCheck(ctx))
	ri, err := db.GetRun(ctx, runID)
	must(t, err)
	if ri.Status != StatusInterrupted || ri.End.IsZero() {
		t.Errorf("killed run: status %s end %v; want interrupted with an end time", ri.Status, ri.End)
	}
	var stored string
	must(t, db.read.QueryRow(`SELECT status FROM runs WHERE id = ?`, runID).Scan(&stored))
	if stored != "interrupted" {
		t.Errorf("Open left the killed run stored as %s", stored)
	}
	hist, err := db.History(ctx, runID, MetricTrainLoss)
	must(t, err)
	if len(hist) < 100 {
		t.Fatalf("%d points survived, want at least the 100 flushed before ready", len(hist))
	}
	t.Logf("%d points survived the kill", len(hist))
	for i, p := range hist {
		if p.Step != int64(i) {
			t.Fatalf("point %d has step %d: history has a hole", i, p.Step)
		}
	}
	// The summary was written in the same transactions as the points.
	if s := ri.Metrics[MetricTrainLoss]; s.Count != int64(len(hist)) || s.Last.Step != hist[len(hist)-1].Step {
		t.Errorf("summary %+v disagrees with %d stored points", s, len(hist))
	}
	if ri.Params["hidden"] != int64(128) {
		t.Errorf("params lost: %v", ri.Params)
	}
	// The run can be resumed and continues after its last stored step.
	r, err := db.ResumeRun(ctx, runID)
	must(t, err)
	must(t, r.LogMetric(MetricTrainLoss, hist[len(hist)-1].Step+1, 0))
	must(t, r.Finish(StatusFinished))
}

// killChild is the writer process: it logs forever, flushing often, until
// it is killed.
func killChild(path string) {
	db, err := OpenWith(path, Options{FlushSize: 50, FlushInterval: 5 * time.Millisecond, HeartbeatInterval: 10 * time.Millisecond, StaleAfter: 100 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	r, err := db.StartRun(ctx, RunSpec{Name: "victim", Command: strings.Join(os.Args, " ")})
	if err == nil {
		err = r.LogParams(map[string]any{"hidden": 128})
	}
	for step := int64(0); err == nil; step++ {
		err = r.LogMetrics(step, map[string]float64{MetricTrainLoss: 1 / float64(step+1), MetricLR: 1e-3})
		if step == 99 {
			if err = r.Flush(); err == nil {
				fmt.Printf("ready %d\n", r.ID())
			}
		}
		if step%200 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(2)
}
