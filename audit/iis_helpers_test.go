package audit

import (
	"github.com/spnaudit/spnaudit/inventory"
)

// IIS fixtures: a site of the README farm on one node, changed by options.

type siteOption func(*inventory.IISSite)

func iisSite(node string, opts ...siteOption) inventory.IISSite {
	s := inventory.IISSite{
		Node: node, Name: "intranet",
		Bindings: []inventory.IISBinding{
			{Protocol: "http", Port: 80, Host: "svnlb301.corp.example.test"},
			{Protocol: "http", Port: 80, Host: "svnlb301"},
		},
		Applications: []inventory.IISApplication{{
			Path: "/",
			Pool: inventory.IISAppPool{Name: "intranet", IdentityType: inventory.IISIdentitySpecificUser, UserName: `CORP\svc_iispool`,
				Source: inventory.IISSource{File: node + "/applicationHost.config", Line: 30}},
			WindowsAuth: inventory.IISWindowsAuth{
				Enabled: true, UseKernelMode: true, UseAppPoolCredentials: true, Providers: []string{"Negotiate", "NTLM"},
				ExtendedProtection: inventory.IISExtendedProtection{TokenChecking: inventory.IISTokenCheckingNone},
				Source:             inventory.IISSource{File: node + "/applicationHost.config", Line: 80},
			},
		}},
		Source: inventory.IISSource{File: node + "/applicationHost.config", Line: 45},
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func root(s *inventory.IISSite) *inventory.IISApplication { return &s.Applications[0] }

func poolAs(identityType, user string) siteOption {
	return func(s *inventory.IISSite) { root(s).Pool.IdentityType, root(s).Pool.UserName = identityType, user }
}

func appPoolCreds(on bool) siteOption {
	return func(s *inventory.IISSite) { root(s).WindowsAuth.UseAppPoolCredentials = on }
}

func kernelMode(on bool) siteOption {
	return func(s *inventory.IISSite) { root(s).WindowsAuth.UseKernelMode = on }
}

func windowsAuth(on bool) siteOption {
	return func(s *inventory.IISSite) { root(s).WindowsAuth.Enabled = on }
}

func providers(p ...string) siteOption {
	return func(s *inventory.IISSite) { root(s).WindowsAuth.Providers = p }
}

func extProt(tokenChecking string, flags []string, spns ...string) siteOption {
	return func(s *inventory.IISSite) {
		root(s).WindowsAuth.ExtendedProtection = inventory.IISExtendedProtection{TokenChecking: tokenChecking, Flags: flags, SPNs: spns}
	}
}

func hosts(hs ...string) siteOption {
	return func(s *inventory.IISSite) {
		s.Bindings = nil
		for _, h := range hs {
			s.Bindings = append(s.Bindings, inventory.IISBinding{Protocol: "http", Port: 80, Host: h})
		}
	}
}

func withHTTPS() siteOption {
	return func(s *inventory.IISSite) {
		s.Bindings = append(s.Bindings, inventory.IISBinding{Protocol: "https", Port: 443, Host: "svnlb301.corp.example.test"})
	}
}

func named(name string) siteOption { return func(s *inventory.IISSite) { s.Name = name } }

func winrmApp() siteOption {
	return func(s *inventory.IISSite) {
		app := *root(s)
		app.Path, app.WinRM = "/wsman", true
		app.WinRMSource = inventory.IISSource{File: s.Node + "/wsman/web.config", Line: 20}
		s.Applications = append(s.Applications, app)
	}
}

// farmPool is the README farm's pool account with every farm SPN.
func farmPool(extra ...string) inventory.Object {
	return user("svc_iispool", append([]string{
		"HTTP/svnlb301", "HTTP/svnlb301.corp.example.test",
		"HTTP/svexpgg310", "HTTP/svexpgg310.corp.example.test",
		"HTTP/svexpgg311", "HTTP/svexpgg311.corp.example.test",
	}, extra...))
}

func iisCfg(sites ...inventory.IISSite) Config { return Config{IIS: sites} }
