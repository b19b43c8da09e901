package main

import (
	"fmt"
	"runtime/debug"

	"github.com/prometheus/common/version"
	"github.com/spf13/cobra"
)

// The version is set at build time, for this command and the
// spnaudit_build_info metric alike:
//
//	go build -ldflags "-X github.com/prometheus/common/version.Version=1.0.0
//	  -X github.com/prometheus/common/version.Revision=$(git rev-parse HEAD)" ./cmd/spnaudit
//
// Without -X, the revision comes from the VCS stamp of the build (see
// version.GetRevision) and fillVersion takes the module version from the
// build info (set by go install module@version).
func fillVersion() {
	if version.Version != "" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		version.Version = bi.Main.Version
	}
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version, revision and Go version",
		Example: `  spnaudit version`,
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			v := version.Version
			if v == "" {
				v = "unknown"
			}
			_, err := fmt.Fprintf(a.stdout, "spnaudit version %s\n  revision:   %s\n  go version: %s\n  platform:   %s/%s\n",
				v, version.GetRevision(), version.GoVersion, version.GoOS, version.GoArch)
			return err
		},
	}
}
