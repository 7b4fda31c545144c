package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Tags and the note describe a run and may change at any time, also after
// it finished (MLflow's set_tag); these methods work on any run by id,
// whichever process logged it. Run.SetTag and Run.SetNote are the same for
// a run open in this process.

// SetTags sets (or replaces) tags of a run. Keys follow the rules of
// metric and param keys (non-empty, at most 250 bytes, no control
// characters); values must be valid UTF-8. All or none are set.
func (db *DB) SetTags(ctx context.Context, runID int64, tags map[string]string) error {
	for k, v := range tags {
		if err := validKey("tag", k); err != nil {
			return fmt.Errorf("run %d: %w", runID, err)
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("run %d: tag %q: value is not valid UTF-8", runID, k)
		}
	}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, runID); err != nil {
			return err
		}
		for _, k := range slices.Sorted(maps.Keys(tags)) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)
				ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`, runID, k, tags[k]); err != nil {
				return fmt.Errorf("tag %q: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("run %d: set tags: %w", runID, err)
	}
	return nil
}

// DeleteTags removes tags from a run. A key the run does not have is an
// error naming it, and then nothing is deleted.
func (db *DB) DeleteTags(ctx context.Context, runID int64, keys []string) error {
	var missing []string
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, runID); err != nil {
			return err
		}
		missing = missing[:0]
		for _, k := range keys {
			res, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE run_id = ? AND key = ?`, runID, k)
			if err != nil {
				return fmt.Errorf("tag %q: %w", k, err)
			}
			if n, err := res.RowsAffected(); err == nil && n == 0 {
				missing = append(missing, fmt.Sprintf("%q", k))
			}
		}
		if len(missing) > 0 {
			return errNothingDeleted // rolls back
		}
		return nil
	})
	switch {
	case errors.Is(err, errNothingDeleted):
		return fmt.Errorf("run %d has no tag %s (nothing deleted)", runID, strings.Join(missing, ", "))
	case err != nil:
		return fmt.Errorf("run %d: delete tags: %w", runID, err)
	}
	return nil
}

var errNothingDeleted = errors.New("nothing deleted")

// SetNote replaces a run's free-text note (valid UTF-8; empty clears it).
func (db *DB) SetNote(ctx context.Context, runID int64, note string) error {
	if !utf8.ValidString(note) {
		return fmt.Errorf("run %d: the note is not valid UTF-8", runID)
	}
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := requireRun(ctx, tx, runID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE runs SET note = ? WHERE id = ?`, note, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("run %d: set note: %w", runID, err)
	}
	return nil
}
