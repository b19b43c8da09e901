package iisconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// appHost is a minimal applicationHost.config; %s is replaced by each
// case's extra sections, at line 12.
const appHost = `<?xml version="1.0" encoding="UTF-8"?>
<configuration>
    <system.applicationHost>
        <applicationPools>
            <add name="web"><processModel identityType="SpecificUser" userName="CORP\svc_web" password="[enc:P:SECRET-E:enc]" /></add>
        </applicationPools>
        <sites>
            <site name="web" id="1"><application path="/" applicationPool="web" /><bindings><binding protocol="http" bindingInformation="*:80:web.corp.example.test" /></bindings></site>
        </sites>
    </system.applicationHost>
    <system.webServer>
%s
    </system.webServer>
</configuration>
`

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string // applicationHost.config content
		want    string // substring of the error; "" for success
		extra   string // a second file, a web.config in dir "web"
		extraAt string // label of the second file
	}{
		{name: "valid", file: strings.Replace(appHost, "%s", "", 1)},
		{name: "unknown sections and attributes are skipped", file: strings.Replace(appHost, "%s",
			`<rewrite><rules><rule name="x" /></rules></rewrite><security><requestFiltering allowDoubleEscaping="true" /><authentication><basicAuthentication enabled="false" /><windowsAuthentication enabled="true" authPersistNonNTLM="true" futureAttribute="1"><futureElement /></windowsAuthentication></authentication></security>`, 1)},
		{name: "malformed XML names file and line", file: strings.Replace(appHost, "%s", "<security><authentication>\n</security>", 1),
			want: "applicationHost.config:13: malformed XML: element <authentication> closed by </security>"},
		{name: "truncated file", file: appHost[:200], want: "applicationHost.config:5: malformed XML: unexpected EOF"},
		{name: "not XML", file: "hello", want: "applicationHost.config:1: no XML element"},
		{name: "bad boolean", file: strings.Replace(appHost, "%s", `<security><authentication><windowsAuthentication enabled="yes" /></authentication></security>`, 1),
			want: `applicationHost.config:12: windowsAuthentication enabled="yes" is not true or false`},
		{name: "bad tokenChecking", file: strings.Replace(appHost, "%s", `<security><authentication><windowsAuthentication><extendedProtection tokenChecking="Always" /></windowsAuthentication></authentication></security>`, 1),
			want: `applicationHost.config:12: extendedProtection tokenChecking "Always" is not one of None, Allow, Require`},
		{name: "bad flag", file: strings.Replace(appHost, "%s", `<security><authentication><windowsAuthentication><extendedProtection flags="Proxy,Dotless" /></windowsAuthentication></authentication></security>`, 1),
			want: `extendedProtection flags: "Dotless" is not one of None, Proxy, NoServiceNameCheck, AllowDotlessSpn, ProxyCohosting`},
		{name: "encrypted section", file: strings.Replace(appHost, "%s", `<security><authentication><windowsAuthentication configProtectionProvider="IISCngProvider"><EncryptedData /></windowsAuthentication></authentication></security>`, 1),
			want: "applicationHost.config:12: section system.webServer/security/authentication/windowsAuthentication is encrypted (IISCngProvider)"},
		{name: "unknown identityType", file: strings.Replace(strings.Replace(appHost, "%s", "", 1), `identityType="SpecificUser"`, `identityType="Admin"`, 1),
			want: `applicationHost.config:5: identityType "Admin" is not one of ApplicationPoolIdentity, NetworkService, LocalSystem, LocalService, SpecificUser`},
		{name: "SpecificUser without userName", file: strings.Replace(strings.Replace(appHost, "%s", "", 1), `userName="CORP\svc_web"`, ``, 1),
			want: "applicationHost.config:5: application pool web: identityType SpecificUser without userName"},
		{name: "binding without port", file: strings.Replace(strings.Replace(appHost, "%s", "", 1), `*:80:web`, `web`, 1),
			want: `applicationHost.config:8: bindingInformation "web.corp.example.test" is not IP:port:host`},
		{name: "undefined pool", file: strings.Replace(strings.Replace(appHost, "%s", "", 1), `applicationPool="web"`, `applicationPool="gone"`, 1),
			want: `applicationHost.config:8: application web/ uses application pool "gone", which n1 does not define`},
		{name: "no sites", file: "<configuration><system.applicationHost /></configuration>", want: "node n1: no site found"},
		{name: "web.config placed by label", file: strings.Replace(appHost, "%s", "", 1), extraAt: "n1/web",
			extra: `<configuration><system.management.wsmanagement.config /></configuration>`},
		{name: "web.config that no application owns", file: strings.Replace(appHost, "%s", "", 1),
			extra: `<configuration><system.management.wsmanagement.config /></configuration>`,
			want:  `no application's physicalPath ends in "web"; name its application: NODE/SITE[/APP]=`},
		{name: "web.config label naming no site", file: strings.Replace(appHost, "%s", "", 1), extraAt: "n1/shop",
			extra: `<configuration />`, want: `web.config label "n1/shop": node n1 has no site "shop"`},
		{name: "not an IIS file", file: strings.Replace(appHost, "%s", "", 1), extraAt: "n1/web", extra: `<html />`,
			want: "root element <html> is neither <configuration> nor <appcmd>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "applicationHost.config")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			inputs := []Input{{Label: "n1", Path: path}}
			if tc.extra != "" {
				os.Mkdir(filepath.Join(dir, "web"), 0o700)
				wc := filepath.Join(dir, "web", "web.config")
				os.WriteFile(wc, []byte(tc.extra), 0o600)
				inputs = append(inputs, Input{Label: tc.extraAt, Path: wc})
			}
			sites, err := Load(inputs)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want == "":
				if len(sites) != 1 {
					t.Fatalf("sites %+v", sites)
				}
				if tc.extra != "" && !sites[0].Applications[0].WinRM {
					t.Error("web.config not applied")
				}
			case err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q\nwant     %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "\n")) {
				t.Errorf("error is not one clean line: %q", err)
			}
		})
	}
}

// TestNodeFromDirectory: a file named by its directory takes that name,
// unless the directory is IIS's own config directory.
func TestNodeFromDirectory(t *testing.T) {
	for dir, want := range map[string]string{"svexpgg330": "", "config": `its directory "config" does not name a node; name it: NODE=`} {
		path := filepath.Join(t.TempDir(), dir, "applicationHost.config")
		os.MkdirAll(filepath.Dir(path), 0o700)
		os.WriteFile(path, []byte(strings.Replace(appHost, "%s", "", 1)), 0o600)
		sites, err := Load([]Input{{Path: path}})
		switch {
		case want == "" && (err != nil || sites[0].Node != dir):
			t.Errorf("%s: sites %+v, error %v", dir, sites, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: error %v, want %q", dir, err, want)
		}
	}
}

func TestParseArg(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "a=b.config")
	os.WriteFile(odd, nil, 0o600)
	for arg, want := range map[string]Input{
		"x/applicationHost.config":       {Path: "x/applicationHost.config"},
		"svexpgg310=x/ah.config":         {Label: "svexpgg310", Path: "x/ah.config"},
		"svexpgg312/intranet=web.config": {Label: "svexpgg312/intranet", Path: "web.config"},
		odd:                              {Path: odd},
	} {
		if got := ParseArg(arg); got != want {
			t.Errorf("ParseArg(%q) = %+v, want %+v", arg, got, want)
		}
	}
}
