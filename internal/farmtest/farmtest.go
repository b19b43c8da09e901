// Package farmtest is the test fixture of the packages that publish and
// present a scan (metrics, web): the lab's IIS farm as a snapshot, its
// audit, a settable clock and the daemon's stages. It is data only, so both
// packages' internal tests can import it.
package farmtest

import (
	"errors"
	"sync"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// Stages are the daemon's: ldapscan's stages plus kerberos and audit.
var Stages = []string{"kerberos", "connect", "bind", "rootdse", "config", "search", "range", "referral", "audit"}

// ErrSearch is a scan failure.
var ErrSearch = errors.New("ldap search: connection reset by peer")

// Clock is a settable test clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to 2026-05-04 12:00 UTC.
func NewClock() *Clock { return &Clock{now: time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

const (
	DNPool   = "CN=svc-iis,OU=Service Accounts,DC=corp,DC=example,DC=test"
	DNLegacy = "CN=svc-legacy,OU=Service Accounts,DC=corp,DC=example,DC=test"
	DNNode11 = "CN=SVEXPGG311,OU=Web,DC=corp,DC=example,DC=test"
)

// Snapshot is the lab's IIS farm: an app-pool account with HTTP SPNs for
// the nodes and the VIP, node computer accounts with HOST SPNs, and a legacy
// account holding a duplicate of the VIP's SPN.
func Snapshot(started time.Time) *inventory.Snapshot {
	computer := func(name string) *inventory.Object {
		return &inventory.Object{
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
		Objects: []*inventory.Object{
			{DN: DNPool, Domain: "corp.example.test", SAMAccountName: "svc-iis", Kind: inventory.KindUser,
				SPNs: []string{
					"HTTP/svexpgg310", "HTTP/svexpgg310.corp.example.test",
					"HTTP/svexpgg311", "HTTP/svexpgg311.corp.example.test",
					"HTTP/svexpgg312", "HTTP/svexpgg312.corp.example.test",
					"HTTP/svnlb301", "HTTP/svnlb301.corp.example.test",
				}},
			{DN: DNLegacy, Domain: "corp.example.test", SAMAccountName: "svc-legacy", Kind: inventory.KindUser,
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

// Findings are the audit of Snapshot, the audit's order: most severe first, then by rule.
func Findings() []audit.Finding {
	return []audit.Finding{
		{Rule: "duplicate-spn", Severity: audit.SeverityHigh, SPN: "HTTP/svnlb301.corp.example.test",
			Accounts:    []string{DNPool, DNLegacy},
			Message:     "HTTP/svnlb301.corp.example.test is registered on 2 accounts; the KDC cannot pick one.",
			Remediation: []string{`setspn -D HTTP/svnlb301.corp.example.test CORP\svc-legacy`},
			References:  []string{"https://learn.microsoft.com/windows-server/identity/ad-ds/manage/component-updates/command-line-tools/setspn"}},
		{Rule: "ghost-spn", Severity: audit.SeverityHigh, SPN: "HTTP/oldweb.corp.example.test",
			Accounts: []string{DNLegacy},
			Message:  "oldweb.corp.example.test matches no computer and no DNS record."},
		{Rule: "host-alias-conflict", Severity: audit.SeverityMedium, SPN: "HTTP/svexpgg311.corp.example.test",
			Accounts: []string{DNPool, DNNode11},
			Message:  "HTTP/svexpgg311.corp.example.test on svc-iis overrides HOST/svexpgg311.corp.example.test on SVEXPGG311$: WinRM to the node breaks.",
			Remediation: []string{
				`setspn -D HTTP/svexpgg311.corp.example.test CORP\svc-iis`,
				`setspn -S HTTP/svexpgg311.corp.example.test:443 CORP\svc-iis`,
			}},
		{Rule: "kerberoastable-account", Severity: audit.SeverityMedium, Accounts: []string{DNLegacy},
			Message: "svc-legacy is a user account with SPNs: its tickets can be requested and cracked offline."},
	}
}

// Scan is one successful scan as the daemon hands it to a Sink
// (metrics.Store.ScanSucceeded).
type Scan struct {
	audit.Result
	Mode     inventory.ScanMode
	Snapshot *inventory.Snapshot
}

// Sink is the part of daemon.Sink that publishes a scan.
type Sink interface {
	ScanSucceeded(mode inventory.ScanMode, snap *inventory.Snapshot, findings audit.Result)
}

// PublishTo publishes the scan to s.
func (sc Scan) PublishTo(s Sink) { s.ScanSucceeded(sc.Mode, sc.Snapshot, sc.Result) }

// Result is a successful scan of the farm that started at started, with its
// findings, two suppressed findings and one expired suppression.
func Result(mode inventory.ScanMode, started time.Time) Scan {
	return Scan{
		Mode:     mode,
		Snapshot: Snapshot(started),
		Result: audit.Result{
			Findings:            Findings(),
			Suppressed:          make([]audit.SuppressedFinding, 2),
			ExpiredSuppressions: make([]audit.Suppression, 1),
		},
	}
}
