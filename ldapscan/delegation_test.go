package ldapscan

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/internal/secdesc"
	"github.com/spnaudit/spnaudit/inventory"
)

func b64SID(t *testing.T, sid string) string {
	t.Helper()
	raw, err := secdesc.EncodeSID(sid)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// TestLDIFReadsRBCD reads objectSid and the RBCD descriptor from base64
// ("::") LDIF values, as ldifde and ldapsearch export them.
func TestLDIFReadsRBCD(t *testing.T) {
	const web, stranger = "S-1-5-21-1-2-3-1104", "S-1-5-21-9-9-9-500"
	sd, err := secdesc.AllowDescriptor("S-1-5-32-544", 0xF01FF, web, stranger)
	if err != nil {
		t.Fatal(err)
	}
	nullDACL := slices.Clone(sd[:20])
	copy(nullDACL[4:8], []byte{0, 0, 0, 0})
	copy(nullDACL[16:20], []byte{0, 0, 0, 0})
	tests := []struct {
		name    string
		sd      string
		want    []inventory.Principal
		wantErr string
	}{
		{"two principals", base64.StdEncoding.EncodeToString(sd),
			[]inventory.Principal{{SID: web}, {SID: stranger}}, ""},
		{"NULL DACL allows everyone", base64.StdEncoding.EncodeToString(nullDACL),
			[]inventory.Principal{{SID: "S-1-1-0", WellKnown: "Everyone"}}, ""},
		{"truncated", base64.StdEncoding.EncodeToString(sd[:len(sd)-3]),
			nil, "msDS-AllowedToActOnBehalfOfOtherIdentity: security descriptor: DACL size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ldif := "dn: CN=FILE1,OU=Servers,DC=corp,DC=test\n" +
				"objectClass: computer\nsAMAccountName: FILE1$\nservicePrincipalName: cifs/file1.corp.test\n" +
				"objectSid:: " + b64SID(t, "S-1-5-21-1-2-3-1200") + "\n" +
				"msDS-AllowedToActOnBehalfOfOtherIdentity:: " + tc.sd + "\n"
			res, err := ReadLDIF(strings.NewReader(ldif), "test")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadLDIF = %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o := res.Snapshot.Objects[0]
			if o.ObjectSID != "S-1-5-21-1-2-3-1200" {
				t.Errorf("ObjectSID = %q", o.ObjectSID)
			}
			if !slices.Equal(o.AllowedToActOnBehalf(), tc.want) {
				t.Errorf("AllowedToActOnBehalf = %+v, want %+v", o.AllowedToActOnBehalf(), tc.want)
			}
		})
	}
}
