package report

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

const (
	dnNode310 = "CN=SVEXPGG310,OU=Web Servers,OU=Tier 1,DC=corp,DC=example,DC=test"
	dnNode311 = "CN=SVEXPGG311,OU=Web Servers,OU=Tier 1,DC=corp,DC=example,DC=test"
	dnPool    = "CN=svc_iis_pool,OU=Service Accounts,OU=Tier 1,OU=Corp Administration,OU=Managed Objects,DC=corp,DC=example,DC=test"
	dnDC      = "CN=DC1,OU=Domain Controllers,DC=corp,DC=example,DC=test"
	refSPN    = "https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/setspn"
)

// scenarioSnapshot is the IIS farm of the lab, small enough to read in a
// golden file, with the awkward cases: long DNs, an invisible character and
// a terminal escape in SPNs, a disabled account, a DC, two domains.
func scenarioSnapshot() *inventory.Snapshot {
	aes := inventory.EncAES128 | inventory.EncAES256
	return &inventory.Snapshot{
		Directory: inventory.Directory{
			ForestDNS:      "corp.example.test",
			Domains:        []string{"corp.example.test", "emea.corp.example.test"},
			NetBIOSDomains: map[string]string{"corp.example.test": "CORP"},
		},
		Objects: []*inventory.Object{
			{DN: dnPool, Domain: "corp.example.test", SAMAccountName: "svc_iis_pool", Kind: inventory.KindUser,
				UserAccountControl: 0x200, SupportedEncryptionTypes: &aes, USNChanged: 41000,
				PwdLastSet: time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC),
				SPNs: []string{"HTTP/svexpgg310", "HTTP/svexpgg310.corp.example.test", "HTTP/svnlb301", "HTTP/svnlb301.corp.example.test",
					"HTTP/svexpgg311.corp.example.test", "HOST/svexpgg310.corp.example.test"}},
			{DN: dnNode310, Domain: "corp.example.test", SAMAccountName: "SVEXPGG310$", Kind: inventory.KindComputer,
				UserAccountControl: inventory.UACWorkstationTrustAccount, DNSHostName: "svexpgg310.corp.example.test",
				SPNs: []string{"HOST/svexpgg310", "HOST/svexpgg310.corp.example.test", "WSMAN/svexpgg310.corp.example.test"}},
			{DN: dnNode311, Domain: "corp.example.test", SAMAccountName: "SVEXPGG311$", Kind: inventory.KindComputer,
				UserAccountControl: inventory.UACWorkstationTrustAccount, DNSHostName: "svexpgg311.corp.example.test",
				SPNs: []string{"HOST/svexpgg311", "HOST/svexpgg311.corp.example.test"}},
			{DN: dnDC, Domain: "corp.example.test", SAMAccountName: "DC1$", Kind: inventory.KindComputer,
				UserAccountControl: inventory.UACServerTrustAccount | inventory.UACTrustedForDelegation,
				SPNs:               []string{"ldap/dc1.corp.example.test", "ldap/dc1.corp.example.test/corp.example.test", "GC/dc1.corp.example.test/corp.example.test"}},
			{DN: "CN=svc_old,OU=Disabled,DC=emea,DC=corp,DC=example,DC=test", Domain: "emea.corp.example.test",
				SAMAccountName: "svc_old", Kind: inventory.KindUser, UserAccountControl: 0x202,
				SPNs: []string{"MSSQLSvc/sql-old.emea.corp.example.test:1433", "HTTP/web\u200b01.emea.corp.example.test", "HTTP/\x1b[31mred"}},
			{DN: "CN=gmsa_web,CN=Managed Service Accounts,DC=emea,DC=corp,DC=example,DC=test", Domain: "emea.corp.example.test",
				SAMAccountName: "gmsa_web$", Kind: inventory.KindGMSA, UserAccountControl: 0x1000,
				SPNs: []string{"HTTP/" + strings.Repeat("very-long-label-", 7) + "end.emea.corp.example.test"}},
		},
		Server:   "ldaps://dc1.corp.example.test",
		Started:  time.Date(2026, 11, 22, 10, 0, 0, 0, time.FixedZone("CET", 3600)),
		Duration: 1234 * time.Millisecond,
	}
}

// scenarioFindings are in the order audit.Run returns them: most severe
// first, then rule, SPN, accounts.
func scenarioFindings() []audit.Finding {
	return []audit.Finding{
		{Rule: "duplicate-spn", Severity: audit.SeverityCritical, SPN: "HOST/svexpgg310.corp.example.test",
			Accounts: []string{dnNode310, dnPool},
			Message:  "HOST/svexpgg310.corp.example.test is registered on 2 objects; the KDC cannot tell which one the ticket is for, so Kerberos to this host fails.",
			Remediation: []string{
				`setspn -D HOST/svexpgg310.corp.example.test CORP\svc_iis_pool`,
				`Set-ADUser -Identity svc_iis_pool -ServicePrincipalNames @{Remove='HOST/svexpgg310.corp.example.test'} -Server dc1.corp.example.test`,
			},
			References: []string{refSPN}},
		{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: "HTTP/svexpgg311.corp.example.test",
			Accounts:    []string{dnNode311, dnPool},
			Message:     "HTTP/svexpgg311.corp.example.test is registered on 2 objects.",
			Remediation: []string{`setspn -D HTTP/svexpgg311.corp.example.test CORP\SVEXPGG311$`},
			References:  []string{refSPN}},
		{Rule: "host-alias-conflict", Severity: audit.SeverityMedium, SPN: "HTTP/svexpgg310.corp.example.test",
			Accounts: []string{dnPool, dnNode310},
			Message: "svc_iis_pool holds HTTP/svexpgg310.corp.example.test, which overrides the HOST/svexpgg310.corp.example.test of SVEXPGG310$ for HTTP: " +
				"WinRM and other HTTP services running as the machine get tickets they cannot decrypt.",
			Remediation: []string{
				`setspn -D HTTP/svexpgg310.corp.example.test CORP\svc_iis_pool`,
				`setspn -S HTTP/svexpgg310.corp.example.test:443 CORP\svc_iis_pool`,
			},
			References: []string{"https://learn.microsoft.com/en-us/troubleshoot/windows-server/windows-security/kerberos-authentication-troubleshooting-guidance"}},
		{Rule: "malformed-spn", Severity: audit.SeverityMedium, SPN: "HTTP/web\u200b01.emea.corp.example.test",
			Accounts:    []string{"CN=svc_old,OU=Disabled,DC=emea,DC=corp,DC=example,DC=test"},
			Message:     "The SPN contains U+200B ZERO WIDTH SPACE, invisible and not matched by AD's uniqueness check.",
			Remediation: []string{"setspn -D \"HTTP/web\u200b01.emea.corp.example.test\" EMEA\\svc_old"},
			References:  nil},
		{Rule: "malformed-spn", Severity: audit.SeverityMedium, SPN: "=HYPERLINK(\"http://evil.example\")/x",
			Accounts: []string{"CN=svc_old,OU=Disabled,DC=emea,DC=corp,DC=example,DC=test"},
			Message:  "The SPN has no service class before the / and a \x1b[31mterminal escape\x1b[0m.",
		},
		{Rule: "uniqueness-check-disabled", Severity: audit.SeverityMedium,
			Accounts: []string{"CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,DC=corp,DC=example,DC=test"},
			Message:  "dSHeuristics character 21 is 1: AD no longer refuses duplicate SPNs and UPNs.",
			Remediation: []string{`Set-ADObject "CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,DC=corp,DC=example,DC=test" ` +
				`-Replace @{dSHeuristics='00000000010000000002000000'}`}},
		{Rule: "missing-spn-pair", Severity: audit.SeverityLow, SPN: "HTTP/" + strings.Repeat("very-long-label-", 7) + "end.emea.corp.example.test",
			Accounts: []string{"CN=gmsa_web,CN=Managed Service Accounts,DC=emea,DC=corp,DC=example,DC=test"},
			Message:  "Only the DNS form is registered; clients using the NetBIOS name fall back to NTLM."},
	}
}

func scenarioDocument() *Document {
	return NewDocument(scenarioSnapshot(), scenarioFindings(), 2)
}

// visibleWidth is the width of a line on a terminal, colour codes excluded.
func visibleWidth(line string) int {
	n := 0
	for i := 0; i < len(line); {
		if strings.HasPrefix(line[i:], "\x1b[") {
			j := strings.IndexByte(line[i:], 'm')
			if j < 0 {
				panic(fmt.Sprintf("unterminated escape in %q", line))
			}
			i += j + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(line[i:])
		i += size
		n++
	}
	return n
}
