package lab

import (
	"context"
	"fmt"
	"strings"
)

// BulkOU holds the bulk objects that exercise paging and big multi-valued
// attributes.
const BulkOU = "OU=Bulk," + BaseDN

// BulkBigAccount is the bulk account that holds many SPNs.
const BulkBigAccount = "CN=svc_many," + BulkOU

const bulkBatch = 2000

// SeedBulk makes OU=Bulk hold n user accounts with two SPNs each plus
// svc_many with manySPNs SPNs. It does nothing when OU=Bulk already holds
// exactly that; otherwise it replaces the OU.
func (l *Lab) SeedBulk(ctx context.Context, n, manySPNs int) error {
	marker := fmt.Sprintf("spnaudit lab bulk accounts=%d many_spns=%d", n, manySPNs)
	out, err := l.run(ctx, "ldbsearch", "-H", l.samLDB(), "-b", BulkOU, "-s", "base", "description")
	if err == nil && strings.Contains(out, marker) {
		return nil
	}
	l.logf("seeding %d bulk accounts and one with %d SPNs (about a minute)", n, manySPNs)
	if out, err := l.run(ctx, "ldbdel", "-r", "-H", l.samLDB(), BulkOU); err != nil && !strings.Contains(out, "No such object") {
		return fmt.Errorf("ldbdel %s: %w: %s", BulkOU, err, tail([]byte(out)))
	}
	if err := l.ldbApply(ctx, "ldbadd", l.samLDB(), "dn: "+BulkOU+"\nobjectClass: organizationalUnit\n\n"); err != nil {
		return err
	}
	// Samba's index records grow with every object of a class: without ldb's
	// batch mode (no sub-transaction per object, as samba-tool uses for
	// joins) 20,000 objects take over ten minutes instead of about one.
	for start := 0; start < n; start += bulkBatch {
		var b strings.Builder
		for i := start; i < min(n, start+bulkBatch); i++ {
			name := fmt.Sprintf("bulk%05d", i)
			entry(&b, "CN="+name+","+BulkOU, [][2]string{
				{"objectClass", "user"},
				{"sAMAccountName", name},
				{"servicePrincipalName", "HTTP/" + name + "." + DNSDomain},
				{"servicePrincipalName", "HTTP/" + name},
			})
		}
		if err := l.ldbApply(ctx, "ldbadd", l.samLDB(), b.String(), "-o", "batch_mode:true"); err != nil {
			return err
		}
	}
	many := [][2]string{{"objectClass", "user"}, {"sAMAccountName", "svc_many"}}
	for i := 0; i < manySPNs; i++ {
		many = append(many, [2]string{"servicePrincipalName", fmt.Sprintf("MSSQLSvc/sqlmany.%s:%d", DNSDomain, 10000+i)})
	}
	var b strings.Builder
	entry(&b, BulkBigAccount, many)
	if err := l.ldbApply(ctx, "ldbadd", l.samLDB(), b.String()); err != nil {
		return err
	}
	// The marker last: it appears only when every object is in.
	return l.ldbApply(ctx, "ldbmodify", l.samLDB(), fmt.Sprintf("dn: %s\nchangetype: modify\nreplace: description\ndescription: %s\n", BulkOU, marker))
}
