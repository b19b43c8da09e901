package demo

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/config"
)

func readme(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestReadmeConfigKeys: the README's configuration table has a row for every
// key config knows, with the default config applies, and the file-only lists.
func TestReadmeConfigKeys(t *testing.T) {
	doc := readme(t)
	rows := map[string]string{} // key -> default cell
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_.]+)` \\|([^|]*)\\|").FindAllStringSubmatch(doc, -1) {
		rows[m[1]] = strings.TrimSpace(m[2])
	}
	keys := config.Keys()
	if len(keys) == 0 {
		t.Fatal("config.Keys() is empty")
	}
	for _, k := range keys {
		cell, ok := rows[k.Name]
		switch {
		case !ok:
			t.Errorf("README's configuration table has no row for %s", k.Name)
		case k.Default != "" && !strings.Contains(cell, "`"+k.Default+"`"):
			t.Errorf("README gives %s the default %q; config's is %q", k.Name, cell, k.Default)
		}
	}
	for _, key := range []string{"farms", "audit.ignore"} {
		if _, ok := rows[key]; !ok {
			t.Errorf("README's configuration table has no row for %s", key)
		}
	}
}

// TestReadmeCommands: the README shows every command spnaudit has.
func TestReadmeCommands(t *testing.T) {
	doc := readme(t)
	out, err := exec.Command("go", "run", "../../cmd/spnaudit", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("spnaudit --help: %v\n%s", err, out)
	}
	_, list, ok := strings.Cut(string(out), "Available Commands:")
	if !ok {
		t.Fatalf("spnaudit --help lists no commands:\n%s", out)
	}
	list, _, _ = strings.Cut(list, "\n\n")
	var commands []string
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		if name := strings.Fields(line)[0]; name != "help" {
			commands = append(commands, name)
		}
	}
	if len(commands) < 2 {
		t.Fatalf("found commands %v in:\n%s", commands, out)
	}
	for _, c := range commands {
		if !strings.Contains(doc, "spnaudit "+c+" ") {
			t.Errorf("README shows no example of spnaudit %s", c)
		}
	}
}
