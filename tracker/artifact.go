package tracker

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Artifact kinds the lstmlab runner records. Any other non-empty kind is
// accepted.
const (
	ArtifactCheckpoint = "checkpoint"
	ArtifactModel      = "model"
	ArtifactPlot       = "plot"
)

// Artifact is a file belonging to a run, with the checksum it had when
// logged.
type Artifact struct {
	ID      int64     `json:"id"`
	RunID   int64     `json:"run_id"`
	Kind    string    `json:"kind"`
	Path    string    `json:"path"`
	SHA256  string    `json:"sha256"`
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`
}

// LogArtifact records the file at path (stored absolute) as an artifact of
// kind, with its size and SHA-256. Logging the same path again (a checkpoint
// rewritten every epoch) updates the entry.
func (r *Run) LogArtifact(kind, path string) (Artifact, error) {
	a, err := r.logArtifact(kind, path)
	if err != nil {
		return Artifact{}, fmt.Errorf("run %d: log artifact %s: %w", r.id, path, err)
	}
	return a, nil
}

func (r *Run) logArtifact(kind, path string) (Artifact, error) {
	if err := validKey("artifact kind", kind); err != nil {
		return Artifact{}, err
	}
	if err := r.checkOpen(); err != nil {
		return Artifact{}, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return Artifact{}, err
	}
	sum, size, err := hashFile(abs)
	if err != nil {
		return Artifact{}, err
	}
	a := Artifact{RunID: r.id, Kind: kind, Path: abs, SHA256: sum, Size: size, Created: r.db.now()}
	err = r.db.retryWrite(context.Background(), func() error {
		return r.db.write.QueryRow(`INSERT INTO artifacts (run_id, kind, path, sha256, size, created_ms) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, path) DO UPDATE SET kind = excluded.kind, sha256 = excluded.sha256,
			size = excluded.size, created_ms = excluded.created_ms
		RETURNING id`, r.id, kind, abs, sum, size, a.Created.UnixMilli()).Scan(&a.ID)
	})
	if err != nil {
		return Artifact{}, err
	}
	a.Created = time.UnixMilli(a.Created.UnixMilli())
	return a, nil
}

// hashFile returns the hex SHA-256 and size of a regular file.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	if !info.Mode().IsRegular() {
		return "", 0, fmt.Errorf("not a regular file")
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Artifacts lists a run's artifacts in the order they were first logged.
func (db *DB) Artifacts(ctx context.Context, runID int64) ([]Artifact, error) {
	if err := requireRun(ctx, db.read, runID); err != nil {
		return nil, err
	}
	arts := []Artifact{}
	err := db.eachRow(ctx, `SELECT id, run_id, kind, path, sha256, size, created_ms FROM artifacts WHERE run_id = ? ORDER BY id`,
		[]any{runID}, func(rows *sql.Rows) error {
			var (
				a         Artifact
				createdMS int64
			)
			if err := rows.Scan(&a.ID, &a.RunID, &a.Kind, &a.Path, &a.SHA256, &a.Size, &createdMS); err != nil {
				return err
			}
			a.Created = time.UnixMilli(createdMS)
			arts = append(arts, a)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("artifacts of run %d: %w", runID, err)
	}
	return arts, nil
}

// Verify reports whether the artifact's file still exists with the
// checksum it was logged with; the error says what differs.
func (a Artifact) Verify() error {
	sum, _, err := hashFile(a.Path)
	if err != nil {
		return fmt.Errorf("artifact %s: %w", a.Path, err)
	}
	if sum != a.SHA256 {
		return fmt.Errorf("artifact %s changed since it was logged (sha256 %s, logged %s)", a.Path, sum, a.SHA256)
	}
	return nil
}
