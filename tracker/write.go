package tracker

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// retryWrite runs fn until it succeeds, fails with something other than a
// busy database, or Options.WriteRetry has passed: a write blocked by
// another process's long transaction (beyond SQLite's own BusyTimeout
// wait) waits it out with backoff instead of failing the run.
func (db *DB) retryWrite(ctx context.Context, fn func() error) error {
	if err := db.writable(); err != nil {
		return err
	}
	deadline := time.Now().Add(db.opts.WriteRetry)
	wait := 20 * time.Millisecond
	for {
		err := fn()
		if err == nil || !isBusy(err) || time.Now().Add(wait).After(deadline) {
			return describeWriteError(err)
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// writeTx runs fn in a write transaction and commits it, retrying the whole
// transaction while the database is busy (see retryWrite).
func (db *DB) writeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return db.retryWrite(ctx, func() error {
		tx, err := db.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// exec runs one write statement with retryWrite.
func (db *DB) exec(ctx context.Context, query string, args ...any) error {
	return db.retryWrite(ctx, func() error {
		_, err := db.write.ExecContext(ctx, query, args...)
		return err
	})
}

// describeWriteError names a full disk and a read-only database.
func describeWriteError(err error) error {
	if err == nil || errors.Is(err, ErrDiskFull) || errors.Is(err, ErrReadOnly) {
		return err
	}
	return describeOpenError(err)
}
