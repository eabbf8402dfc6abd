// Package buildinfo reads what the Go toolchain recorded about this binary,
// for `tally --version` and the tally_build_info metric.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info is the binary's build information. A field the build did not record
// is empty.
type Info struct {
	Version   string // the main module's version: "(devel)" for a build from a checkout
	Revision  string // the VCS commit
	Modified  bool   // the tree had changes the commit does not hold
	Time      string // the commit's time, RFC 3339
	GoVersion string // the toolchain; runtime.Version() when nothing was recorded
}

// Read returns the running binary's build information.
func Read() Info {
	i := Info{GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	i.Version, i.GoVersion = bi.Main.Version, bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		case "vcs.time":
			i.Time = s.Value
		}
	}
	return i
}
