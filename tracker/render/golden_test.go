package render

import (
	"os"
	"testing"
	"time"

	"github.com/lstmlab/lstmlab/internal/goldenfile"
)

func TestMain(m *testing.M) {
	// Times in CSV and JSON carry the zone: fix it so the golden files hold
	// on any machine.
	time.Local = time.UTC
	os.Exit(m.Run())
}

// golden compares got with testdata/name, or rewrites it with -update (go test ./tracker/render -update).
func golden(t *testing.T, name string, got []byte) { goldenfile.Check(t, name, got) }
