package inventory

import "strings"

// AccountName is how setspn and admins name an account, and the one form
// audit findings, reports and metrics print: DOMAIN\sAMAccountName, with
// DOMAIN the NetBIOS name of the object's domain (NetBIOSDomain). Without a
// sAMAccountName it is the DN, the only name left. Where a DN is the point
// (an LDAP identity such as Set-ADObject -Identity) callers use o.DN.
func (d *Directory) AccountName(o *Object) string {
	if o.SAMAccountName == "" {
		return o.DN
	}
	if domain := o.DomainName(); domain != "" {
		return d.NetBIOSDomain(domain) + `\` + o.SAMAccountName
	}
	return o.SAMAccountName
}

// NetBIOSDomain returns the NetBIOS name of a DNS domain: the nETBIOSName of
// its crossRef, or, for a domain the inventory has none for (an LDIF dump
// without the Configuration partition), the default Windows derives from the
// DNS name: its first label in upper case (corp.example.test -> CORP).
func (d *Directory) NetBIOSDomain(dnsDomain string) string {
	if name := d.NetBIOSDomains[strings.ToLower(dnsDomain)]; name != "" {
		return name
	}
	label, _, _ := strings.Cut(dnsDomain, ".")
	return strings.ToUpper(label)
}

// DomainName returns the DNS name of the object's domain: its Domain field,
// or else DomainFromDN of its DN.
func (o *Object) DomainName() string {
	if o.Domain != "" {
		return o.Domain
	}
	return DomainFromDN(o.DN)
}
