package nb

// Must returns v, or stops the cell with err. A notebook cell is a short program whose only sensible
// reaction to an error is to stop and show it; the checker reports the cell as failed.
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// Check stops the cell with err when it is not nil.
func Check(err error) {
	if err != nil {
		panic(err)
	}
}

// Must2 is Must for functions that return two values and an error.
func Must2[A, B any](a A, b B, err error) (A, B) {
	Check(err)
	return a, b
}
