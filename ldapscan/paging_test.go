package ldapscan

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// TestPagedSearchPipelines: pagedSearch asks for the next page while the
// previous one is being converted (the client's CPU then overlaps the DC's),
// hands pages over in order and each entry once, and a failed conversion
// fails the search without another page being handed over.
func TestPagedSearchPipelines(t *testing.T) {
	const accounts, pageSize = 350, 100
	failure := errors.New("conversion failed")
	tests := []struct {
		name    string
		failAt  int // page (1-based) whose conversion fails; 0: none
		want    error
		wantAll bool
	}{
		{name: "every page, each entry once", wantAll: true},
		{name: "conversion fails on page 2", failAt: 2, want: failure},
		{name: "conversion fails on the last page", failAt: 4, want: failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := bulkDirectory(accounts)
			sc := newTestScanner(t, []string{"ldap://" + fa.serve(t, nil, false)}, nil)
			s, err := sc.connectAny(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(s.close)
			req := ldap.NewSearchRequest(fa.domainNC, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
				"(servicePrincipalName=*)", []string{"sAMAccountName"}, nil)
			var refs referrals
			var seen []string
			pages := 0
			overlapped := false
			err = s.pagedSearch(context.Background(), req, pageSize, &refs, func(page []*ldap.Entry) error {
				pages++
				if pages == 1 {
					// The request for page 2 goes out while page 1 is converted.
					served := fa.pagesServed.Load()
					for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !overlapped; time.Sleep(time.Millisecond) {
						overlapped = fa.pagesServed.Load() > served
					}
				}
				for _, e := range page {
					seen = append(seen, e.GetAttributeValue("sAMAccountName"))
				}
				if pages == tt.failAt {
					return failure
				}
				return nil
			})
			if !errors.Is(err, tt.want) {
				t.Fatalf("pagedSearch error = %v, want %v", err, tt.want)
			}
			if !overlapped {
				t.Error("page 2 was not asked for while page 1 was converted")
			}
			if tt.failAt > 0 && pages != tt.failAt {
				t.Errorf("onPage called %d times, want %d (no page after the failure)", pages, tt.failAt)
			}
			if !tt.wantAll {
				return
			}
			if pages != 4 || len(seen) != accounts {
				t.Fatalf("pages %d, entries %d; want 4 pages, %d entries", pages, len(seen), accounts)
			}
			unique := map[string]bool{}
			for _, sam := range seen {
				unique[strings.ToLower(sam)] = true
			}
			if len(unique) != accounts {
				t.Errorf("%d distinct entries of %d: a page was handed over twice or lost", len(unique), accounts)
			}
		})
	}
}
