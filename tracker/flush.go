package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// loop is the run's background writer: it flushes buffered points on a
// timer or when a batch fills up, and keeps the heartbeat fresh even while
// the training loop is busy in a long step or evaluation.
func (r *Run) loop() {
	defer close(r.done)
	opts := r.db.opts
	tick := time.NewTicker(min(opts.FlushInterval, opts.HeartbeatInterval))
	defer tick.Stop()
	lastBeat := time.Now()
	for {
		select {
		case <-r.stop:
			return
		case <-r.kick:
		case <-tick.C:
		}
		beat := time.Since(lastBeat) >= opts.HeartbeatInterval
		wrote, _ := r.flushBatch(beat) // a failure is kept in r.flushErr and retried
		if wrote {
			lastBeat = time.Now()
		}
	}
}

// Flush writes the buffered metric points now and returns once they are
// committed. Reads through the same DB flush open runs themselves; call
// Flush before publishing anything that must agree with the history (say a
// checkpoint at step S, once the points up to S are logged) or before
// handing the file to another process. While another process holds the
// write lock it waits, up to Options.WriteRetry; on failure the points stay
// buffered for the next attempt.
func (r *Run) Flush() error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	if err := r.db.retryWrite(context.Background(), func() error { return r.flush(false) }); err != nil {
		return fmt.Errorf("run %d: write metrics: %w", r.id, err)
	}
	return nil
}

func (r *Run) flush(beat bool) error {
	_, err := r.flushBatch(beat)
	return err
}

// flushBatch writes the buffered points, and the heartbeat, in one
// transaction. With nothing buffered it writes only if beat is set. It
// reports whether a transaction committed.
func (r *Run) flushBatch(beat bool) (bool, error) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	batch, goals := r.takePending()
	if len(batch) == 0 && !beat {
		r.recycle(batch)
		return false, nil
	}
	err := r.db.writeBatch(context.Background(), r.id, batch, goals, r.db.now(), "")
	r.settle(batch, err)
	return err == nil, err
}

// write is Finish's final flush: the remaining points and the final status
// in one transaction, waiting out a busy database. If that fails (a full
// disk), the status alone is recorded if it can be, and the points are
// given up: recorded says whether the status is stored.
func (r *Run) write(final Status) (recorded bool, err error) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	ctx := context.Background()
	batch, goals := r.takePending()
	err = r.db.retryWrite(ctx, func() error { return r.db.writeBatch(ctx, r.id, batch, goals, r.db.now(), final) })
	if err == nil {
		r.settle(batch, nil)
		return true, nil
	}
	if len(batch) > 0 && !errors.Is(err, ErrReadOnly) {
		// One small transaction may still fit where the batch did not. On
		// a full disk, the run's reserve file makes room for it.
		if errors.Is(err, ErrDiskFull) {
			useReserve(r.dir)
		}
		if serr := r.db.retryWrite(ctx, func() error { return r.db.writeBatch(ctx, r.id, nil, goals, r.db.now(), final) }); serr == nil {
			return true, fmt.Errorf("%d metric points could not be written (%w); the run is recorded as %s", len(batch), err, final)
		}
	}
	r.settle(batch, err)
	return false, err
}

// takePending swaps out the buffer and snapshots the goals its keys need.
func (r *Run) takePending() ([]point, func(string) Goal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	batch := r.pending
	r.pending, r.spare = r.spare[:0], nil
	var overrides map[string]Goal
	if len(r.goals) > 0 {
		overrides = make(map[string]Goal, len(r.goals))
		for k, g := range r.goals {
			overrides[k] = g
		}
	}
	return batch, func(key string) Goal {
		if g, ok := overrides[key]; ok {
			return g
		}
		return DefaultGoal(key)
	}
}

// settle records the outcome of a batch write: on success the buffer is
// recycled, on failure its points go back in front of newer ones.
func (r *Run) settle(batch []point, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.pending = append(batch, r.pending...)
		if !isBusy(err) { // a busy database is waited out, not reported
			r.flushErr = fmt.Errorf("run %d: cannot write metrics: %w", r.id, describeWriteError(err))
		}
		return
	}
	r.flushErr = nil
	if r.spare == nil && cap(batch) <= 4*r.db.opts.FlushSize {
		r.spare = batch[:0]
	}
}

func (r *Run) recycle(batch []point) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.spare == nil {
		r.spare = batch[:0]
	}
}

// keySummary aggregates one key's points within a batch.
type keySummary struct {
	goal    Goal
	count   int64
	last    point
	hasBest bool
	best    point
}

func (s *keySummary) add(p point) {
	if s.count == 0 || p.step > s.last.step {
		s.last = p
	}
	s.count++
	if math.IsNaN(p.value) || math.IsInf(p.value, 0) {
		return // a non-finite value is kept in the history but is never best
	}
	if !s.hasBest || s.goal.Better(p.value, s.best.value) {
		s.best, s.hasBest = p, true
	}
}

// upsertSummary merges a batch's summary into metric_summary. The stored
// row wins ties (earliest best is kept) and its goal decides comparisons.
// SQLite evaluates every SET expression on the row as it was before the
// update, so the CASE conditions all see the old values.
const upsertSummary = `
INSERT INTO metric_summary (run_id, key, goal, count, last_step, last_time_ms, last_value, best_step, best_time_ms, best_value)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, key) DO UPDATE SET
	count = count + excluded.count,
	last_step    = CASE WHEN excluded.last_step > last_step THEN excluded.last_step    ELSE last_step    END,
	last_time_ms = CASE WHEN excluded.last_step > last_step THEN excluded.last_time_ms ELSE last_time_ms END,
	last_value   = CASE WHEN excluded.last_step > last_step THEN excluded.last_value   ELSE last_value   END,
	best_step    = CASE WHEN ` + betterBest + ` THEN excluded.best_step    ELSE best_step    END,
	best_time_ms = CASE WHEN ` + betterBest + ` THEN excluded.best_time_ms ELSE best_time_ms END,
	best_value   = CASE WHEN ` + betterBest + ` THEN excluded.best_value   ELSE best_value   END`

const betterBest = `(excluded.best_value IS NOT NULL AND (best_value IS NULL
	OR (goal = 'max' AND excluded.best_value > best_value)
	OR (goal = 'min' AND excluded.best_value < best_value)))`

// writeBatch stores points and refreshes the summaries and the heartbeat in
// one transaction; with final set it also records the final status and end
// time. Points already stored (same run, key and step, possible only when
// two processes resumed the same run) are ignored and not counted.
func (db *DB) writeBatch(ctx context.Context, runID int64, batch []point, goalOf func(string) Goal, now time.Time, final Status) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if len(batch) > 0 {
		if err := insertPoints(ctx, tx, runID, batch, goalOf); err != nil {
			return err
		}
	}
	nowMS := now.UnixMilli()
	if final != "" {
		_, err = tx.ExecContext(ctx, `UPDATE runs SET status = ?, end_ms = ?, `+addActive+`, heartbeat_ms = ? WHERE id = ?`,
			string(final), nowMS, nowMS, nowMS, runID)
	} else {
		// A live run marked interrupted by another process's stale check
		// (say after the machine slept) becomes running again.
		_, err = tx.ExecContext(ctx, `UPDATE runs SET `+addActive+`, heartbeat_ms = ?, status = 'running', end_ms = NULL
			WHERE id = ? AND status IN ('running', 'interrupted')`, nowMS, nowMS, runID)
	}
	if err != nil {
		return err
	}
	return tx.Commit()
}

// addActive adds the time since the previous heartbeat (bound: now, ms) to
// the run's active training time. Every session starts its heartbeat clock
// afresh (StartRun, ResumeRun), so idle time between sessions never counts.
// SQLite evaluates SET expressions on the old row, so the heartbeat_ms read
// here is the previous one even where the same UPDATE sets it.
const addActive = `active_ms = active_ms + max(0, ? - heartbeat_ms)`

// rowsPerInsert is how many points one multi-row INSERT carries: each
// statement execution is a cgo call, so fewer, larger statements write
// several times faster than one row per statement. 128 rows × 5 values stay
// far below SQLite's limit on bound parameters.
const rowsPerInsert = 128

func insertPoints(ctx context.Context, tx *sql.Tx, runID int64, batch []point, goalOf func(string) Goal) error {
	// Rows in primary-key order append to the end of each key's part of the
	// B-tree instead of hopping between keys: about twice as fast with
	// several metrics per step. Steps of a key are already increasing, so a
	// stable sort by key suffices.
	slices.SortStableFunc(batch, func(a, b point) int { return strings.Compare(a.key, b.key) })
	var inserted int64
	var full *sql.Stmt
	args := make([]any, 0, 5*rowsPerInsert)
	for start := 0; start < len(batch); start += rowsPerInsert {
		chunk := batch[start:min(start+rowsPerInsert, len(batch))]
		args = args[:0]
		for _, p := range chunk {
			args = append(args, runID, p.key, p.step, p.timeMS, nullIfNaN(p.value))
		}
		var (
			res sql.Result
			err error
		)
		if len(chunk) == rowsPerInsert {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insertPointsSQL(rowsPerInsert)); err != nil {
					return err
				}
				defer full.Close()
			}
			res, err = full.ExecContext(ctx, args...)
		} else {
			res, err = tx.ExecContext(ctx, insertPointsSQL(len(chunk)), args...)
		}
		if err != nil {
			return fmt.Errorf("insert metrics: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		inserted += n
	}

	summaries := map[string]*keySummary{}
	var order []string // keys in first-seen order, for deterministic writes
	for _, p := range batch {
		s, ok := summaries[p.key]
		if !ok {
			s = &keySummary{goal: goalOf(p.key)}
			summaries[p.key] = s
			order = append(order, p.key)
		}
		s.add(p)
	}
	if inserted != int64(len(batch)) {
		// Some points were already stored (two processes resumed the same
		// run), so the batch's own summary would count them twice: rebuild
		// the summaries of its keys from the stored history instead.
		for _, key := range order {
			if err := rebuildSummary(ctx, tx, runID, key, summaries[key].goal); err != nil {
				return err
			}
		}
		return nil
	}
	upsert, err := tx.PrepareContext(ctx, upsertSummary)
	if err != nil {
		return err
	}
	defer upsert.Close()
	for _, key := range order {
		s := summaries[key]
		var bestStep, bestTime, bestValue any
		if s.hasBest {
			bestStep, bestTime, bestValue = s.best.step, s.best.timeMS, s.best.value
		}
		if _, err := upsert.ExecContext(ctx, runID, key, string(s.goal), s.count,
			s.last.step, s.last.timeMS, nullIfNaN(s.last.value), bestStep, bestTime, bestValue); err != nil {
			return fmt.Errorf("update summary of %q: %w", key, err)
		}
	}
	return nil
}

// insertPointsSQL is the INSERT for n points. ON CONFLICT DO NOTHING keeps
// the first value of a (run, key, step).
func insertPointsSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO metrics (run_id, key, step, time_ms, value) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?)")
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	return b.String()
}

// rebuildSummary recomputes the summary of (run, key) from its history.
func rebuildSummary(ctx context.Context, tx *sql.Tx, runID int64, key string, goal Goal) error {
	dir := "ASC" // from a Go constant, never from input
	if goal == Maximize {
		dir = "DESC"
	}
	_, err := tx.ExecContext(ctx, `
		INSERT OR REPLACE INTO metric_summary (run_id, key, goal, count, last_step, last_time_ms, last_value, best_step, best_time_ms, best_value)
		SELECT ?1, ?2, ?3,
			(SELECT count(*) FROM metrics WHERE run_id = ?1 AND key = ?2),
			l.step, l.time_ms, l.value, b.step, b.time_ms, b.value
		FROM (SELECT step, time_ms, value FROM metrics WHERE run_id = ?1 AND key = ?2 ORDER BY step DESC LIMIT 1) l
		LEFT JOIN (SELECT step, time_ms, value FROM metrics WHERE run_id = ?1 AND key = ?2 AND `+finiteValue+`
			ORDER BY value `+dir+`, step LIMIT 1) b ON 1`, runID, key, string(goal))
	if err != nil {
		return fmt.Errorf("rebuild summary of %q: %w", key, err)
	}
	return nil
}

// finiteValue selects finite metric values: NULL (NaN) and ±Inf are never
// best. 1.7976931348623157e308 is the largest finite float64.
const finiteValue = `value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308`

// nullIfNaN maps NaN to SQL NULL, which is how SQLite stores it anyway;
// being explicit keeps the rule in one place (readers map NULL to NaN).
func nullIfNaN(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

// recomputeBest sets the goal of (run, key) and recomputes its best point
// from the full history, in one transaction.
func (db *DB) recomputeBest(ctx context.Context, runID int64, key string, goal Goal) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var stored string
	err = tx.QueryRowContext(ctx, `SELECT goal FROM metric_summary WHERE run_id = ? AND key = ?`, runID, key).Scan(&stored)
	if err == sql.ErrNoRows || (err == nil && Goal(stored) == goal) {
		return nil // nothing logged yet, or nothing changes
	}
	if err != nil {
		return err
	}
	// The direction comes from a Go constant, never from input.
	dir := "ASC"
	if goal == Maximize {
		dir = "DESC"
	}
	var step, timeMS sql.NullInt64
	var value sql.NullFloat64
	err = tx.QueryRowContext(ctx, `SELECT step, time_ms, value FROM metrics
		WHERE run_id = ? AND key = ? AND `+finiteValue+` ORDER BY value `+dir+`, step LIMIT 1`, runID, key).
		Scan(&step, &timeMS, &value)
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE metric_summary SET goal = ?, best_step = ?, best_time_ms = ?, best_value = ?
		WHERE run_id = ? AND key = ?`, string(goal), step, timeMS, value, runID, key); err != nil {
		return err
	}
	return tx.Commit()
}
