package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// DeleteRun removes a run and everything recorded for it (params, metrics,
// samples, tags, artifact entries) in one transaction. With removeArtifacts
// it also deletes the artifact files, except files another run also lists,
// and the run's folder (Run.Dir), once the transaction is committed: a
// deletion that fails leaves every file in place. A file that plainly
// cannot be removed (a folder in its place, a folder that is not writable)
// refuses the deletion before anything is deleted; a file already gone is
// fine. Runs fine-tuned from it keep their data and lose the parent link. A
// run still running elsewhere is refused with ErrRunActive naming the
// process that holds it. It returns the paths of the files and folder it
// removed.
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
	if removeArtifacts {
		if paths, err = ownArtifacts(ctx, db, id); err != nil {
			return nil, err
		}
		for _, p := range paths {
			if err := removable(p); err != nil {
				return nil, fmt.Errorf("artifact %s cannot be removed (nothing deleted): %w", p, err)
			}
		}
	}
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		// ON DELETE CASCADE removes params, tags, metrics, summaries,
		// samples, param changes, discards and artifact rows; children get
		// parent_id NULL.
		res, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrRunNotFound
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, p := range paths {
		err := os.Remove(p)
		switch {
		case err == nil:
			removed = append(removed, p)
		case !errors.Is(err, os.ErrNotExist):
			return removed, fmt.Errorf("run deleted, but not its artifact: %w", err)
		}
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

// ownArtifacts lists the artifact files of run id that no other run lists.
func ownArtifacts(ctx context.Context, db *DB, id int64) ([]string, error) {
	var paths []string
	err := db.eachRow(ctx, `SELECT DISTINCT path FROM artifacts WHERE run_id = ?
		AND path NOT IN (SELECT path FROM artifacts WHERE run_id != ?) ORDER BY path`, []any{id, id}, func(rows *sql.Rows) error {
		var p string
		if err := rows.Scan(&p); err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	return paths, err
}

// removable reports why os.Remove would fail on path, as far as can be told
// without removing it: a folder in its place, or a folder holding it that
// is not writable. A missing file is removable (already gone).
func removable(path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.IsDir() {
		return errors.New("a folder is in its place")
	}
	return unix.Access(filepath.Dir(path), unix.W_OK|unix.X_OK)
}
