package tracker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/sys/unix"
)

// LockFile is the name of the lock file in each run's folder. The process
// that owns a run (trains it) holds an exclusive flock(2) on it, which the
// kernel releases when the process ends, however it ends: kill -9, a crash,
// a power cut. A process that is only stopped (SIGSTOP, a sleeping laptop)
// keeps it. So on the host that owns a run, liveness is exact: the run is
// running while the lock is held, and interrupted from the moment it is not.
// Readers test it with a shared lock on a read-only descriptor, which works
// on read-only files, folders and mounts. Heartbeats only serve readers on
// other hosts, which cannot see the lock.
const LockFile = "run.lock"

// Owner is the process holding a run's lock, as it wrote itself into the
// lock file.
type Owner struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	UUID  string    `json:"uuid"`
	Since time.Time `json:"since"`
}

func (o Owner) String() string {
	if o.PID == 0 {
		return "another process"
	}
	return fmt.Sprintf("process %d on host %s", o.PID, o.Host)
}

// runLock is a held run lock.
type runLock struct {
	f    *flock.Flock
	path string
}

// lockWait is how long acquiring a run's lock retries: a reader holds its
// shared lock for microseconds, so this only bridges such collisions.
const lockWait = 300 * time.Millisecond

// acquireRunLock creates dir if needed and takes the run's lock in it,
// writing the owner (this process) into the lock file. A lock held by
// another process is ErrRunActive naming that process.
func acquireRunLock(dir, uuid, host string) (*runLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run folder: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o644))
	ctx, cancel := context.WithTimeout(context.Background(), lockWait)
	defer cancel()
	ok, err := f.TryLockContext(ctx, 10*time.Millisecond)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock run folder %s: %w", dir, err)
	}
	if !ok {
		owner := readOwner(path)
		return nil, fmt.Errorf("%w: %s holds it (%s)", ErrRunActive, owner, path)
	}
	owner := Owner{PID: os.Getpid(), Host: host, UUID: uuid, Since: time.Now().UTC().Truncate(time.Second)}
	b, _ := json.Marshal(owner)
	// Written through a second descriptor: flock belongs to f's open file
	// description, so closing this one keeps the lock.
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		f.Unlock()
		return nil, fmt.Errorf("write lock file: %w", err)
	}
	return &runLock{f: f, path: path}, nil
}

// ReserveFile is the name of the reserve an open run keeps in its folder
// when that folder is on the database's file system: a file of 256 KiB
// deleted when the disk is full, so that the run's final status can still
// be recorded (a full disk otherwise leaves no room even for that). It is
// removed when the run finishes; a killed run's stays until it is resumed.
const ReserveFile = "run.reserve"

const reserveSize = 256 << 10

// makeReserve writes the run's reserve file if dir shares the database's
// file system; a failure is ignored (the reserve is a best effort).
func makeReserve(dir, dbPath string) {
	var a, b unix.Stat_t
	if unix.Stat(dir, &a) != nil || unix.Stat(filepath.Dir(dbPath), &b) != nil || a.Dev != b.Dev {
		return
	}
	path := filepath.Join(dir, ReserveFile)
	if info, err := os.Stat(path); err == nil && info.Size() == reserveSize {
		return
	}
	// Not zeros: some file systems store runs of zeros without allocating.
	data := bytes.Repeat([]byte{0xA5}, reserveSize)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		os.Remove(path)
	}
}

// useReserve deletes the run's reserve file, freeing its space; it
// reports whether there was one.
func useReserve(dir string) bool {
	return os.Remove(filepath.Join(dir, ReserveFile)) == nil
}

// release drops the lock (the file stays: removing it would race with a
// process about to lock it).
func (l *runLock) release() error {
	if l == nil {
		return nil
	}
	return l.f.Unlock()
}

// readOwner reads the owner a lock file names; zero if unreadable.
func readOwner(path string) Owner {
	var o Owner
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal([]byte(strings.TrimSpace(string(b))), &o)
	}
	return o
}

// lockState says whether the lock file at path is held by some process.
// known is false when there is no lock file (a run of an earlier lstmlab,
// or a folder removed by hand): the caller falls back to the heartbeat.
func lockState(path string) (held, known bool) {
	f := flock.New(path, flock.SetFlag(os.O_RDONLY))
	ok, err := f.TryRLock()
	if err != nil {
		return false, false
	}
	if ok {
		f.Unlock()
		return false, true
	}
	return true, true
}
