package report

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// realisticInventory is shaped like internal/gen.WriteRealistic's export as
// the LDIF reader returns it: n computers with a GUID, a DNS host name, AES
// enctypes and four HOST/ and RestrictedKrbHost/ SPNs, and one SQL service
// account per 50 computers with three MSSQLSvc SPNs.
func realisticInventory(n int) *inventory.Snapshot {
	aes := inventory.EncAES128 | inventory.EncAES256
	set := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	snap := &inventory.Snapshot{Directory: inventory.Directory{ForestDNS: "corp.example.test", Domains: []string{"corp.example.test"}}}
	for i := range n {
		host := fmt.Sprintf("srv%06d", i)
		fqdn := host + ".corp.example.test"
		snap.Objects = append(snap.Objects, &inventory.Object{
			GUID: inventory.MustParseGUID(fmt.Sprintf("%08x-0000-0100-9e37-79b97f4a7c15", i)), DN: fmt.Sprintf("CN=SRV%06d,OU=Servers,DC=corp,DC=example,DC=test", i),
			Domain: "corp.example.test", SAMAccountName: fmt.Sprintf("SRV%06d$", i), Kind: inventory.KindComputer,
			UserAccountControl: inventory.UACWorkstationTrustAccount, DNSHostName: fqdn, SupportedEncryptionTypes: &aes,
			PwdLastSet: set, USNChanged: int64(100000 + i), PrivilegeUnknown: true,
			SPNs: []string{"HOST/" + fqdn, fmt.Sprintf("HOST/SRV%06d", i), "RestrictedKrbHost/" + fqdn, fmt.Sprintf("RestrictedKrbHost/SRV%06d", i)},
		})
		if i%50 == 0 {
			snap.Objects = append(snap.Objects, &inventory.Object{
				GUID: inventory.MustParseGUID(fmt.Sprintf("%08x-0000-0200-3c6e-f372fe94f82a", i)), DN: fmt.Sprintf("CN=svc_sql%05d,OU=Service Accounts,DC=corp,DC=example,DC=test", i/50),
				Domain: "corp.example.test", SAMAccountName: fmt.Sprintf("svc_sql%05d", i/50), Kind: inventory.KindUser,
				UserAccountControl: 0x10200, SupportedEncryptionTypes: &aes, PwdLastSet: set, USNChanged: int64(400000 + i), PrivilegeUnknown: true,
				SPNs: []string{"MSSQLSvc/" + fqdn + ":1433", "MSSQLSvc/" + fqdn, "MSSQLSvc/srv087081.corp.example.test:1433"},
			})
		}
	}
	return snap
}

// BenchmarkInventoryJSON is the write of `inventory --format json` alone
// (sort, encode, indent) for 51,000 objects, a fifth of the realistic
// export (issue 9).
func BenchmarkInventoryJSON(b *testing.B) {
	snap := realisticInventory(50000)
	var size int64
	for b.Loop() {
		cw := &countingWriter{}
		if err := writeInventoryJSON(cw, snap); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.SetBytes(size)
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)
