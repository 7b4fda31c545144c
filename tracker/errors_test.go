package tracker

import (
	"errors"
	"testing"
)

func TestErrorsAreDistinct(t *testing.T) {
	all := []error{ErrSchemaTooNew, ErrNotTracker, ErrRunNotFound, ErrRunClosed, ErrParamChanged, ErrRunActive, ErrClosed}
	for i, a := range all {
		if a.Error() == "" {
			t.Errorf("error %d has no message", i)
		}
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Errorf("%v matches %v", a, b)
			}
		}
	}
}
