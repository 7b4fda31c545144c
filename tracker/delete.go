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
// ErrRunActive naming the process that holds it. With removeArtifacts the
// run's folder (Run.Dir) is removed too. It returns the paths of the files
// and folder it removed.
func (db *DB) DeleteRun(ctx context.Context, id int64, removeArtifacts bool) ([]string, error) {
	removed, err := db.deleteRun(ctx, id, removeArtifacts)
	if err != nil {
		return removed, fmt.Errorf("delete run %d: %w", id, err)
	}
	return removed, nil
}

func (db *DB) deleteRun(ctx context.Context, id int64, removeArtifacts bool) ([]string, error) {
	if err := db.writable(); err != nil {
		return nil, err
	}
	if db.isOpen(id) {
		return nil, fmt.Errorf("%w in this process; finish it first", ErrRunActive)
	}
	// Holding the run's lock while deleting keeps anyone from resuming it
	// meanwhile, and refuses a run whose owner is alive, even if stopped.
	// Taking it creates the folder if it was gone; it is then removed again.
	var hadDir bool
	if info, err := db.GetRun(ctx, id); err == nil {
		_, serr := os.Stat(info.Dir)
		hadDir = serr == nil
	}
	lock, c, err := db.claim(ctx, id)
	if err != nil {
		return nil, err
	}
	defer lock.release()
	if !hadDir && !removeArtifacts {
		defer os.RemoveAll(c.dir)
	}
	var paths []string
	var removed []string
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		paths, removed = nil, nil
		if removeArtifacts {
			rows, err := tx.QueryContext(ctx, `SELECT DISTINCT path FROM artifacts WHERE run_id = ?
				AND path NOT IN (SELECT path FROM artifacts WHERE run_id != ?) ORDER BY path`, id, id)
			if err != nil {
				return err
			}
			for rows.Next() {
				var p string
				if err := rows.Scan(&p); err != nil {
					rows.Close()
					return err
				}
				paths = append(paths, p)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		// ON DELETE CASCADE removes params, tags, metrics, summaries,
		// samples, param changes and artifact rows; children get parent_id
		// NULL.
		res, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrRunNotFound
		}
		for _, p := range paths {
			err := os.Remove(p)
			switch {
			case err == nil:
				removed = append(removed, p)
			case !errors.Is(err, os.ErrNotExist):
				return fmt.Errorf("remove artifact (database unchanged): %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return removed, err
	}
	if removeArtifacts {
		// The run's folder is the tracker's: its lock file, checkpoints and
		// anything else the run kept there go with it.
		if err := os.RemoveAll(c.dir); err != nil {
			return removed, fmt.Errorf("run deleted, but not its folder: %w", err)
		}
		removed = append(removed, c.dir)
	}
	return removed, nil
}
