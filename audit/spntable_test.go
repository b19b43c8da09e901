package audit

import (
	"slices"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

func TestSPNTable(t *testing.T) {
	objs := []inventory.Object{
		{DN: "a", SPNs: []string{"HTTP/web", "http/WEB", "MSSQLSvc/db:1433"}},
		{DN: "b", SPNs: []string{"HTTP/Web", "MSSQLSvc/db"}},
		{DN: "c", SPNs: []string{"http/web", "HOST/x", "HOST/x"}},
		{DN: "d", SPNs: []string{"cīfs/files"}},
		{DN: "e", SPNs: []string{"ｃｉｆｓ/files", "HOST/ｘ"}},
	}
	// The real hash, and one where every value collides, which must give the
	// same answers through the spill map.
	for name, hash := range map[string]func(string) uint64{
		"looseHash":       looseHash,
		"total collision": func(string) uint64 { return 0 },
	} {
		t.Run(name, func(t *testing.T) {
			tab := newSPNTable(inventory.Pointers(objs), 0, hash, nil)
			holders := func(raw string) []string {
				var dns []string
				for _, r := range tab.holders(raw) {
					dns = append(dns, objs[r.obj].DN)
				}
				return dns
			}
			for raw, want := range map[string][]string{
				"HTTP/WEB":         {"a", "b", "c"},
				"mssqlsvc/DB:1433": {"a"},
				"MSSQLSvc/db":      {"b"},
				"host/X":           {"c", "e"},
				"CIFS/files":       {"d", "e"},
				"HTTP/absent":      nil,
			} {
				if got := holders(raw); !slices.Equal(got, want) {
					t.Errorf("holders(%q) = %q, want %q", raw, got, want)
				}
			}
			var shared [][]string
			tab.eachShared(func(refs []spnRef) {
				var dns []string
				for _, r := range refs {
					dns = append(dns, objs[r.obj].DN)
				}
				shared = append(shared, dns)
			})
			slices.SortFunc(shared, slices.Compare)
			if want := [][]string{{"a", "b", "c"}, {"c", "e"}, {"d", "e"}}; !slices.EqualFunc(shared, want, slices.Equal) {
				t.Errorf("shared groups = %q, want %q", shared, want)
			}
		})
	}
}
