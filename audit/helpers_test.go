package audit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// Fixtures: a forest corp.example.test with a child domain, a fixed scan
// time, and builders for the objects the rules look at.

const testDomain = "corp.example.test"

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func dnIn(cn, ou, domain string) string {
	return "CN=" + cn + "," + ou + "," + dcComponents(domain)
}

func ptr[T any](v T) *T { return &v }

type option func(*inventory.Object)

func withUAC(bits uint32) option {
	return func(o *inventory.Object) { o.UserAccountControl |= bits }
}

func disabled() option { return withUAC(inventory.UACAccountDisable) }

func withEnc(enc *uint32) option {
	return func(o *inventory.Object) { o.SupportedEncryptionTypes = enc }
}

func withAdminCount() option { return func(o *inventory.Object) { o.AdminCount = 1 } }

func withPwdLastSet(t time.Time) option { return func(o *inventory.Object) { o.PwdLastSet = t } }

func inDomain(domain string) option {
	return func(o *inventory.Object) {
		o.Domain = domain
		o.DN = o.DN[:strings.Index(o.DN, ",DC=")+1] + dcComponents(domain)
		if o.DNSHostName != "" {
			label, _, _ := strings.Cut(o.DNSHostName, ".")
			o.DNSHostName = label + "." + domain
		}
	}
}

func withoutDNSHostName() option { return func(o *inventory.Object) { o.DNSHostName = "" } }

func apply(o inventory.Object, opts []option) inventory.Object {
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// user is an enabled service account with AES, a recent password and SPNs.
func user(sam string, spns []string, opts ...option) inventory.Object {
	return apply(inventory.Object{
		DN:                       dnIn(sam, "OU=Service Accounts", testDomain),
		Domain:                   testDomain,
		SAMAccountName:           sam,
		Kind:                     inventory.KindUser,
		UserAccountControl:       0x200,
		SupportedEncryptionTypes: ptr(inventory.EncAES128 | inventory.EncAES256),
		PwdLastSet:               testNow.AddDate(0, -1, 0),
		SPNs:                     spns,
	}, opts)
}

func gmsa(sam string, spns []string, opts ...option) inventory.Object {
	o := user(sam+"$", spns, opts...)
	o.Kind = inventory.KindGMSA
	o.DN = dnIn(sam, "CN=Managed Service Accounts", testDomain)
	o.UserAccountControl = inventory.UACWorkstationTrustAccount
	return o
}

// computer is a member server with its usual HOST and RestrictedKrbHost SPNs
// plus any extra ones.
func computer(name string, extra []string, opts ...option) inventory.Object {
	fqdn := name + "." + testDomain
	return apply(inventory.Object{
		DN:                       dnIn(strings.ToUpper(name), "OU=Servers", testDomain),
		Domain:                   testDomain,
		SAMAccountName:           strings.ToUpper(name) + "$",
		Kind:                     inventory.KindComputer,
		UserAccountControl:       inventory.UACWorkstationTrustAccount,
		DNSHostName:              fqdn,
		SupportedEncryptionTypes: ptr(inventory.EncRC4HMAC | inventory.EncAES128 | inventory.EncAES256),
		PwdLastSet:               testNow.AddDate(0, 0, -10),
		SPNs: append([]string{
			"HOST/" + strings.ToUpper(name), "HOST/" + fqdn,
			"RestrictedKrbHost/" + strings.ToUpper(name), "RestrictedKrbHost/" + fqdn,
		}, extra...),
	}, opts)
}

// domainController has the SPNs a Windows DC registers.
func domainController(name, domain string) inventory.Object {
	fqdn := name + "." + domain
	nb := guessNetBIOSDomain(domain)
	up := strings.ToUpper(name)
	return inventory.Object{
		DN:                       dnIn(up, "OU=Domain Controllers", domain),
		Domain:                   domain,
		SAMAccountName:           up + "$",
		Kind:                     inventory.KindComputer,
		UserAccountControl:       inventory.UACServerTrustAccount | inventory.UACTrustedForDelegation,
		DNSHostName:              fqdn,
		SupportedEncryptionTypes: ptr(inventory.EncRC4HMAC | inventory.EncAES128 | inventory.EncAES256),
		PwdLastSet:               testNow.AddDate(0, 0, -5),
		SPNs: []string{
			"Dfsr-12F9A27C-BF97-4787-9364-D31B6C55EB04/" + fqdn,
			"ldap/" + fqdn + "/ForestDnsZones." + testDomain,
			"ldap/" + fqdn + "/DomainDnsZones." + domain,
			"DNS/" + fqdn,
			"GC/" + fqdn + "/" + testDomain,
			"RestrictedKrbHost/" + fqdn,
			"RestrictedKrbHost/" + up,
			"RPC/7b2e1d9c-4a3f-4e8b-9c1d-2f3e4a5b6c7d._msdcs." + testDomain,
			"HOST/" + up + "/" + nb,
			"HOST/" + fqdn + "/" + nb,
			"HOST/" + up,
			"HOST/" + fqdn,
			"HOST/" + fqdn + "/" + domain,
			"E3514235-4B06-11D1-AB04-00C04FC2DCD2/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/" + domain,
			"ldap/" + up + "/" + nb,
			"ldap/7b2e1d9c-4a3f-4e8b-9c1d-2f3e4a5b6c7d._msdcs." + testDomain,
			"ldap/" + fqdn + "/" + nb,
			"ldap/" + up,
			"ldap/" + fqdn,
			"ldap/" + fqdn + "/" + domain,
		},
	}
}

// sambaDNSAccount is the dns-<DC> user a Samba DC provisions for its DNS
// server.
func sambaDNSAccount(dc string) inventory.Object {
	o := user("dns-"+dc, []string{"DNS/" + dc + "." + testDomain, "DNS/" + testDomain}, withEnc(nil))
	o.DN = dnIn("dns-"+dc, "CN=Users", testDomain)
	return o
}

// krbtgt is a domain's disabled krbtgt account with kadmin/changepw.
func krbtgt(domain string) inventory.Object {
	return inventory.Object{
		DN:                 dnIn("krbtgt", "CN=Users", domain),
		Domain:             domain,
		SAMAccountName:     "krbtgt",
		Kind:               inventory.KindUser,
		UserAccountControl: 0x202,
		PwdLastSet:         testNow.AddDate(-3, 0, 0),
		AdminCount:         1,
		SPNs:               []string{"kadmin/changepw"},
	}
}

func snapshot(objs ...inventory.Object) *inventory.Snapshot {
	return &inventory.Snapshot{
		Directory: inventory.Directory{
			ForestDNS: testDomain,
			Domains:   []string{testDomain, "child." + testDomain},
		},
		Objects: inventory.Pointers(objs),
		Started: testNow,
	}
}

// checkRule runs one rule the way Run does and returns its findings sorted.
func checkRule(r rule, snap *inventory.Snapshot, cfg Config) []Finding {
	fs := r.Check(newIndex(snap, cfg))
	normalize(fs)
	sortFindings(fs)
	return fs
}

// summary renders a finding as "severity spn cn1,cn2" for table tests.
func summary(f Finding) string {
	cns := make([]string, len(f.Accounts))
	for i, dn := range f.Accounts {
		cn, _, _ := strings.Cut(strings.TrimPrefix(dn, "CN="), ",")
		cns[i] = cn
	}
	parts := []string{string(f.Severity)}
	if f.SPN != "" {
		parts = append(parts, f.SPN)
	}
	if len(cns) > 0 {
		parts = append(parts, strings.Join(cns, ","))
	}
	return strings.Join(parts, " ")
}

func summaries(fs []Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = summary(f)
	}
	return out
}

type ruleCase struct {
	name string
	snap *inventory.Snapshot
	cfg  Config
	want []string // summaries, in sorted order; empty: must not fire
}

func runRuleCases(t *testing.T, r rule, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := checkRule(r, tc.snap, tc.cfg)
			got := summaries(fs)
			if !slices.Equal(got, tc.want) {
				t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
			for _, f := range fs {
				checkFindingShape(t, r, f)
			}
		})
	}
}

// checkFindingShape asserts what every finding owes its reader.
func checkFindingShape(t *testing.T, r rule, f Finding) {
	t.Helper()
	if f.Rule != r.ID() {
		t.Errorf("rule %q, want %q", f.Rule, r.ID())
	}
	if !slices.Contains(r.Severities(), f.Severity) {
		t.Errorf("severity %q not declared by %s", f.Severity, r.ID())
	}
	if f.Message == "" || !strings.HasSuffix(f.Message, ".") || strings.ContainsAny(f.Message, "\n\r") {
		t.Errorf("message %q is not one sentence", f.Message)
	}
	if len(f.Remediation) == 0 || len(f.References) == 0 {
		t.Errorf("finding lacks remediation or references: %+v", f)
	}
	for _, line := range f.Remediation {
		if strings.ContainsAny(line, "\n\r") {
			t.Errorf("remediation line %q spans lines", line)
		}
	}
	for _, ref := range f.References {
		if !strings.HasPrefix(ref, "https://learn.microsoft.com/") && !strings.HasPrefix(ref, "https://support.microsoft.com/") &&
			!strings.HasPrefix(ref, "https://www.microsoft.com/") && !strings.HasPrefix(ref, "https://msrc.microsoft.com/update-guide/") {
			t.Errorf("reference %q is not Microsoft documentation", ref)
		}
	}
}
