package tracker

import (
	"context"
	"fmt"
	"sort"
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
	if err := db.writable(); err != nil {
		return err
	}
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		if err := validKey("tag", k); err != nil {
			return fmt.Errorf("run %d: %w", runID, err)
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("run %d: tag %q: value is not valid UTF-8", runID, k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("run %d: set tags: %w", runID, err)
	}
	defer tx.Rollback()
	if err := requireRunTx(ctx, tx, runID); err != nil {
		return err
	}
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`, runID, k, tags[k]); err != nil {
			return fmt.Errorf("run %d: set tag %q: %w", runID, k, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("run %d: set tags: %w", runID, err)
	}
	return nil
}

// DeleteTags removes tags from a run. A key the run does not have is an
// error naming it, and then nothing is deleted.
func (db *DB) DeleteTags(ctx context.Context, runID int64, keys []string) error {
	if err := db.writable(); err != nil {
		return err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("run %d: delete tags: %w", runID, err)
	}
	defer tx.Rollback()
	if err := requireRunTx(ctx, tx, runID); err != nil {
		return err
	}
	var missing []string
	for _, k := range keys {
		res, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE run_id = ? AND key = ?`, runID, k)
		if err != nil {
			return fmt.Errorf("run %d: delete tag %q: %w", runID, k, err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			missing = append(missing, fmt.Sprintf("%q", k))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("run %d has no tag %s (nothing deleted)", runID, strings.Join(missing, ", "))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("run %d: delete tags: %w", runID, err)
	}
	return nil
}

// SetNote replaces a run's free-text note (valid UTF-8; empty clears it).
func (db *DB) SetNote(ctx context.Context, runID int64, note string) error {
	if err := db.writable(); err != nil {
		return err
	}
	if !utf8.ValidString(note) {
		return fmt.Errorf("run %d: the note is not valid UTF-8", runID)
	}
	res, err := db.write.ExecContext(ctx, `UPDATE runs SET note = ? WHERE id = ?`, note, runID)
	if err != nil {
		return fmt.Errorf("run %d: set note: %w", runID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w: no run with id %d", ErrRunNotFound, runID)
	}
	return nil
}

func requireRunTx(ctx context.Context, q querier, id int64) error {
	var one int
	if err := q.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE id = ?`, id).Scan(&one); err != nil {
		return fmt.Errorf("%w: no run with id %d", ErrRunNotFound, id)
	}
	return nil
}
