package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func iisFarm() Farm {
	return Farm{
		Name: "iis", VIP: "svnlb301", Nodes: []string{"svexpgg310", "svexpgg311"},
		DNSSuffix: testDomain, Classes: []string{"HTTP"}, Account: "svc_iispool",
	}
}

var iisFarmSPNs = []string{
	"HTTP/svnlb301", "HTTP/svnlb301.corp.example.test",
	"HTTP/svexpgg310", "HTTP/svexpgg310.corp.example.test",
	"HTTP/svexpgg311", "HTTP/svexpgg311.corp.example.test",
}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

func TestFarmDesiredSPNs(t *testing.T) {
	if got := iisFarm().DesiredSPNs(); !slices.Equal(got, iisFarmSPNs) {
		t.Errorf("DesiredSPNs = %q, want %q", got, iisFarmSPNs)
	}
	f := iisFarm()
	f.Nodes = []string{"svexpgg310.corp.example.test"}
	f.Ports = []int{8080, 8443}
	want := []string{
		"HTTP/svnlb301:8080", "HTTP/svnlb301:8443", "HTTP/svnlb301.corp.example.test:8080", "HTTP/svnlb301.corp.example.test:8443",
		"HTTP/svexpgg310:8080", "HTTP/svexpgg310:8443", "HTTP/svexpgg310.corp.example.test:8080", "HTTP/svexpgg310.corp.example.test:8443",
	}
	if got := f.DesiredSPNs(); !slices.Equal(got, want) {
		t.Errorf("DesiredSPNs with ports and a DNS node name = %q, want %q", got, want)
	}
}

func TestFarmValidate(t *testing.T) {
	for _, tt := range []struct {
		name   string
		modify func(*Farm)
		want   string // substring of the error; "" for valid
	}{
		{"valid", func(*Farm) {}, ""},
		{"no name", func(f *Farm) { f.Name = "" }, "name: missing"},
		{"no account", func(f *Farm) { f.Account = " " }, "account: missing"},
		{"no classes", func(f *Farm) { f.Classes = nil }, "classes: missing"},
		{"class with slash", func(f *Farm) { f.Classes = []string{"HTTP/x"} }, "not a service class"},
		{"no hosts", func(f *Farm) { f.VIP, f.Nodes = "", nil }, "vip, nodes"},
		{"host with space", func(f *Farm) { f.Nodes = []string{"a b"} }, "not a host name"},
		{"NetBIOS names need a suffix", func(f *Farm) { f.DNSSuffix = "" }, "dns_suffix: missing"},
		{"DNS names need no suffix", func(f *Farm) {
			f.DNSSuffix, f.VIP, f.Nodes = "", "vip.corp.example.test", []string{"n1.corp.example.test"}
		}, ""},
		{"port out of range", func(f *Farm) { f.Ports = []int{0} }, "ports: 0 out of range"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := iisFarm()
			tt.modify(&f)
			err := f.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFarmDrift(t *testing.T) {
	farm := Config{Farms: []Farm{iisFarm()}}
	pool := func(spns ...string) inventory.Object { return user("svc_iispool", spns) }
	withPorts := iisFarm()
	withPorts.Ports = []int{8080}
	runRuleCases(t, farmDrift{}, []ruleCase{
		{
			name: "missing SPN",
			snap: snapshot(pool(without(iisFarmSPNs, "HTTP/svexpgg311.corp.example.test")...)),
			cfg:  farm,
			want: []string{"medium HTTP/svexpgg311.corp.example.test svc_iispool"},
		},
		{
			name: "SPN on the wrong account",
			snap: snapshot(pool(without(iisFarmSPNs, "HTTP/svnlb301")...), user("svc_other", []string{"http/SVNLB301"})),
			cfg:  farm,
			want: []string{"high HTTP/svnlb301 svc_iispool,svc_other"},
		},
		{
			name: "SPN also on another account",
			snap: snapshot(pool(iisFarmSPNs...), user("svc_legacyweb", []string{"HTTP/svnlb301.corp.example.test"})),
			cfg:  farm,
			want: []string{"high HTTP/svnlb301.corp.example.test svc_iispool,svc_legacyweb"},
		},
		{
			name: "extra SPN for a farm name and class",
			snap: snapshot(pool(append(slices.Clone(iisFarmSPNs), "HTTP/svexpgg310:8080", "HTTP/other", "MSSQLSvc/svexpgg310")...)),
			cfg:  farm,
			want: []string{"low HTTP/svexpgg310:8080 svc_iispool"},
		},
		{
			name: "ports make the port-less SPNs extra and the ported ones missing",
			snap: snapshot(pool("HTTP/svnlb301", "HTTP/svnlb301:8080", "HTTP/svnlb301.corp.example.test:8080",
				"HTTP/svexpgg310:8080", "HTTP/svexpgg310.corp.example.test:8080", "HTTP/svexpgg311:8080")),
			cfg: Config{Farms: []Farm{withPorts}},
			want: []string{
				"medium HTTP/svexpgg311.corp.example.test:8080 svc_iispool",
				"low HTTP/svnlb301 svc_iispool",
			},
		},
		{
			name: "account not found",
			snap: snapshot(user("svc_other", nil)),
			cfg:  farm,
			want: []string{"high"},
		},
		{
			name: "ambiguous account",
			snap: snapshot(pool(iisFarmSPNs...), user("svc_iispool", nil, inDomain("child."+testDomain))),
			cfg:  farm,
			want: []string{"high"},
		},
		{
			name: "invalid farm is reported, not skipped",
			snap: snapshot(pool(iisFarmSPNs...)),
			cfg:  Config{Farms: []Farm{{Name: "broken"}}},
			want: []string{"high"},
		},
		{
			name: "must not fire: converged farm",
			snap: snapshot(pool(iisFarmSPNs...)),
			cfg:  farm,
		},
		{
			name: "must not fire: account given as DOMAIN\\name or DN, with the same name in another domain",
			snap: snapshot(pool(iisFarmSPNs...), user("svc_iispool", nil, inDomain("child."+testDomain))),
			cfg: Config{Farms: []Farm{
				func() Farm { f := iisFarm(); f.Account = `CORP\svc_iispool`; return f }(),
				func() Farm {
					f := iisFarm()
					f.Account = "cn=svc_iispool,ou=service accounts,dc=corp,dc=example,dc=test"
					return f
				}(),
			}},
		},
		{
			name: "must not fire: two farms sharing an account do not call each other's SPNs extra",
			snap: snapshot(pool(append(slices.Clone(iisFarmSPNs), "HTTP/svexpgg310:8080", "HTTP/svexpgg310.corp.example.test:8080")...)),
			cfg: Config{Farms: []Farm{iisFarm(), func() Farm {
				f := iisFarm()
				f.Name, f.VIP, f.Nodes, f.Ports = "iis-8080", "", []string{"svexpgg310"}, []int{8080}
				return f
			}()}},
		},
		{
			name: "must not fire: no farms configured",
			snap: snapshot(pool("HTTP/svexpgg310")),
		},
	})
}

func TestFarmDriftMessages(t *testing.T) {
	fs := checkRule(farmDrift{}, snapshot(user("svc_iispool", nil)), Config{Farms: []Farm{iisFarm()}})
	if len(fs) != len(iisFarmSPNs) {
		t.Fatalf("got %d findings, want %d missing", len(fs), len(iisFarmSPNs))
	}
	if want := `setspn -S HTTP/svexpgg310 CORP\svc_iispool`; !slices.ContainsFunc(fs, func(f Finding) bool { return slices.Contains(f.Remediation, want) }) {
		t.Errorf("no finding proposes %q", want)
	}
	fs = checkRule(farmDrift{}, snapshot(), Config{Farms: []Farm{iisFarm()}})
	if len(fs) != 1 || !strings.Contains(fs[0].Message, `account "svc_iispool" not found`) {
		t.Errorf("unresolved account not explained: %v", fs)
	}
}
