package main

import (
	"os"

	"golang.org/x/term"
)

// terminalWidth is the width in columns of w when it is a terminal, else def.
func terminalWidth(w any, def int) int {
	if fd, ok := terminal(w); ok {
		if cols, _, err := term.GetSize(fd); err == nil && cols > 0 {
			return cols
		}
	}
	return def
}

// terminal returns the file descriptor of w when w is a terminal.
func terminal(w any) (int, bool) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}
