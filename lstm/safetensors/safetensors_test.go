package safetensors

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func f32Bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func sample() *File {
	return &File{
		Metadata: map[string]string{"format": "test", "vocab": `["a","b"]`},
		Tensors: map[string]Tensor{
			"w":    {DType: "F32", Shape: []int{2, 3}, Data: f32Bytes(1, 2, 3, 4, 5, 6)},
			"bias": {DType: "F32", Shape: []int{3}, Data: f32Bytes(-1, 0, 1)},
			"step": {DType: "I64", Shape: []int{}, Data: []byte{7, 0, 0, 0, 0, 0, 0, 0}},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := WriteFile(path, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata["vocab"] != `["a","b"]` || got.Metadata["format"] != "test" {
		t.Errorf("metadata = %v", got.Metadata)
	}
	want := sample()
	for name, w := range want.Tensors {
		g, ok := got.Tensors[name]
		if !ok || g.DType != w.DType || string(g.Data) != string(w.Data) || len(g.Shape) != len(w.Shape) {
			t.Errorf("tensor %s: got %+v, want %+v", name, g, w)
		}
	}
	if Checksum(got.Tensors) != Checksum(want.Tensors) {
		t.Error("checksum changed across a round trip")
	}
	// The header must be 8-byte aligned, as the reference implementation writes it.
	raw, _ := os.ReadFile(path)
	if n := binary.LittleEndian.Uint64(raw[:8]); n%8 != 0 {
		t.Errorf("header length %d not 8-byte aligned", n)
	}
}

func TestTruncatedAndCorruptFilesAreRejected(t *testing.T) {
	data, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{0, 5, 8, 20, len(data) / 2, len(data) - 1} {
		if _, err := Decode(data[:cut]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d bytes: err = %v, want ErrCorrupt", cut, err)
		}
	}
	garbage := append([]byte{}, data...)
	copy(garbage[8:], "not json at all")
	if _, err := Decode(garbage); !errors.Is(err, ErrCorrupt) {
		t.Errorf("garbage header: err = %v", err)
	}
	if _, err := Decode(append(append([]byte{}, data...), 1, 2, 3)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("trailing bytes: err = %v", err)
	}
}

func TestEncodeRejectsInconsistentTensor(t *testing.T) {
	_, err := Encode(&File{Tensors: map[string]Tensor{"x": {DType: "F32", Shape: []int{3}, Data: f32Bytes(1)}}})
	if err == nil {
		t.Fatal("want an error for a shape that does not match the data")
	}
	_, err = Encode(&File{Tensors: map[string]Tensor{"x": {DType: "Q7", Shape: []int{1}, Data: []byte{1}}}})
	if err == nil {
		t.Fatal("want an error for an unknown dtype")
	}
}

func TestWriteIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := WriteFile(path, sample()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	// A write that fails (inconsistent tensor) must leave the old file intact and no temporary behind.
	bad := &File{Tensors: map[string]Tensor{"x": {DType: "F32", Shape: []int{2}, Data: f32Bytes(1)}}}
	if err := WriteFile(path, bad); err == nil {
		t.Fatal("want an error")
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("failed write changed the existing file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries, want only the file", len(entries))
	}
}
