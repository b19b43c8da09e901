package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// Format is an output format.
type Format string

const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatCSV   Format = "csv"
	FormatSARIF Format = "sarif"
)

// FindingsFormats are the formats of WriteFindings; InventoryFormats those
// of WriteInventory. The first is the default.
var (
	FindingsFormats  = []Format{FormatTable, FormatJSON, FormatCSV, FormatSARIF}
	InventoryFormats = []Format{FormatTable, FormatJSON}
)

// ParseFormat checks a --format value against the allowed formats.
func ParseFormat(s string, allowed []Format) (Format, error) {
	f := Format(strings.ToLower(s))
	if slices.Contains(allowed, f) {
		return f, nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return "", fmt.Errorf("unknown format %q; use one of %s", s, strings.Join(names, ", "))
}

// Options tune the output.
type Options struct {
	// Color adds ANSI colours to tables; the caller sets it only for a
	// terminal without NO_COLOR or --no-color.
	Color bool
	// ToolVersion is spnaudit's version, recorded in SARIF.
	ToolVersion string
	// All makes the findings table show every finding; by default it shows
	// the first TablePage of each rule and counts the rest.
	All bool
}

// WriteFindings writes doc in format f.
func WriteFindings(w io.Writer, doc *Document, f Format, o Options) error {
	switch f {
	case FormatTable:
		return writeFindingsTable(w, doc, o.Color, o.All)
	case FormatJSON:
		return writeFindingsJSON(w, doc)
	case FormatCSV:
		return writeFindingsCSV(w, doc)
	case FormatSARIF:
		return writeSARIF(w, doc, o.ToolVersion)
	}
	return fmt.Errorf("findings cannot be written as %q", f)
}

// WriteInventory writes the objects of snap, sorted by domain, account name
// and DN, in format f.
func WriteInventory(w io.Writer, snap *inventory.Snapshot, f Format, o Options) error {
	switch f {
	case FormatTable:
		return writeInventoryTable(w, snap, o.Color)
	case FormatJSON:
		return writeInventoryJSON(w, snap)
	}
	return fmt.Errorf("an inventory cannot be written as %q", f)
}

// writeFindingsJSON writes the document as writeJSON would, one finding at
// a time.
func writeFindingsJSON(w io.Writer, doc *Document) error {
	head := *doc
	head.Findings = []audit.Finding{}
	return writeJSONStreaming(w, &head, "findings", 1, len(doc.Findings), func(i int) any { return &doc.Findings[i] })
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
