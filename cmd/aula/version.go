package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version prints the release (or the VCS revision the binary was built
// from) and the Go version, for bug reports and upgrade checks.
func version(w io.Writer) error {
	v := buildVersion
	var rev, modified string
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "+dirty"
				}
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	fmt.Fprintf(w, "aula %s", v)
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		fmt.Fprintf(w, " (%s%s)", rev, modified)
	}
	fmt.Fprintf(w, " %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
