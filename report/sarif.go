package report

import (
	"io"
	"time"

	"github.com/spnaudit/spnaudit/audit"
)

// SARIF 2.1.0 (OASIS), the subset spnaudit fills: one rule descriptor per
// rule id found, one result per finding, the SPN and accounts as logical
// locations since findings live in a directory, not in files.

const (
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	sarifVersion = "2.1.0"
	toolURI      = "https://github.com/spnaudit/spnaudit"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  sarifRunProps     `json:"properties"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	HelpURI              string             `json:"helpUri,omitempty"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	// Properties carry "security-severity", the CVSS-like score GitHub code
	// scanning ranks by: the most severe finding of the rule in this run.
	Properties map[string]string `json:"properties,omitempty"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool   `json:"executionSuccessful"`
	StartTimeUTC        string `json:"startTimeUtc"`
	EndTimeUTC          string `json:"endTimeUtc"`
}

type sarifRunProps struct {
	Objects    int      `json:"objects"`
	SPNs       int      `json:"spns"`
	Domains    []string `json:"domains"`
	Suppressed int      `json:"suppressed"`
}

type sarifResult struct {
	RuleID     string           `json:"ruleId"`
	RuleIndex  int              `json:"ruleIndex"`
	Level      string           `json:"level"`
	Message    sarifMessage     `json:"message"`
	Locations  []sarifLocation  `json:"locations,omitempty"`
	Properties sarifResultProps `json:"properties"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifLocation struct {
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind"`
}

type sarifResultProps struct {
	Severity    audit.Severity `json:"severity"`
	Remediation []string       `json:"remediation"`
	References  []string       `json:"references"`
}

// sarifLevel maps severities onto SARIF's three levels.
func sarifLevel(s audit.Severity) string {
	switch s {
	case audit.SeverityCritical, audit.SeverityHigh:
		return "error"
	case audit.SeverityMedium:
		return "warning"
	}
	return "note"
}

// securitySeverity scores follow GitHub's bands: critical > 9.0, high 7.0 to
// 8.9, medium 4.0 to 6.9, low 0.1 to 3.9; info gets none.
var securitySeverity = map[audit.Severity]string{
	audit.SeverityCritical: "9.5",
	audit.SeverityHigh:     "8.0",
	audit.SeverityMedium:   "5.5",
	audit.SeverityLow:      "3.0",
}

func writeSARIF(w io.Writer, doc *Document, version string) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{Name: "spnaudit", Version: version, InformationURI: toolURI, Rules: []sarifRule{}}},
		Invocations: []sarifInvocation{{
			ExecutionSuccessful: true,
			StartTimeUTC:        doc.Scan.Started.Format(time.RFC3339Nano),
			EndTimeUTC:          doc.Scan.Started.Add(time.Duration(doc.Scan.DurationSeconds * float64(time.Second))).Format(time.RFC3339Nano),
		}},
		Results:    []sarifResult{},
		Properties: sarifRunProps{Objects: doc.Scan.Objects, SPNs: doc.Scan.SPNs, Domains: nonNil(doc.Scan.Domains), Suppressed: doc.Suppressed},
	}
	ruleIndex := map[string]int{}
	worst := map[string]audit.Severity{}
	for _, f := range doc.Findings {
		if _, ok := ruleIndex[f.Rule]; !ok {
			i := len(run.Tool.Driver.Rules)
			ruleIndex[f.Rule] = i
			rule := sarifRule{ID: f.Rule}
			if len(f.References) > 0 {
				rule.HelpURI = f.References[0]
			}
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, rule)
		}
		if w, ok := worst[f.Rule]; !ok || f.Severity.Rank() > w.Rank() {
			worst[f.Rule] = f.Severity
		}
	}
	for i := range run.Tool.Driver.Rules {
		r := &run.Tool.Driver.Rules[i]
		r.DefaultConfiguration.Level = sarifLevel(worst[r.ID])
		if score, ok := securitySeverity[worst[r.ID]]; ok {
			r.Properties = map[string]string{"security-severity": score}
		}
	}
	// The results, one per finding, are written as they are made (issue 9),
	// each into the same variables: the writer encodes one before asking
	// for the next.
	var (
		res     sarifResult
		loc     [1]sarifLocation
		logical []sarifLogicalLocation
	)
	return writeJSONStreaming(w, sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}}, "results", 3,
		len(doc.Findings), func(i int) any {
			f := &doc.Findings[i]
			res = sarifResult{
				RuleID:     f.Rule,
				RuleIndex:  ruleIndex[f.Rule],
				Level:      sarifLevel(f.Severity),
				Message:    sarifMessage{Text: f.Message},
				Properties: sarifResultProps{Severity: f.Severity, Remediation: nonNil(f.Remediation), References: nonNil(f.References)},
			}
			logical = appendLogicalLocations(logical[:0], f)
			if len(logical) > 0 {
				loc[0].LogicalLocations = logical
				res.Locations = loc[:]
			}
			return &res
		})
}

// appendLogicalLocations puts the SPN and the accounts' DNs in one
// location: they are where the finding lives.
func appendLogicalLocations(dst []sarifLogicalLocation, f *audit.Finding) []sarifLogicalLocation {
	if f.SPN != "" {
		dst = append(dst, sarifLogicalLocation{Name: f.SPN, Kind: "servicePrincipalName"})
	}
	for _, dn := range f.Accounts {
		dst = append(dst, sarifLogicalLocation{FullyQualifiedName: dn, Kind: "account"})
	}
	return dst
}
