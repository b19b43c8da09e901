package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/spnaudit/spnaudit/audit"
)

func TestWriteFarms(t *testing.T) {
	intranet := audit.Farm{Name: "intranet", VIP: "svnlb301", Nodes: []string{"svexpgg310", "svexpgg311"},
		DNSSuffix: "corp.example.test", Classes: []string{"HTTP"}, Account: `CORP\svc_iispool`, Ports: []int{8080}}
	const before = `# spnaudit for the intranet
ldap:
  urls: [ldaps://dc1.corp.example.test]  # the PDC
farms:
  # the old hand-written entry
  - name: Intranet
    vip: old
    nodes: [x]
    dns_suffix: corp.example.test
    classes: [HTTP]
    account: svc_old
  - name: sql
    vip: sql01
    nodes: [sql01]
    dns_suffix: corp.example.test
    classes: [MSSQLSvc]
    account: svc_sql
    ports: [1433]
audit:
  max_password_age: 365d # a year
`
	for _, tc := range []struct {
		name, before string
		mode         os.FileMode
		wantErr      string
		want         []string // substrings of the result
		farms        int
	}{
		{name: "merge keeps comments, keys and other farms", before: before, mode: 0o640, farms: 2,
			want: []string{"# spnaudit for the intranet", "# the PDC", "# a year", "# the old hand-written entry\n  - name: intranet\n    vip: svnlb301",
				"account: CORP\\svc_iispool", "ports: [8080]", "name: sql", "max_password_age: 365d"}},
		{name: "a file without farms gets the key", before: "ldap:\n  urls: [ldaps://dc1]\n", mode: 0o600, farms: 1,
			want: []string{"ldap:", "farms:\n  - name: intranet"}},
		{name: "a new file", mode: 0o600, farms: 1, want: []string{"farms:"}},
		{name: "not YAML", before: "ldap: [", mode: 0o600, wantErr: "not valid YAML"},
		{name: "farms not a list", before: "farms: web\n", mode: 0o600, wantErr: "farms (line 1) is not a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "spnaudit.yaml")
			if tc.before != "" {
				if err := os.WriteFile(path, []byte(tc.before), tc.mode); err != nil {
					t.Fatal(err)
				}
			}
			err := WriteFarms(path, []audit.Farm{intranet})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if data, _ := os.ReadFile(path); string(data) != tc.before {
					t.Errorf("a failed write changed the file:\n%s", data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			for _, w := range tc.want {
				if !strings.Contains(string(data), w) {
					t.Errorf("result lacks %q:\n%s", w, data)
				}
			}
			var doc struct {
				Farms []map[string]any `yaml:"farms"`
			}
			if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Farms) != tc.farms {
				t.Errorf("farms %v (%v):\n%s", doc.Farms, err, data)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != tc.mode {
				t.Errorf("mode %v, want %v", st.Mode().Perm(), tc.mode)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestFarmsYAML(t *testing.T) {
	out, err := FarmsYAML([]audit.Farm{{Name: "intranet", VIP: "svnlb301", Nodes: []string{"svexpgg310"}, DNSSuffix: "corp.example.test",
		Classes: []string{"HTTP"}, Account: `CORP\svc_iispool`}}, []string{"site portal: no farm"})
	want := `# site portal: no farm
farms:
  - name: intranet
    vip: svnlb301
    nodes: [svexpgg310]
    dns_suffix: corp.example.test
    classes: [HTTP]
    account: CORP\svc_iispool
`
	if err != nil || string(out) != want {
		t.Errorf("FarmsYAML = %v\n%s\nwant\n%s", err, out, want)
	}
}
