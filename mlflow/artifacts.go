package mlflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/lstmlab/lstmlab/internal/atomicfile"
)

// ErrArtifactsUnsupported is wrapped when the run's artifact location is one
// this client cannot write to. The wrapping error says which location and
// why.
var ErrArtifactsUnsupported = errors.New("artifact upload not supported")

// FileInfo is an entry of a run's artifact listing.
type FileInfo struct {
	Path     string `json:"path"`
	IsDir    bool   `json:"is_dir"`
	FileSize int64  `json:"file_size"`
}

// ListArtifacts lists the artifacts of a run under dir ("" for the root).
func (c *Client) ListArtifacts(ctx context.Context, runID, dir string) ([]FileInfo, error) {
	q := url.Values{"run_id": {runID}}
	if dir != "" {
		q.Set("path", dir)
	}
	var out struct {
		Files []FileInfo `json:"files"`
	}
	err := c.call(ctx, "GET", "artifacts/list", q, nil, &out)
	return out.Files, err
}

// CheckArtifactUpload reports whether UploadArtifact can write into the
// run's artifact location; the error wraps ErrArtifactsUnsupported and names
// the location. Two kinds of location are writable:
//
//   - mlflow-artifacts:/... — the server stores artifacts itself (MLflow's
//     --serve-artifacts, the default since MLflow 2.0): files go up with
//     PUT /api/2.0/mlflow-artifacts/artifacts/<path>;
//   - file:///... on a server running on this machine (loopback address):
//     the folder is the same for the server and for us, and files are
//     written there directly, as MLflow's own client does for file
//     locations.
//
// Object stores (s3://, gs://, wasbs://, dbfs:/...) would need their own
// clients and credentials.
func (c *Client) CheckArtifactUpload(run RunInfo) error {
	_, _, err := c.artifactTarget(run)
	return err
}

// artifactTarget resolves where run's artifacts go: an HTTP prefix (the
// mlflow-artifacts API) or a local folder.
func (c *Client) artifactTarget(run RunInfo) (httpPrefix, dir string, err error) {
	loc := run.ArtifactURI
	u, perr := url.Parse(loc)
	if loc == "" || perr != nil {
		return "", "", fmt.Errorf("%w: run %s has no usable artifact location (%q)", ErrArtifactsUnsupported, run.ID, loc)
	}
	switch strings.ToLower(u.Scheme) {
	case "mlflow-artifacts":
		if u.Host != "" && !strings.EqualFold(u.Host, c.base.Host) {
			return "", "", fmt.Errorf("%w: artifacts of run %s live on another server (%s)", ErrArtifactsUnsupported, run.ID, loc)
		}
		return strings.Trim(u.Path, "/"), "", nil
	case "file", "":
		if u.Scheme == "" && !filepath.IsAbs(loc) {
			return "", "", fmt.Errorf("%w: the server gives the relative artifact location %q", ErrArtifactsUnsupported, loc)
		}
		if !c.IsLoopback() {
			return "", "", fmt.Errorf("%w: the server keeps artifacts in its own folder %s, which lstmlab can write only when the server runs on this machine",
				ErrArtifactsUnsupported, loc)
		}
		return "", filepath.FromSlash(u.Path), nil
	}
	return "", "", fmt.Errorf("%w: the server stores artifacts at %s (%s storage)", ErrArtifactsUnsupported, loc, u.Scheme)
}

// UploadArtifact stores content as the artifact artifactPath (a relative,
// slash-separated path such as "model/best.safetensors") of run, replacing
// an artifact of that path. See CheckArtifactUpload for the locations it
// can write; others fail with ErrArtifactsUnsupported.
func (c *Client) UploadArtifact(ctx context.Context, run RunInfo, artifactPath string, content io.Reader) error {
	clean := path.Clean(artifactPath)
	if artifactPath == "" || path.IsAbs(clean) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return fmt.Errorf("artifact path %q: want a relative path inside the run's artifacts", artifactPath)
	}
	prefix, dir, err := c.artifactTarget(run)
	if err != nil {
		return err
	}
	if dir != "" {
		return writeLocalArtifact(filepath.Join(dir, filepath.FromSlash(clean)), content)
	}
	var segs []string
	for _, s := range strings.Split(prefix+"/"+clean, "/") {
		if s != "" {
			segs = append(segs, url.PathEscape(s))
		}
	}
	target := c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + "/api/2.0/mlflow-artifacts/artifacts/" + strings.Join(segs, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, content)
	if err != nil {
		return fmt.Errorf("MLflow artifact upload: %w", err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	return c.do(req, "mlflow-artifacts upload of "+clean, nil)
}

// writeLocalArtifact writes content to file atomically (atomicfile), so the
// server never serves half a file.
func writeLocalArtifact(file string, content io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("artifact folder: %w", err)
	}
	if err := atomicfile.WriteFrom(file, content); err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	return nil
}
