package metrics

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/report"
)

// snapshotView is everything the collector, the JSON API and the landing page
// need from one successful scan, computed once when the scan is published.
type snapshotView struct {
	document  *report.Document // without snapshot age, which depends on "now"
	succeeded time.Time
	spns      int

	objectsByKind map[inventory.Kind]int
	// objectsByNC counts objects per naming context read (bounded by the
	// forest's domains).
	objectsByNC   map[string]int
	findingCounts map[ruleSeverity]int
	// info is deduplicated, ordered most severe first and capped.
	info      []infoSeries
	truncated bool
	// accountNames maps the DNs named by findings to NETBIOS\sAMAccountName.
	accountNames map[string]string
}

type ruleSeverity struct {
	rule     string
	severity audit.Severity
}

// infoSeries is the label set of one spnaudit_finding_info series.
type infoSeries struct {
	rule, severity, spn, account string
}

func newSnapshotView(res ScanResult, succeeded time.Time, maxInfo int) *snapshotView {
	doc := report.NewDocument(res.Snapshot, res.Findings, res.Suppressed)
	v := &snapshotView{
		document:      doc,
		succeeded:     succeeded,
		spns:          doc.Scan.SPNs,
		objectsByKind: map[inventory.Kind]int{},
		findingCounts: map[ruleSeverity]int{},
		accountNames:  accountNames(res.Snapshot, doc.Findings),
		objectsByNC:   res.Snapshot.ObjectsByNamingContext(),
	}
	for i := range res.Snapshot.Objects {
		v.objectsByKind[res.Snapshot.Objects[i].Kind]++
	}
	for _, f := range doc.Findings {
		v.findingCounts[ruleSeverity{f.Rule, f.Severity}]++
	}
	v.info, v.truncated = capSeries(infoSeriesOf(doc.Findings, v.accountNames), maxInfo)
	return v
}

// accountNames maps each DN that a finding names to the name an admin types
// (and recognises in an alert): NETBIOS\sAMAccountName, as setspn -L takes
// it. A DN whose object or NetBIOS domain name is unknown maps to itself.
func accountNames(snap *inventory.Snapshot, findings []audit.Finding) map[string]string {
	names := map[string]string{}
	for _, f := range findings {
		for _, dn := range f.Accounts {
			names[dn] = dn
		}
	}
	for i := range snap.Objects {
		o := &snap.Objects[i]
		if _, wanted := names[o.DN]; !wanted || o.SAMAccountName == "" {
			continue
		}
		if netbios := snap.Directory.NetBIOSDomains[o.Domain]; netbios != "" {
			names[o.DN] = netbios + `\` + o.SAMAccountName
		}
	}
	return names
}

// infoSeriesOf returns one label set per finding and account (a finding with
// no account, such as a directory setting, gets account=""), without
// duplicates: a registry refuses a scrape with two identical series.
func infoSeriesOf(findings []audit.Finding, names map[string]string) []infoSeries {
	seen := map[infoSeries]bool{}
	var out []infoSeries
	add := func(s infoSeries) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, f := range findings {
		base := infoSeries{
			rule:     labelValue(f.Rule),
			severity: labelValue(string(f.Severity)),
			spn:      labelValue(f.SPN),
		}
		if len(f.Accounts) == 0 {
			add(base)
		}
		for _, dn := range f.Accounts {
			s := base
			s.account = labelValue(names[dn])
			add(s)
		}
	}
	return out
}

// capSeries orders the series most severe first (then by rule, SPN and
// account, so the choice is deterministic) and keeps at most max of them.
func capSeries(series []infoSeries, max int) ([]infoSeries, bool) {
	slices.SortFunc(series, func(a, b infoSeries) int {
		return cmp.Or(
			cmp.Compare(audit.Severity(b.severity).Rank(), audit.Severity(a.severity).Rank()),
			strings.Compare(a.rule, b.rule),
			strings.Compare(a.spn, b.spn),
			strings.Compare(a.account, b.account),
		)
	})
	if len(series) <= max {
		return series, false
	}
	return series[:max:max], true
}

// labelValue makes s a valid label value: SPNs are stored as written and may
// hold invalid UTF-8, which would make the whole scrape fail.
func labelValue(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
