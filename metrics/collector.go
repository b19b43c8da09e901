package metrics

import (
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// collector turns the Store's current state into const metrics. Collect reads
// one atomic pointer and allocates the metrics: no locks, no I/O.
type collector struct {
	store *Store

	findings, findingInfo, findingSeriesTruncated     *prometheus.Desc
	spns, objects, suppressed                         *prometheus.Desc
	scanSuccess, lastSuccess, scanDuration            *prometheus.Desc
	scans, scanFailures, ldapUp, tgtExpiry, buildInfo *prometheus.Desc
	suppressionsExpired                               *prometheus.Desc

	// snapshotObjects counts objects per naming context read, so that a
	// naming context that comes back short or empty is visible.
	snapshotObjects                  *prometheus.Desc
	findingFirstSeen, findingChanged *prometheus.Desc // dates.go
}

func newCollector(store *Store) *collector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("spnaudit_"+name, help, labels, nil)
	}
	return &collector{
		store:                  store,
		findings:               desc("findings", "Findings in the current snapshot, by audit rule and severity.", "rule", "severity"),
		findingInfo:            desc("finding_info", "One series per finding and account in the current snapshot (value 1), capped by metrics.max_finding_series; duplicate SPNs and alias conflicts are kept first.", "rule", "severity", "spn", "account"),
		findingSeriesTruncated: desc("finding_series_truncated", "1 when spnaudit_finding_info was capped by metrics.max_finding_series, else 0."),
		spns:                   desc("spns", "servicePrincipalName values in the current snapshot."),
		objects:                desc("objects", "Directory objects holding at least one SPN in the current snapshot, by kind.", "kind"),
		suppressed:             desc("suppressed_findings", "Findings silenced by audit.ignore entries in the current snapshot."),
		scanSuccess:            desc("scan_success", "1 when the last scan (full or incremental) succeeded, else 0."),
		lastSuccess:            desc("scan_last_success_timestamp_seconds", "Unix time at which the last successful scan finished."),
		scanDuration:           desc("scan_duration_seconds", "Duration of the last successful scan of each mode.", "mode"),
		scans:                  desc("scans_total", "Scans finished (successful or failed), by mode.", "mode"),
		scanFailures:           desc("scan_failures_total", "Failed or partial scans, by mode and the stage that failed.", "mode", "stage"),
		ldapUp:                 desc("ldap_up", "1 when the domain controller answered the last connection attempt, else 0.", "server"),
		tgtExpiry:              desc("kerberos_tgt_expiry_timestamp_seconds", "Unix time at which the current Kerberos TGT expires."),
		buildInfo:              desc("build_info", "Build of the running spnaudit (value 1).", "version", "revision", "goversion"),
		suppressionsExpired:    desc("suppressions_expired", "audit.ignore entries whose until date has passed at the current snapshot; they suppress nothing."),

		snapshotObjects:  desc("snapshot_objects", "Directory objects holding at least one SPN in the current snapshot, by naming context read (0 for one that holds none).", "naming_context"),
		findingFirstSeen: desc("finding_first_seen_timestamp_seconds", "Unix time at which spnaudit first saw the finding (kept in state.dir), for the spnaudit_finding_info series that have one.", "rule", "severity", "spn", "account"),
		findingChanged:   desc("finding_spn_changed_timestamp_seconds", "Unix time of the last servicePrincipalName change on the finding's accounts (AD replication metadata), with the DC that made it, for the spnaudit_finding_info series that have one.", "rule", "severity", "spn", "account", "changed_on"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.findings, c.findingInfo, c.findingSeriesTruncated, c.spns, c.objects, c.suppressed,
		c.scanSuccess, c.lastSuccess, c.scanDuration, c.scans, c.scanFailures, c.ldapUp,
		c.tgtExpiry, c.buildInfo,
		c.suppressionsExpired,
		c.snapshotObjects,
		c.findingFirstSeen, c.findingChanged,
	} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.store.load()
	opts := c.store.opts
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- constMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	gauge(c.buildInfo, 1, labelValue(opts.Build.Version), labelValue(opts.Build.Revision), labelValue(opts.Build.GoVersion))
	gauge(c.scanSuccess, boolValue(st.lastScan.OK))
	for _, mode := range withExtraKeys(inventory.ScanModes, st.scans) {
		counter(c.scans, st.scans[mode], string(mode))
	}
	for _, mode := range withExtraKeys(inventory.ScanModes, st.scans) {
		for _, stage := range c.store.stages {
			counter(c.scanFailures, st.failures[failureKey{mode, stage}], string(mode), stage)
		}
	}
	for mode, d := range st.lastDuration {
		gauge(c.scanDuration, d.Seconds(), string(mode))
	}
	for server, up := range st.ldapUp {
		gauge(c.ldapUp, boolValue(up), labelValue(server))
	}
	if !st.tgtExpiry.IsZero() {
		gauge(c.tgtExpiry, unixSeconds(st.tgtExpiry))
	}

	// Snapshot series are absent until the first successful scan: a zero
	// before then would claim a clean directory that nobody has read yet.
	v := st.snapshot
	if v == nil {
		return
	}
	gauge(c.lastSuccess, unixSeconds(v.succeeded))
	gauge(c.spns, float64(v.spns))
	gauge(c.suppressed, float64(v.document.Suppressed))
	gauge(c.suppressionsExpired, float64(v.expiredSuppressions))
	for _, kind := range withExtraKeys(inventory.Kinds, v.objectsByKind) {
		gauge(c.objects, float64(v.objectsByKind[kind]), string(kind))
	}
	for nc, n := range v.objectsByNC {
		gauge(c.snapshotObjects, float64(n), labelValue(nc))
	}
	counted := map[ruleSeverity]bool{}
	for _, rule := range opts.Rules {
		for _, sev := range audit.Severities {
			key := ruleSeverity{rule, sev}
			counted[key] = true
			gauge(c.findings, float64(v.findingCounts[key]), rule, string(sev))
		}
	}
	// A rule or severity missing from Options is still counted, never hidden.
	for key, n := range v.findingCounts {
		if !counted[key] {
			gauge(c.findings, float64(n), labelValue(key.rule), labelValue(string(key.severity)))
		}
	}
	for _, s := range v.info {
		gauge(c.findingInfo, 1, s.rule, s.severity, s.spn, s.account)
	}
	c.collectDates(v, gauge) // dates.go
	gauge(c.findingSeriesTruncated, boolValue(v.truncated))
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// constMetric never panics: a bad label value turns into a scrape error for
// that one series instead of crashing the daemon.
func constMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// withExtraKeys returns known followed by any key of m not in known, so
// pre-initialised series come first and nothing recorded is dropped.
func withExtraKeys[K comparable, V any](known []K, m map[K]V) []K {
	out := slices.Clone(known)
	for k := range m {
		if !slices.Contains(known, k) {
			out = append(out, k)
		}
	}
	return out
}

// NewRegistry returns a registry with the spnaudit collector and the standard
// Go runtime and process collectors, and the extra collectors given.
func NewRegistry(store *Store, extra ...prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newCollector(store),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	reg.MustRegister(extra...) // NewSPNChanges (changes.go)
	return reg
}
