// Package atomicfile writes files so that a reader, or the next run after a crash, sees either the
// old file or the complete new one, never a part: every file lstmlab writes (checkpoints, exports,
// plots, the fetched corpus, artifacts copied to an MLflow server's folder) goes through WriteFile or
// WriteFrom.
//
// The temporary file, fsync and rename come from github.com/google/renameio/v2. renameio does not
// fsync the folder after the rename, which is what makes the rename itself survive a power loss, so
// WriteFile adds that (a few lines no library offers separately). Files are created 0644 through the
// kernel's own umask (renameio's WithPermissions passes the mode to open(2)): no process-wide umask
// call, and the modes users expect of ordinary files.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"syscall"

	"github.com/google/renameio/v2"
)

// Mode is the permission of files WriteFile creates, before the umask.
const Mode os.FileMode = 0o644

// WriteFile writes data to path atomically: into a temporary file in the same folder (named
// "."+base+digits), fsynced, renamed over path, then the folder fsynced. On error path is unchanged
// and the temporary file is removed. The error names path.
func WriteFile(path string, data []byte) error { return WriteFrom(path, bytes.NewReader(data)) }

// WriteFrom is WriteFile with the content read from r (to its end): a large file need not be in memory.
// An error reading r leaves path unchanged.
func WriteFrom(path string, r io.Reader) error {
	dir := filepath.Dir(path)
	// WithTempDir(dir): renameio would otherwise probe os.TempDir() with test files and may place the
	// temporary file there; the same folder guarantees the rename is atomic. Not renameio.WriteFile:
	// it keeps an existing file's mode, and files of earlier lstmlab versions were 0600.
	f, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithPermissions(Mode))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer f.Cleanup()
	if _, err := io.Copy(f, r); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: sync folder: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable. Some file systems refuse fsync on a folder (EINVAL); the
// rename has happened by then, so that is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isUnsupported(err) {
		return err
	}
	return nil
}

func isUnsupported(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EOPNOTSUPP)
}

// tempName matches the temporary files WriteFile leaves when its process is killed mid-write:
// renameio's "."+base+digits, and the ".base.tmp-*" names earlier lstmlab versions used.
var tempName = regexp.MustCompile(`^\..+(\d{6,}|\.tmp-\d+)$`)

// IsTemp reports whether a file name is that of an abandoned temporary file of WriteFile.
func IsTemp(name string) bool { return tempName.MatchString(name) }

// RemoveTemps deletes the temporary files a killed writer left in dir (not in subfolders) and returns
// their names. Call it only while no other process writes into dir (e.g. holding the folder's lock).
func RemoveTemps(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !IsTemp(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !os.IsNotExist(err) {
			return removed, err
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}
