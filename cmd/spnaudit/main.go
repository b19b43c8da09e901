// Command spnaudit audits the servicePrincipalName attributes of an Active
// Directory forest. This package only wires flags and configuration to the
// other packages; each command lives in its own file.
package main

import (
	"os"

	"github.com/mattn/go-isatty"
)

func main() {
	fillVersion()
	a := &app{stdout: os.Stdout, stderr: os.Stderr, isTerminal: isTerminal}
	os.Exit(a.run(os.Args[1:]))
}

// isTerminal reports whether w is a terminal (or a Cygwin/MSYS pty).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
