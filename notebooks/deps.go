//go:build notebooks

// Package notebooks holds no code: this file records in lstmlab's go.mod the modules the notebooks import
// that lstmlab's own packages do not. GoNB builds every cell in a module that requires lstmlab (the
// notebooks' first cell), so these resolve to the versions pinned here; without a pin the go command would
// look up the latest version, which the module proxy here refuses. `go mod tidy` keeps requirements of files
// behind any build tag; the tag keeps this file out of every build.
package notebooks

import _ "github.com/janpfeifer/gonb/gonbui" // rich output: DisplayPng, DisplayHTML, DisplayMarkdown
