package tracker

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lstmlab/lstmlab/internal/jsonfloat"
)

// Point is one metric value.
type Point struct {
	Step int64
	// Time is the wall time when the value was logged (millisecond
	// resolution).
	Time time.Time
	// Value is NaN where a NaN was logged.
	Value float64
}

// MarshalJSON writes {"step":..,"time":..,"value":..}. JSON has no NaN or
// infinity, so those values are written as MLflow's REST API writes them
// (the protobuf JSON mapping of a double): the strings "NaN", "Infinity"
// and "-Infinity". A divergence then reads as one, not as a gap.
func (p Point) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Step  int64     `json:"step"`
		Time  time.Time `json:"time"`
		Value JSONFloat `json:"value"`
	}{p.Step, p.Time, JSONFloat(p.Value)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Point) UnmarshalJSON(data []byte) error {
	var v struct {
		Step  int64     `json:"step"`
		Time  time.Time `json:"time"`
		Value JSONFloat `json:"value"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*p = Point{Step: v.Step, Time: v.Time, Value: float64(v.Value)}
	return nil
}

// JSONFloat is a float64 whose JSON form is a number when finite and,
// as in MLflow's REST API (protobuf's JSON mapping of doubles), the string
// "NaN", "Infinity" or "-Infinity" otherwise (jsonfloat.Float: the one
// such type, shared with the model's results and the MLflow client).
type JSONFloat = jsonfloat.Float

// MetricSummary is the latest and best point of one metric of one run, as
// kept up to date while logging.
type MetricSummary struct {
	Key   string `json:"key"`
	Goal  Goal   `json:"goal"`
	Count int64  `json:"count"`
	Last  Point  `json:"last"`
	// Best is nil when every value logged so far was NaN.
	Best *Point `json:"best,omitempty"`
}

// RunInfo is everything known about a run except its history, samples and
// artifacts (see History, Samples, Artifacts).
type RunInfo struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Experiment string `json:"experiment"`
	// Status is as readers should show it: a run stored as running whose
	// process is gone is reported interrupted. On the run's host its lock
	// decides (see LockFile); for a run of another host, a heartbeat older
	// than Options.StaleAfter.
	Status Status    `json:"status"`
	Start  time.Time `json:"start"`
	// End is zero while the run is running.
	End       time.Time `json:"end,omitzero"`
	Heartbeat time.Time `json:"heartbeat"`
	Command   string    `json:"command,omitempty"`
	GitCommit string    `json:"git_commit,omitempty"`
	Backend   string    `json:"backend,omitempty"`
	Host      string    `json:"host,omitempty"`
	Note      string    `json:"note,omitempty"`
	// Active is the time the run spent training, summed over its sessions
	// (first start and resumes): unlike Duration it leaves out the idle
	// time between an interruption and its resume. A live run counts
	// until now.
	Active time.Duration `json:"active_ns"`
	// ParentID is the run this one was fine-tuned from, 0 if none.
	ParentID int64 `json:"parent_id,omitempty"`
	// UUID identifies the run across databases (see Run.UUID).
	UUID string `json:"uuid,omitempty"`
	// Dir is the absolute folder of the run's files (see Run.Dir).
	Dir  string            `json:"dir,omitempty"`
	Tags map[string]string `json:"tags"`
	// Params values are int64, float64, string or bool.
	Params  map[string]any           `json:"params"`
	Metrics map[string]MetricSummary `json:"metrics"`
}

// Duration is how long the run ran: until its end, or for a run still
// running until now, or for one whose process died until its last
// heartbeat.
func (r RunInfo) Duration() time.Duration {
	switch {
	case !r.End.IsZero():
		return r.End.Sub(r.Start)
	case r.Status == StatusRunning:
		return time.Since(r.Start)
	}
	return r.Heartbeat.Sub(r.Start)
}

// runColumns selects what RunInfo needs from runs r joined to experiments e;
// scanRun reads them in this order.
const runColumns = `r.id, r.name, e.name, r.status, r.start_ms, r.end_ms, r.heartbeat_ms,
	r.command, r.git_commit, r.backend, r.host, r.note, r.parent_id, r.active_ms, r.uuid, r.dir`

func (db *DB) scanRun(rows interface{ Scan(...any) error }, staleBefore int64) (RunInfo, error) {
	var (
		ri                   RunInfo
		status               string
		startMS, heartbeatMS int64
		activeMS             int64
		endMS, parent        sql.NullInt64
		runUUID              sql.NullString
		dir                  string
	)
	if err := rows.Scan(&ri.ID, &ri.Name, &ri.Experiment, &status, &startMS, &endMS, &heartbeatMS,
		&ri.Command, &ri.GitCommit, &ri.Backend, &ri.Host, &ri.Note, &parent, &activeMS, &runUUID, &dir); err != nil {
		return ri, err
	}
	ri.UUID, ri.Dir = runUUID.String, db.runDir(dir, ri.ID)
	ri.Status = Status(status)
	if ri.Status == StatusRunning && db.dead(ri.ID, ri.Host, dir, heartbeatMS, staleBefore) {
		ri.Status = StatusInterrupted
	}
	ri.Active = time.Duration(activeMS) * time.Millisecond
	if ri.Status == StatusRunning {
		ri.Active += max(0, db.now().Sub(time.UnixMilli(heartbeatMS)))
	}
	ri.Start = time.UnixMilli(startMS)
	ri.Heartbeat = time.UnixMilli(heartbeatMS)
	if endMS.Valid {
		ri.End = time.UnixMilli(endMS.Int64)
	}
	ri.ParentID = parent.Int64
	ri.Tags = map[string]string{}
	ri.Params = map[string]any{}
	ri.Metrics = map[string]MetricSummary{}
	return ri, nil
}

// GetRun returns the run with the given id, or an error wrapping
// ErrRunNotFound.
func (db *DB) GetRun(ctx context.Context, id int64) (RunInfo, error) {
	if err := db.flushOpen(id); err != nil {
		return RunInfo{}, err
	}
	runs, err := db.loadRuns(ctx, `SELECT `+runColumns+` FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?`, id)
	if err != nil {
		return RunInfo{}, fmt.Errorf("get run %d: %w", id, err)
	}
	if len(runs) == 0 {
		return RunInfo{}, fmt.Errorf("%w: no run with id %d", ErrRunNotFound, id)
	}
	return runs[0], nil
}

// FindRun resolves a user's run reference: a number is an id, anything else
// a run name (names are never plain numbers, so this is unambiguous).
func (db *DB) FindRun(ctx context.Context, ref string) (RunInfo, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return RunInfo{}, fmt.Errorf("%w: empty run reference", ErrRunNotFound)
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return db.GetRun(ctx, id)
	}
	id, err := runIDByName(ctx, db.read, ref)
	if err != nil {
		return RunInfo{}, fmt.Errorf("find run %q: %w", ref, err)
	}
	if id == 0 {
		return RunInfo{}, fmt.Errorf("%w: no run named %q", ErrRunNotFound, ref)
	}
	return db.GetRun(ctx, id)
}

// loadRuns runs a query selecting runColumns and attaches tags, params and
// metric summaries.
func (db *DB) loadRuns(ctx context.Context, query string, args ...any) ([]RunInfo, error) {
	staleBefore := db.staleBefore()
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []RunInfo
	for rows.Next() {
		ri, err := db.scanRun(rows, staleBefore)
		if err != nil {
			return nil, err
		}
		runs = append(runs, ri)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := db.attachDetails(ctx, runs); err != nil {
		return nil, err
	}
	return runs, nil
}

// attachDetails fills Tags, Params and Metrics with three queries per chunk
// of runs rather than three per run.
func (db *DB) attachDetails(ctx context.Context, runs []RunInfo) error {
	const chunk = 500 // stay well under SQLite's bound-parameter limit
	for start := 0; start < len(runs); start += chunk {
		part := runs[start:min(start+chunk, len(runs))]
		byID := make(map[int64]*RunInfo, len(part))
		ids := make([]any, len(part))
		for i := range part {
			byID[part[i].ID] = &part[i]
			ids[i] = part[i].ID
		}
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")"
		if err := db.eachRow(ctx, `SELECT run_id, key, value FROM tags WHERE run_id IN `+in, ids, func(rows *sql.Rows) error {
			var (
				id         int64
				key, value string
			)
			if err := rows.Scan(&id, &key, &value); err != nil {
				return err
			}
			byID[id].Tags[key] = value
			return nil
		}); err != nil {
			return fmt.Errorf("load tags: %w", err)
		}
		if err := db.eachRow(ctx, `SELECT run_id, key, type, value FROM params WHERE run_id IN `+in, ids, func(rows *sql.Rows) error {
			var (
				id       int64
				key, typ string
				raw      any
			)
			if err := rows.Scan(&id, &key, &typ, &raw); err != nil {
				return err
			}
			p, err := paramFromDB(typ, raw)
			if err != nil {
				return fmt.Errorf("run %d param %q: %w", id, key, err)
			}
			byID[id].Params[key] = p.val
			return nil
		}); err != nil {
			return fmt.Errorf("load params: %w", err)
		}
		if err := db.eachRow(ctx, `SELECT run_id, key, goal, count, last_step, last_time_ms, last_value,
				best_step, best_time_ms, best_value FROM metric_summary WHERE run_id IN `+in, ids, func(rows *sql.Rows) error {
			var (
				id, count, lastStep, lastTime int64
				key, goal                     string
				lastValue, bestValue          sql.NullFloat64
				bestStep, bestTime            sql.NullInt64
			)
			if err := rows.Scan(&id, &key, &goal, &count, &lastStep, &lastTime, &lastValue, &bestStep, &bestTime, &bestValue); err != nil {
				return err
			}
			s := MetricSummary{Key: key, Goal: Goal(goal), Count: count,
				Last: Point{Step: lastStep, Time: time.UnixMilli(lastTime), Value: nanIfNull(lastValue)}}
			if bestStep.Valid {
				s.Best = &Point{Step: bestStep.Int64, Time: time.UnixMilli(bestTime.Int64), Value: nanIfNull(bestValue)}
			}
			byID[id].Metrics[key] = s
			return nil
		}); err != nil {
			return fmt.Errorf("load metric summaries: %w", err)
		}
	}
	return nil
}

func (db *DB) eachRow(ctx context.Context, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func nanIfNull(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// History returns the points of one metric of a run in step order. A key
// the run never logged gives an empty slice; an unknown run an error
// wrapping ErrRunNotFound.
func (db *DB) History(ctx context.Context, runID int64, key string) ([]Point, error) {
	if err := db.flushOpen(runID); err != nil {
		return nil, err
	}
	if err := requireRun(ctx, db.read, runID); err != nil {
		return nil, err
	}
	return db.PointsAfter(ctx, runID, key, -1, 0) // steps are never negative
}

// requireRun returns an error wrapping ErrRunNotFound when no run has id,
// read through q (the read pool, or a write transaction).
func requireRun(ctx context.Context, q querier, id int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: no run with id %d", ErrRunNotFound, id)
	}
	return err
}

// Samples returns a run's generated samples in step order.
func (db *DB) Samples(ctx context.Context, runID int64) ([]Sample, error) {
	if err := requireRun(ctx, db.read, runID); err != nil {
		return nil, err
	}
	return db.samples(ctx, `WHERE run_id = ? ORDER BY step, id`, runID)
}

// LatestSample returns a run's last generated sample, or nil if it has none.
func (db *DB) LatestSample(ctx context.Context, runID int64) (*Sample, error) {
	if err := requireRun(ctx, db.read, runID); err != nil {
		return nil, err
	}
	s, err := db.samples(ctx, `WHERE run_id = ? ORDER BY step DESC, id DESC LIMIT 1`, runID)
	if err != nil || len(s) == 0 {
		return nil, err
	}
	return &s[0], nil
}

func (db *DB) samples(ctx context.Context, where string, args ...any) ([]Sample, error) {
	samples := []Sample{}
	err := db.eachRow(ctx, `SELECT run_id, step, time_ms, prompt, text, temperature, top_k, top_p, seed FROM samples `+where,
		args, func(rows *sql.Rows) error {
			var (
				s      Sample
				timeMS int64
			)
			if err := rows.Scan(&s.RunID, &s.Step, &timeMS, &s.Prompt, &s.Text, &s.Temperature, &s.TopK, &s.TopP, &s.Seed); err != nil {
				return err
			}
			s.Time = time.UnixMilli(timeMS)
			samples = append(samples, s)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read samples: %w", err)
	}
	return samples, nil
}

// Experiment is a named group of runs.
type Experiment struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Runs    int       `json:"runs"`
}

// Experiments lists the experiments with their number of runs, by name.
func (db *DB) Experiments(ctx context.Context) ([]Experiment, error) {
	var exps []Experiment
	err := db.eachRow(ctx, `SELECT e.id, e.name, e.created_ms, count(r.id) FROM experiments e
		LEFT JOIN runs r ON r.experiment_id = e.id GROUP BY e.id ORDER BY e.name`, nil, func(rows *sql.Rows) error {
		var (
			e         Experiment
			createdMS int64
		)
		if err := rows.Scan(&e.ID, &e.Name, &createdMS, &e.Runs); err != nil {
			return err
		}
		e.Created = time.UnixMilli(createdMS)
		exps = append(exps, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list experiments: %w", err)
	}
	return exps, nil
}
