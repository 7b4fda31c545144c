package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	// The cgo SQLite driver: the reference implementation, with WAL and
	// the busy handler that concurrent writers rely on.
	"github.com/mattn/go-sqlite3"
	"golang.org/x/sys/unix"
)

// Options tunes a DB. The zero value of every field picks the default.
type Options struct {
	// BusyTimeout is how long a statement waits for another process's
	// write lock before failing with "database is locked". Default 10s:
	// far longer than any batch transaction holds the lock.
	BusyTimeout time.Duration
	// FlushInterval is how often buffered metric points are written.
	// Default 1s: a kill -9 loses at most this much history.
	FlushInterval time.Duration
	// FlushSize is the number of buffered points that triggers an early
	// flush. Default 1024.
	FlushSize int
	// HeartbeatInterval is how often a running run proves it is alive.
	// Default 5s.
	HeartbeatInterval time.Duration
	// StaleAfter is how old a running run's heartbeat may be before readers
	// show it as interrupted and Open marks it so. Default 30s; it must
	// exceed HeartbeatInterval.
	StaleAfter time.Duration
	// MustExist refuses to create a new database: commands that only read
	// (list, compare, plot) should report a mistyped path, not create an
	// empty file there. The error wraps os.ErrNotExist.
	MustExist bool
	// ReadOnly opens the database for reading only: nothing is written or
	// created, neither the file, its -wal/-shm companions nor run folders,
	// so it works on a read-only file, folder or mount and on another
	// user's database. SQLite opens it with mode=ro while a -wal file exists
	// (a writer is or was active), else with immutable=1, which needs no
	// lock files. Implies MustExist. Methods that write fail with
	// ErrReadOnly.
	ReadOnly bool
	// RunsDir is the folder holding one folder per run (checkpoints, plots,
	// the run's lock file). Default: "runs" beside the database file.
	RunsDir string
	// WriteRetry is how long a write keeps retrying, with backoff, while
	// another process holds the database's write lock beyond BusyTimeout
	// (a long transaction, a backup). Metric points stay buffered meanwhile.
	// Default 10 minutes.
	WriteRetry time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.BusyTimeout == 0 {
		o.BusyTimeout = 10 * time.Second
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = time.Second
	}
	if o.FlushSize == 0 {
		o.FlushSize = 1024
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = 5 * time.Second
	}
	if o.StaleAfter == 0 {
		o.StaleAfter = 30 * time.Second
	}
	if o.WriteRetry == 0 {
		o.WriteRetry = 10 * time.Minute
	}
	if o.ReadOnly {
		o.MustExist = true
	}
	switch {
	case o.BusyTimeout < 0 || o.FlushInterval < 0 || o.HeartbeatInterval < 0 || o.StaleAfter < 0 || o.FlushSize < 0 || o.WriteRetry < 0:
		return o, errors.New("tracker options must not be negative")
	case o.StaleAfter <= o.HeartbeatInterval:
		return o, fmt.Errorf("tracker options: StaleAfter (%v) must exceed HeartbeatInterval (%v), or live runs would look interrupted",
			o.StaleAfter, o.HeartbeatInterval)
	}
	return o, nil
}

// DB is an open tracker database file. It is safe for concurrent use.
//
// Each DB holds one writer connection and a pool of read-only connections.
// SQLite admits one writer at a time per file; funnelling this process's
// writes through a single connection means goroutines queue in Go rather
// than fight over the file lock, and other processes only ever meet one
// writer from us. Reads never wait for writes thanks to the WAL journal.
type DB struct {
	path    string
	opts    Options
	runsDir string  // absolute
	host    string  // this machine's name: runs owned here are judged by their lock
	write   *sql.DB // nil when read-only
	read    *sql.DB
	// now is the clock; tests replace it.
	now func() time.Time

	mu     sync.Mutex
	open   map[int64]*Run     // runs started or resumed here and not yet finished
	locks  map[int64]*runLock // run locks held by this DB (released by Close at the latest)
	closed bool
}

// Open opens (creating if needed) the tracker database at path with default
// options, applies pending schema migrations and marks runs whose process
// died as interrupted.
func Open(path string) (*DB, error) {
	return OpenWith(path, Options{})
}

// OpenWith is Open with explicit options.
//
// A file written by a newer lstmlab (higher schema version) is refused with
// ErrSchemaTooNew, and a SQLite file that is not a tracker database with
// ErrNotTracker; in both cases the file is not modified.
func OpenWith(path string, opts Options) (*DB, error) {
	db, err := openDB(path, opts)
	if err != nil {
		return nil, fmt.Errorf("open tracker %s: %w", path, err)
	}
	return db, nil
}

func openDB(path string, opts Options) (*DB, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(path) == "" {
		return nil, errors.New("empty database path")
	}
	if path == ":memory:" || strings.HasPrefix(path, "file:") {
		// Two pools (writer and readers) must reach the same file.
		return nil, errors.New("the tracker needs a file path (not :memory: or a URI)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	info, err := os.Stat(abs)
	switch {
	case err == nil && info.IsDir():
		return nil, errors.New("is a directory")
	case errors.Is(err, os.ErrNotExist) && opts.MustExist:
		return nil, fmt.Errorf("no such database file: %w", os.ErrNotExist)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	migrations, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	db := &DB{path: abs, opts: opts, now: time.Now, open: map[int64]*Run{}, locks: map[int64]*runLock{}}
	db.host, _ = os.Hostname()
	db.runsDir = opts.RunsDir
	if db.runsDir == "" {
		db.runsDir = filepath.Join(filepath.Dir(abs), "runs")
	}
	if db.runsDir, err = filepath.Abs(db.runsDir); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if opts.ReadOnly {
		if err := db.openReadOnly(ctx, latestVersion(migrations)); err != nil {
			return nil, err
		}
		return db, nil
	}
	if err := checkWritable(abs); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, err
	}

	// Inspect an existing file through a read-only connection before
	// anything can write to it: even switching to WAL rewrites the header,
	// and a newer or foreign database must stay byte-for-byte untouched
	// (no -wal/-shm files beside it either).
	if err := retryBusy(ctx, opts.BusyTimeout, func() error {
		return checkExisting(abs, opts, latestVersion(migrations))
	}); err != nil {
		return nil, err
	}

	if err := retryBusy(ctx, opts.BusyTimeout, func() error {
		var err error
		db.write, err = connectWriter(ctx, abs, opts)
		return err
	}); err != nil {
		return nil, fmt.Errorf("connect: %w", describeOpenError(err))
	}
	if err := migrate(ctx, db.write, migrations, db.now()); err != nil {
		db.write.Close()
		return nil, describeOpenError(err)
	}
	// The readers run filters, which call lstmlab_like (sqlfuncs.go).
	if db.read, err = sql.Open(sqliteDriver(), dsn(abs, opts, true)); err != nil {
		db.write.Close()
		return nil, err
	}
	db.read.SetMaxOpenConns(4)
	db.read.SetMaxIdleConns(4)
	if err := db.markStale(ctx); err != nil {
		db.close()
		return nil, err
	}
	return db, nil
}

// openReadOnly connects the read pool without creating or writing
// anything, and checks the schema is the one this build reads.
func (db *DB) openReadOnly(ctx context.Context, latest int) error {
	var err error
	if db.read, err = sql.Open(sqliteDriver(), readOnlyDSN(db.path, db.opts)); err != nil {
		return err
	}
	db.read.SetMaxOpenConns(4)
	db.read.SetMaxIdleConns(4)
	var version, appID, objects int
	err = retryBusy(ctx, db.opts.BusyTimeout, func() error {
		return db.read.QueryRowContext(ctx, `SELECT (SELECT user_version FROM pragma_user_version),
			(SELECT application_id FROM pragma_application_id), (SELECT count(*) FROM sqlite_schema)`).
			Scan(&version, &appID, &objects)
	})
	if err != nil {
		db.read.Close()
		return fmt.Errorf("read-only: %w", describeOpenError(err))
	}
	switch {
	case version == 0 && objects == 0:
		err = errors.New("the file is empty, not a tracker database")
	case version == 0 || appID != applicationID:
		err = fmt.Errorf("%w: it holds tables of another program", ErrNotTracker)
	case version > latest:
		err = schemaTooNew(version, latest)
	case version < latest:
		err = fmt.Errorf("%w: the file has schema version %d and this lstmlab reads version %d; open it once with write access to upgrade it",
			ErrSchemaOld, version, latest)
	}
	if err != nil {
		db.read.Close()
		return err
	}
	return nil
}

// checkWritable refuses, before SQLite tries, a database that cannot be
// written: a read-only file, folder or mount. SQLite would say "attempt to
// write a readonly database" or "unable to open database file" later, or
// open the file and fail at the first write.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	if err := unix.Access(path, unix.W_OK); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%w: the file is not writable (%v)", ErrReadOnly, err)
	}
	if _, err := os.Stat(dir); err == nil {
		if err := unix.Access(dir, unix.W_OK); err != nil {
			return fmt.Errorf("%w: its folder %s is not writable (%v); SQLite needs to create the -wal and -shm files there", ErrReadOnly, dir, err)
		}
	}
	return nil
}

// connectWriter opens the writer pool of exactly one connection and
// connects it, which applies the DSN pragmas (switching a new file to WAL).
func connectWriter(ctx context.Context, path string, opts Options) (*sql.DB, error) {
	w, err := sql.Open("sqlite3", dsn(path, opts, false))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// retryBusy runs fn until it succeeds, fails with something other than
// SQLITE_BUSY, or timeout passes. SQLite's busy handler covers ordinary
// lock waits but not all of them: switching a new file to WAL while another
// process opens it fails at once with "database is locked". Several
// training processes started together on a fresh database do exactly that.
func retryBusy(ctx context.Context, timeout time.Duration, fn func() error) error {
	deadline := time.Now().Add(timeout)
	wait := 5 * time.Millisecond
	for {
		err := fn()
		if err == nil || !isBusy(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// dsn builds the connection string. The pragmas travel in the DSN rather
// than as one-off Exec calls because database/sql may open new connections
// at any time and each needs them:
//   - journal_mode=WAL: readers never block the writer nor the other way
//     round, and a crash cannot leave a half-written page;
//   - foreign_keys=on: SQLite leaves them off by default; deleting a run
//     relies on ON DELETE CASCADE;
//   - busy_timeout: wait for another process's write lock instead of
//     failing at once with "database is locked";
//   - _txlock=immediate: a write transaction takes the write lock at BEGIN.
//     A deferred transaction that reads then writes can hit SQLITE_BUSY on
//     the lock upgrade, which the busy handler cannot resolve;
//   - synchronous=NORMAL: with WAL this loses no committed data when a
//     process dies, only possibly the last commits on power loss, and
//     halves fsyncs.
func dsn(path string, opts Options, readOnly bool) string {
	u := url.URL{Scheme: "file", Path: path}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(opts.BusyTimeout.Milliseconds()))
	if readOnly {
		q.Set("mode", "ro")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_foreign_keys", "on")
		q.Set("_txlock", "immediate")
		q.Set("_synchronous", "NORMAL")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// readOnlyDSN is the connection string of a reader that writes nothing and
// leaves no file behind. SQLite's mode=ro creates the -wal and -shm files
// of a WAL database when they are missing and leaves them behind (owned by
// the reader: another user's reads would lock the owner out); immutable=1
// creates nothing and takes no locks, but assumes no process writes the
// file: a writer that starts meanwhile may show the reader torn pages. So:
//   - where the file and its folder are writable (a writer may start at any
//     time), a read-write connection that refuses writes (query_only): it
//     takes the usual locks and, closing last, removes the -wal and -shm
//     files as every SQLite client does;
//   - elsewhere (a read-only folder, file or mount: a writer as unlikely as
//     files are impossible to create) mode=ro while a -wal file exists (a
//     writer with more rights is, or was, active: the -shm is there too),
//     else immutable.
func readOnlyDSN(path string, opts Options) string {
	u := url.URL{Scheme: "file", Path: path}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(opts.BusyTimeout.Milliseconds()))
	switch _, walErr := os.Stat(path + "-wal"); {
	case checkWritable(path) == nil:
		q.Set("mode", "rw")
		q.Set("_query_only", "1")
	case walErr == nil:
		q.Set("mode", "ro")
	default:
		q.Set("mode", "ro")
		q.Set("immutable", "1")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// describeOpenError turns SQLite's terse errors about unusable files into
// messages that name the problem.
func describeOpenError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "file is not a database"):
		return fmt.Errorf("not a SQLite database, or corrupt: %w", err)
	case strings.Contains(msg, "unable to open database file"):
		return fmt.Errorf("cannot open the file (missing directory or no permission?): %w", err)
	case strings.Contains(msg, "database or disk is full"):
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	case strings.Contains(msg, "readonly database"), strings.Contains(msg, "read-only file system"):
		return fmt.Errorf("%w: %w", ErrReadOnly, err)
	case strings.Contains(msg, "disk I/O error"):
		return fmt.Errorf("disk problem: %w", err)
	case strings.Contains(msg, "malformed"):
		return fmt.Errorf("the database is corrupt: %w", err)
	}
	return err
}

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// RunsDir returns the absolute folder that holds the runs' folders.
func (db *DB) RunsDir() string { return db.runsDir }

// ReadOnly reports whether the database was opened read-only.
func (db *DB) ReadOnly() bool { return db.write == nil }

// runDir is the absolute folder of a run whose dir column is rel.
func (db *DB) runDir(rel string, id int64) string {
	if rel == "" {
		rel = fmt.Sprint(id)
	}
	return filepath.Join(db.runsDir, rel)
}

// writable returns ErrReadOnly on a read-only DB.
func (db *DB) writable() error {
	if db.write == nil {
		return fmt.Errorf("%w: %s was opened read-only", ErrReadOnly, db.path)
	}
	return nil
}

// Close finishes every run still open through this DB as interrupted (after
// writing their buffered points) and closes the connections. Finish runs
// yourself to record another status.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	runs := make([]*Run, 0, len(db.open))
	for _, r := range db.open {
		runs = append(runs, r)
	}
	db.mu.Unlock()

	var errs []error
	for _, r := range runs {
		if err := r.Finish(StatusInterrupted); err != nil && !errors.Is(err, ErrRunClosed) {
			errs = append(errs, err)
		}
	}
	if err := db.close(); err != nil {
		errs = append(errs, err)
	}
	db.mu.Lock()
	for id, l := range db.locks {
		l.release()
		delete(db.locks, id)
	}
	db.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close tracker %s: %w", db.path, err)
	}
	return nil
}

func (db *DB) close() error {
	var errs []error
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	return errors.Join(errs...)
}

// staleBefore is the heartbeat time (ms) before which a running run owned
// by another host is considered dead.
func (db *DB) staleBefore() int64 {
	return db.now().Add(-db.opts.StaleAfter).UnixMilli()
}

// dead reports whether a run stored as running has no live owner. On the
// host that owns it the run's lock decides, at once: kill -9 releases it, a
// stopped (SIGSTOP) process keeps it. For a run owned by another host, or
// one without a lock file (an earlier lstmlab's), a heartbeat older than
// Options.StaleAfter means dead.
func (db *DB) dead(id int64, host, dir string, heartbeatMS, staleBefore int64) bool {
	if host == db.host {
		if held, known := lockState(filepath.Join(db.runDir(dir, id), LockFile)); known {
			return !held
		}
	}
	return heartbeatMS < staleBefore
}

// deadRuns returns the ids of the runs stored as running whose owner is
// gone (see dead): readers show them as interrupted.
func (db *DB) deadRuns(ctx context.Context) ([]int64, error) {
	staleBefore := db.staleBefore()
	var ids []int64
	err := db.eachRow(ctx, `SELECT id, host, dir, heartbeat_ms FROM runs WHERE status = 'running'`, nil, func(rows *sql.Rows) error {
		var (
			id, hb    int64
			host, dir string
		)
		if err := rows.Scan(&id, &host, &dir, &hb); err != nil {
			return err
		}
		if db.dead(id, host, dir, hb, staleBefore) {
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

// markStale records as interrupted the runs whose process is gone (killed,
// crashed, machine rebooted; see dead). Their end time is the last
// heartbeat: the last moment they were known alive.
func (db *DB) markStale(ctx context.Context) error {
	ids, err := db.deadRuns(ctx)
	if err != nil {
		return fmt.Errorf("find interrupted runs: %w", err)
	}
	for _, id := range ids {
		if _, err := db.write.ExecContext(ctx, `UPDATE runs SET status = 'interrupted', end_ms = heartbeat_ms
			WHERE id = ? AND status = 'running'`, id); err != nil {
			if isBusy(err) {
				return nil // another process writes; readers still show the truth
			}
			return fmt.Errorf("mark run %d interrupted: %w", id, err)
		}
	}
	return nil
}

// register records r as open through db, holding lock; it fails once db
// is closed.
func (db *DB) register(r *Run, lock *runLock) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return ErrClosed
	}
	if _, ok := db.open[r.id]; ok {
		return fmt.Errorf("run %d is already open in this process", r.id)
	}
	db.open[r.id] = r
	db.locks[r.id] = lock
	return nil
}

// forget drops a finished run and releases its lock: from then on readers
// see the status it was finished with.
func (db *DB) forget(r *Run) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.open[r.id] == r {
		delete(db.open, r.id)
		db.locks[r.id].release()
		delete(db.locks, r.id)
	}
}

func (db *DB) isOpen(id int64) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	_, ok := db.open[id]
	return ok
}

// flushOpen writes the buffered points of runs open in this process so
// reads see everything logged so far. With no ids it flushes all of them.
// It is best effort: a write failure is the logging side's to report (the
// points stay buffered), and a read still shows what is stored.
func (db *DB) flushOpen(ids ...int64) error {
	db.mu.Lock()
	var runs []*Run
	if len(ids) == 0 {
		for _, r := range db.open {
			runs = append(runs, r)
		}
	} else {
		for _, id := range ids {
			if r, ok := db.open[id]; ok {
				runs = append(runs, r)
			}
		}
	}
	db.mu.Unlock()
	for _, r := range runs {
		r.flush(false) // one attempt, errors ignored: see above
	}
	return nil
}

// IntegrityCheck runs SQLite's PRAGMA integrity_check and returns an error
// listing the problems unless the database is sound.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := db.read.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check of %s failed: %s", db.path, strings.Join(problems, "; "))
	}
	return nil
}
