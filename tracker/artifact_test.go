package tracker

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLogArtifactTwiceUpdates(t *testing.T) {
	db := openTemp(t, Options{})
	r := startRun(t, db, RunSpec{})
	path := filepath.Join(t.TempDir(), "last.ckpt")
	must(t, os.WriteFile(path, []byte("epoch 1"), 0o644))
	first, err := r.LogArtifact(ArtifactCheckpoint, path)
	must(t, err)
	must(t, os.WriteFile(path, []byte("epoch 2 weights"), 0o644))
	second, err := r.LogArtifact(ArtifactCheckpoint, path)
	must(t, err)
	arts, err := db.Artifacts(ctx, r.ID())
	must(t, err)
	if len(arts) != 1 || second.ID != first.ID || arts[0].SHA256 == first.SHA256 || arts[0].Size != 15 {
		t.Errorf("after re-logging: %+v (first %+v)", arts, first)
	}
	if err := r.Finish(StatusFinished); err != nil {
		t.Fatal(err)
	}
	if _, err := r.LogArtifact(ArtifactCheckpoint, path); err == nil {
		t.Error("artifact logged after Finish")
	}
	if _, err := r.LogArtifact("", path); err == nil {
		t.Error("empty kind accepted")
	}
}

func TestHashFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	must(t, os.WriteFile(path, []byte("abc"), 0o644))
	sum, size, err := hashFile(path)
	must(t, err)
	// SHA-256 of "abc" from FIPS 180-2, appendix B.1.
	if sum != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" || size != 3 {
		t.Errorf("hashFile = %s %d", sum, size)
	}
}
