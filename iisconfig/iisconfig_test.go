package iisconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/inventory"
)

// labFarm is the lab's IIS farm (lab/iis): three applicationHost.config
// files named by their directory, and the WinRM web.config placed by its
// directory name.
var labFarm = []string{
	"../lab/iis/svexpgg310/applicationHost.config",
	"../lab/iis/svexpgg311/applicationHost.config",
	"../lab/iis/svexpgg312/applicationHost.config",
	"../lab/iis/svexpgg312/wsman/web.config",
}

func find(t *testing.T, sites []inventory.IISSite, node, name string) inventory.IISSite {
	t.Helper()
	for _, s := range sites {
		if s.Node == node && s.Name == name {
			return s
		}
	}
	t.Fatalf("no site %s on %s in %d sites", name, node, len(sites))
	return inventory.IISSite{}
}

func TestLoadLabFarm(t *testing.T) {
	sites, err := Load(ParseArgs(labFarm))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range sites {
		names = append(names, s.Name+"@"+s.Node)
	}
	want := []string{"intranet@svexpgg310", "intranet@svexpgg311", "intranet@svexpgg312", "portal@svexpgg311", "portal@svexpgg312"}
	if !slices.Equal(names, want) {
		t.Fatalf("sites %q, want %q", names, want)
	}
	s310 := find(t, sites, "svexpgg310", "intranet")
	root, _ := s310.Root()
	if root.Pool.UserName != `CORP\svc_iispool` || root.Pool.IdentityType != inventory.IISIdentitySpecificUser {
		t.Errorf("pool %+v", root.Pool)
	}
	w := root.WindowsAuth
	if !w.Enabled || !w.UseKernelMode || !w.UseAppPoolCredentials || !slices.Equal(w.Providers, []string{"Negotiate", "NTLM"}) ||
		w.ExtendedProtection.TokenChecking != "Allow" || len(w.ExtendedProtection.Flags) != 0 ||
		!slices.Equal(w.ExtendedProtection.SPNs, []string{"HTTP/svnlb301.corp.example.test", "HTTP/svnlb301"}) {
		t.Errorf("svexpgg310 windowsAuthentication (location path=intranet over the server default): %+v", w)
	}
	if w.Source.Line == 0 || !strings.HasSuffix(w.Source.File, "svexpgg310/applicationHost.config") {
		t.Errorf("source %+v", w.Source)
	}
	if got := s310.HostHeaders(); !slices.Equal(got, []string{"svnlb301.corp.example.test", "svnlb301"}) {
		t.Errorf("host headers %q", got)
	}
	r311, _ := func() (*inventory.IISApplication, bool) {
		s := find(t, sites, "svexpgg311", "intranet")
		return s.Root()
	}()
	if r311.WindowsAuth.UseAppPoolCredentials {
		t.Error("svexpgg311: useAppPoolCredentials should be false")
	}
	s312 := find(t, sites, "svexpgg312", "intranet")
	r312, _ := s312.Root()
	if ep := r312.WindowsAuth.ExtendedProtection; ep.TokenChecking != "Require" || !slices.Equal(ep.Flags, []string{"AllowDotlessSpn"}) {
		t.Errorf("svexpgg312 extendedProtection %+v", ep)
	}
	if r312.WinRM || len(s312.Applications) != 2 || !s312.Applications[1].WinRM || s312.Applications[1].Path != "/wsman" ||
		!strings.HasSuffix(s312.Applications[1].WinRMSource.File, "wsman/web.config") {
		t.Errorf("WinRM IIS extension: %+v", s312.Applications)
	}
	p312, _ := func() (*inventory.IISApplication, bool) { s := find(t, sites, "svexpgg312", "portal"); return s.Root() }()
	if p312.Pool.IdentityType != inventory.IISIdentityAppPool || p312.Pool.UserName != "" {
		t.Errorf("portal pool on svexpgg312 takes applicationPoolDefaults: %+v", p312.Pool)
	}
}

func TestLoadAppcmd(t *testing.T) {
	dir := "testdata/appcmd/svexpgg320/"
	sites, err := Load(ParseArgs([]string{dir + "sites.xml", dir + "pools.xml", "svexpgg320=" + dir + "windowsauth-shop.xml"}))
	if err != nil {
		t.Fatal(err)
	}
	shop := find(t, sites, "svexpgg320", "shop")
	root, _ := shop.Root()
	if root.Pool.UserName != "svc_shop@corp.example.test" || !root.WindowsAuth.Enabled ||
		!slices.Equal(root.WindowsAuth.ExtendedProtection.Flags, []string{"Proxy", "NoServiceNameCheck"}) ||
		!slices.Equal(shop.Bindings, []inventory.IISBinding{{Protocol: "https", Port: 8443, Host: "shop.corp.example.test"}}) {
		t.Errorf("shop: %+v", shop)
	}
	def := find(t, sites, "svexpgg320", "Default Web Site")
	droot, _ := def.Root()
	if droot.Pool.Name != "DefaultAppPool" || droot.WindowsAuth.Enabled || len(def.HostHeaders()) != 0 {
		t.Errorf("Default Web Site: %+v", def)
	}
}

// TestPasswordNeverKept: the encrypted app pool passwords of every fixture
// appear in no loaded value, error or JSON output.
func TestPasswordNeverKept(t *testing.T) {
	inputs := append(slices.Clone(labFarm), "testdata/appcmd/svexpgg320/sites.xml", "testdata/appcmd/svexpgg320/pools.xml")
	sites, err := Load(ParseArgs(inputs))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(sites)
	for _, f := range inputs {
		data, _ := os.ReadFile(f)
		if !strings.Contains(string(data), `password="[enc:`) && !strings.Contains(f, "sites.xml") && !strings.Contains(f, "web.config") {
			t.Fatalf("%s: fixture without an encrypted password", f)
		}
	}
	for _, secret := range []string{"SECRET-", "[enc:", "IISWASOnlyCngProvider:"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("loaded model holds %q", secret)
		}
	}
	// A broken file after the password must not echo it either.
	dir := t.TempDir()
	bad := filepath.Join(dir, "applicationHost.config")
	data, _ := os.ReadFile(labFarm[0])
	os.WriteFile(bad, []byte(strings.Replace(string(data), `identityType="SpecificUser"`, `identityType="Bogus"`, 1)), 0o600)
	if _, err := Load([]Input{{Label: "n1", Path: bad}}); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %v", err)
	}
}
