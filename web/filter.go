package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// landingFilter is the landing page's query: plain GET parameters, so that
// a filtered view is a link (in a runbook, a chat, an alert annotation) and
// works without JavaScript.
//
//	rule=duplicate-spn   findings of that rule
//	severity=high        findings of that severity
//	account=svc_iispool  findings naming an account whose NETBIOS\name or DN
//	                     contains the text (case-insensitive)
//	spn=svexpgg311       findings whose SPN contains the text (case-insensitive)
//	view=account         group by account instead of by rule
type landingFilter struct {
	Rule     string
	Severity string
	Account  string
	SPN      string
	View     string // "rule" or "account"
}

// maxFilterLen bounds a filter's text: anything longer matches nothing an
// SPN or DN could hold, and echoing it back would let a link bloat the page.
const maxFilterLen = 512

func parseFilter(q url.Values) landingFilter {
	get := func(k string) string {
		v := displayText(strings.TrimSpace(q.Get(k)))
		if len(v) > maxFilterLen {
			v = v[:maxFilterLen]
		}
		return v
	}
	f := landingFilter{Rule: get("rule"), Severity: strings.ToLower(get("severity")),
		Account: get("account"), SPN: get("spn"), View: "rule"}
	if get("view") == "account" {
		f.View = "account"
	}
	return f
}

// Active reports whether any filter narrows the findings.
func (f landingFilter) Active() bool {
	return f.Rule != "" || f.Severity != "" || f.Account != "" || f.SPN != ""
}

// query returns the filter as a query string, with set overriding keys; ""
// removes a key.
func (f landingFilter) query(set map[string]string) string {
	q := url.Values{}
	for k, v := range map[string]string{"rule": f.Rule, "severity": f.Severity, "account": f.Account, "spn": f.SPN} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.View == "account" {
		q.Set("view", "account")
	}
	for k, v := range set {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return "/"
	}
	return "/?" + q.Encode()
}

// apply returns the findings the filter keeps, in their order, as pointers
// into findings (the published state, never modified). Text matches what the page shows
// (displayText), so a value copied from the page finds its finding.
func (f landingFilter) apply(findings []audit.Finding, names map[string]string) []*audit.Finding {
	if !f.Active() {
		out := make([]*audit.Finding, len(findings))
		for i := range findings {
			out[i] = &findings[i]
		}
		return out
	}
	spn, account := []byte(foldSPN(f.SPN)), foldSPN(f.Account)
	// Accounts repeat across findings: each DN is matched once.
	accountMatch := make(map[string]bool)
	matches := func(dn string) bool {
		m, ok := accountMatch[dn]
		if !ok {
			m = strings.Contains(foldSPN(displayText(names[dn])), account) || strings.Contains(foldSPN(displayText(dn)), account)
			accountMatch[dn] = m
		}
		return m
	}
	var buf []byte
	var out []*audit.Finding
	for i := range findings {
		fd := &findings[i]
		if f.Rule != "" && fd.Rule != f.Rule || f.Severity != "" && string(fd.Severity) != f.Severity {
			continue
		}
		if len(spn) > 0 {
			buf = appendFoldDisplay(buf[:0], fd.SPN)
			if !bytes.Contains(buf, spn) {
				continue
			}
		}
		if account != "" && !slices.ContainsFunc(fd.Accounts, matches) {
			continue
		}
		out = append(out, fd)
	}
	return out
}

// appendFoldDisplay appends foldSPN(displayText(s)) to dst without
// allocating for an SPN without control characters.
func appendFoldDisplay(dst []byte, s string) []byte {
	if strings.ContainsFunc(s, unicode.IsControl) {
		s = displayText(s)
	}
	for _, r := range s {
		dst = utf8.AppendRune(dst, inventory.FoldRune(r))
	}
	return dst
}

// findingKey identifies a finding across scans: its rule, SPN and accounts,
// which a re-scan keeps while the message's wording or the order may change.
// A finding with neither SPN nor account (an IIS setting, a farm that cannot
// be checked) is told apart by its message.
func findingKey(f *audit.Finding) string {
	var b strings.Builder
	b.WriteString(f.Rule)
	b.WriteByte(0)
	b.WriteString(foldSPN(f.SPN))
	for _, dn := range f.Accounts {
		b.WriteByte(0)
		b.WriteString(foldSPN(dn))
	}
	if f.SPN == "" && len(f.Accounts) == 0 {
		b.WriteByte(0)
		b.WriteString(f.Message)
	}
	return b.String()
}

// anchorHash is a short, stable, HTML-id-safe digest.
func anchorHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// anchors gives each shown finding its id: "f-" and the digest of its key,
// and "-2", "-3" for later findings of the same key on the page. A finding
// shown twice (under two accounts) keeps its first id.
type anchors struct {
	byFinding map[*audit.Finding]string
	count     map[string]int
}

func newAnchors() *anchors {
	return &anchors{byFinding: make(map[*audit.Finding]string), count: make(map[string]int)}
}

// id returns f's anchor and whether this is its first showing.
func (a *anchors) id(f *audit.Finding) (string, bool) {
	if id, ok := a.byFinding[f]; ok {
		return id, false
	}
	id := "f-" + anchorHash(findingKey(f))
	a.count[id]++
	if n := a.count[id]; n > 1 {
		id += "-" + strconv.Itoa(n)
	}
	a.byFinding[f] = id
	return id, true
}
