package iisconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: no input file makes Load panic, and every error names the file
// on one line without echoing a password.
func FuzzLoad(f *testing.F) {
	for _, p := range append(append([]string{}, labFarm...), "testdata/appcmd/svexpgg320/sites.xml", "testdata/appcmd/svexpgg320/windowsauth-shop.xml") {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(strings.Replace(appHost, "%s", `<location path="web"><security><authentication><windowsAuthentication enabled="true"><extendedProtection tokenChecking="Allow" flags="Proxy"><spn name="HTTP/x"/><clear/></extendedProtection></windowsAuthentication></authentication></security></location>`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "applicationHost.config")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load([]Input{{Label: "n1", Path: path}})
		if err != nil && (!strings.Contains(err.Error(), path) && !strings.Contains(err.Error(), "node n1") || strings.Contains(err.Error(), "\n")) {
			t.Errorf("error %q does not name the file on one line", err)
		}
	})
}
