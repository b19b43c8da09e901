package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/spnaudit/spnaudit/lab"
	"github.com/spnaudit/spnaudit/ldapscan"
)

// The lab's OU=Bulk as e2e's BenchmarkLabScans seeds it: a different size
// would replace the OU under the other benchmarks' feet.
const (
	liveAccounts = 20000
	liveManySPNs = 2000
)

// liveAttributes are the attributes spnaudit's inventory reads for each
// object, for ldapsearch to read the same: the DC's cost grows with them.
var liveAttributes = ldapscan.ObjectAttributes()

// live measures inventory and scan of the lab DC's OU=Bulk against
// ldapsearch -Y GSSAPI (sealed too: OpenLDAP's default SASL maxssf) of the
// same objects and attributes, in turn, so that the DC's other work slows
// them alike.
func (cfg config) live(w io.Writer) error {
	fmt.Fprintf(w, "\n== Live: the lab DC, OU=Bulk (%d accounts with 2 SPNs, one with %d), sealed GSSAPI\n", liveAccounts, liveManySPNs)
	l := lab.New(io.Discard)
	if !l.Running() {
		fmt.Fprintln(w, "  skipped: the lab DC is not running (make lab-up)")
		return nil
	}
	for _, tool := range []string{"ldapsearch", "kinit"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(w, "  skipped: %s is not installed\n", tool)
			return nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if err := l.Locked(func() error { return l.SeedBulk(ctx, liveAccounts, liveManySPNs) }); err != nil {
		return fmt.Errorf("seed OU=Bulk: %w", err)
	}
	ccache := filepath.Join(cfg.dir, "audit.ccache")
	kinit := exec.CommandContext(ctx, "kinit", "-k", "-t", l.Keytab(), lab.AuditUser+"@"+lab.Realm)
	krbEnv := []string{"KRB5_CONFIG=" + l.Krb5Conf(), "KRB5CCNAME=FILE:" + ccache}
	kinit.Env = append(os.Environ(), krbEnv...)
	if out, err := kinit.CombinedOutput(); err != nil {
		return fmt.Errorf("kinit: %v: %s", err, out)
	}
	conf := filepath.Join(cfg.dir, "spnaudit.yaml")
	if err := l.WriteConfig(conf, map[string]any{"ldap.base_dn": lab.BulkOU}); err != nil {
		return err
	}
	args := append([]string{"ldapsearch", "-N", "-Q", "-LLL", "-Y", "GSSAPI", "-H", lab.LDAPURL(), "-b", lab.BulkOU,
		"-E", "pr=1000/noprompt", "(servicePrincipalName=*)"}, liveAttributes...)
	ms, err := cfg.measureInterleaved([]command{
		{name: "ldapsearch -Y GSSAPI -E pr=1000", argv: args, env: krbEnv},
		cfg.spnauditCommand("spnaudit inventory --format json", "inventory", "--config", conf, "--format", "json"),
		cfg.spnauditCommand("spnaudit scan --format json", "scan", "--config", conf, "--format", "json"),
	}, cfg.runs)
	if err != nil {
		return err
	}
	ls, inv, scan := ms[0], ms[1], ms[2]
	for _, m := range []measurement{ls, inv, scan} {
		printRow(w, m)
	}
	goal(w, "live inventory / ldapsearch wall", inv.wall().Seconds(), ls.wall().Seconds(), 1.1)
	goal(w, "live inventory / ldapsearch CPU", inv.cpu().Seconds(), ls.cpu().Seconds(), 3)
	fmt.Fprintf(w, "  (scan / ldapsearch wall %s, CPU %s, peak RSS %s)\n", ratio(scan.wall().Seconds(), ls.wall().Seconds()),
		ratio(scan.cpu().Seconds(), ls.cpu().Seconds()), mib(scan.rss()))
	return nil
}
