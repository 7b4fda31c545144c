package text

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Errors wrapped by corpus loading, so callers can tell the cases apart with errors.Is.
var (
	// ErrEmpty: a file or folder holds no text (nothing, or only whitespace).
	ErrEmpty = errors.New("empty corpus")
	// ErrBinary: a file looks binary (NUL bytes, many control bytes) or is UTF-16/UTF-32 encoded.
	ErrBinary = errors.New("not a text file")
	// ErrInvalidUTF8: a file has bytes that are not UTF-8.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
)

// DefaultDataDir is where [Load] keeps downloaded corpora when it is given no data folder.
const DefaultDataDir = "data"

// Corpus is loaded training text and where it came from (worth recording with an experiment).
type Corpus struct {
	// Source is what was asked for: a file, a folder, or a built-in corpus name such as [MobyDickName].
	Source string
	// Files are the files read, in the order their text was concatenated.
	Files []string
	// Skipped lists files of a folder that were left out, each as "path: reason".
	Skipped []string
	// Text is the UTF-8 text with LF line endings and no byte-order mark.
	Text string
}

// Load loads a corpus given as a file, a folder of text files, or the name [MobyDickName] (fetched into dataDir by
// [FetchMobyDick] on first use; "" means [DefaultDataDir]). An existing file or folder wins over the name.
func Load(pathOrName, dataDir string) (*Corpus, error) {
	if pathOrName == "" {
		return nil, fmt.Errorf("load corpus: no file, folder or corpus name given")
	}
	info, err := os.Stat(pathOrName)
	switch {
	case err == nil && info.IsDir():
		return LoadDir(pathOrName)
	case err == nil:
		return LoadFile(pathOrName)
	case pathOrName == MobyDickName:
		if dataDir == "" {
			dataDir = DefaultDataDir
		}
		path, err := FetchMobyDick(dataDir)
		if err != nil {
			return nil, fmt.Errorf("load corpus %s: %w", pathOrName, err)
		}
		corpus, err := LoadFile(path)
		if err != nil {
			return nil, fmt.Errorf("load corpus %s: %w", pathOrName, err)
		}
		corpus.Source = pathOrName
		return corpus, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("load corpus: %q is neither an existing file or folder nor a built-in corpus (%s): %w",
			pathOrName, MobyDickName, fs.ErrNotExist)
	default:
		return nil, fmt.Errorf("load corpus: %w", err)
	}
}

// LoadFile reads one UTF-8 text file (see [FromBytes] for the checks and normalisation).
func LoadFile(path string) (*Corpus, error) {
	text, err := readTextFile(path)
	if err != nil {
		return nil, err
	}
	return &Corpus{Source: path, Files: []string{path}, Text: text}, nil
}

func readTextFile(path string) (string, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("corpus file %s does not exist: %w", path, fs.ErrNotExist)
	}
	if err != nil {
		return "", fmt.Errorf("corpus file: %w", err)
	}
	if info.IsDir() {
		return "", fmt.Errorf("corpus file %s is a folder: load it as a folder of text files instead", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("corpus file: %w", err)
	}
	return FromBytes(path, data)
}

// LoadDir reads the text files directly inside a folder, in name order, joined with "\n". Hidden files (names
// starting with "."), sub-folders, non-regular files (symbolic links are followed), binary files and empty files are skipped and listed in
// [Corpus.Skipped]; a file with invalid UTF-8 is an error (it is text, and dropping it silently would lose
// data). A folder with no text at all is an error wrapping [ErrEmpty].
func LoadDir(path string) (*Corpus, error) {
	entries, err := os.ReadDir(path) // sorted by name
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("corpus folder %s does not exist: %w", path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("corpus folder: %w", err)
	}
	corpus := &Corpus{Source: path}
	var texts []string
	for _, entry := range entries {
		file := filepath.Join(path, entry.Name())
		if strings.HasPrefix(entry.Name(), ".") {
			continue // hidden files (.DS_Store, editor swap files) are never corpus text
		}
		info, err := os.Stat(file) // follows symbolic links, so a linked text file counts
		switch {
		case err != nil:
			corpus.Skipped = append(corpus.Skipped, fmt.Sprintf("%s: %v", file, err))
			continue
		case info.IsDir():
			corpus.Skipped = append(corpus.Skipped, file+": folder (sub-folders are not read)")
			continue
		case !info.Mode().IsRegular():
			corpus.Skipped = append(corpus.Skipped, file+": not a regular file")
			continue
		}
		text, err := readTextFile(file)
		if errors.Is(err, ErrBinary) || errors.Is(err, ErrEmpty) {
			corpus.Skipped = append(corpus.Skipped, fmt.Sprintf("%s: %v", file, err))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("corpus folder %s: %w", path, err)
		}
		corpus.Files = append(corpus.Files, file)
		texts = append(texts, text)
	}
	if len(texts) == 0 {
		detail := "it has no files"
		if len(corpus.Skipped) > 0 {
			detail = "skipped " + strings.Join(corpus.Skipped, "; ")
		}
		return nil, fmt.Errorf("corpus folder %s: %w: no non-empty text files (%s)", path, ErrEmpty, detail)
	}
	corpus.Text = strings.Join(texts, "\n")
	return corpus, nil
}

// FromBytes checks that data is usable text and normalises it. source names the data in errors (a path, "stdin").
//
// Checks, each a clear error: no text at all or only whitespace ([ErrEmpty]); a UTF-16/UTF-32 byte-order mark,
// a NUL byte, or more than 10% control bytes ([ErrBinary]); bytes that are not UTF-8 ([ErrInvalidUTF8], with the
// byte offset, line and column). Normalisation: a UTF-8 byte-order mark is removed, CRLF and lone CR become LF.
func FromBytes(source string, data []byte) (string, error) {
	for _, bom := range []struct {
		prefix []byte
		name   string
	}{ // UTF-32 first: its little-endian mark starts with UTF-16's.
		{[]byte{0xFF, 0xFE, 0, 0}, "UTF-32LE"}, {[]byte{0, 0, 0xFE, 0xFF}, "UTF-32BE"},
		{[]byte{0xFF, 0xFE}, "UTF-16LE"}, {[]byte{0xFE, 0xFF}, "UTF-16BE"},
	} {
		if bytes.HasPrefix(data, bom.prefix) {
			return "", fmt.Errorf("%s: %w: it is %s encoded; convert it to UTF-8 (e.g. iconv -f %s -t UTF-8)",
				source, ErrBinary, bom.name, bom.name)
		}
	}
	offset := 0 // where data starts in the file, so that reported offsets are file offsets
	if bom := []byte{0xEF, 0xBB, 0xBF}; bytes.HasPrefix(data, bom) {
		data, offset = data[len(bom):], len(bom)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return "", fmt.Errorf("%s: %w: the file has no text (%d bytes)", source, ErrEmpty, len(data)+offset)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return "", fmt.Errorf("%s: %w: NUL byte at byte offset %d, so it looks binary", source, ErrBinary, i+offset)
	}
	if n := countControlBytes(data); n*10 > len(data) {
		return "", fmt.Errorf("%s: %w: %d of its %d bytes are control characters, so it looks binary",
			source, ErrBinary, n, len(data))
	}
	if i, ok := firstInvalidUTF8(string(data)); !ok {
		line := 1 + bytes.Count(data[:i], []byte("\n"))
		column := 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:i], '\n')+1:i])
		return "", fmt.Errorf("%s: %w: byte 0x%02X at byte offset %d (line %d, column %d); re-encode the file as "+
			"UTF-8 (e.g. iconv -f latin1 -t UTF-8)", source, ErrInvalidUTF8, data[i], i+offset, line, column)
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	return strings.ReplaceAll(text, "\r", "\n"), nil
}

// countControlBytes counts C0 control bytes and DEL, except the ones ordinary text uses (tab, LF, VT, FF, CR, ESC).
func countControlBytes(data []byte) int {
	n := 0
	for _, c := range data {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' && c != 0x1B) || c == 0x7F {
			n++
		}
	}
	return n
}

// firstInvalidUTF8 returns the byte offset of the first byte of s that is not valid UTF-8, and false; or 0, true.
func firstInvalidUTF8(s string) (int, bool) {
	if utf8.ValidString(s) {
		return 0, true
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return i, false
		}
		i += size
	}
	return 0, true // not reached: ValidString said there is an invalid byte
}
