package nb

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// gonbTmpEnv names the folder GoNB creates for each kernel (each run of a notebook); it holds the
// kernel's Go module and is removed when the kernel stops.
const gonbTmpEnv = "GONB_TMP_DIR"

// WorkDir returns this notebook run's work folder, a new folder under the system's temporary directory
// named lstmlab-<name>-<random>, made by the first call of the run; later calls (later cells: each cell is
// its own program) return the same folder. A run is one GoNB kernel: its path is remembered in the
// kernel's own temporary folder, so two runs of a notebook at once, or one after the other, never share
// or delete each other's files. Outside GoNB every call makes a new folder.
func WorkDir(name string) (string, error) {
	var memo string
	if k := os.Getenv(gonbTmpEnv); k != "" {
		memo = filepath.Join(k, "lstmlab-workdir-"+name)
		if b, err := os.ReadFile(memo); err == nil {
			dir := strings.TrimSpace(string(b))
			if st, err := os.Stat(dir); err == nil && st.IsDir() {
				return dir, nil
			}
		}
	}
	dir, err := os.MkdirTemp("", "lstmlab-"+name+"-")
	if err != nil {
		return "", fmt.Errorf("work folder: %w", err)
	}
	if memo != "" {
		if err := os.WriteFile(memo, []byte(dir), 0o644); err != nil {
			return "", fmt.Errorf("work folder: remember %s: %w", dir, err)
		}
	}
	return dir, nil
}

// Stopwatch measures how long a cell takes, to tell the reader what to expect.
type Stopwatch struct{ start time.Time }

// Start starts a stopwatch.
func Start() Stopwatch { return Stopwatch{time.Now()} }

// Elapsed returns the time since Start.
func (s Stopwatch) Elapsed() time.Duration { return time.Since(s.start) }

// String says how long it took and on how many cores, e.g. "⏱ 42 s on 2 CPU cores".
func (s Stopwatch) String() string {
	d := s.Elapsed()
	var took string
	switch {
	case d < 10*time.Second:
		took = fmt.Sprintf("%.1f s", d.Seconds())
	case d < 2*time.Minute:
		took = fmt.Sprintf("%.0f s", d.Seconds())
	default:
		took = fmt.Sprintf("%.1f min", d.Minutes())
	}
	return fmt.Sprintf("⏱ %s on %d CPU cores", took, runtime.NumCPU())
}
