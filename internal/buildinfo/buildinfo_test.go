package buildinfo

import (
	"runtime/debug"
	"testing"
)

// TestCodeVersion: the commit with -dirty for a modified checkout, the bare commit for a clean one, ""
// without a version control stamp; the other settings are read too.
func TestCodeVersion(t *testing.T) {
	stamp := func(modified string) *debug.BuildInfo {
		bi := &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "GOEXPERIMENT", Value: "simd"}, {Key: "vcs.revision", Value: "0123abcd"},
				{Key: "vcs.time", Value: "2026-11-30T00:00:00Z"}}}
		if modified != "" {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: "vcs.modified", Value: modified})
		}
		return bi
	}
	for modified, want := range map[string]string{"true": "0123abcd-dirty", "false": "0123abcd", "": "0123abcd"} {
		info := FromBuildInfo(stamp(modified))
		if got := info.CodeVersion(); got != want || info.GOEXPERIMENT != "simd" || info.GoVersion != "go1.27.3" || info.CommitTime == "" {
			t.Errorf("vcs.modified %q: %q (%+v), want %q", modified, got, info, want)
		}
	}
	if got := FromBuildInfo(&debug.BuildInfo{}).CodeVersion(); got != "" {
		t.Errorf("no stamp: %q, want empty", got)
	}
}
