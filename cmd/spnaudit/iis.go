package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/config"
	"github.com/spnaudit/spnaudit/iisconfig"
	"github.com/spnaudit/spnaudit/inventory"
)

func newIISCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "iis",
		Short: "Read IIS configuration files: derive the farms, check them against the directory",
		Long: `IIS configuration (applicationHost.config of each node, web.config files, and the output of
appcmd list config ... /xml) says which SPNs the directory must hold. 'spnaudit iis import'
turns it into the farms: entries that plan and farm-drift use; 'spnaudit scan --iis' and
serve with iis.config_files run the IIS rules (see docs/rules.md).

Files: NODE=FILE names the node of an applicationHost.config or appcmd output (default:
the name of the file's directory); a web.config is NODE/SITE[/APP]=FILE, or is placed by
its directory name when exactly one application's physicalPath ends with it. An app
pool's password attribute is never read.`,
		Example: `  # The farms: block the nodes' IIS configuration describes
  spnaudit iis import svexpgg310=ah310.config svexpgg311=ah311.config svexpgg312=ah312.config

  # The IIS rules, with the directory
  spnaudit scan --config spnaudit.yaml --iis svexpgg310=ah310.config,svexpgg311=ah311.config`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRun,
	}
	c.AddCommand(newIISImportCmd(a))
	return c
}

func newIISImportCmd(a *app) *cobra.Command {
	var write, dnsSuffix string
	c := &cobra.Command{
		Use:   "import FILE...",
		Short: "Print the farms: block that IIS configuration files describe",
		Long: `Reads the IIS configuration files of a farm's nodes and prints the farms: entries for the
configuration: one per site that two or more nodes serve under a shared host header, with
that header as vip (and its DNS suffix as dns_suffix), the nodes, HTTP as class, the
application pool's identity as account, and the ports of bindings other than 80 and 443.
Sites that make no farm (one node, or pools under different or machine identities) are
named in comments.

With --write CONFIG the entries are merged into that file instead: an entry with the same
name is replaced, comments and every other key are kept, and the file is replaced
atomically.`,
		Example: `  # Copy each node's %windir%\system32\inetsrv\config\applicationHost.config, then
  spnaudit iis import svexpgg310=ah310.config svexpgg311=ah311.config svexpgg312=ah312.config

  # Directories named after the nodes name them
  spnaudit iis import iis/*/applicationHost.config --write /etc/spnaudit/spnaudit.yaml`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			sites, err := iisconfig.Load(iisconfig.ParseArgs(args))
			if err != nil {
				return err
			}
			farms, notes := audit.FarmsFromIIS(sites, dnsSuffix)
			for i, f := range farms {
				if err := f.Validate(); err != nil {
					return fmt.Errorf("farm %d from IIS: %w", i, err)
				}
			}
			if write == "" {
				out, err := config.FarmsYAML(farms, notes)
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(out)
				return err
			}
			for _, n := range notes {
				fmt.Fprintf(a.stderr, "spnaudit: note: %s\n", n)
			}
			if len(farms) == 0 {
				return fmt.Errorf("the IIS files describe no farm; %s unchanged", write)
			}
			if err := config.WriteFarms(write, farms); err != nil {
				return err
			}
			if !a.quiet {
				fmt.Fprintf(a.stderr, "spnaudit: wrote %d farm(s) to %s; check it with 'spnaudit config check --config %s'\n", len(farms), write, write)
			}
			return nil
		},
	}
	c.Flags().StringVar(&write, "write", "", "merge the farms into this configuration `file` instead of printing them")
	c.Flags().StringVar(&dnsSuffix, "dns-suffix", "", "DNS `suffix` of NetBIOS host headers, when no binding gives it")
	return c
}

// loadIIS reads the IIS configuration files of scan --iis, else of
// iis.config_files; nil when neither names any.
func loadIIS(flagFiles []string, cfg *config.Config) ([]inventory.IISSite, error) {
	files := flagFiles
	if len(files) == 0 {
		files = cfg.IIS.ConfigFiles
	}
	if len(files) == 0 {
		return nil, nil
	}
	return iisconfig.Load(iisconfig.ParseArgs(files))
}

// withIISFarms returns the configured farms and, after them, the farms the
// IIS sites describe (audit.FarmsFromIIS, as 'spnaudit iis import' prints
// them) that no configured farm already names: farm-drift then checks a farm
// read from iis.config_files or --iis as if it had been imported, and the
// landing page draws it. An imported farm that would declare an SPN for a
// different account than a configured farm is left out: the configuration
// wins.
func withIISFarms(configured []audit.Farm, sites []inventory.IISSite) []audit.Farm {
	if len(sites) == 0 {
		return configured
	}
	farms := slices.Clone(configured)
	imported, _ := audit.FarmsFromIIS(sites, "")
	for _, f := range imported {
		if slices.ContainsFunc(farms, func(c audit.Farm) bool { return strings.EqualFold(c.Name, f.Name) }) {
			continue
		}
		if (audit.Config{Farms: append(slices.Clip(farms), f)}).Validate() == nil {
			farms = append(farms, f)
		}
	}
	return farms
}
