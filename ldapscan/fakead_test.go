package ldapscan

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"
	"github.com/jimlambrt/gldap"
)

// fakeAD is an in-process directory that behaves like an AD domain
// controller where the scanner can tell: rootDSE, paged results, range
// retrieval with a MaxValRange limit, the Show Deleted control, uSNChanged
// bookkeeping, and referral results.
type fakeAD struct {
	mu          sync.Mutex
	entries     map[string]*fakeEntry // by lower-case DN
	usn         int64
	maxValRange int
	domainNC    string
	configNC    string
	dsService   string
	invocation  []byte
	namingCtxs  []string
	user, pass  string              // simple bind credentials
	referrals   map[string][]string // base DN (lower case) -> referral URLs
	noPaging    bool
	// rangeFault makes range follow-ups misbehave: "restart" answers from
	// value 0 again, "omit" leaves the attribute out.
	rangeFault string
	// hideTombstones denies the bind account the Deleted Objects
	// container, as AD and Samba do by default.
	hideTombstones bool
	// emptyListing answers the GUID listing of polls (only objectGUID
	// asked for) with no entries, as a server does for an account that lost
	// its read right or an empty replica.
	emptyListing bool
	// listingSkips leaves the first entries out of that listing, as a
	// server does when the account lost the right to read part of the tree.
	listingSkips int

	pagesServed atomic.Int64 // search requests that carried a paging control
	// inventoryPages counts those of the inventory search, whose filter
	// asks for SPNs.
	inventoryPages atomic.Int64
	searches       atomic.Int64
}

type fakeEntry struct {
	dn      string
	attrs   map[string][]string // attribute names as written; looked up case-insensitively
	usn     int64
	deleted bool
}

const (
	fakeDomainNC       = "DC=corp,DC=example,DC=test"
	fakeDomainSID      = "S-1-5-21-1004336348-1177238915-682003330"
	fakeDomainAdmins   = "CN=Domain Admins,CN=Users," + fakeDomainNC
	fakeAdministrators = "CN=Administrators,CN=Builtin," + fakeDomainNC
)

func mustSID(sid string) []byte {
	raw, err := encodeSID(sid)
	if err != nil {
		panic(err)
	}
	return raw
}

// newFakeAD returns a directory for corp.example.test with its
// configuration, a crossRef, the directory service settings and a DNS zone.
func newFakeAD() *fakeAD {
	fa := &fakeAD{
		entries:     map[string]*fakeEntry{},
		maxValRange: 1500,
		domainNC:    fakeDomainNC,
		configNC:    "CN=Configuration," + fakeDomainNC,
		invocation:  randomGUID(),
		referrals:   map[string][]string{},
	}
	fa.dsService = "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites," + fa.configNC
	fa.namingCtxs = []string{fa.domainNC, fa.configNC, "CN=Schema," + fa.configNC,
		"DC=DomainDnsZones," + fa.domainNC, "DC=ForestDnsZones," + fa.domainNC}
	for _, dn := range []string{fa.domainNC, "CN=Users," + fa.domainNC, fa.configNC, "CN=Partitions," + fa.configNC, "CN=Schema," + fa.configNC,
		"DC=DomainDnsZones," + fa.domainNC, "CN=MicrosoftDNS,DC=DomainDnsZones," + fa.domainNC,
		"DC=ForestDnsZones," + fa.domainNC} {
		fa.put(dn, map[string][]string{"objectClass": {"top", "container"}})
	}
	for _, nc := range []string{fa.domainNC, "DC=DomainDnsZones," + fa.domainNC, "DC=ForestDnsZones," + fa.domainNC} {
		fa.put("CN=Deleted Objects,"+nc, map[string][]string{"objectClass": {"container"}, "isDeleted": {"TRUE"}})
		fa.mu.Lock()
		fa.entries[strings.ToLower("CN=Deleted Objects,"+nc)].deleted = true
		fa.mu.Unlock()
	}
	fa.remove(fa.account("old", "user", "HTTP/old")) // an earlier deletion
	// The domain's SID and its protected groups (read for privilege through
	// group membership): Domain Admins in BUILTIN\Administrators.
	fa.modify(fa.domainNC, func(attrs map[string][]string) { attrs["objectSid"] = []string{string(mustSID(fakeDomainSID))} })
	fa.put("CN=Builtin,"+fa.domainNC, map[string][]string{"objectClass": {"top", "builtinDomain"}})
	fa.put(fakeDomainAdmins, map[string][]string{"objectClass": {"top", "group"}, "objectSid": {string(mustSID(fakeDomainSID + "-512"))}})
	fa.put(fakeAdministrators, map[string][]string{"objectClass": {"top", "group"},
		"objectSid": {string(mustSID("S-1-5-32-544"))}, "member": {fakeDomainAdmins}})
	fa.put(fa.dsService, map[string][]string{"objectClass": {"nTDSDSA"}, "invocationId": {string(fa.invocation)}})
	fa.addDomain("corp.example.test", "CORP", fa.domainNC)
	fa.put("CN=Enterprise Configuration,CN=Partitions,"+fa.configNC, map[string][]string{
		"objectClass": {"top", "crossRef"}, "nCName": {fa.configNC}, "dnsRoot": {"corp.example.test"}, "systemFlags": {"1"},
	})
	fa.put(directoryServiceRDN+fa.configNC, map[string][]string{
		"objectClass":  {"nTDSService"},
		"sPNMappings":  {"host=alerter,http,cifs"},
		"dSHeuristics": {"00000000010000000002000000011"},
	})
	zone := "DC=corp.example.test,CN=MicrosoftDNS,DC=DomainDnsZones," + fa.domainNC
	fa.put(zone, map[string][]string{"objectClass": {"dnsZone"}})
	for _, node := range []string{"@", "web01", "_ldap._tcp", "svnlb301"} {
		fa.put("DC="+node+","+zone, map[string][]string{"objectClass": {"dnsNode"}, "name": {node}})
	}
	return fa
}

func (fa *fakeAD) addDomain(dns, netbios, nc string) {
	fa.put("CN="+netbios+",CN=Partitions,"+fa.configNC, map[string][]string{
		"objectClass": {"top", "crossRef"}, "nCName": {nc}, "dnsRoot": {dns},
		"nETBIOSName": {netbios}, "systemFlags": {"3"},
	})
}

func randomGUID() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b
}

// put creates or replaces an entry, as an originating write does: the USN
// advances and becomes the entry's uSNChanged.
func (fa *fakeAD) put(dn string, attrs map[string][]string) {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	fa.usn++
	fa.entries[strings.ToLower(dn)] = &fakeEntry{dn: dn, attrs: attrs, usn: fa.usn}
}

// modify changes an entry in place and advances its uSNChanged.
func (fa *fakeAD) modify(dn string, change func(attrs map[string][]string)) {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	e := fa.entries[strings.ToLower(dn)]
	change(e.attrs)
	fa.usn++
	e.usn = fa.usn
}

// remove turns an entry into a tombstone, as AD does on deletion: most
// attributes go, isDeleted is set, the object moves to the Deleted Objects
// container and only Show Deleted searches see it.
func (fa *fakeAD) remove(dn string) {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	e := fa.entries[strings.ToLower(dn)]
	delete(fa.entries, strings.ToLower(dn))
	for k := range e.attrs {
		if !strings.EqualFold(k, "objectGUID") && !strings.EqualFold(k, "objectClass") {
			delete(e.attrs, k)
		}
	}
	e.attrs["isDeleted"] = []string{"TRUE"}
	rdn, _, _ := strings.Cut(dn, ",")
	e.dn = fmt.Sprintf("%s\\0ADEL:%x,CN=Deleted Objects,%s", rdn, randomGUID(), fa.partitionOf(dn))
	e.deleted = true
	fa.usn++
	e.usn = fa.usn
	fa.entries[strings.ToLower(e.dn)] = e
}

// partitionOf returns the naming context holding dn.
func (fa *fakeAD) partitionOf(dn string) string {
	best := ""
	for _, nc := range fa.namingCtxs {
		lower, lnc := strings.ToLower(dn), strings.ToLower(nc)
		if (lower == lnc || strings.HasSuffix(lower, ","+lnc)) && len(nc) > len(best) {
			best = nc
		}
	}
	return best
}

// account adds a user, computer or other object with SPNs and returns its DN.
func (fa *fakeAD) account(cn, kind string, spns ...string) string {
	dn := "CN=" + cn + ",CN=Users," + fa.domainNC
	classes := map[string][]string{
		"user":     {"top", "person", "organizationalPerson", "user"},
		"computer": {"top", "person", "organizationalPerson", "user", "computer"},
		"gmsa":     {"top", "person", "organizationalPerson", "user", "computer", "msDS-GroupManagedServiceAccount"},
	}[kind]
	attrs := map[string][]string{
		"objectClass":        classes,
		"objectGUID":         {string(randomGUID())},
		"sAMAccountName":     {cn},
		"userAccountControl": {"512"},
	}
	if len(spns) > 0 {
		attrs["servicePrincipalName"] = spns
	}
	fa.put(dn, attrs)
	return dn
}

func (fa *fakeAD) rootDSE() map[string][]string {
	return map[string][]string{
		"defaultNamingContext":       {fa.domainNC},
		"configurationNamingContext": {fa.configNC},
		"rootDomainNamingContext":    {fa.domainNC},
		"namingContexts":             fa.namingCtxs,
		"dnsHostName":                {"dc1.corp.example.test"},
		"highestCommittedUSN":        {strconv.FormatInt(fa.usn, 10)},
		"dsServiceName":              {fa.dsService},
		"supportedControl":           {ldap.ControlTypePaging, ldap.ControlTypeMicrosoftShowDeleted},
	}
}

// serve starts an LDAP server for the directory on a free loopback port and
// returns its address. With tlsConfig it speaks LDAPS; startTLS enables the
// StartTLS extended operation instead.
func (fa *fakeAD) serve(t testing.TB, tlsConfig *tls.Config, startTLS bool) string {
	t.Helper()
	srv, err := gldap.NewServer(gldap.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		t.Fatal(err)
	}
	mux, err := gldap.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	must(t, mux.Bind(fa.handleBind))
	must(t, mux.Search(fa.handleSearch))
	if startTLS {
		must(t, mux.ExtendedOperation(func(w *gldap.ResponseWriter, r *gldap.Request) {
			resp := r.NewExtendedResponse(gldap.WithResponseCode(gldap.ResultSuccess))
			resp.SetResponseName(gldap.ExtendedOperationStartTLS)
			if w.Write(resp) == nil {
				_ = r.StartTLS(tlsConfig)
			}
		}, gldap.ExtendedOperationStartTLS))
	}
	must(t, srv.Router(mux))
	addr := freeAddr(t)
	var opts []gldap.Option
	if tlsConfig != nil && !startTLS {
		opts = append(opts, gldap.WithTLSConfig(tlsConfig))
	}
	// The server is never stopped: gldap's Stop waits on its connection
	// WaitGroup while Run may still Add to it for a connection being
	// accepted, a misuse the race detector reports (flakily, when a client
	// connection is still open at cleanup). Each server lives until the test
	// binary exits.
	go func() { _ = srv.Run(addr, opts...) }()
	waitListening(t, addr)
	return addr
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func waitListening(t testing.TB, addr string) {
	t.Helper()
	for range 200 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("server on %s did not start", addr)
}

func (fa *fakeAD) handleBind(w *gldap.ResponseWriter, r *gldap.Request) {
	resp := r.NewBindResponse(gldap.WithResponseCode(gldap.ResultInvalidCredentials))
	m, err := r.GetSimpleBindMessage()
	if err == nil && ((fa.user == "" && m.UserName == "") || (m.UserName == fa.user && string(m.Password) == fa.pass)) {
		resp.SetResultCode(gldap.ResultSuccess)
	}
	_ = w.Write(resp)
}

func (fa *fakeAD) handleSearch(w *gldap.ResponseWriter, r *gldap.Request) {
	fa.searches.Add(1)
	m, err := r.GetSearchMessage()
	if err != nil {
		_ = w.Write(r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultProtocolError)))
		return
	}
	done := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess))
	if m.BaseDN == "" && m.Scope == gldap.BaseObject {
		fa.mu.Lock()
		dse := fa.rootDSE()
		fa.mu.Unlock()
		_ = w.Write(r.NewSearchResponseEntry("", gldap.WithAttributes(selectAttrs(dse, m.Attributes, 0))))
		_ = w.Write(done)
		return
	}
	fa.mu.Lock()
	urls, ok := fa.referrals[strings.ToLower(m.BaseDN)]
	fa.mu.Unlock()
	if ok {
		ref := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultReferral))
		ref.SetDiagnosticMessage("referral:" + strings.Join(urls, " "))
		_ = w.Write(ref)
		return
	}
	matches, code := fa.find(m)
	if code != gldap.ResultSuccess {
		_ = w.Write(r.NewSearchDoneResponse(gldap.WithResponseCode(code)))
		return
	}
	var paging *gldap.ControlPaging
	for _, c := range m.Controls {
		if p, ok := c.(*gldap.ControlPaging); ok && !fa.noPaging {
			paging = p
		}
	}
	if paging != nil {
		fa.pagesServed.Add(1)
		if strings.Contains(m.Filter, "servicePrincipalName=*") {
			fa.inventoryPages.Add(1)
		}
		offset, _ := strconv.Atoi(string(paging.Cookie))
		end := min(offset+int(paging.PagingSize), len(matches))
		next := ""
		if end < len(matches) {
			next = strconv.Itoa(end)
		}
		matches = matches[offset:end]
		reply, _ := gldap.NewControlPaging(paging.PagingSize)
		reply.SetCookie([]byte(next))
		done.SetControls(reply)
	}
	if m.SizeLimit > 0 && int64(len(matches)) > m.SizeLimit {
		matches = matches[:m.SizeLimit]
		done.SetResultCode(gldap.ResultSizeLimitExceeded)
	}
	for _, e := range fa.render(matches, m.Attributes) {
		_ = w.Write(r.NewSearchResponseEntry(e.dn, gldap.WithAttributes(e.attrs)))
	}
	_ = w.Write(done)
}

type fakeResult struct {
	dn    string
	attrs map[string][]string
}

// find evaluates a search and returns the keys of the matching entries in
// DN order.
func (fa *fakeAD) find(m *gldap.SearchMessage) ([]string, int) {
	filter, err := ldap.CompileFilter(m.Filter)
	if err != nil {
		return nil, gldap.ResultFilterError
	}
	showDeleted := slices.ContainsFunc(m.Controls, func(c gldap.Control) bool {
		return c.GetControlType() == ldap.ControlTypeMicrosoftShowDeleted
	})
	fa.mu.Lock()
	defer fa.mu.Unlock()
	base := strings.ToLower(m.BaseDN)
	if _, ok := fa.entries[base]; !ok {
		return nil, gldap.ResultNoSuchObject
	}
	partition := fa.partitionOf(m.BaseDN)
	var out []string
	for key, e := range fa.entries {
		// Like AD, a subtree search stays in the base's naming context.
		if e.deleted && (!showDeleted || fa.hideTombstones) || !inScope(key, base, m.Scope) ||
			!strings.EqualFold(fa.partitionOf(e.dn), partition) || !matchFilter(filter, fa.valuesOf(e)) {
			continue
		}
		out = append(out, key)
	}
	listing := len(m.Attributes) == 1 && strings.EqualFold(m.Attributes[0], "objectGUID")
	if fa.emptyListing && listing {
		return nil, gldap.ResultSuccess
	}
	slices.Sort(out)
	if listing && fa.listingSkips > 0 {
		out = out[min(fa.listingSkips, len(out)):]
	}
	return out, gldap.ResultSuccess
}

// valuesOf returns an entry's attribute values for matchFilter, with the
// groups it is a member of at any depth (computed from member values).
func (fa *fakeAD) valuesOf(e *fakeEntry) func(string) []string {
	return func(name string) []string {
		if name != inChainMemberOf {
			return e.values(name)
		}
		var out []string
		seen := map[string]bool{}
		queue := []string{e.dn}
		for len(queue) > 0 {
			dn := queue[0]
			queue = queue[1:]
			for _, g := range fa.entries {
				if !g.deleted && !seen[strings.ToLower(g.dn)] &&
					slices.ContainsFunc(attrValues(g.attrs, "member"), func(m string) bool { return strings.EqualFold(m, dn) }) {
					seen[strings.ToLower(g.dn)] = true
					out = append(out, g.dn)
					queue = append(queue, g.dn)
				}
			}
		}
		return out
	}
}

// render returns the requested attributes of the entries, as they are now.
func (fa *fakeAD) render(keys []string, requested []string) []fakeResult {
	fa.mu.Lock()
	defer fa.mu.Unlock()
	var out []fakeResult
	for _, key := range keys {
		if e, ok := fa.entries[key]; ok {
			out = append(out, fakeResult{dn: e.dn, attrs: fa.faultyRanges(selectAttrs(e.view(), requested, fa.maxValRange))})
		}
	}
	return out
}

func (fa *fakeAD) faultyRanges(attrs map[string][]string) map[string][]string {
	for name, values := range attrs {
		_, rng, _ := parseAttrDesc(name)
		if fa.rangeFault == "" || rng == nil || rng.low == 0 {
			continue
		}
		delete(attrs, name)
		if fa.rangeFault == "restart" {
			attrs[strings.Replace(name, fmt.Sprintf("range=%d-", rng.low), "range=0-", 1)] = values
		}
	}
	return attrs
}

// values returns an attribute's values, uSNChanged included.
func (e *fakeEntry) values(name string) []string {
	if strings.EqualFold(name, "uSNChanged") {
		return []string{strconv.FormatInt(e.usn, 10)}
	}
	return attrValues(e.attrs, name)
}

func (e *fakeEntry) view() map[string][]string {
	attrs := make(map[string][]string, len(e.attrs)+1)
	for k, v := range e.attrs {
		attrs[k] = v
	}
	attrs["uSNChanged"] = []string{strconv.FormatInt(e.usn, 10)}
	return attrs
}

func inScope(dn, base string, scope gldap.Scope) bool {
	switch scope {
	case gldap.BaseObject:
		return dn == base
	case gldap.SingleLevel:
		i := strings.Index(dn, ",")
		return i >= 0 && dn[i+1:] == base
	default:
		return dn == base || strings.HasSuffix(dn, ","+base)
	}
}

// selectAttrs returns the requested attributes, applying AD's range
// retrieval: more than maxValRange values come back as "name;range=0-N",
// and "name;range=L-*" asks for the values from L on.
func selectAttrs(attrs map[string][]string, requested []string, maxValRange int) map[string][]string {
	out := map[string][]string{}
	all := len(requested) == 0 || slices.Contains(requested, "*")
	for name, values := range attrs {
		low, asked := 0, all
		for _, req := range requested {
			base, rng, _ := parseAttrDesc(req)
			if strings.EqualFold(base, name) {
				asked = true
				if rng != nil {
					low = rng.low
				}
			}
		}
		if !asked {
			continue
		}
		if maxValRange == 0 || (low == 0 && len(values) <= maxValRange) {
			out[name] = values
			continue
		}
		low = min(low, len(values))
		end := min(low+maxValRange, len(values))
		high := strconv.Itoa(end - 1)
		if end == len(values) {
			high = "*"
		}
		out[fmt.Sprintf("%s;range=%d-%s", name, low, high)] = values[low:end]
	}
	return out
}
