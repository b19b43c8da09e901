package ldapscan

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/inventory"
)

// chunkResult is what one chunk of an export gives.
type chunkResult struct {
	objects      []inventory.Object
	entries      int
	bytes        int  // of the export
	ordered      bool // objects in strictly increasing compareObjects order
	warnings     []string
	moreWarnings int
	// deferred are the directory and membership entries, detached from the
	// chunk's buffer, for the builders that must see them in export order.
	deferred []*record
	err      error
}

// chunkParser reads the lines of one chunk as the reader of RFC 2849 does:
// logical lines unfolded, comments dropped, records ended by an empty line.
// It works on the chunk's bytes in place: a line is copied only when a
// continuation line unfolds it, and a value only when base64 decodes it.
type chunkParser struct {
	res   *chunkResult
	first bool // the next record is the first of the file
	line  int  // number of the line being read

	// current record
	lines    []ldifLine
	recordAt int
	// the logical line being read; folded when it lives in arena
	logical    []byte
	hasLogical bool
	folded     bool
	foldAt     int
	logicalAt  int
	// spacesAt is the number of the last line made only of spaces in the
	// current record: LDIF reads it as a continuation, not as the blank line
	// that ends a record.
	spacesAt int
	// arena holds the current record's unfolded lines and decoded values.
	arena []byte

	rec    *record    // reused for every entry
	slab   objectSlab // the objects' strings and lists
	seen   []seenAttr
	byURL  []urlValue
	dirs   *directoryBuilder  // asked which entries describe the directory
	groups *membershipBuilder // asked whether a membership entry is sound
}

type ldifLine struct {
	text []byte
	no   int
}

type urlValue struct {
	desc string
	no   int
}

// parseChunk parses c, its objects appended to objects (an empty slice to
// reuse, or nil).
func parseChunk(c ldifChunk, objects []inventory.Object) *chunkResult {
	// Room for the objects of a chunk of typical entries (about 600 bytes
	// each): growing a slice of objects copies them (issue 9).
	if objects == nil {
		objects = make([]inventory.Object, 0, len(c.data)/512+1)
	}
	res := &chunkResult{objects: objects, bytes: len(c.data)}
	p := &chunkParser{res: res, first: c.first, line: c.line, rec: newRecord(""),
		dirs: newDirectoryBuilder(), groups: newMembershipBuilder()}
	if err := p.parse(c); err != nil {
		p.res.err = err
	}
	res.ordered = strictlyOrdered(res.objects)
	return p.res
}

func (p *chunkParser) warn(format string, args ...any) {
	if len(p.res.warnings) >= maxLDIFWarnings {
		p.res.moreWarnings++
		return
	}
	p.res.warnings = append(p.res.warnings, fmt.Sprintf(format, args...))
}

func (p *chunkParser) parse(c ldifChunk) error {
	data := c.data
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		// bufio.ScanLines dropped one CR, the reader before issue 9 another.
		line = dropCR(dropCR(line))
		p.line++
		switch {
		case len(line) > 0 && line[0] == ' ':
			if !p.hasLogical {
				return fmt.Errorf("ldif line %d: continuation line without a line to continue", p.line)
			}
			if !p.folded {
				p.foldAt = len(p.arena)
				p.arena = append(p.arena, p.logical...)
				p.folded = true
			}
			p.arena = append(p.arena, line[1:]...)
			p.logical = p.arena[p.foldAt:]
			if len(bytes.TrimLeft(line, " ")) == 0 {
				p.spacesAt = p.line
			}
		case len(line) == 0:
			if err := p.endLogical(); err != nil {
				return err
			}
			if err := p.endRecord(); err != nil {
				return err
			}
		default:
			if err := p.endLogical(); err != nil {
				return err
			}
			p.logical, p.hasLogical, p.folded = line, true, false
			p.logicalAt = p.line
		}
	}
	if c.err != nil {
		return fmt.Errorf("ldif line %d: %w", p.line+1, c.err)
	}
	if !c.end {
		return nil // the chunk ended with an empty line, and so its last record
	}
	if err := p.endLogical(); err != nil {
		return err
	}
	return p.endRecord()
}

func dropCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// endLogical files the unfolded line just completed; comments are dropped
// whole, continuation lines included.
func (p *chunkParser) endLogical() error {
	if !p.hasLogical {
		return nil
	}
	text := p.logical
	p.logical, p.hasLogical = nil, false
	if text[0] == '#' {
		return nil
	}
	if len(p.lines) == 0 {
		p.recordAt = p.logicalAt
	} else if isDNLine(text) && !p.versionOnly() {
		return p.dnInsideRecord()
	}
	p.lines = append(p.lines, ldifLine{text: text, no: p.logicalAt})
	return nil
}

// versionOnly reports whether the current record holds only the version
// line of the file, which the first record may follow on the next line
// (RFC 2849: version-spec 1*(1*SEP ldif-attrval-record)).
func (p *chunkParser) versionOnly() bool {
	return p.first && len(p.lines) == 1 && hasKey(p.lines[0].text, "version")
}

// dnInsideRecord refuses a "dn:" line that is not the first line of its
// record. RFC 2849 separates records by a blank line; reading on would give
// the attributes of the next entry (its SPNs among them) to the entry
// before it.
func (p *chunkParser) dnInsideRecord() error {
	err := fmt.Errorf("ldif line %d: dn: inside the record that starts at line %d; records must be separated by an empty line",
		p.logicalAt, p.recordAt)
	if p.spacesAt > p.recordAt {
		err = fmt.Errorf("%w (line %d holds only spaces, which LDIF reads as the continuation of the line before it: make it empty)",
			err, p.spacesAt)
	}
	return err
}

func (p *chunkParser) endRecord() error {
	lines := p.lines
	p.lines = p.lines[:0]
	p.spacesAt = 0
	defer func() { p.arena = p.arena[:0] }()
	if len(lines) == 0 {
		return nil
	}
	first := p.first
	p.first = false
	if first && hasKey(lines[0].text, "version") {
		lines = lines[1:]
		if len(lines) == 0 {
			return nil
		}
	}
	if !hasKey(lines[0].text, "dn") {
		// ldapsearch prints "search: 2 / result: 0 Success" and "ref:" records.
		if !hasKey(lines[0].text, "search") && !hasKey(lines[0].text, "result") && !hasKey(lines[0].text, "ref") {
			// Most likely the rest of an entry that an empty line cut in two:
			// skipping it would drop that entry's attributes, SPNs included.
			return fmt.Errorf("ldif line %d: record without dn: (an empty line inside an entry splits it in two; RFC 2849 starts every record with dn:)",
				lines[0].no)
		}
		return nil
	}
	_, dn, err := p.parseLine(lines[0])
	if err != nil {
		return err
	}
	// The DN is cut from the slab, as the object's other strings: no
	// allocation of its own (issue 9).
	return p.addEntry(p.slab.str(dn), lines[1:])
}

func (p *chunkParser) addEntry(dn string, lines []ldifLine) error {
	rec := p.rec
	rec.reset(dn)
	// The lines are taken in order, each error met in its line's turn, as
	// before issue 9. An attribute with options (";range=") goes through
	// record.add, which checks its ranges against the values of that
	// attribute read so far: then every attribute of the entry is kept, as
	// before, and the entry is read again from its first line (what the
	// first reading warned about is taken back). Otherwise only the
	// attributes some reader of records asks for are.
	p.byURL = p.byURL[:0]
	warnings, moreWarnings := len(p.res.warnings), p.res.moreWarnings
	keepAll := false
	for again := true; again; {
		again = false
		for i, l := range lines {
			var desc, value []byte
			var err error
			// A line of the previous entry's i-th attribute, as spelt
			// there, needs no search for its colon nor check of its
			// name (issue 9): only its value is parsed.
			var a *seenAttr
			if i < len(p.seen) {
				// (An empty desc is a position no line filled.)
				if d := p.seen[i].desc; len(d) > 0 && len(l.text) > len(d) && l.text[len(d)] == ':' && string(l.text[:len(d)]) == string(d) {
					a = &p.seen[i]
					desc = l.text[:len(d)]
					// "name: value", the common case, inline.
					if rest := l.text[len(d)+1:]; len(rest) >= 2 && rest[0] == ' ' && rest[1] != ' ' {
						value = rest[1:]
					} else {
						value, err = p.parseValue(l, desc, rest)
					}
				}
			}
			if a == nil {
				desc, value, err = p.parseLine(l)
			}
			if err != nil {
				if errors.Is(err, errURLValue) {
					p.warn("ldif line %d: %s: value given by URL not read", l.no, desc)
					p.byURL = append(p.byURL, urlValue{desc: string(desc), no: l.no})
					continue
				}
				return err
			}
			// What desc is, from the previous entry's i-th attribute when
			// it is the same name (issue 9: the name compared once, not
			// with changetype, control and ';' in turn).
			if a == nil {
				a = p.attr(i, desc)
			}
			if a.option && !keepAll {
				keepAll, again = true, true
				rec.reset(dn)
				p.res.warnings, p.res.moreWarnings = p.res.warnings[:warnings], moreWarnings
				p.byURL = p.byURL[:0]
				break
			}
			switch {
			case a.changetype:
				if !foldEqual(value, "add") {
					p.warn("ldif line %d: %s: changetype %s record skipped", p.recordAt, dn, strings.ToLower(string(value)))
					return nil
				}
				continue
			case a.control:
				continue
			case keepAll:
				if err := rec.add(string(desc), [][]byte{value}); err != nil {
					return fmt.Errorf("ldif line %d: %w", l.no, err)
				}
				continue
			}
			if a.id >= 0 {
				rec.putKnown1(a.id, value)
			}
		}
	}
	p.res.entries++
	for _, key := range rec.incomplete() {
		rs := rec.ranges[key]
		p.warn("ldif line %d: %s: %s holds only the values up to range %d: the export did not retrieve the remaining ones",
			p.recordAt, dn, rs.desc, rs.current.high)
	}
	// The builders hold state across entries, so the reader feeds them in
	// export order (ldifReader.merge); here they only answer for this entry:
	// whether it is sound, and whether it describes the directory.
	// One look at the classes, by the bits has("objectClass", ...) reads
	// (issue 9: three questions and a lookup by name for every entry).
	membership := len(rec.known[memberOfID]) > 0 || rec.objectClasses()&membershipClasses != 0
	if membership {
		if err := p.groups.add(rec); err != nil {
			return fmt.Errorf("ldif line %d: %w", p.recordAt, err)
		}
	}
	directory := p.dirs.add(rec)
	if membership || directory {
		// Either builder leaves an entry that is not its kind untouched.
		p.res.deferred = append(p.res.deferred, rec.detach())
	}
	if directory {
		return nil
	}
	if len(rec.values("servicePrincipalName")) == 0 {
		return nil
	}
	if err := p.incompleteObject(rec); err != nil {
		return err
	}
	o, err := objectFromRecordIn(rec, &p.slab)
	if err != nil {
		return fmt.Errorf("ldif line %d: %w", p.recordAt, err)
	}
	p.res.objects = append(p.res.objects, o)
	return nil
}

// incompleteObject refuses an object with SPNs whose export left out values
// the inventory reads: the audit of a partial object would be a partial
// audit (a duplicate among the missing SPNs never found).
func (p *chunkParser) incompleteObject(rec *record) error {
	read := func(name string) bool {
		name, _, _ = strings.Cut(name, ";")
		return slices.ContainsFunc(objectAttributes, func(a string) bool { return strings.EqualFold(a, name) })
	}
	for _, key := range rec.incomplete() {
		if rs := rec.ranges[key]; read(key) {
			return fmt.Errorf("ldif line %d: %s: %s holds only the values up to range %d: the export did not retrieve the remaining ones (%s;range=%d-*), so the audit would be partial; export them too, or scan the directory",
				p.recordAt, rec.dn, rs.desc, rs.current.high, rs.desc, rs.next())
		}
	}
	for _, l := range p.byURL {
		if read(l.desc) {
			return fmt.Errorf("ldif line %d: %s: %s given by URL, which is never read, so the audit would be partial; export the value itself",
				l.no, rec.dn, l.desc)
		}
	}
	return nil
}

var errURLValue = errors.New("value given by URL")

// memberOfID and membershipClasses are what addEntry asks of every entry
// to tell a membership entry: memberOf values, or one of these classes.
var (
	memberOfID        = knownID("memberOf")
	membershipClasses = objectClassBit("group") | objectClassBit("domain") | objectClassBit("domainDNS")
)

// hasKey reports whether an LDIF line is of attribute key.
func hasKey(line []byte, key string) bool {
	desc, _, ok := bytes.Cut(line, []byte{':'})
	return ok && foldEqual(desc, key)
}

// isDNLine is hasKey(line, "dn") without the search for the colon: no
// letter outside ASCII folds to d or n, so the line starts with "dn:" in
// any case (asked of every line of an export, issue 9).
func isDNLine(line []byte) bool {
	return len(line) >= 3 && line[2] == ':' && lowerASCII(line[0]) == 'd' && lowerASCII(line[1]) == 'n'
}

// foldEqual is strings.EqualFold(string(b), s) without the copy; s is
// lower-case ASCII.
func foldEqual(b []byte, s string) bool {
	// Only 's' and 'k' have a non-ASCII fold (U+017F, U+212A): any other
	// first letter must match in ASCII, which rejects most names at once.
	if len(b) == 0 || len(s) == 0 {
		return len(b) == len(s)
	}
	if c := s[0]; c != 's' && c != 'k' && lowerASCII(b[0]) != c {
		return false
	}
	if len(b) != len(s) {
		// Unicode folding may pair strings of different lengths.
		return !isASCII(b) && strings.EqualFold(string(b), s)
	}
	if !isASCII(b) {
		return strings.EqualFold(string(b), s)
	}
	for i := range b {
		if lowerASCII(b[i]) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// attr says what attribute desc, the i-th attribute of its entry, is: its
// index in knownAttrs (-1 when no reader of records asks for it), and
// whether it is changetype, control, or has options. The entries of an
// export list their attributes in the same order, so the answer for the
// previous entry's i-th attribute is tried first.
func (p *chunkParser) attr(i int, desc []byte) *seenAttr {
	if i < len(p.seen) && string(p.seen[i].desc) == string(desc) {
		return &p.seen[i]
	}
	a := seenAttr{
		id:         ldifAttrID(desc),
		option:     bytes.IndexByte(desc, ';') >= 0,
		changetype: foldEqual(desc, "changetype"),
		control:    foldEqual(desc, "control"),
	}
	if i < 64 {
		for len(p.seen) <= i {
			p.seen = append(p.seen, seenAttr{})
		}
		a.desc = append(p.seen[i].desc[:0], desc...)
		p.seen[i] = a
		return &p.seen[i]
	}
	return &a
}

type seenAttr struct {
	desc                        []byte
	id                          int
	option, changetype, control bool
}

// ldifAttrID returns the index in knownAttrs of attribute desc (any case),
// or -1.
func ldifAttrID(desc []byte) int {
	var key string
	if isASCII(desc) {
		var buf [64]byte
		if len(desc) > len(buf) {
			return -1
		}
		for i, c := range desc {
			buf[i] = lowerASCII(c)
		}
		if id, ok := knownAttrIDs[string(buf[:len(desc)])]; ok {
			return id
		}
		return -1
	}
	key = strings.ToLower(string(desc))
	if id, ok := knownAttrIDs[key]; ok && knownAttrs[id] == key {
		return id
	}
	return -1
}

// ldifAttributes are the attributes the LDIF reader keeps: those of the
// objects (objectAttributes) and those the directory and membership builders
// read. TestLDIFAttributesCoverReads checks that every name the code asks a
// record for is here.
func ldifAttributes() []string {
	return append(slices.Clone(objectAttributes),
		"objectClass", "memberOf", "member", "objectSid", "whenCreated", // privilege.go, aes_threshold.go
		"sPNMappings", "dSHeuristics", "systemFlags", "dnsRoot", "nETBIOSName", "nCName", // directory.go
		"name", "dNSTombstoned", "mS-DS-CreatorSID", "isDeleted",
		"invocationId") // replmeta.go: the DC that made a change
}

// parseLine splits "desc: value", "desc:: base64" and "desc:< url"; a
// decoded value goes into the arena.
func (p *chunkParser) parseLine(l ldifLine) ([]byte, []byte, error) {
	// One pass over the name: the colon found and blanks refused together
	// (bytes.Cut and hasBlank each walked it, issue 9).
	colon, blank := -1, false
	for i, c := range l.text {
		if c == ':' {
			colon = i
			break
		}
		if c == ' ' || c == '\t' {
			blank = true
		}
	}
	if colon <= 0 || blank {
		return nil, nil, fmt.Errorf("ldif line %d: want \"attribute: value\", got %q", l.no, truncate(string(l.text), 60))
	}
	desc := l.text[:colon]
	value, err := p.parseValue(l, desc, l.text[colon+1:])
	return desc, value, err
}

// parseValue parses what follows the colon of line l of attribute desc.
func (p *chunkParser) parseValue(l ldifLine, desc, rest []byte) ([]byte, error) {
	switch {
	case len(rest) > 0 && rest[0] == ':':
		enc := bytes.TrimSpace(rest[1:])
		// Room for either decoding: without padding, the raw one is longer.
		n := max(base64.StdEncoding.DecodedLen(len(enc)), base64.RawStdEncoding.DecodedLen(len(enc)))
		at := len(p.arena)
		p.arena = slices.Grow(p.arena, n)[:at+n]
		dst := p.arena[at:]
		w, err := base64.StdEncoding.Decode(dst, enc)
		if err != nil {
			if w, err = base64.RawStdEncoding.Decode(dst, enc); err != nil {
				p.arena = p.arena[:at]
				return nil, fmt.Errorf("ldif line %d: %s: bad base64 value: %w", l.no, desc, err)
			}
		}
		p.arena = p.arena[:at+w]
		return p.arena[at : at+w : at+w], nil
	case len(rest) > 0 && rest[0] == '<':
		return nil, errURLValue
	}
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	return rest, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
