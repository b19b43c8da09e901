package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/spnaudit/spnaudit/lab"
)

// labIIS are the IIS configuration files of the lab's farm (lab/iis): each
// node's applicationHost.config, named by its directory, and the WinRM IIS
// extension's web.config, placed by its directory name.
var labIIS = []string{
	"../../lab/iis/svexpgg310/applicationHost.config",
	"../../lab/iis/svexpgg311/applicationHost.config",
	"../../lab/iis/svexpgg312/applicationHost.config",
	"../../lab/iis/svexpgg312/wsman/web.config",
}

// labIISFindings are the IIS findings the lab's farm must produce, as
// "severity rule SPN node": every problem planted in lab/iis, and nothing
// on svexpgg310, the correct node.
var labIISFindings = []string{
	"high iis-app-pool-credentials HTTP/intranet svexpgg311",    // portal: useAppPoolCredentials false, SPN on svc_intranet
	"high iis-app-pool-credentials HTTP/svnlb301 svexpgg311",    // intranet: useAppPoolCredentials false
	"high iis-extended-protection-config  svexpgg312",           // Require behind the offloading balancer, no Proxy
	"high iis-extended-protection-spn HTTP/intranet svexpgg311", // listed, but on svc_intranet
	"high iis-pool-identity-mismatch HTTP/intranet.corp.example.test svexpgg311,svexpgg312",
	"medium iis-extended-protection-config HTTP/svnlb301 svexpgg312",                // AllowDotlessSpn with a NetBIOS SPN
	"medium iis-extended-protection-spn HTTP/intranet.corp.example.test svexpgg311", // registered nowhere
	"medium iis-host-header-spn HTTP/intranet svexpgg312",                           // portal as the machine
	"medium iis-host-header-spn HTTP/intranet.corp.example.test svexpgg311",         // svc_intranet lacks the DNS form
}

var nodeName = regexp.MustCompile(`svexpgg31[0-2]\b`)

// iisFindings turns the IIS findings of a JSON scan into "severity rule SPN
// nodes" and checks what each owes its reader: the file and line it comes
// from, and an appcmd or setspn fix.
func iisFindings(t *testing.T, out string) []string {
	t.Helper()
	_, doc := rulesOf(t, out)
	var got []string
	for _, f := range doc.Findings {
		if !strings.HasPrefix(f.Rule, "iis-") {
			continue
		}
		if !regexp.MustCompile(`lab/iis/svexpgg31[0-2]/(applicationHost|wsman/web)\.config:\d+`).MatchString(f.Message) {
			t.Errorf("%s: message names no file and line: %s", f.Rule, f.Message)
		}
		fix := strings.Join(f.Remediation, "\n")
		if !strings.Contains(fix, "appcmd.exe set ") && !strings.Contains(fix, "setspn -") {
			t.Errorf("%s: no appcmd or setspn fix: %q", f.Rule, f.Remediation)
		}
		nodes := slices.Compact(slices.Sorted(slices.Values(nodeName.FindAllString(f.Message, -1))))
		got = append(got, string(f.Severity)+" "+f.Rule+" "+f.SPN+" "+strings.Join(nodes, ","))
	}
	slices.Sort(got)
	return got
}

// TestScanIISOffline runs the IIS rules on the lab's farm exported as LDIF.
func TestScanIISOffline(t *testing.T) {
	clearEnv(t)
	r := spnaudit(t, false, "scan", "--ldif", farmLDIF, "--iis", strings.Join(labIIS, ","), "--format", "json", "--fail-on", "none")
	if r.status != 0 || r.stderr != "" {
		t.Fatalf("status %d, stderr %q", r.status, r.stderr)
	}
	want := slices.Sorted(slices.Values(labIISFindings))
	if got := iisFindings(t, r.stdout); !slices.Equal(got, want) {
		t.Errorf("IIS findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	_, doc := rulesOf(t, r.stdout)
	for _, f := range doc.Findings {
		if f.Rule == "host-alias-conflict" && strings.HasPrefix(f.SPN, "HTTP/svexpgg312") != strings.Contains(f.Message, "WinRM IIS extension in site intranet/wsman on svexpgg312") {
			t.Errorf("host-alias-conflict %s: the WinRM note belongs exactly to svexpgg312's SPNs: %s", f.SPN, f.Message)
		}
	}
	// Without IIS files the IIS rules stay silent.
	r = spnaudit(t, false, "scan", "--ldif", farmLDIF, "--format", "json", "--fail-on", "none")
	if got := iisFindings(t, r.stdout); len(got) != 0 {
		t.Errorf("IIS findings without IIS files: %q", got)
	}
}

// TestIISImportEqualsLabFarm: the farms: block imported from the lab's IIS
// files is, strictly, the lab's hand-written farm (lab.FarmConfig, which
// names the account DOMAIN\name like the pool's userName); and plan computes
// the same script from either.
func TestIISImportEqualsLabFarm(t *testing.T) {
	clearEnv(t)
	r := spnaudit(t, false, append([]string{"iis", "import"}, labIIS...)...)
	if r.status != 0 || r.stderr != "" {
		t.Fatalf("status %d, stderr %q", r.status, r.stderr)
	}
	var doc struct {
		Farms []map[string]any `yaml:"farms"`
	}
	if err := yaml.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Farms) != 1 {
		t.Fatalf("farms %v (%v):\n%s", doc.Farms, err, r.stdout)
	}
	want := lab.FarmConfig()
	wantYAML, _ := yaml.Marshal(want)
	gotYAML, _ := yaml.Marshal(doc.Farms[0])
	if string(gotYAML) != string(wantYAML) {
		t.Errorf("imported farm:\n%s\nwant (lab.FarmConfig):\n%s", gotYAML, wantYAML)
	}
	if !strings.Contains(r.stdout, "# site portal: the pool runs as ApplicationPoolIdentity on svexpgg312") {
		t.Errorf("no note on the portal site:\n%s", r.stdout)
	}

	imported := filepath.Join(t.TempDir(), "imported.yaml")
	if err := os.WriteFile(imported, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	fromIIS := spnaudit(t, false, "plan", "--ldif", farmLDIF, "--config", imported)
	byHand := spnaudit(t, false, "plan", "--ldif", farmLDIF, "--config", farmConfig(t, ""))
	if fromIIS.status != 0 || fromIIS.stdout != byHand.stdout || !strings.Contains(fromIIS.stdout, "setspn") {
		t.Errorf("plan from the imported farm (status %d, %s):\n%s\nby hand:\n%s", fromIIS.status, fromIIS.stderr, fromIIS.stdout, byHand.stdout)
	}
}

func TestIISImportWrite(t *testing.T) {
	clearEnv(t)
	cfg := filepath.Join(t.TempDir(), "spnaudit.yaml")
	const before = "# our forest\nldap:\n  urls: [ldaps://dc1.corp.example.test] # the PDC\n"
	if err := os.WriteFile(cfg, []byte(before), 0o640); err != nil {
		t.Fatal(err)
	}
	r := spnaudit(t, false, append([]string{"iis", "import", "--write", cfg}, labIIS...)...)
	if r.status != 0 || r.stdout != "" || !strings.Contains(r.stderr, "note: site portal") || !strings.Contains(r.stderr, "wrote 1 farm(s) to") {
		t.Fatalf("status %d, stdout %q, stderr %q", r.status, r.stdout, r.stderr)
	}
	got := readFile(t, cfg)
	for _, w := range []string{"# our forest", "# the PDC", "farms:\n  - name: intranet\n    vip: svnlb301", `account: CORP\svc_iispool`} {
		if !strings.Contains(got, w) {
			t.Errorf("written config lacks %q:\n%s", w, got)
		}
	}
	// Imported twice: the farm is replaced, not duplicated.
	spnaudit(t, false, append([]string{"iis", "import", "-q", "--write", cfg}, labIIS...)...)
	if again := readFile(t, cfg); again != got {
		t.Errorf("second import changed the file:\n%s", again)
	}
}

// TestIISBadInput: malformed or unreadable IIS files stop the command with
// one line naming the file and line, exit status 2, before any scan.
func TestIISBadInput(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	broken := filepath.Join(dir, "applicationHost.config")
	data := readFile(t, labIIS[0])
	if err := os.WriteFile(broken, []byte(strings.Replace(data, "</sites>", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"iis", "import", "svexpgg310=" + broken}, broken + ":64: malformed XML: element <sites> closed by </system.applicationHost>"},
		{[]string{"iis", "import", "svexpgg310=" + filepath.Join(dir, "missing.config")}, "missing.config does not exist; check the path"},
		{[]string{"iis", "import"}, "requires at least 1 arg(s)"},
		{[]string{"scan", "--ldif", farmLDIF, "--iis", "svexpgg310=" + broken}, broken + ":64: malformed XML"},
	} {
		r := spnaudit(t, false, tc.args...)
		if r.status != 2 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%q: status %d, stdout %q, stderr %q; want 2 and one line with %q", tc.args, r.status, r.stdout, r.stderr, tc.want)
		}
	}
}

// TestIISPasswordNeverShown: the encrypted app pool passwords of the
// fixtures reach no output of import, scan (every format) or an error.
func TestIISPasswordNeverShown(t *testing.T) {
	clearEnv(t)
	for _, f := range labIIS[:3] {
		if !strings.Contains(readFile(t, f), "SECRET-") {
			t.Fatalf("%s: the fixture has no marked password", f)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "applicationHost.config")
	os.WriteFile(bad, []byte(strings.Replace(readFile(t, labIIS[0]), `identityType="SpecificUser"`, `identityType="Root"`, 1)), 0o600)
	runs := [][]string{
		append([]string{"iis", "import"}, labIIS...),
		{"iis", "import", "n1=" + bad},
	}
	for _, format := range []string{"table", "json", "csv", "sarif"} {
		runs = append(runs, []string{"scan", "--ldif", farmLDIF, "--iis", strings.Join(labIIS, ","), "--format", format, "--fail-on", "none"})
	}
	for _, args := range runs {
		r := spnaudit(t, false, args...)
		if r.stdout == "" && r.stderr == "" {
			t.Errorf("%q: no output at all", args)
		}
		for _, secret := range []string{"SECRET-", "[enc:"} {
			if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
				t.Errorf("%q printed %q", args, secret)
			}
		}
	}
}

// TestScanIISChecksImportedFarm: scan --iis checks the farm the IIS files
// describe as if it had been imported: farm-drift finds the lab farm's
// duplicate, as with the hand-written farm.
func TestScanIISChecksImportedFarm(t *testing.T) {
	clearEnv(t)
	r := spnaudit(t, false, "scan", "--ldif", farmLDIF, "--iis", strings.Join(labIIS, ","), "--format", "json", "--fail-on", "none")
	byHand := spnaudit(t, false, "scan", "--ldif", farmLDIF, "--config", farmConfig(t, ""), "--format", "json", "--fail-on", "none")
	drift := func(out string) []string {
		_, doc := rulesOf(t, out)
		var got []string
		for _, f := range doc.Findings {
			if f.Rule == "farm-drift" {
				got = append(got, string(f.Severity)+" "+f.SPN+" "+f.Message)
			}
		}
		return got
	}
	got, want := drift(r.stdout), drift(byHand.stdout)
	if r.status != 0 || len(want) != 1 || !slices.Equal(got, want) {
		t.Errorf("farm-drift from the IIS files (status %d, %s):\n%q\nwith the hand-written farm:\n%q", r.status, r.stderr, got, want)
	}
}
