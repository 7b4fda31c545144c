package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/lstmlab/lstmlab/internal/atomicfile"
)

// Status is the state of a run.
type Status string

// The run statuses. A run is running while its process logs into it, then
// finished, failed or interrupted (stopped by the user, or its process died
// and its heartbeat went stale).
const (
	StatusRunning     Status = "running"
	StatusFinished    Status = "finished"
	StatusFailed      Status = "failed"
	StatusInterrupted Status = "interrupted"
)

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusRunning, StatusFinished, StatusFailed, StatusInterrupted:
		return true
	}
	return false
}

// DefaultExperiment groups runs started without an experiment name.
const DefaultExperiment = "default"

// RunSpec describes a run to start. Only the fields you have need be set.
type RunSpec struct {
	// Experiment groups related runs (a sweep, a study); created on first
	// use. Default DefaultExperiment.
	Experiment string
	// Name must be unique in the database and not a plain number (numbers
	// refer to run ids). Empty: "<experiment>-<id>".
	Name string
	// Command is the command line that started the run.
	Command string
	// GitCommit is the code version, if known.
	GitCommit string
	// Backend is the compute backend, e.g. "go" or "xla:cuda".
	Backend string
	// Host is the machine name. Default: this machine's (os.Hostname). On
	// that host the run's lock decides whether it is alive.
	Host string
	// Tags are free key/value labels; they can be changed later (SetTag).
	Tags map[string]string
	// Note is free text.
	Note string
	// ParentID is the run this one was fine-tuned from; 0 for none.
	ParentID int64
}

// Run is a run open for logging in this process. Its methods are safe for
// concurrent use.
//
// Metric points are buffered and written in batches by a background
// goroutine (every Options.FlushInterval, or sooner when Options.FlushSize
// points wait), which also refreshes the run's heartbeat. Call Finish when
// the run ends; DB.Close finishes forgotten runs as interrupted.
//
// Steps: for each metric key, steps must increase. A point whose step is
// not greater than the last step logged for its key (in this process or,
// after ResumeRun, before) is ignored and counted in Skipped, so a resumed
// run that repeats a few steps from its last checkpoint never duplicates
// history: the first value logged for a step is kept.
type Run struct {
	db         *DB
	id         int64
	name       string
	experiment string
	uuid       string
	dir        string // absolute folder of the run's files
	start      time.Time
	// prevStatus and prevEnd are what a resumed run was before ResumeRun
	// (restored by Abandon).
	prevStatus Status
	prevEnd    any // end_ms: int64 or nil

	mu       sync.Mutex
	state    runState
	pending  []point
	spare    []point          // recycled batch buffer
	last     map[string]int64 // last step per metric key, logged or stored
	goals    map[string]Goal  // goal per key where fixed (stored or overridden)
	skipped  int64
	flushErr error // last background write failure other than a busy database; cleared by a good write

	flushMu  sync.Mutex // one batch write at a time
	finishMu sync.Mutex // one Finish at a time
	kick     chan struct{}
	stop     chan struct{}
	done     chan struct{}
}

type runState int

const (
	runOpen    runState = iota
	runClosing          // Finish started; a failed final write may be retried
	runClosed
)

// point is a buffered metric value.
type point struct {
	key    string
	step   int64
	timeMS int64
	value  float64
}

// StartRun creates a run in state running and returns it open for logging.
func (db *DB) StartRun(ctx context.Context, spec RunSpec) (*Run, error) {
	r, err := db.startRun(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("start run: %w", err)
	}
	return r, nil
}

func (db *DB) startRun(ctx context.Context, spec RunSpec) (*Run, error) {
	if spec.Experiment == "" {
		spec.Experiment = DefaultExperiment
	}
	if err := validKey("experiment", spec.Experiment); err != nil {
		return nil, err
	}
	if spec.Name != "" {
		if err := validRunName(spec.Name); err != nil {
			return nil, err
		}
	}
	for k := range spec.Tags {
		if err := validKey("tag", k); err != nil {
			return nil, err
		}
	}
	if err := db.writable(); err != nil {
		return nil, err
	}
	now := db.now()
	runUUID := uuid.NewString()
	host := spec.Host
	if host == "" {
		host = db.host
	}
	var (
		id   int64
		name string
		dir  string
		lock *runLock
	)
	// The run's folder is created and locked inside the transaction that
	// records the run, so no reader ever sees it running without its lock.
	undo := func() {
		if lock != nil {
			lock.release()
			os.RemoveAll(dir)
			lock = nil
		}
	}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		undo() // a retried attempt starts afresh
		expID, err := ensureExperiment(ctx, tx, spec.Experiment, now)
		if err != nil {
			return err
		}
		var parent any
		if spec.ParentID != 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, spec.ParentID).Scan(&one); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("parent %w: %d", ErrRunNotFound, spec.ParentID)
				}
				return err
			}
			parent = spec.ParentID
		}
		name = spec.Name
		if name != "" {
			if taken, err := runIDByName(ctx, tx, name); err != nil {
				return err
			} else if taken != 0 {
				return fmt.Errorf("run name %q is already used by run %d; choose another name or resume that run", name, taken)
			}
		} else {
			// A placeholder that cannot clash with a valid name (it holds a
			// control character), replaced below once the id is known.
			name = fmt.Sprintf("\x00pending-%d", now.UnixNano())
		}
		res, err := tx.ExecContext(ctx,
			`INSERT INTO runs (experiment_id, name, status, start_ms, heartbeat_ms, command, git_commit, backend, host, note, parent_id, uuid)
			 VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			expID, name, now.UnixMilli(), now.UnixMilli(), spec.Command, spec.GitCommit, spec.Backend, host, spec.Note, parent, runUUID)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if spec.Name == "" {
			if name, err = uniqueRunName(ctx, tx, fmt.Sprintf("%s-%d", spec.Experiment, id)); err != nil {
				return err
			}
		}
		rel := fmt.Sprintf("%d-%s", id, runUUID[:8])
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET name = ?, dir = ? WHERE id = ?`, name, rel, id); err != nil {
			return err
		}
		for k, v := range spec.Tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)`, id, k, v); err != nil {
				return err
			}
		}
		dir = db.runDir(rel, id)
		lock, err = acquireRunLock(dir, runUUID, host)
		return err
	})
	if err == nil {
		makeReserve(dir, db.path)
	}
	if err != nil {
		undo()
		return nil, err
	}
	r := db.newRun(id, name, spec.Experiment, runUUID, dir, now)
	if err := db.register(r, lock); err != nil {
		lock.release()
		return nil, err
	}
	go r.loop()
	return r, nil
}

func ensureExperiment(ctx context.Context, tx *sql.Tx, name string, now time.Time) (int64, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO experiments (name, created_ms) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, now.UnixMilli()); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM experiments WHERE name = ?`, name).Scan(&id)
	return id, err
}

// runIDByName returns the id of the run called name, or 0.
func runIDByName(ctx context.Context, q querier, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM runs WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

func uniqueRunName(ctx context.Context, tx *sql.Tx, base string) (string, error) {
	name := base
	for n := 2; ; n++ {
		id, err := runIDByName(ctx, tx, name)
		if err != nil || id == 0 {
			return name, err
		}
		name = fmt.Sprintf("%s-%d", base, n)
	}
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (db *DB) newRun(id int64, name, experiment, runUUID, dir string, start time.Time) *Run {
	return &Run{
		db: db, id: id, name: name, experiment: experiment, uuid: runUUID, dir: dir, start: start,
		last:  map[string]int64{},
		goals: map[string]Goal{},
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
}

// ResumeRun reopens an existing run for logging, e.g. to continue training
// from its last checkpoint. The run becomes running again and keeps its id,
// params and history; metric steps must continue after the last logged step
// of each key (earlier steps are ignored, see Run). A run that is still
// running elsewhere (fresh heartbeat) is refused with ErrRunActive.
func (db *DB) ResumeRun(ctx context.Context, id int64) (*Run, error) {
	r, err := db.resumeRun(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("resume run %d: %w", id, err)
	}
	return r, nil
}

func (db *DB) resumeRun(ctx context.Context, id int64) (*Run, error) {
	if err := db.writable(); err != nil {
		return nil, err
	}
	if db.isOpen(id) {
		return nil, errors.New("the run is already open in this process")
	}
	lock, info, err := db.claim(ctx, id)
	if err != nil {
		return nil, err
	}
	r, err := db.reopen(ctx, info, lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	return r, nil
}

// claimed is what claim learns of a run while taking its lock.
type claimed struct {
	id                          int64
	name, experiment, uuid, dir string
	startMS                     int64
	status                      Status // as it was, for Abandon
	endMS                       any    // int64 or nil
}

// claim takes run id's lock, refusing a run whose owner is alive: on this
// host the lock says so (a stopped process still holds it), on another
// host a fresh heartbeat. Files a killed writer left half-written in the
// run's folder are removed once the lock is held.
func (db *DB) claim(ctx context.Context, id int64) (*runLock, claimed, error) {
	var (
		c                 claimed
		status, host, rel string
		heartbeatMS       int64
		runUUID           sql.NullString
		endMS             sql.NullInt64
	)
	err := db.read.QueryRowContext(ctx,
		`SELECT r.name, e.name, r.status, r.start_ms, r.end_ms, r.heartbeat_ms, r.host, r.dir, r.uuid
		 FROM runs r JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?`, id).
		Scan(&c.name, &c.experiment, &status, &c.startMS, &endMS, &heartbeatMS, &host, &rel, &runUUID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, c, ErrRunNotFound
	}
	if err != nil {
		return nil, c, err
	}
	c.id, c.uuid, c.dir = id, runUUID.String, db.runDir(rel, id)
	c.status = Status(status)
	if c.status == StatusRunning { // its owner is gone (or claim fails below): it was interrupted
		c.status = StatusInterrupted
		c.endMS = heartbeatMS
	} else if endMS.Valid {
		c.endMS = endMS.Int64
	}
	if Status(status) == StatusRunning && host != db.host && heartbeatMS >= db.staleBefore() {
		ago := db.now().Sub(time.UnixMilli(heartbeatMS)).Round(time.Second)
		return nil, c, fmt.Errorf("%w on host %s (last heartbeat %v ago)", ErrRunActive, host, ago)
	}
	lock, err := acquireRunLock(c.dir, c.uuid, db.host)
	if err != nil {
		return nil, c, err
	}
	if _, err := atomicfile.RemoveTemps(c.dir); err != nil {
		lock.release()
		return nil, c, fmt.Errorf("remove temporary files in %s: %w", c.dir, err)
	}
	return lock, c, nil
}

// reopen marks a claimed run running again and opens it for logging.
func (db *DB) reopen(ctx context.Context, c claimed, lock *runLock) (*Run, error) {
	now := db.now()
	makeReserve(c.dir, db.path)
	r := db.newRun(c.id, c.name, c.experiment, c.uuid, c.dir, time.UnixMilli(c.startMS))
	r.prevStatus, r.prevEnd = c.status, c.endMS
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'running', end_ms = NULL, heartbeat_ms = ?, host = ? WHERE id = ?`,
			now.UnixMilli(), db.host, c.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrRunNotFound
		}
		rows, err := tx.QueryContext(ctx, `SELECT key, goal, last_step FROM metric_summary WHERE run_id = ?`, c.id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				key, goal string
				last      int64
			)
			if err := rows.Scan(&key, &goal, &last); err != nil {
				return err
			}
			r.last[key], r.goals[key] = last, Goal(goal)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if err := db.register(r, lock); err != nil {
		return nil, err
	}
	go r.loop()
	return r, nil
}

// ID returns the run's id.
func (r *Run) ID() int64 { return r.id }

// Name returns the run's unique name.
func (r *Run) Name() string { return r.name }

// Experiment returns the name of the run's experiment.
func (r *Run) Experiment() string { return r.experiment }

// Start returns when the run was first started.
func (r *Run) Start() time.Time { return r.start }

// UUID returns the run's universally unique id: unlike the id, it differs
// between two databases and between a database and its re-creation.
func (r *Run) UUID() string { return r.uuid }

// Dir returns the absolute folder of the run's files (created with the run;
// it holds the run's lock file). Programs keep checkpoints, plots and other
// artifacts of the run there.
func (r *Run) Dir() string { return r.dir }

// Skipped returns how many metric points were ignored because their step
// did not increase (see Run).
func (r *Run) Skipped() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.skipped
}

// checkOpen returns ErrRunClosed once Finish has begun.
func (r *Run) checkOpen() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != runOpen {
		return fmt.Errorf("run %d: %w", r.id, ErrRunClosed)
	}
	return nil
}

// LogMetric records value for key at step, stamped with the wall time. It
// only appends to an in-memory buffer (see Run for when it is written). NaN
// is kept (a diverged loss is worth seeing) but never counts as best.
//
// The error is non-nil if the key is invalid, the step negative, the run
// finished, or an earlier batch could not be written (the points are kept
// and retried; see Flush).
func (r *Run) LogMetric(key string, step int64, value float64) error {
	now := r.db.now().UnixMilli()
	r.mu.Lock()
	if err := r.admitLocked(key, step); err != nil {
		r.mu.Unlock()
		return err
	}
	r.bufferLocked(key, step, value, now)
	n, err := len(r.pending), r.flushErr
	r.mu.Unlock()
	return errors.Join(err, r.afterAdd(n))
}

// LogMetrics records several metrics at the same step and wall time, e.g.
// {"train_loss": 1.9, "lr": 1e-3}. See LogMetric. Either all the values
// are accepted or, if one key is invalid, none.
func (r *Run) LogMetrics(step int64, values map[string]float64) error {
	now := r.db.now().UnixMilli()
	r.mu.Lock()
	for k := range values {
		if err := r.admitLocked(k, step); err != nil {
			r.mu.Unlock()
			return err
		}
	}
	for k, v := range values {
		r.bufferLocked(k, step, v, now)
	}
	n, err := len(r.pending), r.flushErr
	r.mu.Unlock()
	return errors.Join(err, r.afterAdd(n))
}

// admitLocked rejects a point that can never be stored: the run is
// finished, the step negative or the key invalid (checked once per key).
func (r *Run) admitLocked(key string, step int64) error {
	if r.state != runOpen {
		return fmt.Errorf("run %d: %w", r.id, ErrRunClosed)
	}
	if step < 0 {
		return fmt.Errorf("run %d: metric %q: negative step %d", r.id, key, step)
	}
	if _, seen := r.last[key]; !seen {
		if err := validKey("metric", key); err != nil {
			return fmt.Errorf("run %d: %w", r.id, err)
		}
	}
	return nil
}

// bufferLocked appends an admitted point, or counts it as skipped when its
// step does not advance past the key's last one. The point is buffered even
// while an earlier write is failing, so a caller that carries on loses
// nothing if the database recovers.
func (r *Run) bufferLocked(key string, step int64, value float64, nowMS int64) {
	if last, seen := r.last[key]; seen && step <= last {
		r.skipped++
		return
	}
	r.last[key] = step
	r.pending = append(r.pending, point{key: key, step: step, timeMS: nowMS, value: value})
}

// afterAdd wakes the writer when a batch is full, and writes in the
// caller's goroutine when the buffer has grown far beyond a batch (the
// database is slower than the training loop): back-pressure rather than
// unbounded memory.
func (r *Run) afterAdd(pending int) error {
	if pending >= 64*r.db.opts.FlushSize {
		if err := r.flush(false); err != nil && !isBusy(err) {
			return err
		}
		return nil // busy: the points stay buffered until the lock is free
	}
	if pending >= r.db.opts.FlushSize {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// SetGoal overrides DefaultGoal for key in this run, e.g. to treat a custom
// "margin" metric as higher-is-better. If points were already logged, the
// best value is recomputed from the history.
func (r *Run) SetGoal(key string, goal Goal) error {
	if err := goal.validate(); err != nil {
		return fmt.Errorf("run %d: %w", r.id, err)
	}
	if err := validKey("metric", key); err != nil {
		return fmt.Errorf("run %d: %w", r.id, err)
	}
	r.mu.Lock()
	if r.state != runOpen {
		r.mu.Unlock()
		return fmt.Errorf("run %d: %w", r.id, ErrRunClosed)
	}
	r.goals[key] = goal
	r.mu.Unlock()
	if err := r.flush(false); err != nil {
		return err
	}
	if err := r.db.recomputeBest(context.Background(), r.id, key, goal); err != nil {
		return fmt.Errorf("run %d: set goal of %q: %w", r.id, key, err)
	}
	return nil
}

// LogParams records hyperparameters. Values must be integers, floats,
// strings or bools (any Go type of those kinds). Logging a key again with the
// same value is allowed, so a resumed run can log its config again; a
// different value fails with ErrParamChanged and nothing of the call is
// stored.
func (r *Run) LogParams(params map[string]any) error {
	if err := r.logParams(params); err != nil {
		return fmt.Errorf("run %d: log params: %w", r.id, err)
	}
	return nil
}

// LogParam records one hyperparameter; see LogParams.
func (r *Run) LogParam(key string, value any) error {
	return r.LogParams(map[string]any{key: value})
}

func (r *Run) logParams(params map[string]any) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	keys := make([]string, 0, len(params))
	values := make(map[string]paramValue, len(params))
	for k, v := range params {
		p, err := normaliseParam(k, v)
		if err != nil {
			return err
		}
		keys = append(keys, k)
		values[k] = p
	}
	sort.Strings(keys)
	ctx := context.Background()
	return r.db.writeTx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			p := values[k]
			var (
				typ string
				raw any
			)
			err := tx.QueryRowContext(ctx, `SELECT type, value FROM params WHERE run_id = ? AND key = ?`, r.id, k).Scan(&typ, &raw)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if _, err := tx.ExecContext(ctx, `INSERT INTO params (run_id, key, type, value) VALUES (?, ?, ?, ?)`,
					r.id, k, p.typ, p.dbValue()); err != nil {
					return err
				}
			case err != nil:
				return err
			default:
				old, err := paramFromDB(typ, raw)
				if err != nil {
					return fmt.Errorf("param %q: %w", k, err)
				}
				if old != p {
					was, now := old.String(), p.String()
					if old.typ != p.typ {
						was, now = was+" ("+old.typ+")", now+" ("+p.typ+")"
					}
					return fmt.Errorf("%w: %q was %s, now %s (params are fixed once logged; change one with ChangeParams, which records the step)",
						ErrParamChanged, k, was, now)
				}
			}
		}
		return nil
	})
}

// Sample is a piece of text generated by the model during a run, with the
// sampling settings that produced it.
type Sample struct {
	RunID int64     `json:"run_id"`
	Step  int64     `json:"step"`
	Time  time.Time `json:"time"`
	// Prompt is the text the model was primed with.
	Prompt string `json:"prompt"`
	// Text is what the model generated after the prompt (without it).
	Text        string  `json:"text"`
	Temperature float64 `json:"temperature"`
	TopK        int     `json:"top_k"`
	TopP        float64 `json:"top_p"`
	Seed        int64   `json:"seed"`
}

// LogSample records generated text. RunID and Time are filled in (Time only
// if zero). Invalid UTF-8 in the text or prompt, which a byte-level model
// can produce, is stored with U+FFFD in place of the bad bytes.
func (r *Run) LogSample(s Sample) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	switch {
	case s.Step < 0:
		return fmt.Errorf("run %d: sample at negative step %d", r.id, s.Step)
	case math.IsNaN(s.Temperature) || math.IsNaN(s.TopP) || s.Temperature < 0 || s.TopP < 0 || s.TopK < 0:
		return fmt.Errorf("run %d: sample settings temperature=%v top_k=%d top_p=%v: want non-negative numbers",
			r.id, s.Temperature, s.TopK, s.TopP)
	}
	if s.Time.IsZero() {
		s.Time = r.db.now()
	}
	err := r.db.exec(context.Background(),
		`INSERT INTO samples (run_id, step, time_ms, prompt, text, temperature, top_k, top_p, seed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.id, s.Step, s.Time.UnixMilli(), strings.ToValidUTF8(s.Prompt, "\uFFFD"), strings.ToValidUTF8(s.Text, "\uFFFD"),
		s.Temperature, s.TopK, s.TopP, s.Seed)
	if err != nil {
		return fmt.Errorf("run %d: log sample: %w", r.id, err)
	}
	return nil
}

// SetTag sets (or replaces) a tag (DB.SetTags). Unlike params, tags may
// change.
func (r *Run) SetTag(key, value string) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	return r.db.SetTags(context.Background(), r.id, map[string]string{key: value})
}

// SetNote replaces the run's free-text note (DB.SetNote).
func (r *Run) SetNote(note string) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	return r.db.SetNote(context.Background(), r.id, note)
}

// Finish writes the buffered points, stops the heartbeat, records the final
// status (finished, failed or interrupted) and end time, and releases the
// run's lock. Logging afterwards fails with ErrRunClosed. While another
// process holds the write lock it waits (Options.WriteRetry). If the points
// cannot be written (a full disk) the status alone is recorded where
// possible and the error says how many points were lost. If nothing could
// be written the error is returned and Finish may be called again; if it
// is never retried, the lock goes with the process and readers show the
// run interrupted.
func (r *Run) Finish(status Status) error {
	if !status.Valid() || status == StatusRunning {
		return fmt.Errorf("run %d: finish with status %q: want finished, failed or interrupted", r.id, status)
	}
	// Serialised so that a Finish racing with DB.Close's cannot overwrite
	// the status the first one recorded.
	r.finishMu.Lock()
	defer r.finishMu.Unlock()
	r.mu.Lock()
	switch r.state {
	case runClosed:
		r.mu.Unlock()
		return fmt.Errorf("run %d: %w", r.id, ErrRunClosed)
	case runOpen:
		r.state = runClosing
		close(r.stop)
	}
	r.mu.Unlock()
	<-r.done

	recorded, err := r.write(status)
	if !recorded {
		return fmt.Errorf("run %d: finish: %w", r.id, err)
	}
	r.mu.Lock()
	r.state = runClosed
	r.mu.Unlock()
	useReserve(r.dir) // only needed while the run is open
	r.db.forget(r)
	if err != nil {
		return fmt.Errorf("run %d: finish: %w", r.id, err)
	}
	return nil
}

// Abandon gives up a run reopened with ResumeRun before anything was
// logged (say the resume was refused after all): the run gets back the
// status and end time it had, and its lock is released.
func (r *Run) Abandon() error {
	r.finishMu.Lock()
	defer r.finishMu.Unlock()
	r.mu.Lock()
	if r.state != runOpen {
		r.mu.Unlock()
		return fmt.Errorf("run %d: %w", r.id, ErrRunClosed)
	}
	r.state = runClosing
	close(r.stop)
	r.mu.Unlock()
	<-r.done
	err := r.db.exec(context.Background(), `UPDATE runs SET status = ?, end_ms = ? WHERE id = ?`, string(r.prevStatus), r.prevEnd, r.id)
	if err != nil {
		return fmt.Errorf("run %d: abandon: %w", r.id, err)
	}
	r.mu.Lock()
	r.state = runClosed
	r.mu.Unlock()
	useReserve(r.dir)
	r.db.forget(r)
	return nil
}
