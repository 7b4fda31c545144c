package tracker

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// SetRecord stores v, as JSON, as the run's record: the document the
// program that trains rebuilds the run from (for lstmlab, package
// experiments' RunRecord). The tracker does not interpret it. A later call
// replaces it; record what changed with ChangeParams.
func (r *Run) SetRecord(v any) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("run %d: record: %w", r.id, err)
	}
	if err := r.db.exec(context.Background(), `UPDATE runs SET record = ? WHERE id = ?`, string(b), r.id); err != nil {
		return fmt.Errorf("run %d: store record: %w", r.id, err)
	}
	return nil
}

// Record unmarshals run id's record into v. found is false when the run has
// none (it was recorded by a program that stores none, or by an lstmlab
// before records existed).
func (db *DB) Record(ctx context.Context, id int64, v any) (found bool, err error) {
	var raw string
	err = db.read.QueryRowContext(ctx, `SELECT record FROM runs WHERE id = ?`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("%w: no run with id %d", ErrRunNotFound, id)
	}
	if err != nil {
		return false, fmt.Errorf("record of run %d: %w", id, err)
	}
	if raw == "" {
		return false, nil
	}
	if err := json.Unmarshal([]byte(raw), v); err != nil {
		return false, fmt.Errorf("record of run %d: %w", id, err)
	}
	return true, nil
}

// ParamChange is one change of a run's param, from the step it applies.
type ParamChange struct {
	Key  string    `json:"key"`
	Step int64     `json:"step"`
	Time time.Time `json:"time"`
	// Old is nil for a key the run did not have.
	Old   any `json:"old"`
	Value any `json:"value"`
}

// ChangeParams changes params of the run from step on (a resumed run
// trained further or with another learning rate): the params table then
// holds the new values, and each change is kept, with its step, in the
// run's param history (DB.ParamChanges). Values equal to the current ones
// are not changes and are ignored. Keys not logged before are added.
func (r *Run) ChangeParams(step int64, params map[string]any) error {
	if err := r.checkOpen(); err != nil {
		return err
	}
	if step < 0 {
		return fmt.Errorf("run %d: change params at negative step %d", r.id, step)
	}
	keys := make([]string, 0, len(params))
	values := make(map[string]paramValue, len(params))
	for k, v := range params {
		p, err := normaliseParam(k, v)
		if err != nil {
			return fmt.Errorf("run %d: %w", r.id, err)
		}
		keys = append(keys, k)
		values[k] = p
	}
	sort.Strings(keys)
	ctx := context.Background()
	now := r.db.now().UnixMilli()
	err := r.db.writeTx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			p := values[k]
			var (
				oldType, oldValue any
				typ               string
				raw               any
			)
			err := tx.QueryRowContext(ctx, `SELECT type, value FROM params WHERE run_id = ? AND key = ?`, r.id, k).Scan(&typ, &raw)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			default:
				old, err := paramFromDB(typ, raw)
				if err != nil {
					return fmt.Errorf("param %q: %w", k, err)
				}
				if old == p {
					continue
				}
				oldType, oldValue = old.typ, old.dbValue()
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO param_changes (run_id, key, step, time_ms, old_type, old_value, type, value)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, key, step) DO UPDATE SET
				time_ms = excluded.time_ms, type = excluded.type, value = excluded.value`,
				r.id, k, step, now, oldType, oldValue, p.typ, p.dbValue()); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO params (run_id, key, type, value) VALUES (?, ?, ?, ?)
				ON CONFLICT (run_id, key) DO UPDATE SET type = excluded.type, value = excluded.value`,
				r.id, k, p.typ, p.dbValue()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("run %d: change params: %w", r.id, err)
	}
	return nil
}

// ParamChanges returns the param changes of a run, by step then key.
func (db *DB) ParamChanges(ctx context.Context, runID int64) ([]ParamChange, error) {
	if err := requireRun(ctx, db.read, runID); err != nil {
		return nil, err
	}
	changes := []ParamChange{}
	err := db.eachRow(ctx, `SELECT key, step, time_ms, old_type, old_value, type, value FROM param_changes
		WHERE run_id = ? ORDER BY step, key`, []any{runID}, func(rows *sql.Rows) error {
		var (
			c        ParamChange
			timeMS   int64
			oldType  sql.NullString
			typ      string
			old, raw any
		)
		if err := rows.Scan(&c.Key, &c.Step, &timeMS, &oldType, &old, &typ, &raw); err != nil {
			return err
		}
		c.Time = time.UnixMilli(timeMS)
		v, err := paramFromDB(typ, raw)
		if err != nil {
			return err
		}
		c.Value = v.val
		if oldType.Valid {
			o, err := paramFromDB(oldType.String, old)
			if err != nil {
				return err
			}
			c.Old = o.val
		}
		changes = append(changes, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("param changes of run %d: %w", runID, err)
	}
	return changes, nil
}

// DiscardAfter deletes the metric points and samples the run logged after
// step, and rebuilds the affected summaries, so that a run resumed from a
// checkpoint at step holds exactly one point per step once it has logged
// the following steps again. It returns the number of points deleted.
// Buffered points after step are dropped too. A discard that deleted
// anything is recorded (DB.Discards), in the same transaction.
func (r *Run) DiscardAfter(step int64) (int64, error) {
	if err := r.checkOpen(); err != nil {
		return 0, err
	}
	if err := r.Flush(); err != nil {
		return 0, err
	}
	ctx := context.Background()
	var deleted int64
	var keys []string
	err := r.db.writeTx(ctx, func(tx *sql.Tx) error {
		keys = keys[:0]
		var through int64
		if err := tx.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(step) FROM metrics WHERE run_id = ?1 AND step > ?2), ?2),
			coalesce((SELECT max(step) FROM samples WHERE run_id = ?1 AND step > ?2), ?2))`, r.id, step).Scan(&through); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT key FROM metrics WHERE run_id = ? AND step > ?`, r.id, step)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM metrics WHERE run_id = ? AND step > ?`, r.id, step)
		if err != nil {
			return err
		}
		deleted, _ = res.RowsAffected()
		res, err = tx.ExecContext(ctx, `DELETE FROM samples WHERE run_id = ? AND step > ?`, r.id, step)
		if err != nil {
			return err
		}
		if samples, _ := res.RowsAffected(); deleted+samples > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO discards (run_id, after_step, through_step, points, time_ms) VALUES (?, ?, ?, ?, ?)`,
				r.id, step, through, deleted, r.db.now().UnixMilli()); err != nil {
				return err
			}
		}
		for _, k := range keys {
			var goal string
			if err := tx.QueryRowContext(ctx, `SELECT goal FROM metric_summary WHERE run_id = ? AND key = ?`, r.id, k).Scan(&goal); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM metric_summary WHERE run_id = ? AND key = ?`, r.id, k); err != nil {
				return err
			}
			if err := rebuildSummary(ctx, tx, r.id, k, Goal(goal)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("run %d: discard points after step %d: %w", r.id, step, err)
	}
	r.mu.Lock()
	kept := r.pending[:0]
	for _, p := range r.pending {
		if p.step <= step {
			kept = append(kept, p)
		}
	}
	r.pending = kept
	for k, last := range r.last {
		if last > step {
			r.last[k] = step
		}
	}
	r.mu.Unlock()
	return deleted, nil
}

// Discard is one taking back of a run's history by Run.DiscardAfter: the
// points and samples after AfterStep, up to ThroughStep, were deleted at
// Time (and logged again, perhaps with other values, by the resumed run).
type Discard struct {
	AfterStep   int64     `json:"after_step"`
	ThroughStep int64     `json:"through_step"`
	Points      int64     `json:"points"` // metric points deleted
	Time        time.Time `json:"time"`
}

// Discards returns the run's discards, oldest first: what a copy of its
// history made earlier (a mirror) may hold that the database no longer does.
func (db *DB) Discards(ctx context.Context, runID int64) ([]Discard, error) {
	var out []Discard
	err := db.eachRow(ctx, `SELECT after_step, through_step, points, time_ms FROM discards WHERE run_id = ? ORDER BY time_ms, rowid`,
		[]any{runID}, func(rows *sql.Rows) error {
			var d Discard
			var ms int64
			if err := rows.Scan(&d.AfterStep, &d.ThroughStep, &d.Points, &ms); err != nil {
				return err
			}
			d.Time = time.UnixMilli(ms)
			out = append(out, d)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("discards of run %d: %w", runID, err)
	}
	return out, nil
}
