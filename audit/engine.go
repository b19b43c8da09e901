package audit

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// DefaultMaxPasswordAge is the password age above which a Kerberoastable
// account is reported as high severity when Config.MaxPasswordAge is unset.
const DefaultMaxPasswordAge = 365 * 24 * time.Hour

// Config is everything the audit needs besides the inventory. The zero value
// is usable.
type Config struct {
	// Now is the reference time for password ages; when zero, the snapshot's
	// Started time is used (the audit never reads the clock).
	Now time.Time
	// MaxPasswordAge defaults to DefaultMaxPasswordAge.
	MaxPasswordAge time.Duration
	// Farms describe load-balanced farms and the SPNs they must have.
	Farms []Farm
	// Ignore lists suppressions; a suppression that fails Validate is not
	// applied, so an invalid entry can never hide a finding.
	Ignore []Suppression
	// ResolvedHosts holds the caller's DNS answers for the host names
	// GhostCandidates returned: true when the name resolves, false when DNS
	// said definitely that it does not. A candidate missing from a non-nil map
	// (its lookup failed) is not reported: only a definite "no such host"
	// makes a ghost. Nil means no resolution was done.
	ResolvedHosts map[string]bool
	// KDCDefaultEncTypes is what the domain controllers issue to accounts
	// without msDS-SupportedEncryptionTypes; empty means KDCDefaultAES.
	KDCDefaultEncTypes KDCDefaultEncTypes
	// IIS holds the sites read from IIS configuration files (package
	// iisconfig); the IIS rules emit nothing without it.
	IIS []inventory.IISSite
}

// Validate reports the first problem in the farms and suppressions, naming
// the entry.
func (c Config) Validate() error {
	owner := make(map[string]int) // folded SPN -> first farm declaring it
	for i, f := range c.Farms {
		if err := f.Validate(); err != nil {
			return fieldError("farms", i, err)
		}
		for _, spn := range f.DesiredSPNs() {
			key := foldKey(spn)
			first, seen := owner[key]
			if !seen {
				owner[key] = i
				continue
			}
			if !strings.EqualFold(c.Farms[first].Account, f.Account) {
				return fieldError("farms", i, fmt.Errorf("farm %s: %s is also declared by farm %s for account %s; an SPN can have only one account",
					f.Name, spn, c.Farms[first].Name, c.Farms[first].Account))
			}
		}
	}
	if err := c.KDCDefaultEncTypes.Validate(); err != nil {
		return fmt.Errorf("kdc_default_enctypes: %w", err)
	}
	for i, s := range c.Ignore {
		if err := s.Validate(); err != nil {
			return fieldError("ignore", i, err)
		}
	}
	return nil
}

// Result is the outcome of one audit.
type Result struct {
	// Findings are the active findings, sorted by severity (most severe
	// first), rule, SPN and accounts.
	Findings []Finding `json:"findings"`
	// Suppressed are the findings an Ignore entry matched, in the same order,
	// each with the suppression that matched it.
	Suppressed []SuppressedFinding `json:"suppressed_findings"`
	// ExpiredSuppressions are the Ignore entries whose Until day has passed
	// (at Config.Now, else the snapshot's Started time), in configuration
	// order. They suppress nothing; callers report them so someone renews or
	// removes them.
	ExpiredSuppressions []Suppression `json:"expired_suppressions"`

	// change is how an incremental audit made the result from the one
	// before it, nil for a full audit (SetChange, ChangeFrom).
	change *ResultChange
}

// SuppressedFinding is a finding silenced by a suppression.
type SuppressedFinding struct {
	Finding
	SuppressedBy Suppression `json:"suppressed_by"`
}

// SuppressedCount is the number of suppressed findings.
func (r Result) SuppressedCount() int { return len(r.Suppressed) }

// Rule ids: a contract with metrics, alerts, suppressions and docs.
const (
	RuleDuplicateSPN            = "duplicate-spn"
	RuleHostAliasConflict       = "host-alias-conflict"
	RuleMissingSPNPair          = "missing-spn-pair"
	RuleGhostSPN                = "ghost-spn"
	RuleMalformedSPN            = "malformed-spn"
	RuleUniquenessCheckDisabled = "uniqueness-check-disabled"
	RuleKerberoastableAccount   = "kerberoastable-account"
	RuleWeakEncryption          = "weak-encryption"
	RuleUnconstrainedDelegation = "unconstrained-delegation"
	RuleDisabledAccountSPN      = "disabled-account-spn"
	RuleFarmDrift               = "farm-drift"
	// Delegation around SPNs (delegation.go).
	RuleConstrainedDelegation = "constrained-delegation"
	RuleDelegationTarget      = "delegation-target"
	RuleResourceBasedDelegate = "resource-based-delegation"
	RuleMissingAESKeys        = "missing-aes-keys"
)

// IIS rule ids (iis.go): they judge Config.IIS against the directory.
const (
	RuleIISPoolIdentity          = "iis-pool-identity-mismatch"
	RuleIISAppPoolCredentials    = "iis-app-pool-credentials"
	RuleIISExtendedProtectionSPN = "iis-extended-protection-spn"
	RuleIISExtendedProtection    = "iis-extended-protection-config"
	RuleIISHostHeaderSPN         = "iis-host-header-spn"
	RuleIISWinRM                 = "iis-winrm-extension"
)

// rule is one check over the shared index.
type rule interface {
	ID() string
	// Severities lists every severity the rule can emit.
	Severities() []Severity
	Check(ix *index) []Finding
}

var rules = []rule{
	duplicateSPN{},
	hostAliasConflict{},
	missingSPNPair{},
	ghostSPN{},
	malformedSPN{},
	uniquenessCheckDisabled{},
	kerberoastableAccount{},
	weakEncryption{},
	unconstrainedDelegation{},
	disabledAccountSPN{},
	farmDrift{},
	constrainedDelegation{},
	delegationTarget{},
	resourceBasedDelegation{},
	missingAESKeys{},
	// IIS rules (iis.go)
	iisPoolIdentity{},
	iisAppPoolCredentials{},
	iisExtendedProtectionSPN{},
	iisExtendedProtection{},
	iisHostHeaderSPN{},
	iisWinRM{},
}

// RuleIDs lists every rule id, in a stable order, for pre-initialised metrics.
var RuleIDs = func() []string {
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = r.ID()
	}
	return ids
}()

// RuleSeverities maps every rule id to the severities it can emit, most
// severe first.
var RuleSeverities = func() map[string][]Severity {
	m := make(map[string][]Severity, len(rules))
	for _, r := range rules {
		m[r.ID()] = r.Severities()
	}
	return m
}()

// Run audits snap. It does no I/O and does not modify snap.
func Run(snap *inventory.Snapshot, cfg Config) Result {
	ix := newIndex(snap, cfg)
	all := checkAll(ix)
	normalize(all)
	if ix.anyDated {
		dateFindings(snap, all) // changed.go
	}
	sortFindings(all)
	return applySuppressions(ix, all, compileSuppressions(cfg.Ignore))
}

// checkAll runs the rules on every core (they only read the index) and
// concatenates their findings in rule order, so the result does not depend
// on scheduling, into one slice of the exact size: appending rule by rule to
// a growing slice copied half a million findings several times over
// (issue 9).
func checkAll(ix *index) []Finding {
	per := make([][]Finding, len(rules))
	var next atomic.Int32
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(rules)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(rules); i = int(next.Add(1) - 1) {
				per[i] = rules[i].Check(ix)
			}
		})
	}
	wg.Wait()
	n := 0
	for _, fs := range per {
		n += len(fs)
	}
	all := make([]Finding, 0, n)
	for i := range per {
		all = append(all, per[i]...)
		per[i] = nil // the rule's slice can go as soon as it is copied
	}
	return all
}

// normalize gives every finding non-nil slices, so JSON shows [] not null.
func normalize(fs []Finding) {
	for i := range fs {
		f := &fs[i]
		if f.Accounts == nil {
			f.Accounts = []string{}
		}
		if f.Remediation == nil {
			f.Remediation = []string{}
		}
		if f.References == nil {
			f.References = []string{}
		}
	}
}

// sortFindings orders findings by severity (most severe first), rule, SPN,
// accounts, then message, so output is identical run to run.
func sortFindings(fs []Finding) {
	sortByKey(fs) // compareFindings' order, faster (sort.go)
}

func compareFindings(a, b Finding) int {
	if c := cmp.Compare(b.Severity.Rank(), a.Severity.Rank()); c != 0 {
		return c
	}
	if c := strings.Compare(a.Rule, b.Rule); c != 0 {
		return c
	}
	if c := strings.Compare(a.SPN, b.SPN); c != 0 {
		return c
	}
	if c := slices.Compare(a.Accounts, b.Accounts); c != 0 {
		return c
	}
	return strings.Compare(a.Message, b.Message)
}
