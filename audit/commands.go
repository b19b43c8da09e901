package audit

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/inventory"
)

// Remediation lines are PowerShell: setspn and the ActiveDirectory module's
// cmdlets, with "# ..." comment lines explaining a step or an alternative.
// These helpers build arguments that survive PowerShell parsing.

// Documentation the findings cite.
const (
	refSetspn          = "https://learn.microsoft.com/en-us/windows-server/administration/windows-commands/setspn"
	refSPNFormats      = "https://learn.microsoft.com/en-us/windows/win32/ad/name-formats-for-unique-spns"
	refSPNEvent11      = "https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-server-2008-r2-and-2008/dd363933(v=ws.10)"
	refUniqueness      = "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-adts/3c154285-454c-4353-9a99-fb586e806944"
	refDSHeuristics    = "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-adts/e5899be4-862e-496f-9a38-33950617d2c5"
	refKB5008382       = "https://support.microsoft.com/en-us/topic/kb5008382-verification-of-uniqueness-for-user-principal-name-service-principal-name-and-the-service-principal-name-alias-cve-2021-42282-4651b175-290c-4e59-8fcb-e4e5cd0cdb29"
	refSPNMappings     = "https://learn.microsoft.com/en-us/windows/win32/adschema/a-spnmappings"
	refPSSessionOption = "https://learn.microsoft.com/en-us/powershell/module/microsoft.powershell.core/new-pssessionoption"
	refKerberoasting   = "https://www.microsoft.com/en-us/security/blog/2024/10/11/microsofts-guidance-to-help-mitigate-kerberoasting/"
	refGMSA            = "https://learn.microsoft.com/en-us/windows-server/security/group-managed-service-accounts/group-managed-service-accounts-overview"
	refEncTypes        = "https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-kile/6cfc7b50-11ed-4b4d-846d-6f08f0812919"
	refKB5021131       = "https://support.microsoft.com/en-us/topic/kb5021131-how-to-manage-the-kerberos-protocol-changes-related-to-cve-2022-37966-fd837ac3-cdec-4e76-a6ec-86e67501407d"
	refUnconstrained   = "https://learn.microsoft.com/en-us/defender-for-identity/security-assessment-unconstrained-kerberos"
	refKCD             = "https://learn.microsoft.com/en-us/windows-server/security/kerberos/kerberos-constrained-delegation-overview"
	refSetADAccountCtl = "https://learn.microsoft.com/en-us/powershell/module/activedirectory/set-adaccountcontrol"
	refSetADUser       = "https://learn.microsoft.com/en-us/powershell/module/activedirectory/set-aduser"
	refSetADObject     = "https://learn.microsoft.com/en-us/powershell/module/activedirectory/set-adobject"
	refCVE202625177    = "https://msrc.microsoft.com/update-guide/vulnerability/CVE-2026-25177"
	refCompareString   = "https://learn.microsoft.com/en-us/windows/win32/api/stringapiset/nf-stringapiset-comparestringex"
)

// netbiosDomain returns the NetBIOS name of a DNS domain
// (inventory.Directory.NetBIOSDomain).
func (ix *index) netbiosDomain(dnsDomain string) string {
	return ix.snap.Directory.NetBIOSDomain(dnsDomain)
}

// guessNetBIOSDomain is the default NetBIOS name of a DNS domain: its first
// label in upper case (corp.example.test -> CORP).
func guessNetBIOSDomain(dnsDomain string) string {
	return (&inventory.Directory{}).NetBIOSDomain(dnsDomain)
}

// domainOf returns the object's domain (inventory.Object.DomainName).
func domainOf(o *inventory.Object) string { return o.DomainName() }

// accountName is how setspn and admins name an account: the project's one
// account-name formatter, inventory.Directory.AccountName.
func (ix *index) accountName(o *inventory.Object) string { return ix.snap.Directory.AccountName(o) }

// psArg returns s as a PowerShell command argument: bare when it only has
// characters PowerShell and setspn take literally, otherwise quoted.
func psArg(s string) string {
	if s == "" {
		return "''"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		safe := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte(`._-:/\=+`, c) >= 0 || c == '$' && i == len(s)-1
		if !safe {
			return psQuote(s)
		}
	}
	return s
}

// psQuote returns a PowerShell expression for the exact string s: a
// single-quoted literal, or, when s holds characters that would not survive
// copy and paste (controls, invisible or non-ASCII characters, which
// PowerShell may also read as quotes), a concatenation with [char] codes.
func psQuote(s string) string {
	if literalASCII(s) {
		// The common case, without the general path's allocations.
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return psQuoteRunes(s)
}

// psQuoteRunes is psQuote's general path, rune by rune.
func psQuoteRunes(s string) string {
	var parts []string
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, "'"+lit.String()+"'")
			lit.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '\'':
			lit.WriteString("''")
		case r >= ' ' && r < utf8.RuneSelf && r != 0x7f:
			lit.WriteRune(r)
		case r <= 0xFFFF:
			flush()
			parts = append(parts, fmt.Sprintf("[char]0x%04X", r))
		default:
			flush()
			parts = append(parts, fmt.Sprintf("[char]::ConvertFromUtf32(0x%X)", r))
		}
	}
	flush()
	switch len(parts) {
	case 0:
		return "''"
	case 1:
		return parts[0]
	}
	return "(" + strings.Join(parts, " + ") + ")"
}

// literalASCII reports whether every byte of s is printable ASCII, space
// included: what psQuote puts in a single-quoted literal as is.
func literalASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// setspnDelete and setspnAdd are the setspn lines for one SPN and account.
func (ix *index) setspnDelete(spn string, o *inventory.Object) string {
	return "setspn -D " + psArg(spn) + " " + psArg(ix.accountName(o))
}

func (ix *index) setspnAdd(spn string, o *inventory.Object) string {
	return "setspn -S " + psArg(spn) + " " + psArg(ix.accountName(o))
}

// setCmdlet is the ActiveDirectory module cmdlet that edits an object of o's
// kind.
func setCmdlet(o *inventory.Object) string {
	switch o.Kind {
	case inventory.KindUser:
		return "Set-ADUser"
	case inventory.KindComputer:
		return "Set-ADComputer"
	case inventory.KindMSA, inventory.KindGMSA:
		return "Set-ADServiceAccount"
	}
	return "Set-ADObject"
}

// quotedSPN renders an SPN for a message, escaping anything invisible.
func quotedSPN(raw string) string {
	if printableASCII(raw) {
		return raw
	}
	return fmt.Sprintf("%+q", raw)
}
