package mlflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/lstmlab/lstmlab/tracker"
)

// Tags the mirror sets on remote runs, besides MLflow's own (mlflow.*).
const (
	// TagCommand is the whole command line that started the run
	// (mlflow.source.name holds its program and subcommand).
	TagCommand = "lstmlab.command"
	// TagRunID is the run's id in the local tracker.
	TagRunID = "lstmlab.run_id"
	// TagRunUUID is the run's UUID, unique across databases: a sync that
	// created the remote run but could not record its id (or syncs from a
	// read-only copy of the database) finds the run again by this tag.
	TagRunUUID = "lstmlab.run_uuid"
	// TagOrigin says where the run's database is: "<host>:<database
	// path>#<run id>".
	TagOrigin = "lstmlab.origin"
	// TagSample holds the latest generated sample (prompt and text);
	// TagSampleStep its step.
	TagSample     = "lstmlab.sample"
	TagSampleStep = "lstmlab.sample_step"
	// TagParamPrefix + key holds a param's current value when the remote
	// run holds another value under the key that no param change of the
	// run explains (MLflow params never change).
	TagParamPrefix = "lstmlab.param."
	// ParamFromStep joins a param key and the step from which a changed
	// value applies: lr.from_step_1201 (MLflow params never change, so each
	// value a resumed run changed a param to is a param of its own).
	ParamFromStep = ".from_step_"
	// TagSHA256Prefix + artifact path holds the SHA-256 of the uploaded
	// file, so an unchanged file is not uploaded again.
	TagSHA256Prefix = "lstmlab.sha256."
	// TagHistoryRewritten holds the step after which the server's metric
	// history holds values the run no longer has: the run was resumed from
	// a checkpoint at that step after the server got later steps, and
	// logged those steps again with other values (a resume that changed
	// settings). MLflow cannot delete points, so the server keeps the
	// earlier values of those steps; the points after them are the run's.
	TagHistoryRewritten = "lstmlab.history_rewritten_after_step"
	// TagUserTags lists, as a JSON array, the keys of the run's own tags
	// (lstmlab tag, train --tag) the mirror set on the remote run: a tag
	// deleted here is deleted there, and only such a tag (never one set on
	// the server by someone else, nor MLflow's mlflow.* tags).
	TagUserTags = "lstmlab.tags"
)

// SamplesArtifact is the artifact holding every sample of a run.
const SamplesArtifact = "samples.txt"

// MirrorOptions configures a Mirror. The zero value is usable.
type MirrorOptions struct {
	// Origin identifies the tracker database among all those mirroring to
	// the same server (TagOrigin). Default "<hostname>:<database path>".
	Origin string
	// User is recorded as the remote run's mlflow.user when this mirror
	// creates it, as MLflow's own clients do. Default: the user running
	// this process.
	User string
	// SkipArtifacts turns off artifact uploads (plot, weights, samples).
	SkipArtifacts bool
	// Note receives one-line notes, each at most once per Mirror: which
	// artifacts could not be uploaded and why. Nil discards them.
	Note func(string)
	// Warn receives one line, at most once per run per Mirror, when the
	// server's copy of a run differs from the database in a way the mirror
	// cannot repair (TagHistoryRewritten). Nil: Note receives it.
	Warn func(string)
}

// Mirror copies runs from a tracker database to an MLflow tracking server.
// The database stays the source of truth: each SyncRun asks the server
// what it holds of the run and sends what it lacks, so the same call
// mirrors a run live (repeated every few seconds, see Live) and after the
// fact, and repeating it never duplicates a run or a metric point. A Mirror
// is safe for concurrent use.
//
// What it needs to know between calls is kept in two places: the id of
// the remote run, recorded in the tracker per server (tracker
// DB.SetRemoteRun), and for each metric the last step the server holds,
// read from the remote run (MLflow returns each metric's latest point).
// Local steps increase, so the points after that step are the missing
// ones — except after a resume, which takes back the steps logged after
// its checkpoint (tracker DB.Discards) and logs them again. When the
// server's latest point of a metric predates such a discard, the mirror
// compares the server's copy of the steps taken back with the run's new
// values before sending more: equal (an exact resume) is fine; different
// (a resume that changed settings) gets TagHistoryRewritten and one
// warning, since MLflow cannot delete or replace points.
type Mirror struct {
	db     *tracker.DB
	client *Client
	opts   MirrorOptions

	mu          sync.Mutex
	experiments map[string]Experiment // by name
	noted       map[string]bool
}

// NewMirror returns a Mirror from db to the server of client.
func NewMirror(db *tracker.DB, client *Client, opts MirrorOptions) *Mirror {
	if opts.Origin == "" {
		host, _ := os.Hostname()
		opts.Origin = host + ":" + db.Path()
	}
	if opts.User == "" {
		if u, err := user.Current(); err == nil {
			opts.User = u.Username
		}
	}
	return &Mirror{db: db, client: client, opts: opts, experiments: map[string]Experiment{}, noted: map[string]bool{}}
}

// Client returns the mirror's client.
func (m *Mirror) Client() *Client { return m.client }

// SyncResult says what one SyncRun did.
type SyncResult struct {
	RunID        int64     `json:"run_id"`
	RunName      string    `json:"run_name"`
	RemoteID     string    `json:"remote_run_id"`
	ExperimentID string    `json:"experiment_id"`
	Created      bool      `json:"created"` // the remote run was created by this call
	Status       RunStatus `json:"status"`  // the remote status after the call
	// Items sent by this call.
	Metrics   int `json:"metrics_sent"`
	Params    int `json:"params_sent"`
	Tags      int `json:"tags_sent"`
	Artifacts int `json:"artifacts_sent"`
	// TagsDeleted counts the run's tags deleted here that this call
	// deleted on the server.
	TagsDeleted int `json:"tags_deleted"`
	// StatusChanged: the remote status, end time or name were updated.
	StatusChanged bool `json:"status_changed"`
}

// Sent reports whether the call sent anything at all.
func (r SyncResult) Sent() bool {
	return r.Created || r.StatusChanged || r.Metrics+r.Params+r.Tags+r.Artifacts+r.TagsDeleted > 0
}

// SyncRun brings the remote copy of run runID up to date: it creates the
// remote run if needed (in the experiment of the same name, created if
// needed; a fine-tuning parent is synced first so the child can point to
// it), then sends the params, tags and metric points the server lacks, the
// artifacts once the run has ended, and finally the status and end time,
// so a remote run marked FINISHED holds everything. An error leaves the
// remote run partly updated; the next call continues from there.
func (m *Mirror) SyncRun(ctx context.Context, runID int64) (SyncResult, error) {
	res, err := m.syncRun(ctx, runID, map[int64]bool{})
	if err != nil {
		return res, fmt.Errorf("sync run %d: %w", runID, err)
	}
	return res, nil
}

func (m *Mirror) syncRun(ctx context.Context, runID int64, visiting map[int64]bool) (SyncResult, error) {
	visiting[runID] = true
	info, err := m.db.GetRun(ctx, runID)
	if err != nil {
		return SyncResult{RunID: runID}, err
	}
	res := SyncResult{RunID: info.ID, RunName: info.Name}
	parent := ""
	if info.ParentID != 0 && !visiting[info.ParentID] {
		if parent, err = m.parentRemoteID(ctx, info.ParentID, visiting); err != nil {
			return res, fmt.Errorf("parent run %d: %w", info.ParentID, err)
		}
	}
	remote, created, err := m.remoteRun(ctx, info)
	if err != nil {
		return res, err
	}
	res.RemoteID, res.ExperimentID, res.Created, res.Status = remote.Info.ID, remote.Info.ExperimentID, created, remote.Info.Status

	sample, err := m.db.LatestSample(ctx, info.ID)
	if err != nil {
		return res, err
	}
	changes, err := m.db.ParamChanges(ctx, info.ID)
	if err != nil {
		return res, err
	}
	params, tags := m.paramsAndTags(info, changes, parent, sample, remote.Data)
	res.Params, res.Tags = len(params), len(tags)
	// Deleted before the new TagUserTags is sent: an interrupted sync leaves the old list, so the next
	// one deletes what is left.
	for _, k := range deletedUserTags(info, remote.Data) {
		if err := m.client.DeleteTag(ctx, remote.Info.ID, k); err != nil {
			return res, err
		}
		res.TagsDeleted++
	}
	s := sender{client: m.client, runID: remote.Info.ID, pending: Batch{Params: params, Tags: tags}}
	discards, err := m.db.Discards(ctx, info.ID)
	if err != nil {
		return res, err
	}
	if res.Metrics, err = m.sendMetrics(ctx, info, remote.Data, discards, &s); err != nil {
		return res, err
	}
	res.Tags += s.extraTags
	if err := s.send(ctx, true); err != nil {
		return res, err
	}
	want, end := remoteStatus(info)
	if want != StatusRunning && !m.opts.SkipArtifacts {
		if res.Artifacts, err = m.uploadArtifacts(ctx, info, remote); err != nil {
			return res, err
		}
	}
	if remote.Info.Status != want || (want != StatusRunning && remote.Info.EndTime != end) || remote.Info.Name != info.Name {
		up := UpdateRun{RunID: remote.Info.ID, Status: want, Name: info.Name}
		if want != StatusRunning {
			up.EndTime = end
		}
		if err := m.client.UpdateRun(ctx, up); err != nil {
			return res, err
		}
		res.StatusChanged = true
	}
	res.Status = want
	return res, nil
}

// parentRemoteID returns the remote id of a fine-tuning parent, syncing
// the parent first if it has never been copied to this server.
func (m *Mirror) parentRemoteID(ctx context.Context, parentID int64, visiting map[int64]bool) (string, error) {
	id, err := m.db.RemoteRun(ctx, parentID, m.client.URI())
	if err != nil || id != "" {
		return id, err
	}
	res, err := m.syncRun(ctx, parentID, visiting)
	return res.RemoteID, err
}

// remoteRun returns the remote copy of the run, creating it when the
// server has none. A recorded remote run the server no longer knows (its
// database was reset) is replaced by a new one.
func (m *Mirror) remoteRun(ctx context.Context, info tracker.RunInfo) (Run, bool, error) {
	uri := m.client.URI()
	id, err := m.db.RemoteRun(ctx, info.ID, uri)
	if err != nil {
		return Run{}, false, err
	}
	if id != "" {
		r, err := m.client.GetRun(ctx, id)
		switch {
		case err == nil && r.Info.LifecycleStage == LifecycleDeleted:
			return Run{}, false, fmt.Errorf("its remote run %s was deleted on the server; restore it there to sync again", id)
		case err == nil:
			return r, false, nil
		case !IsNotFound(err):
			return Run{}, false, err
		}
	}
	exp, err := m.experiment(ctx, info.Experiment)
	if err != nil {
		return Run{}, false, err
	}
	// A run created by an earlier sync that stopped before recording its
	// id, or synced from a read-only copy of the database, is found by its
	// UUID rather than created twice. (UUIDs are hex digits and dashes:
	// nothing to quote.)
	if uuidPattern.MatchString(info.UUID) {
		runs, _, err := m.client.SearchRuns(ctx, SearchRuns{ExperimentIDs: []string{exp.ID},
			Filter: "tags.`" + TagRunUUID + "` = '" + info.UUID + "'", MaxResults: 1})
		if err != nil {
			return Run{}, false, err
		}
		if len(runs) > 0 {
			r, err := m.client.GetRun(ctx, runs[0].Info.ID)
			if err != nil {
				return Run{}, false, err
			}
			return r, false, m.link(ctx, info.ID, r.Info.ID)
		}
	}
	tags := []Tag{{TagOrigin, m.origin(info.ID)}, {TagRunID, strconv.FormatInt(info.ID, 10)}, {"mlflow.runName", info.Name}}
	if info.UUID != "" {
		tags = append(tags, Tag{TagRunUUID, info.UUID})
	}
	if m.opts.User != "" {
		tags = append(tags, Tag{"mlflow.user", m.opts.User})
	}
	r, err := m.client.CreateRun(ctx, CreateRun{ExperimentID: exp.ID, Name: info.Name, StartTime: info.Start.UnixMilli(), Tags: tags})
	if err != nil {
		return Run{}, false, err
	}
	return r, true, m.link(ctx, info.ID, r.Info.ID)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f-]{1,64}$`)

// link records the remote id of a run, except in a read-only database,
// where the next sync finds the run by its UUID instead.
func (m *Mirror) link(ctx context.Context, runID int64, remoteID string) error {
	if m.db.ReadOnly() {
		return nil
	}
	return m.db.SetRemoteRun(ctx, runID, m.client.URI(), remoteID)
}

func (m *Mirror) origin(runID int64) string { return fmt.Sprintf("%s#%d", m.opts.Origin, runID) }

// experiment returns the remote experiment called name, creating it.
func (m *Mirror) experiment(ctx context.Context, name string) (Experiment, error) {
	m.mu.Lock()
	e, ok := m.experiments[name]
	m.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := m.client.ExperimentByName(ctx, name)
	if IsNotFound(err) {
		var id string
		id, err = m.client.CreateExperiment(ctx, name)
		var ae *APIError
		if errors.As(err, &ae) {
			// Another process may have created it meanwhile: MLflow answers
			// RESOURCE_ALREADY_EXISTS, FastTrackML v0.6.0 an HTTP 500 from its
			// unique constraint. Either way the name now resolves.
			if found, ferr := m.client.ExperimentByName(ctx, name); ferr == nil {
				e, err = found, nil
			}
		} else if err == nil {
			e = Experiment{ID: id, Name: name}
		}
	}
	if err != nil {
		return Experiment{}, fmt.Errorf("experiment %q: %w", name, err)
	}
	if e.LifecycleStage == LifecycleDeleted {
		return Experiment{}, fmt.Errorf("experiment %q is deleted on the server; restore it there (or use another experiment name)", name)
	}
	m.mu.Lock()
	m.experiments[name] = e
	m.mu.Unlock()
	return e, nil
}

// remoteStatus maps a tracker status to MLflow's, with the end time (Unix
// ms) of a run that has ended: a run whose process died has none recorded
// until the tracker notices, and ended at its last heartbeat.
func remoteStatus(info tracker.RunInfo) (RunStatus, int64) {
	end := info.End
	if end.IsZero() {
		end = info.Heartbeat
	}
	switch info.Status {
	case tracker.StatusFinished:
		return StatusFinished, end.UnixMilli()
	case tracker.StatusFailed:
		return StatusFailed, end.UnixMilli()
	case tracker.StatusInterrupted:
		return StatusKilled, end.UnixMilli()
	}
	return StatusRunning, 0
}

// RemoteParams maps a run's params to MLflow's, which never change: each
// key holds the value the run started with, and each later change (a run
// resumed with another learning rate or more steps) is a param of its own,
// key + ParamFromStep + step, holding the value from that step on. So the
// mapping is the same whenever the run is synced. Values are text
// (tracker.FormatParam), cut to MaxParamValueBytes.
func RemoteParams(current map[string]any, changes []tracker.ParamChange) map[string]string {
	first := map[string]any{}
	out := map[string]string{}
	for _, c := range changes { // by step
		if _, seen := first[c.Key]; !seen {
			if c.Old != nil {
				first[c.Key] = c.Old
			} else { // a key the run did not have: it starts here
				first[c.Key] = c.Value
				continue
			}
		}
		out[Key(c.Key+ParamFromStep+strconv.FormatInt(c.Step, 10))] = Truncate(tracker.FormatParam(c.Value), MaxParamValueBytes)
	}
	for k, v := range current {
		if f, ok := first[k]; ok {
			v = f
		}
		out[Key(k)] = Truncate(tracker.FormatParam(v), MaxParamValueBytes)
	}
	return out
}

// paramsAndTags returns the params and tags the remote run lacks or holds
// with another value.
func (m *Mirror) paramsAndTags(info tracker.RunInfo, changes []tracker.ParamChange, parent string, sample *tracker.Sample, have RunData) ([]Param, []Tag) {
	remoteParams, remoteTags := have.ParamMap(), have.TagMap()
	want := map[string]string{}
	for k, v := range info.Tags {
		want[Key(k)] = v
	}
	set := func(k, v string) {
		if v != "" {
			want[k] = v
		}
	}
	set("mlflow.runName", info.Name)
	set("mlflow.source.name", sourceName(info.Command))
	set(TagCommand, info.Command)
	set("mlflow.source.type", "LOCAL")
	set("mlflow.source.git.commit", info.GitCommit)
	set("mlflow.parentRunId", parent)
	set(TagRunID, strconv.FormatInt(info.ID, 10))
	set(TagOrigin, m.origin(info.ID))
	set(TagRunUUID, info.UUID)
	set("lstmlab.backend", info.Backend)
	set("lstmlab.host", info.Host)
	if _, had := remoteTags[TagUserTags]; len(info.Tags) > 0 || had {
		want[TagUserTags] = userTagList(info)
	}
	if _, had := remoteTags["mlflow.note.content"]; info.Note != "" || had {
		want["mlflow.note.content"] = info.Note // an emptied note is emptied there too
	}
	if sample != nil {
		set(TagSample, sample.Prompt+sample.Text)
		set(TagSampleStep, strconv.FormatInt(sample.Step, 10))
	}

	var params []Param
	mapped := RemoteParams(info.Params, changes)
	for _, key := range slices.Sorted(maps.Keys(mapped)) {
		switch old, ok := remoteParams[key]; {
		case !ok:
			params = append(params, Param{key, mapped[key]})
		case old != mapped[key]: // set otherwise by someone else: the value here goes in a tag
			want[TagParamPrefix+key] = mapped[key]
		}
	}
	var tags []Tag
	for _, k := range slices.Sorted(maps.Keys(want)) {
		v := Truncate(want[k], MaxTagValueBytes)
		if old, ok := remoteTags[k]; !ok || old != v {
			tags = append(tags, Tag{k, v})
		}
	}
	return params, tags
}

// userTagList is TagUserTags's value for a run: the remote keys of its own tags, sorted, as JSON.
func userTagList(info tracker.RunInfo) string {
	keys := make([]string, 0, len(info.Tags))
	for k := range info.Tags {
		keys = append(keys, Key(k))
	}
	slices.Sort(keys)
	b, _ := json.Marshal(keys) // strings: cannot fail
	return string(b)
}

// deletedUserTags are the remote run's tags that the mirror set from the run's own tags (TagUserTags)
// and the run no longer has: deleted here (lstmlab tag --delete), to be deleted there. MLflow's own
// mlflow.* tags and lstmlab.* bookkeeping are never among them.
func deletedUserTags(info tracker.RunInfo, have RunData) []string {
	remoteTags := have.TagMap()
	var mirrored []string
	if err := json.Unmarshal([]byte(remoteTags[TagUserTags]), &mirrored); err != nil {
		return nil // none recorded (a run mirrored before TagUserTags, or a list cut to the tag length)
	}
	keep := map[string]bool{}
	for k := range info.Tags {
		keep[Key(k)] = true
	}
	var gone []string
	for _, k := range mirrored {
		_, there := remoteTags[k]
		if there && !keep[k] && !strings.HasPrefix(k, "mlflow.") && !strings.HasPrefix(k, "lstmlab.") {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	return gone
}

// sendMetrics sends, for every metric of the run, the points after the
// last step the server holds, in step order. Before it sends a metric's
// first point past a discard (see Mirror), it checks the server's copy of
// the steps taken back (checkRewritten).
func (m *Mirror) sendMetrics(ctx context.Context, info tracker.RunInfo, have RunData, discards []tracker.Discard, s *sender) (int, error) {
	latest := map[string]Metric{} // the server's latest point of each metric
	for _, p := range have.Metrics {
		if cur, ok := latest[p.Key]; !ok || p.Step > cur.Step {
			latest[p.Key] = p
		}
	}
	marked, hasMark := int64(0), false // TagHistoryRewritten on the server
	if v, ok := have.TagMap()[TagHistoryRewritten]; ok {
		marked, hasMark = parseStep(v)
	}
	const chunk = 10_000 // points read from the database at a time
	sent := 0
	for _, key := range slices.Sorted(maps.Keys(info.Metrics)) {
		rkey := Key(key)
		last, ok := latest[rkey]
		after := last.Step
		if !ok {
			after = -1
		}
		if info.Metrics[key].Last.Step <= after {
			continue
		}
		// A metric of the machine (throughput) differs in every rerun of the same steps: not a rewrite.
		if from, stale := staleAfter(discards, last, ok); stale && !(hasMark && marked <= from) && !tracker.MachineMetric(key) {
			differ, err := m.rewritten(ctx, info, s.runID, key, from, last.Step)
			if err != nil {
				return sent, err
			}
			if differ >= 0 {
				// Tagged before any point past the discard goes up: once one has, the server's
				// latest point no longer shows that its earlier ones predate the discard.
				s.pending.Tags = append(s.pending.Tags, Tag{TagHistoryRewritten, strconv.FormatInt(from, 10)})
				s.extraTags++
				if err := s.send(ctx, true); err != nil {
					return sent, err
				}
				marked, hasMark = from, true
				m.warn(fmt.Sprintf("rewritten:%d", info.ID), fmt.Sprintf("MLflow mirror: run %d (%s) was resumed from step %d and logged "+
					"other values for steps %s already had (metric %s from step %d); MLflow cannot delete points, so the server keeps "+
					"the earlier values of steps %d-%d; its run is tagged %s=%d", info.ID, info.Name, from, m.client.URI(), key, differ,
					from+1, last.Step, TagHistoryRewritten, from))
			}
		}
		for {
			points, err := m.db.PointsAfter(ctx, info.ID, key, after, chunk)
			if err != nil {
				return sent, err
			}
			for _, p := range points {
				s.pending.Metrics = append(s.pending.Metrics, Metric{Key: rkey, Value: p.Value, Timestamp: p.Time.UnixMilli(), Step: p.Step})
			}
			sent += len(points)
			if err := s.send(ctx, false); err != nil {
				return sent, err
			}
			if len(points) < chunk {
				break
			}
			after = points[len(points)-1].Step
		}
	}
	return sent, nil
}

// staleAfter reports whether the server's latest point of a metric predates
// a discard that took back its step (it was logged before the discard, at
// a step after the discard's): the server's points after the returned step
// may then be values the run no longer has.
func staleAfter(discards []tracker.Discard, last Metric, has bool) (int64, bool) {
	from, stale := int64(0), false
	for _, d := range discards {
		if has && d.AfterStep < last.Step && last.Timestamp <= d.Time.UnixMilli() && (!stale || d.AfterStep < from) {
			from, stale = d.AfterStep, true
		}
	}
	return from, stale
}

// rewritten compares the server's points of one metric at steps from+1 to
// through with the run's (which has logged them again by now) and returns
// the first step whose value differs, or whose point the run no longer
// has; -1 when the server's copy is the run's.
func (m *Mirror) rewritten(ctx context.Context, info tracker.RunInfo, remoteID, key string, from, through int64) (int64, error) {
	remote, err := m.client.MetricHistory(ctx, remoteID, Key(key))
	if err != nil {
		return 0, err
	}
	local, err := m.db.PointsAfter(ctx, info.ID, key, from, 0)
	if err != nil {
		return 0, err
	}
	values := make(map[int64]float64, len(local))
	for _, p := range local {
		values[p.Step] = p.Value
	}
	first := int64(-1)
	for _, p := range remote {
		if p.Step <= from || p.Step > through {
			continue
		}
		if v, ok := values[p.Step]; (!ok || !SameValue(v, p.Value)) && (first < 0 || p.Step < first) {
			first = p.Step
		}
	}
	return first, nil
}

// SameValue reports whether a server's metric value is the local value v.
// Servers may store ±Inf as ±math.MaxFloat64 (MLflow's SQL stores and
// FastTrackML do); NaN is NaN.
func SameValue(v, remote float64) bool {
	switch {
	case math.IsNaN(v):
		return math.IsNaN(remote)
	case math.IsInf(v, 1):
		return math.IsInf(remote, 1) || remote == math.MaxFloat64
	case math.IsInf(v, -1):
		return math.IsInf(remote, -1) || remote == -math.MaxFloat64
	}
	return v == remote
}

func parseStep(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return n, err == nil
}

// sender sends pending items in full log-batch requests.
type sender struct {
	client    *Client
	runID     string
	pending   Batch
	extraTags int // tags added to pending after the first ones (TagHistoryRewritten)
}

// send sends the pending items in batches within the limits; unless final,
// a last batch that is not full stays pending for more points.
func (s *sender) send(ctx context.Context, final bool) error {
	for {
		batches := SplitBatch(s.pending)
		if len(batches) == 0 {
			return nil
		}
		b := batches[0]
		if !final && len(batches) == 1 && b.Len() < MaxEntitiesPerBatch && len(b.Metrics) < MaxMetricsPerBatch {
			return nil
		}
		if err := s.client.LogBatch(ctx, s.runID, b); err != nil {
			return err
		}
		s.pending.Metrics = s.pending.Metrics[len(b.Metrics):]
		s.pending.Params = s.pending.Params[len(b.Params):]
		s.pending.Tags = s.pending.Tags[len(b.Tags):]
	}
}

// uploadArtifacts uploads the run's artifacts (all but checkpoints: those
// hold optimizer state for resuming on this machine) and its samples as
// SamplesArtifact, each only if the server lacks that version (TagSHA256Prefix).
func (m *Mirror) uploadArtifacts(ctx context.Context, info tracker.RunInfo, remote Run) (int, error) {
	if err := m.client.CheckArtifactUpload(remote.Info); err != nil {
		m.note("artifacts", fmt.Sprintf("artifacts not uploaded (%v); params, metrics and tags are mirrored", err))
		return 0, nil
	}
	have := remote.Data.TagMap()
	arts, err := m.db.Artifacts(ctx, info.ID)
	if err != nil {
		return 0, err
	}
	var done []Tag
	upload := func(name, sum string, open func() (io.ReadCloser, error)) error {
		if have[TagSHA256Prefix+name] == sum {
			return nil
		}
		f, err := open()
		if err != nil {
			return err
		}
		defer f.Close()
		if err := m.client.UploadArtifact(ctx, remote.Info, name, f); err != nil {
			return err
		}
		done = append(done, Tag{TagSHA256Prefix + name, sum})
		return nil
	}
	for _, a := range arts {
		if a.Kind == tracker.ArtifactCheckpoint {
			continue
		}
		if err := a.Verify(); err != nil { // deleted or rewritten since it was logged
			m.note("verify:"+a.Path, fmt.Sprintf("artifact not uploaded: %v", err))
			continue
		}
		name := ArtifactPath(a)
		if err := upload(name, a.SHA256, func() (io.ReadCloser, error) { return os.Open(a.Path) }); err != nil {
			return len(done), fmt.Errorf("upload %s: %w", name, err)
		}
	}
	samples, err := m.db.Samples(ctx, info.ID)
	if err != nil {
		return len(done), err
	}
	if len(samples) > 0 {
		text := SamplesText(info, samples)
		sum := sha256.Sum256([]byte(text))
		if err := upload(SamplesArtifact, hex.EncodeToString(sum[:]), func() (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(text)), nil
		}); err != nil {
			return len(done), fmt.Errorf("upload %s: %w", SamplesArtifact, err)
		}
	}
	if err := m.client.LogBatch(ctx, remote.Info.ID, Batch{Tags: done}); err != nil {
		return len(done), err
	}
	return len(done), nil
}

// ArtifactPath is where a tracker artifact goes among the remote run's
// artifacts: the plot at the top (curves.png), weights under model/, any
// other kind under a folder named after it.
func ArtifactPath(a tracker.Artifact) string {
	base := filepath.Base(a.Path)
	switch a.Kind {
	case tracker.ArtifactPlot:
		return base
	case tracker.ArtifactModel:
		return path.Join("model", base)
	}
	return path.Join(Key(a.Kind), base)
}

// SamplesText renders a run's samples as the text of SamplesArtifact:
// oldest first, each under a line with its step and sampling settings,
// prompt and generated text together as the model continued it.
func SamplesText(info tracker.RunInfo, samples []tracker.Sample) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Samples of run %d (%s), oldest first\n", info.ID, info.Name)
	for _, s := range samples {
		fmt.Fprintf(&sb, "\n--- step %d · temperature %g · top-k %d · top-p %g · seed %d ---\n%s%s\n",
			s.Step, s.Temperature, s.TopK, s.TopP, s.Seed, s.Prompt, s.Text)
	}
	return sb.String()
}

func (m *Mirror) note(key, msg string) { m.once(key, msg, m.opts.Note) }

// warn is note for warnings (MirrorOptions.Warn, else Note).
func (m *Mirror) warn(key, msg string) {
	to := m.opts.Warn
	if to == nil {
		to = m.opts.Note
	}
	m.once(key, msg, to)
}

func (m *Mirror) once(key, msg string, to func(string)) {
	m.mu.Lock()
	seen := m.noted[key]
	m.noted[key] = true
	m.mu.Unlock()
	if !seen && to != nil {
		to(msg)
	}
}

// Key turns a tracker key (param, metric, tag, artifact kind) into one every
// MLflow server accepts: letters, digits, '_', '-', '.', ' ' and '/' (a
// normalised path), other characters replaced by '_'. lstmlab's own keys
// pass unchanged.
func Key(k string) string {
	k = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-. /", r) {
			return r
		}
		return '_'
	}, k)
	if k != path.Clean(k) || strings.HasPrefix(k, "/") {
		k = strings.ReplaceAll(k, "/", "_")
	}
	cut := min(len(k), MaxKeyBytes)
	for cut < len(k) && cut > 0 && !utf8.RuneStart(k[cut]) {
		cut--
	}
	return k[:cut]
}

// sourceName is what MLflow's source name column shows for a command line:
// the program and its subcommand ("lstmlab train"), as a script's name is
// for Python runs (the UI shows the part after the last slash, so a whole
// command line with paths in it would show as its last path).
func sourceName(command string) string {
	words := strings.Fields(command)
	if len(words) == 0 {
		return ""
	}
	name := filepath.Base(words[0])
	if len(words) > 1 && !strings.HasPrefix(words[1], "-") && !strings.Contains(words[1], "/") {
		name += " " + words[1]
	}
	return name
}

// Truncate shortens s to at most n bytes, cutting at a character boundary
// and ending with "…" when it cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
