// Command lstmlab trains, tracks, compares and samples LSTM language models.
//
//	lstmlab train --preset moby            # train on Moby Dick, tracked in ./lstmlab.db
//	lstmlab runs                           # list runs
//	lstmlab generate RUN --prompt "Call me"
//
// Every command takes --db (default ./lstmlab.db or $LSTMLAB_DB) and prints errors as one line on
// stderr with a non-zero exit status.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/lstmlab/lstmlab/experiments"
	"github.com/lstmlab/lstmlab/tracker"
	"github.com/lstmlab/lstmlab/tracker/render"
)

// globals are the flags every command shares.
type globals struct {
	db      string
	format  string
	runsDir string
	dataDir string
	backend string
	stdout  io.Writer
	stderr  io.Writer
	args    []string // the command line, recorded with runs
	// interrupted is the command that continues a run stopped by a signal (set by train and resume).
	interrupted string
	// stops says when stop signals arrive (run's handler, the only one).
	stops *stops
	// end is how far the end of the run being trained has got, for the line a second stop signal prints.
	end endState
}

// endState is what train and resume report of the run they train, so that a second stop signal, which
// exits at once, can say truly what was written and what was not.
type endState struct {
	training    atomic.Bool  // a train or resume command is training a run
	stage       atomic.Int32 // the experiments.EndStage the run's end has completed (0: none yet)
	hint        atomic.Value // string: the command that continues the run
	interrupted atomic.Bool  // the run ended recorded as interrupted
	// writing is held while a stage of the end is under way (a file being written, the status being
	// recorded), so the second stop waits for it (stageWait at most) before saying what is done.
	writing sync.Mutex
	current atomic.Int32 // the stage under way, while writing is held
}

// stageWait is the longest a second stop signal waits for a stage of the run's end under way (writing the
// final checkpoint of a large model takes a moment); then it exits anyway and says so.
const stageWait = 3 * time.Second

// onRun starts a run (the next one of a sweep too) that hint continues.
func (e *endState) onRun(hint string) {
	e.training.Store(true)
	e.stage.Store(0)
	e.interrupted.Store(false)
	e.hint.Store(hint)
}

// onEnd follows the stages of the run's end (experiments.TrainOptions.OnEnd).
func (e *endState) onEnd(ev experiments.EndEvent) {
	if !ev.Done {
		e.writing.Lock()
		e.current.Store(int32(ev.Stage))
		return
	}
	if ev.Err == nil {
		e.stage.Store(int32(ev.Stage))
	}
	e.current.Store(0)
	e.writing.Unlock()
}

// stopLine is the line printed when a second stop signal (named sig) exits at once. It waits (stageWait
// at most) for a stage of the run's end under way, and keeps the next one from starting: the process exits
// right after the line, so what the line says was or was not written stays so.
func (e *endState) stopLine(sig string) string {
	if !e.training.Load() {
		return e.secondStop(sig, 0)
	}
	held := make(chan struct{})
	go func() {
		e.writing.Lock() // never unlocked: nothing more of the run's end may start
		close(held)
	}()
	select {
	case <-held:
		return e.secondStop(sig, 0)
	case <-time.After(stageWait):
		return e.secondStop(sig, experiments.EndStage(e.current.Load()))
	}
}

// secondStop says what the end of the run had written: the stages done, and (busy, when not 0) the one
// still under way.
func (e *endState) secondStop(sig string, busy experiments.EndStage) string {
	line := sig + " again: stopping now"
	if !e.training.Load() {
		return line
	}
	hint, _ := e.hint.Load().(string)
	switch experiments.EndStage(e.stage.Load()) {
	case experiments.EndCheckpoint:
		line += ": the final checkpoint was written, the plot was not"
	case experiments.EndPlot:
		line += ": the final checkpoint and the plot were written"
	case experiments.EndRecorded:
		line += ": the run had already ended cleanly (final checkpoint and plot written, its status recorded)"
		if !e.interrupted.Load() {
			hint = ""
		}
	default:
		line += ", without the final checkpoint and plot"
	}
	switch busy {
	case experiments.EndCheckpoint:
		line += " (the final checkpoint was being written: a file is replaced whole, so the previous one stays if the new one is not complete)"
	case experiments.EndPlot:
		line += " (the plot was being written: the file is replaced whole or not at all)"
	}
	if e.stage.Load() < int32(experiments.EndRecorded) {
		line += "; the run reads as interrupted and resumes from its last checkpoint"
	}
	if hint != "" {
		line += "; continue with: " + hint
	}
	return line
}

// stops turns the stop signals into contexts: the command's context ends at the first; hurry at the
// second, which also exits the process at once unless cleanup code is waiting for it (next).
type stops struct {
	first   context.Context
	hurry   context.Context
	waiters atomic.Int32
}

// next returns a context that ends at the next stop signal (the first, or the second when the first
// came already), and a function to call once done waiting. While a caller waits, the second signal
// ends its context instead of exiting, so the caller can still say what it leaves undone.
func (s *stops) next() (context.Context, func()) {
	if s == nil { // not started from run (tests)
		return context.Background(), func() {}
	}
	if s.first.Err() == nil {
		return s.first, func() {}
	}
	s.waiters.Add(1)
	return s.hurry, func() { s.waiters.Add(-1) }
}

func defaultDB() string {
	if p := os.Getenv("LSTMLAB_DB"); p != "" {
		return p
	}
	return "lstmlab.db"
}

func main() {
	// Commands write their output to the real standard output. A library printing on os.Stdout (GoMLX's
	// Go backend announces "parallelism set to N" with fmt.Printf) would corrupt `--format json` there,
	// and on standard error it would break the one-line error promise: such chatter goes nowhere, and
	// lstmlab prints which backend runs itself.
	stdout := os.Stdout
	if devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		os.Stdout = devNull
	}
	os.Exit(run(os.Args[1:], stdout, os.Stderr))
}

// stopSignals stop a command cleanly: Ctrl-C, kill's default, and the terminal closing.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// exitCode is the status a shell gives a process stopped by sig: 128 + its number (130 for SIGINT,
// 143 for SIGTERM, 129 for SIGHUP).
func exitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// run executes the CLI and returns the exit status. A panic anywhere becomes one line on stderr (with
// the stack only under LSTMLAB_DEBUG=1), never a Go stack trace for users.
//
// The first SIGINT, SIGTERM or SIGHUP cancels the command's context: training stops cleanly (final
// checkpoint, every point committed, the plot drawn, the run recorded as interrupted) and the exit
// status is the shell's for that signal. A second one during that cleanup exits at once: what is
// recorded stays consistent (each database write is a transaction, each file is replaced atomically,
// and the run's lock, released by the kernel, makes it read as interrupted), and its line says what the
// end of the run had written by then (endState).
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "lstmlab: internal error: %v\n", r)
			if os.Getenv("LSTMLAB_DEBUG") != "" {
				fmt.Fprintf(stderr, "%s\n", debug.Stack())
			}
			code = 2
		}
	}()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	hurry, hurryCancel := context.WithCancel(context.Background())
	defer hurryCancel()
	returned := make(chan struct{}) // ends the signal goroutine when run returns
	defer close(returned)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	defer signal.Stop(sigs)
	st := &stops{first: ctx, hurry: hurry}
	g := &globals{stdout: stdout, stderr: stderr, args: args, stops: st}
	var stoppedBy atomic.Value // os.Signal
	go func() {
		var first, second os.Signal
		select {
		case first = <-sigs:
		case <-returned:
			return
		}
		stoppedBy.Store(first)
		cancel(fmt.Errorf("stopped by %s", signalName(first)))
		select {
		case second = <-sigs:
		case <-returned:
			return
		}
		hurryCancel()
		if st.waiters.Load() > 0 { // cleanup waiting on the network gives up and says what is left
			return
		}
		fmt.Fprintf(stderr, "\nlstmlab: %s\n", g.end.stopLine(signalName(second)))
		os.Exit(exitCode(second))
	}()
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := phrase(root.ExecuteContext(ctx))
	if err != nil {
		// One line, whatever the error wraps.
		fmt.Fprintf(stderr, "lstmlab: %s\n", strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; "))
	}
	if sig, ok := stoppedBy.Load().(os.Signal); ok {
		if g.interrupted != "" {
			fmt.Fprintf(stderr, "lstmlab: stopped by %s; continue with: %s\n", signalName(sig), g.interrupted)
		}
		return exitCode(sig)
	}
	if err != nil {
		return 1
	}
	return 0
}

// signalName is the conventional name of a signal (SIGINT, ...).
func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		if name := unix.SignalName(s); name != "" {
			return name
		}
	}
	return sig.String()
}

func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "lstmlab",
		Short: "See, train, compare and sample LSTM language models",
		Long: `lstmlab trains character- and word-level LSTM language models (GoMLX), tracks every run in a
SQLite database (hyperparameters, learning curves, samples, checkpoints) and compares and plots them.`,
		Example: `  lstmlab train --preset tiny --data book.txt
  lstmlab runs --sort metrics.val_loss
  lstmlab generate 1 --prompt "Call me" --temperature 0.7
  lstmlab compare 1 2 --only-changed`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.db, "db", defaultDB(), "tracker database file ($LSTMLAB_DB)")
	pf.StringVar(&g.runsDir, "runs-dir", "", `folder of per-run files (default "runs" beside the database)`)
	root.AddCommand(newTrainCmd(g), newResumeCmd(g), newGenerateCmd(g), newEvalCmd(g), newRunsCmd(g),
		newCompareCmd(g), newPlotCmd(g), newExportCmd(g), newRmCmd(g), newBenchCmd(g), newSyncCmd(g))
	root.AddCommand(readCommands(g)...)
	return root
}

// addFormatFlag adds --format with the allowed values.
func addFormatFlag(cmd *cobra.Command, g *globals, allowed ...string) {
	// The default is empty and resolved by checkFormat: every command binds the same variable, so a
	// per-command default here would be overwritten by the last command registered.
	cmd.Flags().StringVar(&g.format, "format", "", fmt.Sprintf("output format: %v (default %s)", allowed, allowed[0]))
}

// checkFormat checks --format against the formats a command allows, read as render.ParseFormat reads
// every --format (any case; "text" and "table" are one, "md" is markdown), and sets g.format to the
// allowed spelling (allowed[0] when none was given).
func checkFormat(g *globals, allowed ...string) error {
	if g.format == "" {
		g.format = allowed[0]
		return nil
	}
	if want, err := render.ParseFormat(g.format); err == nil {
		for _, a := range allowed {
			if f, _ := render.ParseFormat(a); f == want {
				g.format = a
				return nil
			}
		}
	}
	return fmt.Errorf("unknown --format %q (want one of %v)", g.format, allowed)
}

// openDB opens the tracker database for writing, creating it if needed.
func openDB(g *globals) (*tracker.DB, error) {
	return tracker.OpenWith(g.db, tracker.Options{RunsDir: g.runsDir})
}

// openWritableDB opens an existing database for writing (resume, rm): a missing file is an error
// rather than silently creating an empty database.
func openWritableDB(g *globals) (*tracker.DB, error) {
	if err := checkDBExists(g); err != nil {
		return nil, err
	}
	db, err := tracker.OpenWith(g.db, tracker.Options{RunsDir: g.runsDir, MustExist: true})
	if errors.Is(err, tracker.ErrReadOnly) {
		return nil, fmt.Errorf("%w (commands that only read, such as runs, compare, plot, generate, eval and export, work on it)", err)
	}
	return db, err
}

// openExistingDB opens an existing database for commands that only read (runs, compare, plot,
// generate, eval, export): read-only, nothing written or created, so they work on a read-only file,
// folder or mount and leave no files behind. A missing file is an error rather than silently creating
// an empty database.
func openExistingDB(g *globals) (*tracker.DB, error) {
	if err := checkDBExists(g); err != nil {
		return nil, err
	}
	db, err := tracker.OpenWith(g.db, tracker.Options{RunsDir: g.runsDir, ReadOnly: true})
	if errors.Is(err, tracker.ErrSchemaOld) {
		// A database of an earlier lstmlab: upgrade it once, if it can be written, then read it.
		if w, werr := tracker.OpenWith(g.db, tracker.Options{RunsDir: g.runsDir, MustExist: true}); werr == nil {
			if werr = w.Close(); werr == nil {
				return tracker.OpenWith(g.db, tracker.Options{RunsDir: g.runsDir, ReadOnly: true})
			}
		}
	}
	return db, err
}

func checkDBExists(g *globals) error {
	if _, err := os.Stat(g.db); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no tracker database at %s (train a model first, or pass --db)", g.db)
		}
		return err
	}
	return nil
}

// commandHint is a command line to suggest: lstmlab with this command line's --db and --runs-dir (so it
// acts on the same database and run files), then args, each quoted for a POSIX shell.
func commandHint(g *globals, args ...string) string {
	cmd := "lstmlab"
	if g.db != defaultDB() {
		cmd += " --db " + shellQuote(g.db)
	}
	if g.runsDir != "" {
		cmd += " --runs-dir " + shellQuote(g.runsDir)
	}
	for _, a := range args {
		cmd += " " + shellQuote(a)
	}
	return cmd
}

// resumeHint is the command that continues run name (commandHint).
func resumeHint(g *globals, name string) string { return commandHint(g, "resume", name) }

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printJSON writes v as one indented JSON document.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
