package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
)

// DeleteRun removes a run and everything recorded for it (params, metrics,
// samples, tags, artifact entries) in one transaction. With removeArtifacts
// it also deletes the artifact files, except files another run also lists;
// a file that cannot be removed aborts the whole deletion before commit (a
// file already gone is fine). Runs fine-tuned from it keep their data and
// lose the parent link. A run still running elsewhere is refused with
// ErrRunActive. It returns the paths of the files it removed.
func (db *DB) DeleteRun(ctx context.Context, id int64, removeArtifacts bool) ([]string, error) {
	removed, err := db.deleteRun(ctx, id, removeArtifacts)
	if err != nil {
		return removed, fmt.Errorf("delete run %d: %w", id, err)
	}
	return removed, nil
}

func (db *DB) deleteRun(ctx context.Context, id int64, removeArtifacts bool) ([]string, error) {
	if db.isOpen(id) {
		return nil, fmt.Errorf("%w in this process; finish it first", ErrRunActive)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var (
		status      string
		heartbeatMS int64
	)
	err = tx.QueryRowContext(ctx, `SELECT status, heartbeat_ms FROM runs WHERE id = ?`, id).Scan(&status, &heartbeatMS)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrRunNotFound
	}
	if err != nil {
		return nil, err
	}
	if Status(status) == StatusRunning && heartbeatMS >= db.staleBefore() {
		return nil, fmt.Errorf("%w in another process", ErrRunActive)
	}
	var paths []string
	if removeArtifacts {
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT path FROM artifacts WHERE run_id = ?
			AND path NOT IN (SELECT path FROM artifacts WHERE run_id != ?) ORDER BY path`, id, id)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return nil, err
			}
			paths = append(paths, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	// ON DELETE CASCADE removes params, tags, metrics, summaries, samples
	// and artifact rows; children get parent_id NULL.
	if _, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id); err != nil {
		return nil, err
	}
	var removed []string
	for _, p := range paths {
		err := os.Remove(p)
		switch {
		case err == nil:
			removed = append(removed, p)
		case !errors.Is(err, os.ErrNotExist):
			return removed, fmt.Errorf("remove artifact (database unchanged): %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return removed, err
	}
	return removed, nil
}
