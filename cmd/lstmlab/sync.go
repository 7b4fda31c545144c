package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lstmlab/lstmlab/mlflow"
	"github.com/lstmlab/lstmlab/tracker"
)

// trackingNone turns mirroring off even when $MLFLOW_TRACKING_URI is set.
const trackingNone = "none"

// addTrackingFlag adds --tracking-uri, defaulting to $MLFLOW_TRACKING_URI.
func addTrackingFlag(cmd *cobra.Command, uri *string, what string) {
	cmd.Flags().StringVar(uri, "tracking-uri", os.Getenv(mlflow.EnvTrackingURI),
		what+` to this MLflow tracking server, e.g. http://127.0.0.1:5000 ($MLFLOW_TRACKING_URI; "none": off). `+
			`Credentials: $MLFLOW_TRACKING_USERNAME and $MLFLOW_TRACKING_PASSWORD, or $MLFLOW_TRACKING_TOKEN`)
}

// uriSource names where a tracking URI came from, for error messages: the flag, or the environment
// variable that is its default.
func uriSource(uri string) string {
	if env := strings.TrimSpace(os.Getenv(mlflow.EnvTrackingURI)); env != "" && env == strings.TrimSpace(uri) {
		return "$" + mlflow.EnvTrackingURI
	}
	return "--tracking-uri"
}

// newMirror returns a mirror from db to the tracking server uri, or nil when uri is empty or "none";
// its notes go to w.
func newMirror(uri string, db *tracker.DB, w io.Writer) (*mlflow.Mirror, error) {
	if uri = strings.TrimSpace(uri); uri == "" || uri == trackingNone {
		return nil, nil
	}
	client, err := mlflow.NewClient(uri, mlflow.ClientOptions{Credentials: mlflow.CredentialsFromEnv(os.Getenv)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", uriSource(uri), err)
	}
	return mlflow.NewMirror(db, client, mlflow.MirrorOptions{Note: func(msg string) { notice(w, "note", msg) },
		Warn: func(msg string) { notice(w, "warning", msg) }}), nil
}

// notice prints one line of the mirror's (a warning or a note).
func notice(w io.Writer, kind, msg string) {
	fmt.Fprintf(w, "lstmlab: %s: %s\n", kind, msg)
}

// liveMirror mirrors the runs of one train or resume command while they train.
type liveMirror struct {
	live *mlflow.Live
	uri  string
	out  io.Writer
}

// startLiveMirror starts mirroring to uri, or returns nil when mirroring is off; its warnings go to w
// (the progress view's writer, which clears the progress line first). Its onRun is the runner's OnRun
// hook; finish must be called when training ends.
func startLiveMirror(uri string, db *tracker.DB, w io.Writer) (*liveMirror, error) {
	m, err := newMirror(uri, db, w)
	if m == nil || err != nil {
		return nil, err
	}
	live := m.StartLive(mlflow.LiveOptions{Warn: func(msg string) { notice(w, "warning", msg) }})
	return &liveMirror{live: live, uri: m.Client().URI(), out: w}, nil
}

// onRun returns the hook that adds a run to the mirror (nil when mirroring is off).
func (l *liveMirror) onRun() func(int64) {
	if l == nil {
		return nil
	}
	return l.live.Add
}

// finish sends what the server still lacks (for at most a minute, a few seconds once the server is
// found down, or until the next stop signal: Ctrl-C, SIGTERM, SIGHUP) and says, in one line, which runs
// remain to be synced.
func (l *liveMirror) finish(g *globals) {
	if l == nil {
		return
	}
	stop, done := g.stops.next()
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	defer context.AfterFunc(stop, cancel)()
	behind, err := l.live.Close(ctx)
	if len(behind) == 0 {
		return
	}
	ids := make([]string, len(behind))
	for i, id := range behind {
		ids[i] = fmt.Sprint(id)
	}
	why := "server unreachable"
	if !mlflow.Temporary(err) {
		why = err.Error()
	}
	hint := commandHint(g, append(append([]string{"sync"}, ids...), "--tracking-uri", l.uri)...)
	notice(l.out, "warning", fmt.Sprintf("run %s not fully mirrored to %s (%s); \"%s\" finishes it",
		strings.Join(ids, ", "), l.uri, why, hint))
}

func newSyncCmd(g *globals) *cobra.Command {
	var (
		uri         string
		noArtifacts bool
	)
	cmd := &cobra.Command{
		Use:   "sync [RUN ...]",
		Short: "Copy runs to an MLflow tracking server (all runs when none are named)",
		Long: `Copy runs (by id or name; all when none are named) to an MLflow tracking server: MLflow itself,
FastTrackML, or any server speaking MLflow's REST API. Each run becomes an MLflow run in the experiment of
the same name, with its params, tags, note, full metric history, status and times; its plot, weights and
samples become artifacts where the server accepts uploads. Syncing again sends only what the server lacks:
a run is never duplicated, a point never sent twice, and a resumed run continues its remote run.
train and resume mirror live with the same --tracking-uri. See the README, "Sharing runs with a team".`,
		Example: `  lstmlab sync --tracking-uri http://127.0.0.1:5000
  MLFLOW_TRACKING_URI=http://mlflow.internal:5000 lstmlab sync 3 moby-7`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(g, "table", "json"); err != nil {
				return err
			}
			return runSync(cmd.Context(), g, uri, noArtifacts, args)
		},
	}
	addTrackingFlag(cmd, &uri, "copy the runs")
	cmd.Flags().BoolVar(&noArtifacts, "no-artifacts", false, "send no artifacts (plot, weights, samples.txt)")
	addFormatFlag(cmd, g, "table", "json")
	return cmd
}

func runSync(ctx context.Context, g *globals, uri string, noArtifacts bool, refs []string) error {
	if u := strings.TrimSpace(uri); u == "" || u == trackingNone {
		return fmt.Errorf("no MLflow tracking server: pass --tracking-uri URI or set %s", mlflow.EnvTrackingURI)
	}
	// Writable, to record which remote run holds each run; a read-only database syncs too (the remote
	// runs are then found by their UUIDs each time).
	db, err := openWritableDB(g)
	if errors.Is(err, tracker.ErrReadOnly) {
		db, err = openExistingDB(g)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	client, err := mlflow.NewClient(uri, mlflow.ClientOptions{Credentials: mlflow.CredentialsFromEnv(os.Getenv)})
	if err != nil {
		return fmt.Errorf("%s: %w", uriSource(uri), err)
	}
	m := mlflow.NewMirror(db, client, mlflow.MirrorOptions{SkipArtifacts: noArtifacts,
		Note: func(msg string) { notice(g.stderr, "note", msg) }, Warn: func(msg string) { notice(g.stderr, "warning", msg) }})

	var ids []int64
	if len(refs) == 0 {
		runs, err := db.ListRuns(ctx, tracker.ListOptions{OrderBy: "id"})
		if err != nil {
			return err
		}
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
	}
	for _, ref := range refs {
		info, err := db.FindRun(ctx, ref)
		if err != nil {
			return err
		}
		ids = append(ids, info.ID)
	}
	if len(ids) == 0 {
		return errors.New("no runs to sync: the database is empty")
	}
	var (
		results []mlflow.SyncResult
		failed  int
	)
	for _, id := range ids {
		res, err := m.SyncRun(ctx, id)
		if err != nil {
			if mlflow.Temporary(err) || ctx.Err() != nil {
				if len(results) > 0 && g.format != "json" {
					fmt.Fprintf(g.stdout, "stopped after %d of %d runs\n", len(results), len(ids))
				}
				return err // the server is down: every other run would fail the same way
			}
			failed++
			fmt.Fprintf(g.stderr, "lstmlab: %v\n", err)
			continue
		}
		results = append(results, res)
		if g.format != "json" {
			fmt.Fprintln(g.stdout, describeSync(res))
		}
	}
	if g.format == "json" {
		if err := printJSON(g.stdout, results); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d runs not synced (see above)", failed, len(ids))
	}
	return nil
}

// describeSync says in one line what a sync sent.
func describeSync(r mlflow.SyncResult) string {
	head := fmt.Sprintf("run %d (%s) -> MLflow run %s, experiment %s, %s:", r.RunID, r.RunName, r.RemoteID, r.ExperimentID, r.Status)
	if !r.Sent() {
		return head + " up to date"
	}
	var parts []string
	if r.Created {
		parts = append(parts, "created")
	}
	parts = append(parts, fmt.Sprintf("%d metric points, %d params, %d tags, %d artifacts sent", r.Metrics, r.Params, r.Tags, r.Artifacts))
	if r.TagsDeleted > 0 {
		plural := "s"
		if r.TagsDeleted == 1 {
			plural = ""
		}
		parts = append(parts, fmt.Sprintf("%d tag%s deleted, as here", r.TagsDeleted, plural))
	}
	if r.StatusChanged {
		parts = append(parts, "status set")
	}
	return head + " " + strings.Join(parts, "; ")
}
