package ldapscan

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/krb"
	"github.com/spnaudit/spnaudit/lab"
)

// delegationScenario: a service account with constrained delegation and
// protocol transition to a CIFS SPN of a host that does not exist, and a
// file server with resource-based constrained delegation allowing a user
// (without SPNs, so only a directory search can name it) and a computer
// account recorded as created by an ordinary user.
var delegationScenario = &lab.Scenario{
	Name: "delegation",
	OU:   "Delegation",
	Computers: []lab.Computer{
		{Name: "dlgfile", SPNs: []string{"HOST/dlgfile", "HOST/dlgfile." + lab.DNSDomain},
			AllowedToAct: []string{"dlg_front", "DLGMAQ$"}},
		{Name: "dlgmaq", SPNs: []string{"HOST/dlgmaq." + lab.DNSDomain}, CreatedBy: "dlg_user"},
	},
	Users: []lab.User{
		{Name: "dlg_web", SPNs: []string{"HTTP/dlgweb." + lab.DNSDomain}, Delegation: lab.Delegation{
			AllowedToDelegateTo:        []string{"cifs/dlgnowhere." + lab.DNSDomain},
			TrustedToAuthForDelegation: true,
		}},
		{Name: "dlg_front"},
		{Name: "dlg_user"},
	},
}

// TestLabDelegation is the "done when" of delegation around SPNs, on the lab
// DC read by the read-only audit account (Kerberos, sealed): the account
// can read msDS-AllowedToDelegateTo, userAccountControl, objectSid,
// msDS-AllowedToActOnBehalfOfOtherIdentity and mS-DS-CreatorSID, and the
// audit names the ghost delegation target and the RBCD principals.
func TestLabDelegation(t *testing.T) {
	l := labtest.Scenario(t, delegationScenario)
	kc, err := krb.New(krb.Config{Realm: lab.Realm, Principal: lab.AuditUser, KeytabFile: l.Keytab(), KDCs: []string{"127.0.0.1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := New(Config{URLs: []string{lab.LDAPURL()}, BaseDN: delegationScenario.OUDN(), SASLSecurity: SASLSeal,
		Logger: slog.New(slog.DiscardHandler)}, Kerberos{Client: kc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	res, err := sc.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byName := make(map[string]*inventory.Object)
	for _, o := range res.Snapshot.Objects {
		byName[o.SAMAccountName] = o
		if !strings.HasPrefix(o.ObjectSID, "S-1-5-21-") {
			t.Errorf("%s: objectSid not read: %q", o.DN, o.ObjectSID)
		}
	}
	web := byName["dlg_web"]
	if !slices.Equal(web.AllowedToDelegateTo(), []string{"cifs/dlgnowhere." + lab.DNSDomain}) ||
		web.UserAccountControl&inventory.UACTrustedToAuthForDelegation == 0 {
		t.Fatalf("dlg_web: delegation not read: uac %#x, msDS-AllowedToDelegateTo %q", web.UserAccountControl, web.AllowedToDelegateTo())
	}
	file := byName["DLGFILE$"]
	if len(file.AllowedToActOnBehalf()) != 2 {
		t.Fatalf("DLGFILE$: RBCD principals %+v, want dlg_front and DLGMAQ$", file.AllowedToActOnBehalf())
	}
	if p := file.AllowedToActOnBehalf()[1]; p.SAMAccountName != "DLGMAQ$" || !strings.HasPrefix(p.CreatorSID, "S-1-5-21-") {
		t.Errorf("DLGMAQ$ as principal: %+v (mS-DS-CreatorSID not read?)", p)
	}

	fs := audit.Run(res.Snapshot, audit.Config{}).Findings
	want := []struct {
		rule     string
		severity audit.Severity
		spn      string
		message  string
	}{
		{audit.RuleConstrainedDelegation, audit.SeverityHigh, "",
			`CORP\dlg_web may delegate to cifs/dlgnowhere.corp.example.test with protocol transition`},
		{audit.RuleDelegationTarget, audit.SeverityHigh, "cifs/dlgnowhere.corp.example.test",
			`CORP\dlg_web delegates to cifs/dlgnowhere.corp.example.test, whose host dlgnowhere.corp.example.test matches no computer account`},
		{audit.RuleResourceBasedDelegate, audit.SeverityHigh, "",
			`CORP\dlg_front may impersonate any user to every service of CORP\DLGFILE$`},
		{audit.RuleResourceBasedDelegate, audit.SeverityHigh, "",
			`CORP\DLGMAQ$ was created through ms-DS-MachineAccountQuota by CORP\dlg_user`},
	}
	for _, w := range want {
		if !slices.ContainsFunc(fs, func(f audit.Finding) bool {
			return f.Rule == w.rule && f.Severity == w.severity && f.SPN == w.spn && strings.Contains(f.Message, w.message)
		}) {
			t.Errorf("no %s %s finding %q; findings:\n%s", w.severity, w.rule, w.message, findingList(fs))
		}
	}
	t.Logf("findings:\n%s", findingList(fs))

	// An incremental poll re-reads a changed object and names its
	// principals again, creator included.
	if err := l.Touch(context.Background(), delegationScenario.AccountDN("DLGFILE$")); err != nil {
		t.Fatal(err)
	}
	polled, err := sc.Poll(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	if polled.Stats.Mode != inventory.IncrementalScan || polled.Stats.Entries == 0 {
		t.Fatalf("poll: %+v, want an incremental poll that read DLGFILE$", polled.Stats)
	}
	for _, o := range polled.Snapshot.Objects {
		if o.SAMAccountName != "DLGFILE$" {
			continue
		}
		got := make([]string, len(o.AllowedToActOnBehalf()))
		for i, p := range o.AllowedToActOnBehalf() {
			got[i] = p.SAMAccountName
			if p.Creator != nil {
				got[i] += " by " + p.Creator.SAMAccountName
			}
		}
		if want := []string{"dlg_front", "DLGMAQ$ by dlg_user"}; !slices.Equal(got, want) {
			t.Errorf("after a poll, DLGFILE$ allows %q, want %q", got, want)
		}
	}
}

func findingList(fs []audit.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + string(f.Severity) + " " + f.Rule + " " + f.SPN + ": " + f.Message + "\n")
	}
	return b.String()
}
