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
	"syscall"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/tracker"
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
}

func defaultDB() string {
	if p := os.Getenv("LSTMLAB_DB"); p != "" {
		return p
	}
	return "lstmlab.db"
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI and returns the exit status. A panic anywhere becomes one line on stderr (with
// the stack only under LSTMLAB_DEBUG=1), never a Go stack trace for users.
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g := &globals{stdout: stdout, stderr: stderr, args: args}
	root := newRootCmd(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "lstmlab: %v\n", err)
		return 1
	}
	return 0
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
	return root
}

// addFormatFlag adds --format with the allowed values.
func addFormatFlag(cmd *cobra.Command, g *globals, allowed ...string) {
	// The default is empty and resolved by checkFormat: every command binds the same variable, so a
	// per-command default here would be overwritten by the last command registered.
	cmd.Flags().StringVar(&g.format, "format", "", fmt.Sprintf("output format: %v (default %s)", allowed, allowed[0]))
}

func checkFormat(g *globals, allowed ...string) error {
	if g.format == "" {
		g.format = allowed[0]
	}
	for _, a := range allowed {
		if g.format == a {
			return nil
		}
	}
	return fmt.Errorf("unknown --format %q (want one of %v)", g.format, allowed)
}

// openDB opens the tracker database, creating it if needed.
func openDB(g *globals) (*tracker.DB, error) {
	return tracker.Open(g.db)
}

// openExistingDB opens the database for read-mostly commands: a missing file is an error rather than
// silently creating an empty database.
func openExistingDB(g *globals) (*tracker.DB, error) {
	if _, err := os.Stat(g.db); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no tracker database at %s (train a model first, or pass --db)", g.db)
		}
		return nil, err
	}
	return tracker.Open(g.db)
}

// printJSON writes v as one indented JSON document.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
