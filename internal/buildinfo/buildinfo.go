// Package buildinfo reads what the Go toolchain stamped into the running binary (runtime/debug): module
// version, version-control commit, Go version, build settings.
package buildinfo

import "runtime/debug"

// Info is the running binary's build information. Commit, CommitTime and Dirty come from the version
// control stamp (go build in a git checkout with -buildvcs=auto or true); they are empty when the binary
// was built without it (-buildvcs=false, go test, go run outside a checkout).
type Info struct {
	Version      string // module version: a release tag, or "(devel)" for a checkout
	Commit       string // vcs.revision
	CommitTime   string // vcs.time
	Dirty        *bool  // vcs.modified; nil when unknown
	GoVersion    string
	GOEXPERIMENT string
	Tags         string // -tags
}

// Read returns the running binary's build information (ok false when it has none).
func Read() (Info, bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{}, false
	}
	return FromBuildInfo(bi), true
}

// FromBuildInfo extracts Info from bi.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.CommitTime = s.Value
		case "vcs.modified":
			dirty := s.Value == "true"
			info.Dirty = &dirty
		case "GOEXPERIMENT":
			info.GOEXPERIMENT = s.Value
		case "-tags":
			info.Tags = s.Value
		}
	}
	return info
}

// CodeVersion is the commit the binary was built from, with "-dirty" appended when the checkout had
// uncommitted changes; "" when the binary carries no commit.
func (i Info) CodeVersion() string {
	if i.Commit == "" {
		return ""
	}
	if i.Dirty != nil && *i.Dirty {
		return i.Commit + "-dirty"
	}
	return i.Commit
}
