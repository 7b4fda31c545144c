package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// RunDetail is everything about one run that fits on a screen: its record,
// params, tags and metric summaries (RunInfo), its lineage, its artifacts
// and the samples of its latest sampling step. History and every sample
// are in History and Samples.
type RunDetail struct {
	RunInfo
	// Parent is the run this one was fine-tuned from, nil if none (or if
	// it was deleted).
	Parent *RunRef `json:"parent,omitempty"`
	// Children are the runs fine-tuned from this one, by id.
	Children []RunRef `json:"children"`
	// Artifacts are the run's files (checkpoints, plots).
	Artifacts []Artifact `json:"artifacts"`
	// LatestSamples are the samples logged at the run's latest sampling
	// step (one per prompt), empty if it has none.
	LatestSamples []Sample `json:"latest_samples"`
	// ParamChanges is the run's param history (DB.ParamChanges): each
	// change of a param after the run started (a resume with other
	// settings), with the step from which it applies and the old and new
	// values, by step then key; empty if none.
	ParamChanges []ParamChange `json:"param_changes"`
}

// Show gathers a RunDetail. An unknown id fails with ErrRunNotFound.
func (db *DB) Show(ctx context.Context, id int64) (*RunDetail, error) {
	ri, err := db.GetRun(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &RunDetail{RunInfo: ri, Children: []RunRef{}}
	if ri.ParentID != 0 {
		parent, err := db.GetRun(ctx, ri.ParentID)
		switch {
		case err == nil:
			d.Parent = &RunRef{ID: parent.ID, Name: parent.Name}
		case !errors.Is(err, ErrRunNotFound):
			return nil, err
		}
	}
	err = db.eachRow(ctx, `SELECT id, name FROM runs WHERE parent_id = ? ORDER BY id`, []any{id}, func(rows *sql.Rows) error {
		var c RunRef
		if err := rows.Scan(&c.ID, &c.Name); err != nil {
			return err
		}
		d.Children = append(d.Children, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("children of run %d: %w", id, err)
	}
	if d.Artifacts, err = db.Artifacts(ctx, id); err != nil {
		return nil, err
	}
	if d.ParamChanges, err = db.ParamChanges(ctx, id); err != nil {
		return nil, err
	}
	if d.LatestSamples, err = db.samples(ctx,
		`WHERE run_id = ?1 AND step = (SELECT max(step) FROM samples WHERE run_id = ?1) ORDER BY id`, id); err != nil {
		return nil, err
	}
	return d, nil
}

// MetricKeys lists the metrics a run logged, in MetricOrder.
func (db *DB) MetricKeys(ctx context.Context, runID int64) ([]string, error) {
	if err := requireRun(ctx, db.read, runID); err != nil {
		return nil, err
	}
	var keys []string
	err := db.eachRow(ctx, `SELECT key FROM metric_summary WHERE run_id = ?`, []any{runID}, func(rows *sql.Rows) error {
		var k string
		if err := rows.Scan(&k); err != nil {
			return err
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("metrics of run %d: %w", runID, err)
	}
	return MetricOrder(keys), nil
}
