package ldapscan

import (
	"encoding/base64"
	"testing"
	"time"
)

// labBlob is the replPropertyMetaData of an account of the lab DC (Samba
// 4.17), read with ldapsearch: 22 attributes, servicePrincipalName (attid
// 0x90303) among them, every change made by dc1 (invocation ID below) at
// 2026-11-27T04:45:06Z.
const labBlob = "AQAAAAAAAAAWAAAAAAAAAAAAAAABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAMAAAABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAEAAgABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAIAAgABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAABkBAgABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAEACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAgACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAABAACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAABkACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAADcACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAEAACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAFoACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAF4ACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAGAACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAGIACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAJIACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAJ8ACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAKAACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAN0ACQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAC4BCQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAAMDCQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAA4DCQABAAAA0psZIQMAAAByO//5BkKGQrrD6ocbRPXGB2UAAAAAAAAHZQAAAAAAAA=="

// windowsFragment is a msDS-ReplAttributeMetaData value as a Windows DC
// returns it (MS-ADTS 3.1.1.4.5.15), with its trailing NUL.
const windowsFragment = "<DS_REPL_ATTR_META_DATA>\n\t<pszAttributeName>servicePrincipalName</pszAttributeName>\n" +
	"\t<dwVersion>3</dwVersion>\n\t<ftimeLastOriginatingChange>2026-11-20T09:14:02Z</ftimeLastOriginatingChange>\n" +
	"\t<uuidLastOriginatingDsaInvocationID>2f6c1a0e-8b1b-4c8e-9d57-3f0a4c2b9e11</uuidLastOriginatingDsaInvocationID>\n" +
	"\t<usnOriginatingChange>41230</usnOriginatingChange>\n\t<usnLocalChange>41230</usnLocalChange>\n" +
	"\t<pszLastOriginatingDsaDN>CN=NTDS Settings,CN=DC2,CN=Servers,CN=Branch,CN=Sites,CN=Configuration,DC=corp,DC=example,DC=test</pszLastOriginatingDsaDN>\n" +
	"</DS_REPL_ATTR_META_DATA>\n\x00"

func TestReadSPNChange(t *testing.T) {
	blob, err := base64.StdEncoding.DecodeString(labBlob)
	if err != nil {
		t.Fatal(err)
	}
	other := []byte("<DS_REPL_ATTR_META_DATA><pszAttributeName>description</pszAttributeName>" +
		"<ftimeLastOriginatingChange>2020-01-01T00:00:00Z</ftimeLastOriginatingChange></DS_REPL_ATTR_META_DATA>\x00")
	noSPN := append([]byte(nil), blob...)
	for i := 0; i < 22; i++ { // rename the SPN entry's attid
		if e := noSPN[replBlobHeader+i*replEntrySize:]; e[0] == 0x03 && e[1] == 0x03 && e[2] == 0x09 {
			e[0] = 0x04
		}
	}
	tests := []struct {
		name   string
		attrs  map[string][][]byte
		wantAt time.Time
		wantBy string
	}{
		{"Samba's binary blob", map[string][][]byte{"replpropertymetadata": {blob}},
			time.Date(2026, 11, 27, 4, 45, 6, 0, time.UTC), "f9ff3b72-4206-4286-bac3-ea871b44f5c6"},
		{"Windows' XML fragments, SPN second", map[string][][]byte{"msds-replattributemetadata": {other, []byte(windowsFragment)}},
			time.Date(2026, 11, 20, 9, 14, 2, 0, time.UTC),
			"CN=NTDS Settings,CN=DC2,CN=Servers,CN=Branch,CN=Sites,CN=Configuration,DC=corp,DC=example,DC=test"},
		{"XML wins over the blob", map[string][][]byte{"msds-replattributemetadata": {[]byte(windowsFragment)}, "replpropertymetadata": {blob}},
			time.Date(2026, 11, 20, 9, 14, 2, 0, time.UTC),
			"CN=NTDS Settings,CN=DC2,CN=Servers,CN=Branch,CN=Sites,CN=Configuration,DC=corp,DC=example,DC=test"},
		{"XML without the SPN falls back to the blob", map[string][][]byte{"msds-replattributemetadata": {other}, "replpropertymetadata": {blob}},
			time.Date(2026, 11, 27, 4, 45, 6, 0, time.UTC), "f9ff3b72-4206-4286-bac3-ea871b44f5c6"},
		{"blob without the SPN", map[string][][]byte{"replpropertymetadata": {noSPN}}, time.Time{}, ""},
		{"truncated blob", map[string][][]byte{"replpropertymetadata": {blob[:100]}}, time.Time{}, ""},
		{"garbage", map[string][][]byte{"replpropertymetadata": {[]byte("xx")}, "msds-replattributemetadata": {[]byte("<DS_REPL")}}, time.Time{}, ""},
		{"no metadata", map[string][][]byte{}, time.Time{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRecord("CN=svc,DC=corp,DC=example,DC=test")
			for key, values := range tt.attrs {
				r.put(key, values)
			}
			o, err := objectFromRecord(r)
			if err != nil {
				t.Fatal(err)
			}
			if !o.SPNChanged.Equal(tt.wantAt) || o.SPNChangedBy != tt.wantBy {
				t.Errorf("got %v by %q, want %v by %q", o.SPNChanged, o.SPNChangedBy, tt.wantAt, tt.wantBy)
			}
		})
	}
}

func TestDCSetNames(t *testing.T) {
	b := newDirectoryBuilder()
	server := "CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=example,DC=test"
	srv := newRecord(server)
	srv.put("objectclass", [][]byte{[]byte("top"), []byte("server")})
	srv.put("dnshostname", [][]byte{[]byte("DC1.corp.example.test")})
	dsa := newRecord("CN=NTDS Settings," + server)
	inv, _ := base64.StdEncoding.DecodeString("cjv/+QZChkK6w+qHG0T1xg==") // the lab DC's, read with ldapsearch
	dsa.put("objectclass", [][]byte{[]byte("nTDSDSA")})
	dsa.put("invocationid", [][]byte{inv})
	b.add(dsa) // the child may come first
	b.add(srv)
	dir := b.directory()
	for _, ref := range []string{"f9ff3b72-4206-4286-bac3-ea871b44f5c6", "CN=NTDS Settings," + server} {
		if got := dir.DCName(ref); got != "dc1.corp.example.test" {
			t.Errorf("DCName(%q) = %q, want dc1.corp.example.test", ref, got)
		}
	}
}
