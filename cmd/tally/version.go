package main

import (
	"fmt"
	"runtime"

	"github.com/tallyhq/tally/internal/buildinfo"
)

// version describes this binary from its build information: the module's
// version ("(devel)" for a build from a checkout), the commit it was built
// from, marked when the tree had changes, and the Go toolchain.
func version() string {
	info := buildinfo.Read()
	if info.Version == "" {
		return fmt.Sprintf("tally (no build information) %s %s/%s", info.GoVersion, runtime.GOOS, runtime.GOARCH)
	}
	v := "tally " + info.Version
	if rev := info.Revision; rev != "" {
		v += " commit " + rev[:min(12, len(rev))]
		if info.Modified {
			v += " (modified)"
		}
		if info.Time != "" {
			v += " " + info.Time
		}
	}
	return fmt.Sprintf("%s %s %s/%s", v, info.GoVersion, runtime.GOOS, runtime.GOARCH)
}
