package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RemoteRun returns the id under which the run is stored on the remote
// tracking server uri (see SetRemoteRun), or "" if it was never copied
// there.
func (db *DB) RemoteRun(ctx context.Context, runID int64, uri string) (string, error) {
	var id string
	err := db.read.QueryRowContext(ctx, `SELECT remote_id FROM remote_runs WHERE run_id = ? AND uri = ?`, runID, uri).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("remote id of run %d: %w", runID, err)
	}
	return id, nil
}

// SetRemoteRun records that the run is stored as remoteID on the remote
// tracking server uri, replacing an earlier record for that server. It
// works on runs in any state, open here or not. uri must not hold
// credentials: it is stored as given.
func (db *DB) SetRemoteRun(ctx context.Context, runID int64, uri, remoteID string) error {
	if uri == "" || remoteID == "" {
		return fmt.Errorf("link run %d to a remote run: empty server address or remote id", runID)
	}
	if err := db.writable(); err != nil {
		return err
	}
	if err := requireRun(ctx, db.read, runID); err != nil {
		return err
	}
	err := db.exec(ctx, `INSERT INTO remote_runs (run_id, uri, remote_id, linked_ms) VALUES (?, ?, ?, ?)
		ON CONFLICT (run_id, uri) DO UPDATE SET remote_id = excluded.remote_id, linked_ms = excluded.linked_ms`,
		runID, uri, remoteID, db.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("link run %d to remote run %s: %w", runID, remoteID, err)
	}
	return nil
}

// PointsAfter returns at most limit points of one metric of a run whose
// step is greater than after, in step order: the part of a history a copy
// that already holds everything up to step after is missing. after = -1
// starts at the beginning; limit <= 0 means no limit. Points buffered by a
// run open in this process are written first.
func (db *DB) PointsAfter(ctx context.Context, runID int64, key string, after int64, limit int) ([]Point, error) {
	if err := db.flushOpen(runID); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	points := []Point{}
	err := db.eachRow(ctx, `SELECT step, time_ms, value FROM metrics WHERE run_id = ? AND key = ? AND step > ? ORDER BY step LIMIT ?`,
		[]any{runID, key, after, limit}, func(rows *sql.Rows) error {
			var (
				step, timeMS int64
				value        sql.NullFloat64
			)
			if err := rows.Scan(&step, &timeMS, &value); err != nil {
				return err
			}
			points = append(points, Point{Step: step, Time: time.UnixMilli(timeMS), Value: nanIfNull(value)})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("history of run %d metric %q after step %d: %w", runID, key, after, err)
	}
	return points, nil
}
