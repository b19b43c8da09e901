package inventory

import "testing"

func TestDCName(t *testing.T) {
	dir := Directory{DCs: map[string]string{
		"f9ff3b72-4206-4286-bac3-ea871b44f5c6": "dc1.corp.example.test",
		"cn=ntds settings,cn=dc1,cn=servers,cn=default-first-site-name,cn=sites,cn=configuration,dc=corp,dc=example,dc=test": "dc1.corp.example.test",
	}}
	tests := []struct{ name, dsa, want string }{
		{"invocation ID", "F9FF3B72-4206-4286-BAC3-EA871B44F5C6", "dc1.corp.example.test"},
		{"known DSA DN", "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=example,DC=test", "dc1.corp.example.test"},
		{"DSA DN of a DC the scan did not read", "CN=NTDS Settings,CN=DC2,CN=Servers,CN=Branch,CN=Sites,CN=Configuration,DC=corp,DC=example,DC=test", "dc2"},
		{"unknown invocation ID", "00000000-0000-0000-0000-000000000001", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dir.DCName(tt.dsa); got != tt.want {
				t.Errorf("DCName(%q) = %q, want %q", tt.dsa, got, tt.want)
			}
		})
	}
}
