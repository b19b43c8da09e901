package config

import (
	"fmt"

	"github.com/spnaudit/spnaudit/iisconfig"
)

// validateIIS checks that every iis.config_files entry names a readable
// file; their content is read (and its errors reported with file and line)
// when the IIS rules run.
func validateIIS(c *IIS, ps *problems) {
	for i, arg := range c.ConfigFiles {
		key := fmt.Sprintf("iis.config_files[%d]", i)
		in := iisconfig.ParseArg(arg)
		if in.Path == "" {
			ps.add(key, "empty; give a file, NODE=FILE or NODE/SITE[/APP]=FILE")
			continue
		}
		checkFile(key, in.Path, ps)
	}
}
