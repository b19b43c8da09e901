package audit

import (
	"slices"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestGhostSPN(t *testing.T) {
	withDNS := func(s *inventory.Snapshot, names ...string) *inventory.Snapshot {
		s.Directory.DNSNames = names
		return s
	}
	runRuleCases(t, ghostSPN{}, []ruleCase{
		{
			name: "host nobody knows",
			snap: snapshot(computer("web1", nil), user("svc_old", []string{"HTTP/oldapp.corp.example.test"})),
			want: []string{"medium HTTP/oldapp.corp.example.test svc_old"},
		},
		{
			name: "NetBIOS host nobody knows",
			snap: snapshot(computer("web1", nil), user("svc_old", []string{"MSSQLSvc/olddb:1433"})),
			want: []string{"medium MSSQLSvc/olddb:1433 svc_old"},
		},
		{
			name: "holder trusted for delegation is high",
			snap: snapshot(computer("web1", nil), user("svc_deleg", []string{"HTTP/gone"}, withUAC(inventory.UACTrustedToAuthForDelegation))),
			want: []string{"high HTTP/gone svc_deleg"},
		},
		{
			name: "a computer's stale alternate name",
			snap: snapshot(computer("app1", []string{"HOST/oldname"})),
			want: []string{"medium HOST/oldname APP1"},
		},
		{
			name: "name that did not resolve is still a ghost",
			snap: snapshot(user("svc_old", []string{"HTTP/gone.corp.example.test"})),
			cfg:  Config{ResolvedHosts: map[string]bool{"gone.corp.example.test": false}},
			want: []string{"medium HTTP/gone.corp.example.test svc_old"},
		},
		{
			name: "must not fire: a name whose lookup failed (absent from the answers) is left out",
			snap: snapshot(user("svc_old", []string{"HTTP/gone.corp.example.test", "HTTP/flaky.corp.example.test"})),
			cfg:  Config{ResolvedHosts: map[string]bool{"gone.corp.example.test": false}},
			want: []string{"medium HTTP/gone.corp.example.test svc_old"},
		},
		{
			name: "an inventory that vouches for no host (no computer, no DNS record) is said once, as info",
			snap: snapshot(user("svc_a", []string{"HTTP/a.corp.example.test", "HTTP/b"}), user("svc_b", []string{"MSSQLSvc/c:1433"})),
			want: []string{"info"},
		},
		{
			name: "must not fire: no computer and no DNS record, but the caller resolved the names",
			snap: snapshot(user("svc_a", []string{"HTTP/a.corp.example.test"})),
			cfg:  Config{ResolvedHosts: map[string]bool{"a.corp.example.test": true}},
		},
		{
			name: "must not fire: computer by sAMAccountName or dNSHostName, any case",
			snap: snapshot(computer("app1", nil), user("svc_app", []string{"HTTP/APP1", "HTTP/app1.CORP.example.test", "HTTP/app1.corp.example.test:8080"})),
		},
		{
			name: "must not fire: computer without dNSHostName, DNS form in its domain",
			snap: snapshot(computer("app1", nil, withoutDNSHostName()), user("svc_app", []string{"HTTP/app1.corp.example.test"})),
		},
		{
			name: "must not fire: record in AD-integrated DNS, NetBIOS or DNS form",
			snap: withDNS(snapshot(user("svc_web", []string{"HTTP/svnlb301", "HTTP/svnlb301.corp.example.test", "HTTP/web.child.corp.example.test"})),
				"svnlb301.corp.example.test", "web.child.corp.example.test"),
		},
		{
			name: "must not fire: farm VIP and nodes from the configuration",
			snap: snapshot(user("svc_iispool", []string{"HTTP/svnlb301", "HTTP/svnlb301.corp.example.test", "HTTP/node9.corp.example.test"})),
			cfg:  Config{Farms: []Farm{{Name: "iis", VIP: "svnlb301", Nodes: []string{"node9"}, DNSSuffix: testDomain, Classes: []string{"HTTP"}, Account: "svc_iispool"}}},
		},
		{
			name: "must not fire: name the caller resolved",
			snap: snapshot(user("svc_ext", []string{"HTTP/portal.partner.example"})),
			cfg:  Config{ResolvedHosts: map[string]bool{"Portal.Partner.Example.": true}},
		},
		{
			name: "must not fire: a domain controller's replication, GC, _msdcs and domain SPNs",
			snap: snapshot(domainController("dc1", testDomain), domainController("dc2", "child."+testDomain)),
		},
		{
			name: "must not fire: kadmin/changepw, krbtgt, realm and domain names, IP addresses",
			snap: snapshot(krbtgt(testDomain), user("svc_x", []string{"kadmin/changepw", "krbtgt/CORP.EXAMPLE.TEST", "ldap/corp", "HOST/10.1.2.3", "HTTP/[fe80::1]:80"})),
		},
		{
			name: "must not fire: malformed values (malformed-spn reports them)",
			snap: snapshot(user("svc_x", []string{"HTTP/ghost host", "HTTP/ghost."})),
		},
	})
}

func TestGhostCandidatesAreWhatToResolve(t *testing.T) {
	snap := snapshot(computer("app1", nil),
		user("svc_a", []string{"HTTP/APP1", "HTTP/Portal.Partner.Example", "HTTP/portal.partner.example:8443", "HTTP/gone"}))
	got := GhostCandidates(snap, Config{ResolvedHosts: map[string]bool{"gone": true}})
	want := []string{"gone", "portal.partner.example"}
	if !slices.Equal(got, want) {
		t.Errorf("GhostCandidates = %q, want %q (previous answers must not hide names)", got, want)
	}
	fs := checkRule(ghostSPN{}, snap, Config{ResolvedHosts: map[string]bool{"portal.partner.example": true, "gone": true}})
	if len(fs) != 0 {
		t.Errorf("resolved names still reported: %v", summaries(fs))
	}
}
