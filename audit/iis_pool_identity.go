package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spnaudit/spnaudit/inventory"
)

// iisPoolIdentity reports a farm whose nodes run the site's application pool
// under different identities. Clients ask the KDC for one ticket, for
// HTTP/<VIP>, encrypted with the key of the one account holding that SPN:
// the nodes whose pool runs as another account cannot decrypt it, so
// Kerberos works or fails depending on the node the balancer picks.
type iisPoolIdentity struct{}

func (iisPoolIdentity) ID() string { return RuleIISPoolIdentity }

func (iisPoolIdentity) Severities() []Severity { return []Severity{SeverityHigh} }

func (iisPoolIdentity) Check(ix *index) []Finding {
	var out []Finding
	for _, farm := range iisFarms(ix.iis) {
		type member struct {
			site *inventory.IISSite
			pool inventory.IISAppPool
			id   iisIdentity
		}
		var members []member
		for _, s := range farm.sites {
			if root, ok := s.Root(); ok {
				members = append(members, member{s, root.Pool, ix.poolIdentity(s, root.Pool)})
			}
		}
		if len(members) < 2 {
			continue
		}
		// The identity most nodes use (the first SpecificUser one on a tie)
		// is the farm's; the others must change.
		best, bestCount := 0, 0
		for i, m := range members {
			n := 0
			for _, o := range members {
				if o.id.same(m.id) {
					n++
				}
			}
			if n > bestCount || n == bestCount && members[best].id.machine && !m.id.machine {
				best, bestCount = i, n
			}
		}
		if bestCount == len(members) && !members[best].id.machine {
			continue
		}
		want := members[best]
		var groups []string
		var fix []string
		var accounts []string
		seen := make(map[int]bool)
		for i, m := range members {
			if seen[i] {
				continue
			}
			var nodes []string
			for j := i; j < len(members); j++ {
				if !seen[j] && members[j].id.same(m.id) && (!m.id.machine || j == i) {
					seen[j] = true
					nodes = append(nodes, fmt.Sprintf("%s (%s:%d)", members[j].site.Node, members[j].pool.Source.File, members[j].pool.Source.Line))
				}
			}
			groups = append(groups, fmt.Sprintf("as %s on %s", m.id.name, strings.Join(nodes, ", ")))
			for _, dn := range ix.identityDNs(m.id) {
				if !slices.Contains(accounts, dn) {
					accounts = append(accounts, dn)
				}
			}
		}
		if want.id.machine {
			fix = append(fix, "# Every node runs the pool as its own computer account: no single account can hold HTTP/"+farm.vip+
				". Run the pool on every node as one domain account or gMSA that holds the farm's SPNs:")
		} else {
			fix = append(fix, "# Run the pool as "+want.id.name+" on the other nodes, as on "+want.site.Node+":")
		}
		user := want.pool.UserName
		if want.id.machine {
			user = `<DOMAIN\account>`
		}
		for _, m := range members {
			if !want.id.machine && m.id.same(want.id) {
				continue
			}
			fix = append(fix, iisNodeComment(m.site.Node, "identity of application pool "+m.pool.Name),
				fmt.Sprintf("%s set apppool %s /processModel.identityType:SpecificUser /processModel.userName:%s /processModel.password:<password>",
					appcmdExe, psArg(m.pool.Name), psArg(user)))
		}
		out = append(out, Finding{
			Rule:     RuleIISPoolIdentity,
			Severity: SeverityHigh,
			SPN:      "HTTP/" + farm.vip,
			Accounts: accounts,
			Message: fmt.Sprintf("The application pool of farm site %s (VIP %s) runs %s: HTTP/%s has one account, "+
				"so the nodes whose pool runs as another account cannot decrypt the tickets and Kerberos fails on them.",
				farm.name, farm.vip, strings.Join(groups, " and "), farm.vip),
			Remediation: fix,
			References:  []string{refIISAppPoolModel, refIISKernelMode},
		})
	}
	return out
}
