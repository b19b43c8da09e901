package inventory

// The IIS model: what package iisconfig reads from applicationHost.config,
// web.config files and `appcmd list config /xml` output, and what the IIS
// audit rules judge. Names follow Microsoft's IIS configuration schema. It
// never holds an app pool's password.

// Identity types of an application pool (processModel identityType).
const (
	IISIdentityAppPool        = "ApplicationPoolIdentity"
	IISIdentityNetworkService = "NetworkService"
	IISIdentityLocalSystem    = "LocalSystem"
	IISIdentityLocalService   = "LocalService"
	IISIdentitySpecificUser   = "SpecificUser"
)

// Extended Protection tokenChecking values.
const (
	IISTokenCheckingNone    = "None"
	IISTokenCheckingAllow   = "Allow"
	IISTokenCheckingRequire = "Require"
)

// Extended Protection flags.
const (
	IISFlagProxy              = "Proxy"
	IISFlagNoServiceNameCheck = "NoServiceNameCheck"
	IISFlagAllowDotlessSpn    = "AllowDotlessSpn"
	IISFlagProxyCohosting     = "ProxyCohosting"
)

// IISSource is where a piece of IIS configuration was read: file and line.
type IISSource struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// IISBinding is one site binding (bindingInformation "ip:port:host").
type IISBinding struct {
	Protocol string `json:"protocol"` // http, https, net.tcp...
	Port     int    `json:"port"`
	Host     string `json:"host"` // the host header; "" answers every name
}

// IISAppPool is an application pool's identity. The password attribute is
// never read.
type IISAppPool struct {
	Name         string `json:"name"`
	IdentityType string `json:"identity_type"`
	// UserName is set for SpecificUser (DOMAIN\name or name@domain).
	UserName string    `json:"user_name,omitempty"`
	Source   IISSource `json:"source"`
}

// RunsAsMachine reports whether the pool authenticates on the network as
// the node's computer account.
func (p IISAppPool) RunsAsMachine() bool { return p.IdentityType != IISIdentitySpecificUser }

// IISExtendedProtection is windowsAuthentication/extendedProtection.
type IISExtendedProtection struct {
	TokenChecking string   `json:"token_checking"`
	Flags         []string `json:"flags"`
	SPNs          []string `json:"spns"`
}

// HasFlag reports whether flag is set.
func (e IISExtendedProtection) HasFlag(flag string) bool {
	for _, f := range e.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// IISWindowsAuth is system.webServer/security/authentication/
// windowsAuthentication, as it applies to one application.
type IISWindowsAuth struct {
	Enabled               bool                  `json:"enabled"`
	UseKernelMode         bool                  `json:"use_kernel_mode"`
	UseAppPoolCredentials bool                  `json:"use_app_pool_credentials"`
	Providers             []string              `json:"providers"`
	ExtendedProtection    IISExtendedProtection `json:"extended_protection"`
	// Source is where the last setting that applies was read.
	Source IISSource `json:"source"`
}

// IISApplication is one application of a site, with the settings that apply
// to it.
type IISApplication struct {
	Path        string         `json:"path"` // "/" for the root
	Pool        IISAppPool     `json:"pool"`
	WindowsAuth IISWindowsAuth `json:"windows_auth"`
	// WinRM is set when the WinRM IIS extension
	// (system.management.wsmanagement.config) is configured for it: PowerShell
	// remoting then runs inside the pool, under the pool's identity.
	WinRM       bool      `json:"winrm"`
	WinRMSource IISSource `json:"winrm_source,omitzero"`
}

// IISSite is one site of one node.
type IISSite struct {
	Node         string           `json:"node"`
	Name         string           `json:"name"`
	Bindings     []IISBinding     `json:"bindings"`
	Applications []IISApplication `json:"applications"`
	Source       IISSource        `json:"source"`
}

// Root returns the site's root application, or false when it has none.
func (s *IISSite) Root() (*IISApplication, bool) {
	for i := range s.Applications {
		if s.Applications[i].Path == "/" {
			return &s.Applications[i], true
		}
	}
	return nil, false
}

// HostHeaders returns the distinct host headers of the site's http and https
// bindings, in binding order.
func (s *IISSite) HostHeaders() []string {
	var out []string
	for _, b := range s.Bindings {
		if b.Host == "" || b.Protocol != "http" && b.Protocol != "https" {
			continue
		}
		dup := false
		for _, h := range out {
			if equalFoldASCII(h, b.Host) {
				dup = true
			}
		}
		if !dup {
			out = append(out, b.Host)
		}
	}
	return out
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
