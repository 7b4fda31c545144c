package tracker

import "errors"

// Errors callers can test for with errors.Is. Returned errors wrap them with
// the details (path, run id, key).
var (
	// ErrSchemaTooNew: the database was written by a newer lstmlab. It is
	// left untouched.
	ErrSchemaTooNew = errors.New("database schema is newer than this lstmlab supports")
	// ErrSchemaOld: opened read-only, the database has an older schema that
	// only a writable open upgrades.
	ErrSchemaOld = errors.New("database schema is older than this lstmlab reads")
	// ErrNotTracker: the file is a SQLite database of some other program.
	// It is left untouched.
	ErrNotTracker = errors.New("not an lstmlab tracker database")
	// ErrRunNotFound: no run has the given id or name.
	ErrRunNotFound = errors.New("run not found")
	// ErrRunClosed: the run was finished; it accepts no more logging.
	ErrRunClosed = errors.New("run is finished")
	// ErrParamChanged: a hyperparameter was logged again with another value.
	ErrParamChanged = errors.New("param already logged with a different value")
	// ErrRunActive: the run is still running in some process (it holds the
	// run's lock, or on another host its heartbeat is fresh), so it cannot
	// be resumed or deleted. A stopped (SIGSTOP) process still owns its run.
	ErrRunActive = errors.New("run is still running")
	// ErrReadOnly: the database cannot be written here (opened with
	// Options.ReadOnly, or a read-only file, folder or mount).
	ErrReadOnly = errors.New("the tracker database is read-only")
	// ErrDiskFull: the disk holding the database is full.
	ErrDiskFull = errors.New("the disk holding the tracker database is full")
	// ErrClosed: the DB was closed.
	ErrClosed = errors.New("tracker database is closed")
)
