package text

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFileNormalises(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "a.txt", []byte("\xEF\xBB\xBFline 1\r\nline 2 — 苹果\rline 3\n"))
	corpus, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "line 1\nline 2 — 苹果\nline 3\n"; corpus.Text != want {
		t.Errorf("text %q, want %q", corpus.Text, want)
	}
	if corpus.Source != path || !slices.Equal(corpus.Files, []string{path}) {
		t.Errorf("source %q files %q", corpus.Source, corpus.Files)
	}
}

func TestLoadFileBadCorpora(t *testing.T) {
	dir := t.TempDir()
	binary := make([]byte, 200)
	for i := range binary {
		binary[i] = byte(i)
	}
	controls := []byte(strings.Repeat("ab\x01\x02\x03", 20))
	cases := []struct {
		name    string
		data    []byte
		wantErr error
		wantMsg []string
	}{
		{"empty.txt", nil, ErrEmpty, []string{"empty.txt", "0 bytes"}},
		{"blank.txt", []byte(" \n\t\r\n"), ErrEmpty, []string{"blank.txt"}},
		{"bom-only.txt", []byte("\xEF\xBB\xBF"), ErrEmpty, []string{"bom-only.txt"}},
		{"image.bin", binary, ErrBinary, []string{"NUL byte at byte offset 0"}},
		{"controls.txt", controls, ErrBinary, []string{"60 of its 100 bytes are control characters"}},
		{"utf16.txt", []byte("\xFF\xFEh\x00i\x00"), ErrBinary, []string{"UTF-16LE"}},
		{"latin1.txt", []byte("first line\nna\xEFve caf\xE9\n"), ErrInvalidUTF8,
			[]string{"latin1.txt", "byte 0xEF at byte offset 13", "line 2, column 3"}},
		{"bom-latin1.txt", []byte("\xEF\xBB\xBFab\xFF"), ErrInvalidUTF8, []string{"byte offset 5", "line 1, column 3"}},
	}
	for _, c := range cases {
		path := writeFile(t, dir, c.name, c.data)
		_, err := LoadFile(path)
		if !errors.Is(err, c.wantErr) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.wantErr)
			continue
		}
		for _, msg := range c.wantMsg {
			if !strings.Contains(err.Error(), msg) {
				t.Errorf("%s: error %q lacks %q", c.name, err, msg)
			}
		}
	}
	missing := filepath.Join(dir, "nope.txt")
	if _, err := LoadFile(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file error %v", err)
	}
	if _, err := LoadFile(dir); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("LoadFile(folder) error %v", err)
	}
}

func TestFromBytesKeepsOrdinaryControls(t *testing.T) {
	text, err := FromBytes("stdin", []byte("\tindented\f\x1b[1mbold\x1b[0m\n"))
	if err != nil || text != "\tindented\f\x1b[1mbold\x1b[0m\n" {
		t.Errorf("FromBytes = %q, %v", text, err)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b.txt", []byte("second\n"))
	writeFile(t, dir, "a.txt", []byte("first"))
	writeFile(t, dir, "c.md", []byte("third 苹果\r\n"))
	writeFile(t, dir, ".hidden", []byte("never read"))
	writeFile(t, dir, "empty.txt", nil)
	writeFile(t, dir, "logo.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub"), "d.txt", []byte("nested"))
	if err := os.Symlink(filepath.Join(dir, "sub", "d.txt"), filepath.Join(dir, "e-link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone.txt"), filepath.Join(dir, "f-dangling.txt")); err != nil {
		t.Fatal(err)
	}

	corpus, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "first\nsecond\n\nthird 苹果\n\nnested"; corpus.Text != want {
		t.Errorf("text %q, want %q", corpus.Text, want)
	}
	wantFiles := []string{filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt"), filepath.Join(dir, "c.md"),
		filepath.Join(dir, "e-link.txt")}
	if !slices.Equal(corpus.Files, wantFiles) {
		t.Errorf("files %q, want %q", corpus.Files, wantFiles)
	}
	skipped := strings.Join(corpus.Skipped, "\n")
	for _, want := range []string{"empty.txt", "logo.png", "sub", "f-dangling.txt"} {
		if !strings.Contains(skipped, want) {
			t.Errorf("skipped %q lacks %s", corpus.Skipped, want)
		}
	}
	if strings.Contains(skipped, ".hidden") || strings.Contains(corpus.Text, "never read") {
		t.Error("hidden file was considered")
	}
}

func TestLoadDirErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "empty.txt", nil)
	writeFile(t, dir, "data.bin", []byte{0, 1, 2})
	_, err := LoadDir(dir)
	if !errors.Is(err, ErrEmpty) || !strings.Contains(err.Error(), "data.bin") || !strings.Contains(err.Error(), "empty.txt") {
		t.Errorf("folder with no text: error %v", err)
	}
	if _, err := LoadDir(t.TempDir()); !errors.Is(err, ErrEmpty) || !strings.Contains(err.Error(), "no files") {
		t.Errorf("empty folder: error %v", err)
	}
	writeFile(t, dir, "bad.txt", []byte("caf\xE9"))
	if _, err := LoadDir(dir); !errors.Is(err, ErrInvalidUTF8) || !strings.Contains(err.Error(), "bad.txt") {
		t.Errorf("folder with invalid UTF-8: error %v", err)
	}
	if _, err := LoadDir(filepath.Join(dir, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing folder: error %v", err)
	}
}

func TestLoadDispatch(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "one.txt", []byte("just a file"))
	if c, err := Load(file, ""); err != nil || c.Text != "just a file" {
		t.Errorf("Load(file) = %+v, %v", c, err)
	}
	if c, err := Load(dir, ""); err != nil || c.Text != "just a file" || c.Source != dir {
		t.Errorf("Load(folder) = %+v, %v", c, err)
	}
	if _, err := Load(filepath.Join(dir, "typo.txt"), ""); !errors.Is(err, fs.ErrNotExist) ||
		!strings.Contains(err.Error(), "typo.txt") || !strings.Contains(err.Error(), MobyDickName) {
		t.Errorf("Load(missing) error %v", err)
	}
	if _, err := Load("", ""); err == nil {
		t.Error("Load(\"\") succeeded")
	}
	// The built-in name uses an already fetched book in the data folder (no npm needed).
	dataDir := t.TempDir()
	writeFile(t, dataDir, MobyDickFile, []byte("Call me Ishmael.\r\n"))
	c, err := Load(MobyDickName, dataDir)
	if err != nil || c.Text != "Call me Ishmael.\n" || c.Source != MobyDickName {
		t.Errorf("Load(moby-dick) = %+v, %v", c, err)
	}
}
