package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFileModeAndContent(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(dir, "a.png")
	if err := WriteFile(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "two" {
		t.Fatalf("content %q, %v", b, err)
	}
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v under umask 022, want 0644", info.Mode().Perm())
	}
	syscall.Umask(0o077)
	p2 := filepath.Join(dir, "b.png")
	if err := WriteFile(p2, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(p2); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v under umask 077, want 0600", info.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries, want the 2 files and no temporary", len(entries))
	}
}

func TestWriteFileFailureLeavesOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "y"), []byte("z")); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("old file changed: %q", b)
	}
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".checkpoint.safetensors5577006791947779410", ".best.safetensors.tmp-12345",
		"checkpoint.safetensors", "curves.png", ".lock", "run.lock", "notes-2024.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveTemps(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 {
		t.Errorf("removed %v, want the two temporary files", removed)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		t.Errorf("%d files left, want 5", len(entries))
	}
}

func TestWriteFileResetsOldMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "checkpoint.safetensors")
	if err := os.WriteFile(path, []byte("v1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o644 {
		t.Errorf("a 0600 file of an earlier version stays %v after a rewrite, want 0644", info.Mode().Perm())
	}
}

// failingReader yields some bytes, then an error.
type failingReader struct{ sent bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.sent {
		return 0, errors.New("the source broke")
	}
	r.sent = true
	return copy(p, "partial"), nil
}

// TestWriteFromReader: WriteFrom writes what it reads; a reader that fails midway leaves the old file
// and no temporary file.
func TestWriteFromReader(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "artifact.png")
	if err := WriteFrom(path, strings.NewReader("whole")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFrom(path, &failingReader{}); err == nil || !strings.Contains(err.Error(), "the source broke") {
		t.Fatalf("failing reader: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "whole" {
		t.Errorf("content %q after a failed write, want the old file", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("folder holds %d entries, want the file alone", len(entries))
	}
}

// TestIsUnsupported: a folder fsync refused as unsupported (EINVAL, ENOTSUP) is told apart from a real
// failure by the error's number, whatever its text.
func TestIsUnsupported(t *testing.T) {
	for err, want := range map[error]bool{
		&os.PathError{Op: "sync", Path: "/x", Err: syscall.EINVAL}:  true,
		&os.PathError{Op: "sync", Path: "/x", Err: syscall.ENOTSUP}: true,
		&os.PathError{Op: "sync", Path: "/x", Err: syscall.EIO}:     false,
		errors.New("invalid argument"):                              false,
	} {
		if got := isUnsupported(err); got != want {
			t.Errorf("isUnsupported(%v) = %v, want %v", err, got, want)
		}
	}
}
