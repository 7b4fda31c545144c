// Package testenv says what the tests' environment allows: in CI ($CI or $LSTMLAB_CI set, as
// scripts/test.sh does) a test whose real parts are missing (a FastTrackML binary, Chromium, permission to
// mount a file system) fails; run by hand it is skipped, loudly.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// InCI reports whether the tests run in CI, where a missing real part is a failure rather than a reason
// to skip.
func InCI() bool { return os.Getenv("CI") != "" || os.Getenv("LSTMLAB_CI") != "" }

// Missing fails the test in CI and otherwise skips it with a line on stderr ("SKIPPED, NOT TESTED"), so
// that a skip is never mistaken for a pass. what names the missing part, how says how to get it.
func Missing(t testing.TB, what, how string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is missing: %s", what, how)
	}
	msg := fmt.Sprintf("SKIPPED, NOT TESTED: %s: %s is missing (%s)", t.Name(), what, how)
	fmt.Fprintln(os.Stderr, msg)
	t.Skip(msg)
}
