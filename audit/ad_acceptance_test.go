package audit

import "testing"

// Sources for what Active Directory accepts as a servicePrincipalName value.
const (
	// Samba's samldb module counts '/'-separated components ignoring
	// backslashes ("slashes are counted regardless of backslashes", as
	// Windows does on setting a servicePrincipalName) and refuses fewer than
	// two or more than three with LDAP constraintViolation:
	// samba-team/samba source4/dsdb/samdb/ldb_modules/samldb.c,
	// count_spn_components and samldb_spn_uniqueness_check.
	citeSambaComponents = "samba samldb.c count_spn_components/samldb_spn_uniqueness_check"
	// Name Formats for Unique SPNs: <service class>/<host>:<port>/<service
	// name>, "the SPN syntax uses a forward slash (/) to separate elements",
	// so no element holds one.
	citeSPNFormats = refSPNFormats
	// The directory compares Unicode strings (and so servicePrincipalName
	// values in its uniqueness check, MS-ADTS 3.1.1.5.3.1.1.4 / KB 3070083)
	// with CompareString under DS_DEFAULT_LOCALE_COMPARE_FLAGS =
	// NORM_IGNORECASE | NORM_IGNOREKANATYPE | NORM_IGNORENONSPACE |
	// NORM_IGNOREWIDTH (MichaelGrafnetter/DSInternals
	// Src/DSInternals.DataStore/ADConstants.cs, the flags of the ESE indices
	// of ntds.dit; the flags' meaning: CompareStringEx,
	// https://learn.microsoft.com/en-us/windows/win32/api/stringapiset/nf-stringapiset-comparestringex).
	citeDSCompareFlags = "DS_DEFAULT_LOCALE_COMPARE_FLAGS (DSInternals ADConstants.cs) + CompareStringEx"
	// CVE-2026-25177 (March 2026): SPNs and UPNs made of crafted Unicode that
	// look like, or compare equal to, an existing one bypass the duplicate
	// checks; https://msrc.microsoft.com/update-guide/vulnerability/CVE-2026-25177.
	citeCVE202625177 = refCVE202625177
)

// adAcceptance lists values written to an account while another account
// holds heldSPNs: whether Windows and the lab Samba DC accept the write, and
// why. The audit must judge every value Windows refuses (malformed-spn or
// duplicate-spn) and none that it accepts; TestLabADAcceptance checks the
// Samba column against the lab DC.
var adAcceptance = []struct {
	spn     string
	windows bool // Windows DC accepts the write
	samba   bool // the lab Samba DC accepts the write
	rule    string
	cite    string
}{
	// Grammar: two or three components.
	{"cifs/x/x/x", false, false, RuleMalformedSPN, citeSambaComponents},
	{"HTTP/web01.corp.example.test/corp.example.test/extra", false, false, RuleMalformedSPN, citeSambaComponents},
	{`cifs/a\/b/c`, false, false, RuleMalformedSPN, citeSambaComponents + ": a backslash does not escape '/'"},
	{"ldap/dc1/CN=Config/x", false, false, RuleMalformedSPN, citeSambaComponents},
	{"HTTPlab-rules", false, false, RuleMalformedSPN, citeSambaComponents + ": one component"},
	{"HTTP/lab-rules-ok/corp.example.test", true, true, "", citeSPNFormats},
	{"HTTP/lab-rules-ok", true, true, "", citeSPNFormats},
	// Equality: the held value in another case is the same SPN to both.
	{"CIFS/LOOKALIKE.CORP.EXAMPLE.TEST", false, false, RuleDuplicateSPN, citeDSCompareFlags + ": NORM_IGNORECASE"},
	// Look-alikes: Windows compares loosely, Samba case-insensitively only.
	{"cīfs/lookalike.corp.example.test", false, true, RuleDuplicateSPN, citeDSCompareFlags + ": NORM_IGNORENONSPACE; " + citeCVE202625177},
	{"ｃｉｆｓ/lookalike.corp.example.test", false, true, RuleDuplicateSPN, citeDSCompareFlags + ": NORM_IGNOREWIDTH; " + citeCVE202625177},
	{"HTTP/lab-unicode/cafe", false, true, RuleDuplicateSPN, citeDSCompareFlags + ": NORM_IGNORENONSPACE"},
	{"HTTP/lab-unicode/CAFÉ", false, false, RuleDuplicateSPN, citeDSCompareFlags + ": NORM_IGNORECASE (Unicode)"},
	{"HTTP/lab-unicode/かな", false, true, RuleDuplicateSPN, citeDSCompareFlags + ": NORM_IGNOREKANATYPE"},
	{"HTTP/lab-unicode/ｶﾅ", false, true, RuleDuplicateSPN, citeDSCompareFlags + ": NORM_IGNOREWIDTH + NORM_IGNOREKANATYPE"},
	{"cifs/lookalike2.corp.example.test", true, true, "", citeDSCompareFlags},
	{"HTTP/lab-unicode/cafés", true, true, "", citeDSCompareFlags},
}

// adAcceptanceHeld are the SPNs the other account holds.
var adAcceptanceHeld = []string{"cifs/lookalike.corp.example.test", "HTTP/lab-unicode/café", "HTTP/lab-unicode/カナ"}

// TestADAcceptanceJudged: the audit reports exactly the values Windows
// refuses, with the rule that explains the refusal.
func TestADAcceptanceJudged(t *testing.T) {
	for _, tt := range adAcceptance {
		t.Run(tt.spn, func(t *testing.T) {
			newUser := user("svc_new", []string{tt.spn})
			snap := snapshot(user("svc_held", adAcceptanceHeld), newUser)
			res := Run(snap, Config{Now: testNow})
			var rules []string
			for _, f := range res.Findings {
				if contains(f.Accounts, newUser.DN) && (f.Rule == RuleMalformedSPN || f.Rule == RuleDuplicateSPN) {
					rules = append(rules, f.Rule)
				}
			}
			switch {
			case tt.windows && len(rules) > 0:
				t.Errorf("Windows accepts %q (%s) but the audit reports %v", tt.spn, tt.cite, rules)
			case !tt.windows && !contains(rules, tt.rule):
				t.Errorf("Windows refuses %q (%s): want %s, audit reports %v", tt.spn, tt.cite, tt.rule, rules)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
