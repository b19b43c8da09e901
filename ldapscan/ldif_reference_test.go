package ldapscan

// The LDIF reader as it was before issue 9's rewrite (commit bac90af), kept
// as the reference the differential test compares the fast reader with.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// ReadLDIF reads an LDIF export (ldifde, or ldapsearch with or without -LLL)
// of a directory: folded lines, CRLF line ends, comments, base64 ("::")
// values, a version line, and values split by AD range retrieval
// ("servicePrincipalName;range=0-1499:") which are merged. Objects with SPNs
// become the inventory; crossRef, sPNMappings/dSHeuristics and dnsNode
// entries, when present, the directory settings, and each domain's
// Read-only Domain Controllers group (RID 521) its AES threshold (a warning
// says when the export lacks it). Values given by URL
// (":<") are never fetched. source names the export in the snapshot.
func refReadLDIF(r io.Reader, source string) (*LDIFResult, error) {
	lr := &refReader{ldifReader: &ldifReader{b: newDirectoryBuilder(), res: &LDIFResult{}, domains: map[string]struct{}{}, groups: newMembershipBuilder()}}
	if err := lr.read(r); err != nil {
		return nil, err
	}
	objects := inventory.Pointers(lr.objects)
	sortObjects(objects)
	objects = lr.applyPrivileges(objects)
	dir := lr.b.directory()
	if dir.ForestDNS == "" && len(lr.domains) == 1 {
		for d := range lr.domains {
			dir.ForestDNS = d
		}
	}
	if len(dir.Domains) == 0 {
		for d := range lr.domains {
			dir.Domains = append(dir.Domains, d)
		}
		slices.Sort(dir.Domains)
	}
	lr.res.AESThresholdUnknown = lr.unknownAESThresholds(dir)
	lr.res.Snapshot = &inventory.Snapshot{Directory: dir, Objects: objects, Server: source}
	return lr.res, nil
}

type refReader struct {
	*ldifReader
	first bool

	// current record
	lines     []refLine
	recordAt  int
	lineNo    int
	logical   []byte
	logicalAt int
	// spacesAt is the number of the last line made only of spaces in the
	// current record: LDIF reads it as a continuation, not as the blank line
	// that ends a record.
	spacesAt int
}

type refLine struct {
	text string
	no   int
}

func (lr *refReader) warn(format string, args ...any) {
	if len(lr.res.Warnings) >= maxLDIFWarnings {
		lr.res.MoreWarnings++
		return
	}
	lr.res.Warnings = append(lr.res.Warnings, fmt.Sprintf(format, args...))
}

func (lr *refReader) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLDIFLine)
	lr.first = true
	for sc.Scan() {
		lr.lineNo++
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		switch {
		case len(line) > 0 && line[0] == ' ':
			if lr.logical == nil {
				return fmt.Errorf("ldif line %d: continuation line without a line to continue", lr.lineNo)
			}
			lr.logical = append(lr.logical, line[1:]...)
			if len(bytes.TrimLeft(line, " ")) == 0 {
				lr.spacesAt = lr.lineNo
			}
		case len(line) == 0:
			if err := lr.endLogical(); err != nil {
				return err
			}
			if err := lr.endRecord(); err != nil {
				return err
			}
		default:
			if err := lr.endLogical(); err != nil {
				return err
			}
			lr.logical = append([]byte{}, line...)
			lr.logicalAt = lr.lineNo
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("ldif line %d: %w", lr.lineNo+1, err)
	}
	if err := lr.endLogical(); err != nil {
		return err
	}
	return lr.endRecord()
}

// endLogical files the unfolded line just completed; comments are dropped
// whole, continuation lines included.
func (lr *refReader) endLogical() error {
	if lr.logical == nil {
		return nil
	}
	text := string(lr.logical)
	lr.logical = nil
	if strings.HasPrefix(text, "#") {
		return nil
	}
	if len(lr.lines) == 0 {
		lr.recordAt = lr.logicalAt
	} else if refHasKey(text, "dn") && !lr.versionOnly() {
		return lr.dnInsideRecord()
	}
	lr.lines = append(lr.lines, refLine{text: text, no: lr.logicalAt})
	return nil
}

// versionOnly reports whether the current record holds only the version
// line of the file, which the first record may follow on the next line
// (RFC 2849: version-spec 1*(1*SEP ldif-attrval-record)).
func (lr *refReader) versionOnly() bool {
	return lr.first && len(lr.lines) == 1 && refHasKey(lr.lines[0].text, "version")
}

// dnInsideRecord refuses a "dn:" line that is not the first line of its
// record. RFC 2849 separates records by a blank line; reading on would give
// the attributes of the next entry (its SPNs among them) to the entry
// before it.
func (lr *refReader) dnInsideRecord() error {
	err := fmt.Errorf("ldif line %d: dn: inside the record that starts at line %d; records must be separated by an empty line",
		lr.logicalAt, lr.recordAt)
	if lr.spacesAt > lr.recordAt {
		err = fmt.Errorf("%w (line %d holds only spaces, which LDIF reads as the continuation of the line before it: make it empty)",
			err, lr.spacesAt)
	}
	return err
}

func (lr *refReader) endRecord() error {
	lines := lr.lines
	lr.lines = lr.lines[:0]
	lr.spacesAt = 0
	if len(lines) == 0 {
		return nil
	}
	first := lr.first
	lr.first = false
	if first && refHasKey(lines[0].text, "version") {
		lines = lines[1:]
		if len(lines) == 0 {
			return nil
		}
	}
	if !refHasKey(lines[0].text, "dn") {
		// ldapsearch prints "search: 2 / result: 0 Success" and "ref:" records.
		if !refHasKey(lines[0].text, "search") && !refHasKey(lines[0].text, "result") && !refHasKey(lines[0].text, "ref") {
			// Most likely the rest of an entry that an empty line cut in two:
			// skipping it would drop that entry's attributes, SPNs included.
			return fmt.Errorf("ldif line %d: record without dn: (an empty line inside an entry splits it in two; RFC 2849 starts every record with dn:)",
				lines[0].no)
		}
		return nil
	}
	_, dn, err := refParseLine(lines[0])
	if err != nil {
		return err
	}
	return lr.addEntry(string(dn), lines[1:])
}

func (lr *refReader) addEntry(dn string, lines []refLine) error {
	rec := newRecord(dn)
	var byURL []refLine // attributes whose value was given by URL, not read
	for _, l := range lines {
		desc, value, err := refParseLine(l)
		if errors.Is(err, refErrURLValue) {
			lr.warn("ldif line %d: %s: value given by URL not read", l.no, desc)
			byURL = append(byURL, refLine{text: desc, no: l.no})
			continue
		}
		if err != nil {
			return err
		}
		switch strings.ToLower(desc) {
		case "changetype":
			if ct := strings.ToLower(string(value)); ct != "add" {
				lr.warn("ldif line %d: %s: changetype %s record skipped", lr.recordAt, dn, ct)
				return nil
			}
			continue
		case "control":
			continue
		}
		if err := rec.add(desc, [][]byte{value}); err != nil {
			return fmt.Errorf("ldif line %d: %w", l.no, err)
		}
	}
	lr.res.Entries++
	for _, key := range rec.incomplete() {
		rs := rec.ranges[key]
		lr.warn("ldif line %d: %s: %s holds only the values up to range %d: the export did not retrieve the remaining ones",
			lr.recordAt, dn, rs.desc, rs.current.high)
	}
	if err := lr.groups.add(rec); err != nil {
		return fmt.Errorf("ldif line %d: %w", lr.recordAt, err)
	}
	if lr.b.add(rec) {
		return nil
	}
	if len(rec.values("servicePrincipalName")) == 0 {
		return nil
	}
	if err := lr.incompleteObject(rec, byURL); err != nil {
		return err
	}
	o, err := refObjectFromRecord(rec)
	if err != nil {
		return fmt.Errorf("ldif line %d: %w", lr.recordAt, err)
	}
	if o.Domain != "" {
		lr.domains[o.Domain] = struct{}{}
	}
	lr.objects = append(lr.objects, o)
	return nil
}

// incompleteObject refuses an object with SPNs whose export left out values
// the inventory reads: the audit of a partial object would be a partial
// audit (a duplicate among the missing SPNs never found).
func (lr *refReader) incompleteObject(rec *record, byURL []refLine) error {
	read := func(name string) bool {
		name, _, _ = strings.Cut(name, ";")
		return slices.ContainsFunc(objectAttributes, func(a string) bool { return strings.EqualFold(a, name) })
	}
	for _, key := range rec.incomplete() {
		if rs := rec.ranges[key]; read(key) {
			return fmt.Errorf("ldif line %d: %s: %s holds only the values up to range %d: the export did not retrieve the remaining ones (%s;range=%d-*), so the audit would be partial; export them too, or scan the directory",
				lr.recordAt, rec.dn, rs.desc, rs.current.high, rs.desc, rs.next())
		}
	}
	for _, l := range byURL {
		if read(l.text) {
			return fmt.Errorf("ldif line %d: %s: %s given by URL, which is never read, so the audit would be partial; export the value itself",
				l.no, rec.dn, l.text)
		}
	}
	return nil
}

var refErrURLValue = errors.New("value given by URL")

// hasKey reports whether an LDIF line is of attribute key.
func refHasKey(line, key string) bool {
	desc, _, ok := strings.Cut(line, ":")
	return ok && strings.EqualFold(desc, key)
}

// refParseLine splits "desc: value", "desc:: base64" and "desc:< url".
func refParseLine(l refLine) (string, []byte, error) {
	desc, rest, ok := strings.Cut(l.text, ":")
	if !ok || desc == "" || strings.ContainsAny(desc, " \t") {
		return "", nil, fmt.Errorf("ldif line %d: want \"attribute: value\", got %q", l.no, truncate(l.text, 60))
	}
	switch {
	case strings.HasPrefix(rest, ":"):
		enc := strings.TrimSpace(rest[1:])
		v, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			if v, err = base64.RawStdEncoding.DecodeString(enc); err != nil {
				return "", nil, fmt.Errorf("ldif line %d: %s: bad base64 value: %w", l.no, desc, err)
			}
		}
		return desc, v, nil
	case strings.HasPrefix(rest, "<"):
		return desc, nil, refErrURLValue
	}
	return desc, []byte(strings.TrimLeft(rest, " ")), nil
}
