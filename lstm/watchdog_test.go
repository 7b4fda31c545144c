package lstm

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestWatchdogTurnsAStallIntoAnError checks the watchdog every executable call goes through: a call that
// never returns becomes ErrStalled, a panic becomes an error, and calls after a stall still run (the
// stalled goroutine is not handed out again).
func TestWatchdogTurnsAStallIntoAnError(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	_, err := callWithTimeout("stuck step", 50*time.Millisecond, func() ([]*tensors.Tensor, error) {
		<-release
		return nil, nil
	})
	if !errors.Is(err, ErrStalled) || !strings.Contains(err.Error(), "stuck step") {
		t.Fatalf("a call that never returns gave %v, want ErrStalled naming the call", err)
	}
	_, err = callWithTimeout("panicking step", time.Minute, func() ([]*tensors.Tensor, error) { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "panicking step: boom") {
		t.Fatalf("a panicking call gave %v, want an error with the panic", err)
	}
	for i := range 3 {
		out, err := callWithTimeout("next step", 10*time.Second, func() ([]*tensors.Tensor, error) {
			return []*tensors.Tensor{tensors.FromValue(float32(i))}, nil
		})
		if err != nil || len(out) != 1 || out[0].Value().(float32) != float32(i) {
			t.Fatalf("call %d after the stall: %v, %v", i, out, err)
		}
	}
}
