package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/spnaudit/spnaudit/internal/labtest"
	"github.com/spnaudit/spnaudit/lab"
)

// TestInventoryOverTLS reads the inventory over ldaps:// and StartTLS from a
// lab DC that, like Windows, takes GSSAPI over TLS without sign or seal (with
// the tls-server-end-point channel binding), and checks it equals the
// inventory read over plain LDAP with seal. Samba's default hardening refuses
// every GSSAPI bind over TLS; that refusal is checked on the default lab.
func TestInventoryOverTLS(t *testing.T) {
	winLike := labtest.RequireWindowsLike(t)
	def := labtest.Require(t)
	bin := buildSpnaudit(t)
	farm := "OU=Farm," + lab.BaseDN
	// Each lab's own keytab and krb5.conf (its KDC is 127.0.0.1 in its network
	// namespace).
	config := func(l *lab.Lab, url string, startTLS bool, security string) string {
		set := map[string]any{"ldap.urls": []string{url}, "ldap.start_tls": startTLS, "ldap.sasl_security": security, "ldap.base_dn": farm}
		if startTLS || strings.HasPrefix(url, "ldaps:") {
			set["ldap.tls.ca_file"] = l.CAFile()
		}
		return labConfigFile(t, l, set)
	}
	inventory := func(netns, cfg string) ([]byte, error) {
		args := []string{bin, "inventory", "--quiet", "--format", "json", "--config", cfg}
		if netns != "" {
			args = append([]string{"ip", "netns", "exec", netns}, args...)
		}
		cmd := exec.Command(args[0], args[1:]...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("%v: %s", err, stderr.String())
		}
		return out, nil
	}

	want, err := inventory(labtest.TLSNetns, config(winLike, lab.LDAPURL(), false, "seal"))
	if err != nil {
		t.Fatalf("reference inventory over ldap:// with seal: %v", err)
	}
	wantSPNs := spnsByDN(t, want)
	if len(wantSPNs) == 0 {
		t.Fatal("reference inventory is empty: the farm scenario is missing")
	}
	for _, tc := range []struct {
		name     string
		url      string
		startTLS bool
		security string
	}{
		{"ldaps auto", lab.LDAPSURL(), false, "auto"},
		{"ldaps none", lab.LDAPSURL(), false, "none"},
		{"starttls auto", lab.LDAPURL(), true, "auto"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := inventory(labtest.TLSNetns, config(winLike, tc.url, tc.startTLS, tc.security))
			if err != nil {
				t.Fatal(err)
			}
			if diff := compareInventories(wantSPNs, spnsByDN(t, got)); diff != "" {
				t.Fatalf("inventory over TLS differs from the one over ldap:// with seal: %s", diff)
			}
		})
	}
	t.Run("default samba refuses GSSAPI over TLS", func(t *testing.T) {
		_, err := inventory("", config(def, lab.LDAPSURL(), false, "auto"))
		if err == nil || !strings.Contains(err.Error(), "allow_sasl_over_tls") || !strings.Contains(err.Error(), "exit status 2") {
			t.Fatalf("want exit status 2 naming the Samba setting, got %v", err)
		}
	})
}

// spnsByDN parses inventory --format json into DN -> sorted SPNs.
func spnsByDN(t *testing.T, raw []byte) map[string][]string {
	t.Helper()
	var objects []struct {
		DN   string   `json:"dn"`
		SPNs []string `json:"spns"`
	}
	if err := json.Unmarshal(raw, &objects); err != nil {
		t.Fatalf("inventory JSON: %v", err)
	}
	m := make(map[string][]string, len(objects))
	for _, o := range objects {
		m[o.DN] = slices.Sorted(slices.Values(o.SPNs))
	}
	return m
}

// compareInventories describes the first difference, or returns "".
func compareInventories(want, got map[string][]string) string {
	for dn, spns := range want {
		if g, ok := got[dn]; !ok {
			return "missing " + dn
		} else if !slices.Equal(g, spns) {
			return fmt.Sprintf("%s: SPNs %q, want %q", dn, g, spns)
		}
	}
	for dn := range got {
		if _, ok := want[dn]; !ok {
			return "unexpected " + dn
		}
	}
	return ""
}
