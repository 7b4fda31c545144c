// Package safetensors reads and writes the safetensors format (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte range,
// free-form string metadata, then the raw little-endian tensor bytes.
//
// It is written here because the format is ~100 lines and the only Go package for it reads but does not
// write. Writes go through a temporary file and a rename, so a crash mid-save never leaves a file that
// loads wrong; reads validate every offset, so a truncated or corrupt file is a clear error.
package safetensors

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/lstmlab/lstmlab/internal/atomicfile"
)

// Tensor is one named array: dtype as safetensors spells it ("F32", "I64", ...), shape, and raw
// little-endian bytes.
type Tensor struct {
	DType string
	Shape []int
	Data  []byte
}

// File is the content of a safetensors file.
type File struct {
	Metadata map[string]string
	Tensors  map[string]Tensor
}

// DTypeSize returns the byte size of one element of a safetensors dtype, or 0 if unknown.
func DTypeSize(dtype string) int {
	switch dtype {
	case "F64", "I64", "U64":
		return 8
	case "F32", "I32", "U32":
		return 4
	case "F16", "BF16", "I16", "U16":
		return 2
	case "I8", "U8", "BOOL":
		return 1
	}
	return 0
}

// ErrCorrupt is wrapped by every error about a file's content (as opposed to I/O errors).
var ErrCorrupt = errors.New("corrupt safetensors file")

// maxHeader bounds the JSON header (the reference implementation uses 100 MB).
const maxHeader = 100 << 20

type headerEntry struct {
	DType       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

// Encode serialises f. Tensors are laid out in name order so equal content gives equal bytes.
func Encode(f *File) ([]byte, error) {
	names := make([]string, 0, len(f.Tensors))
	for name := range f.Tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	header := map[string]any{}
	if len(f.Metadata) > 0 {
		header["__metadata__"] = f.Metadata
	}
	offset := 0
	for _, name := range names {
		t := f.Tensors[name]
		if err := checkTensor(name, t); err != nil {
			return nil, err
		}
		header[name] = headerEntry{DType: t.DType, Shape: t.Shape, DataOffsets: [2]int{offset, offset + len(t.Data)}}
		offset += len(t.Data)
	}
	h, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("encode safetensors header: %w", err)
	}
	// Pad the header with spaces to 8 bytes so the data starts aligned (as the reference writer does).
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	var buf bytes.Buffer
	buf.Grow(8 + len(h) + offset)
	_ = binary.Write(&buf, binary.LittleEndian, uint64(len(h)))
	buf.Write(h)
	for _, name := range names {
		buf.Write(f.Tensors[name].Data)
	}
	return buf.Bytes(), nil
}

func checkTensor(name string, t Tensor) error {
	size := DTypeSize(t.DType)
	if size == 0 {
		return fmt.Errorf("tensor %q: unknown dtype %q", name, t.DType)
	}
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("tensor %q: negative dimension in shape %v", name, t.Shape)
		}
		n *= d
	}
	if n*size != len(t.Data) {
		return fmt.Errorf("tensor %q: shape %v of %s needs %d bytes, has %d", name, t.Shape, t.DType, n*size, len(t.Data))
	}
	return nil
}

// Decode parses a safetensors file held in memory, validating the header and every byte range.
func Decode(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the 8-byte header length", ErrCorrupt, len(data))
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > maxHeader || n > uint64(len(data)-8) {
		return nil, fmt.Errorf("%w: header length %d does not fit in a %d-byte file (truncated?)", ErrCorrupt, n, len(data))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("%w: header is not valid JSON: %v", ErrCorrupt, err)
	}
	body := data[8+n:]
	f := &File{Metadata: map[string]string{}, Tensors: map[string]Tensor{}}
	covered := 0
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("%w: metadata must map strings to strings: %v", ErrCorrupt, err)
			}
			continue
		}
		var e headerEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrCorrupt, name, err)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin || end > len(body) {
			return nil, fmt.Errorf("%w: tensor %q: bytes [%d, %d) outside the %d-byte data section (truncated?)", ErrCorrupt, name, begin, end, len(body))
		}
		t := Tensor{DType: e.DType, Shape: e.Shape, Data: body[begin:end]}
		if err := checkTensor(name, t); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		f.Tensors[name] = t
		covered += end - begin
	}
	if covered != len(body) {
		return nil, fmt.Errorf("%w: tensors cover %d of %d data bytes", ErrCorrupt, covered, len(body))
	}
	return f, nil
}

// WriteFile writes f to path atomically (package internal/atomicfile: temporary file in the same folder,
// fsync, rename, fsync of the folder; mode 0644 under the umask). A reader sees either the old file or
// the complete new one.
func WriteFile(path string, f *File) error {
	data, err := Encode(f)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data)
}

// ReadFile reads and decodes the safetensors file at path.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer fh.Close()
	data, err := io.ReadAll(fh)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return f, nil
}

// Checksum returns the hex SHA-256 of all tensors' names, dtypes, shapes and bytes, in name order. It is
// stored in metadata by writers that want to detect bit rot that leaves the structure valid.
func Checksum(tensors map[string]Tensor) string {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		t := tensors[name]
		fmt.Fprintf(h, "%s|%s|%v|", name, t.DType, t.Shape)
		h.Write(t.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}
