package metrics

import (
	"errors"
	"sync"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// testStages are the daemon's: ldapscan's stages plus kerberos and audit.
var testStages = []string{"kerberos", "connect", "bind", "rootdse", "config", "search", "range", "referral", "audit"}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestStore(c *clock, maxSeries int) *Store {
	return NewStore(Options{
		Rules:            audit.RuleIDs,
		Stages:           testStages,
		MaxFindingSeries: maxSeries,
		Build:            BuildInfo{Version: "1.2.3", Revision: "abc1234", GoVersion: "go1.test"},
		Now:              c.Now,
	})
}

const (
	dnPool   = "CN=svc-iis,OU=Service Accounts,DC=corp,DC=example,DC=test"
	dnLegacy = "CN=svc-legacy,OU=Service Accounts,DC=corp,DC=example,DC=test"
	dnNode11 = "CN=SVEXPGG311,OU=Web,DC=corp,DC=example,DC=test"
)

// farmSnapshot is the lab's IIS farm: an app-pool account with HTTP SPNs for
// the nodes and the VIP, node computer accounts with HOST SPNs, and a legacy
// account holding a duplicate of the VIP's SPN.
func farmSnapshot(started time.Time) *inventory.Snapshot {
	computer := func(name string) inventory.Object {
		return inventory.Object{
			DN: "CN=" + name + ",OU=Web,DC=corp,DC=example,DC=test", Domain: "corp.example.test",
			SAMAccountName: name + "$", Kind: inventory.KindComputer,
			SPNs: []string{"HOST/" + name, "HOST/" + name + ".corp.example.test"},
		}
	}
	return &inventory.Snapshot{
		Directory: inventory.Directory{
			ForestDNS:      "corp.example.test",
			Domains:        []string{"corp.example.test"},
			NetBIOSDomains: map[string]string{"corp.example.test": "CORP"},
		},
		Objects: []inventory.Object{
			{DN: dnPool, Domain: "corp.example.test", SAMAccountName: "svc-iis", Kind: inventory.KindUser,
				SPNs: []string{
					"HTTP/svexpgg310", "HTTP/svexpgg310.corp.example.test",
					"HTTP/svexpgg311", "HTTP/svexpgg311.corp.example.test",
					"HTTP/svexpgg312", "HTTP/svexpgg312.corp.example.test",
					"HTTP/svnlb301", "HTTP/svnlb301.corp.example.test",
				}},
			{DN: dnLegacy, Domain: "corp.example.test", SAMAccountName: "svc-legacy", Kind: inventory.KindUser,
				SPNs: []string{"HTTP/svnlb301.corp.example.test", "HTTP/oldweb.corp.example.test"}},
			computer("SVEXPGG310"), computer("SVEXPGG311"), computer("SVEXPGG312"),
			{DN: "CN=gmsa-sql,CN=Managed Service Accounts,DC=corp,DC=example,DC=test", Domain: "corp.example.test",
				SAMAccountName: "gmsa-sql$", Kind: inventory.KindGMSA, SPNs: []string{"MSSQLSvc/db1.corp.example.test:1433"}},
		},
		Server:   "dc1.corp.example.test",
		Started:  started,
		Duration: 1500 * time.Millisecond,
		// The farm's domain, and a child domain read through the Global
		// Catalog that holds no SPN.
		NamingContexts: []string{"DC=corp,DC=example,DC=test", "DC=lab,DC=corp,DC=example,DC=test"},
	}
}

// farmFindings are in the audit's order: most severe first, then by rule.
func farmFindings() []audit.Finding {
	return []audit.Finding{
		{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: "HTTP/svnlb301.corp.example.test",
			Accounts:    []string{dnPool, dnLegacy},
			Message:     "HTTP/svnlb301.corp.example.test is registered on 2 accounts; the KDC cannot pick one.",
			Remediation: []string{`setspn -D HTTP/svnlb301.corp.example.test CORP\svc-legacy`},
			References:  []string{"https://learn.microsoft.com/windows-server/identity/ad-ds/manage/component-updates/command-line-tools/setspn"}},
		{Rule: "ghost-spn", Severity: audit.SeverityHigh, SPN: "HTTP/oldweb.corp.example.test",
			Accounts: []string{dnLegacy},
			Message:  "oldweb.corp.example.test matches no computer and no DNS record."},
		{Rule: "host-alias-conflict", Severity: audit.SeverityMedium, SPN: "HTTP/svexpgg311.corp.example.test",
			Accounts: []string{dnPool, dnNode11},
			Message:  "HTTP/svexpgg311.corp.example.test on svc-iis overrides HOST/svexpgg311.corp.example.test on SVEXPGG311$: WinRM to the node breaks.",
			Remediation: []string{
				`setspn -D HTTP/svexpgg311.corp.example.test CORP\svc-iis`,
				`setspn -S HTTP/svexpgg311.corp.example.test:443 CORP\svc-iis`,
			}},
		{Rule: "kerberoastable-account", Severity: audit.SeverityMedium, Accounts: []string{dnLegacy},
			Message: "svc-legacy is a user account with SPNs: its tickets can be requested and cracked offline."},
	}
}

// scanResult is one successful scan as the daemon hands it to
// Store.ScanSucceeded.
type scanResult struct {
	audit.Result
	mode     inventory.ScanMode
	snapshot *inventory.Snapshot
}

// succeed publishes res to s.
func succeed(s *Store, res scanResult) { s.ScanSucceeded(res.mode, res.snapshot, res.Result) }

// farmResult is a successful scan of the farm that started at started, with
// two suppressed findings and one expired suppression.
func farmResult(mode inventory.ScanMode, started time.Time) scanResult {
	return scanResult{
		mode:     mode,
		snapshot: farmSnapshot(started),
		Result: audit.Result{
			Findings:            farmFindings(),
			Suppressed:          make([]audit.SuppressedFinding, 2),
			ExpiredSuppressions: make([]audit.Suppression, 1),
		},
	}
}

var errSearch = errors.New("ldap search: connection reset by peer")
