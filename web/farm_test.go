package web

import (
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/internal/farmtest"
	"github.com/spnaudit/spnaudit/inventory"
	"github.com/spnaudit/spnaudit/metrics"
)

// testFarm is the fixture's farm with a fourth node, svexpgg313, whose SPNs
// nobody registered; the fixture's svc-legacy also holds the VIP's DNS form.
func testFarm() audit.Farm {
	return audit.Farm{
		Name: "intranet", VIP: "svnlb301", DNSSuffix: "corp.example.test", Classes: []string{"HTTP"},
		Nodes:   []string{"svexpgg310", "svexpgg311", "svexpgg312", "svexpgg313"},
		Account: `CORP\svc-iis`,
	}
}

// auditedFarm publishes the real audit of the fixture with farms to a store
// and returns the landing page's handler over it.
func auditedFarm(t testing.TB, farms []audit.Farm, snap *inventory.Snapshot) *landingFixture {
	t.Helper()
	c := newClock()
	s := newTestStore(c, 1000)
	if snap == nil {
		snap = farmtest.Snapshot(c.Now())
	}
	res := audit.Run(snap, audit.Config{Farms: farms, Now: c.Now()})
	farmtest.Scan{Mode: inventory.FullScan, Snapshot: snap, Result: res}.PublishTo(s)
	return &landingFixture{result: res, handler: NewHandlerWith(s, metrics.NewRegistry(s), slog.New(slog.DiscardHandler), Options{Farms: farms})}
}

type landingFixture struct {
	result  audit.Result
	handler http.Handler
}

func attrOf(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}

// svgElements parses the page and returns the farm picture of farm name.
func farmSVG(t *testing.T, page, name string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "svg" && attrOf(n, "data-farm") == name {
			return n
		}
	}
	t.Fatalf("no svg.farm for %q in:\n%s", name, page)
	return nil
}

func TestFarmPicture(t *testing.T) {
	fx := auditedFarm(t, []audit.Farm{testFarm()}, nil)
	_, body := serve(t, fx.handler, "GET", "/")
	if os.Getenv("SPNAUDIT_WRITE_PAGE") != "" {
		_ = os.WriteFile(os.Getenv("SPNAUDIT_WRITE_PAGE"), []byte(body), 0o644)
	}
	svg := farmSVG(t, body, "intranet")
	groups := map[string][]string{} // class -> texts
	for n := range svg.Descendants() {
		if n.Type == html.ElementNode && n.Data == "g" {
			for _, c := range strings.Fields(attrOf(n, "class")) {
				groups[c] = append(groups[c], textOf(n))
			}
		}
	}
	if len(groups["vip"]) != 1 || !strings.Contains(groups["vip"][0], "svnlb301.corp.example.test") {
		t.Errorf("VIP: %q", groups["vip"])
	}
	if len(groups["node"]) != 4 {
		t.Errorf("nodes: %q", groups["node"])
	}
	// The farm's account first, then the other holders: svc-legacy with the
	// VIP's DNS form, and the nodes' computers, whose HOST alias the farm
	// account's HTTP/node SPNs hide (host-alias-conflict).
	var accounts []string
	for _, a := range groups["account"] {
		accounts = append(accounts, regexp.MustCompile(`CORP\\\S+`).FindString(a))
	}
	if want := []string{`CORP\svc-iis`, `CORP\svc-legacy`, `CORP\SVEXPGG310$`, `CORP\SVEXPGG311$`, `CORP\SVEXPGG312$`}; !slices.Equal(accounts, want) {
		t.Errorf("accounts %q, want %q", accounts, want)
	}
	if len(groups["owner"]) != 1 || !strings.Contains(groups["owner"][0], `CORP\svc-iis`) {
		t.Errorf("owner %q", groups["owner"])
	}
	// Red, each with its word: the duplicate on both holders, the six node
	// SPNs and the six HOST aliases they hide.
	count := func(state, text string) int {
		n := 0
		for _, s := range groups["spn-"+state] {
			if strings.Contains(s, text) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		state, text string
		want        int
	}{
		{"conflict", "HTTP/svnlb301.corp.example.test: duplicate", 2},
		{"conflict", "hides HOST alias", 6},
		{"conflict", "alias hidden", 6},
		{"missing", "HTTP/svexpgg313", 2},
		{"missing", "HTTP/svexpgg313.corp.example.test: missing", 1},
		{"ok", "HTTP/svnlb301", 1},
	} {
		if got := count(c.state, c.text); got != c.want {
			t.Errorf("%d %s SPNs with %q, want %d; %s: %q", got, c.state, c.text, c.want, c.state, groups["spn-"+c.state])
		}
	}
	if n := len(groups["spn-ok"]) + len(groups["spn-missing"]) + len(groups["spn-conflict"]); n != 10+1+6 {
		t.Errorf("%d SPN labels, want 17 (10 desired, 1 on svc-legacy and 6 HOST aliases)", n)
	}
	for _, re := range []string{
		`<g class="spn spn-conflict"[^>]*>(?:<title>[^<]*</title>)?\s*<rect [^>]*stroke="#c92a2a"`,
		`<g class="spn spn-missing"[^>]*>(?:<title>[^<]*</title>)?\s*<rect [^>]*stroke-dasharray=`,
	} {
		if !regexp.MustCompile(re).MatchString(body) {
			t.Errorf("no %s", re)
		}
	}
	if !strings.Contains(body, `<figure class="farm" id="farm-`) {
		t.Error("the farm has no anchor")
	}
}

// TestLandingHostileDirectoryText: SPNs, names and DNs are chosen by whoever
// may write them; markup, quotes, an ESC and a 10,000-character value stay
// text in the page, the filters and the picture, and the SVG stays valid XML.
func TestLandingHostileDirectoryText(t *testing.T) {
	c := newClock()
	snap := farmtest.Snapshot(c.Now())
	long := strings.Repeat("A", 10000)
	hostileDN := `CN=x"><script>alert(1)</script>` + "\x1b[31m,OU=Web,DC=corp,DC=example,DC=test"
	snap.Objects = append(snap.Objects,
		&inventory.Object{DN: hostileDN, Domain: "corp.example.test", SAMAccountName: `<img src=x onerror=alert(2)>'` + "\x1b" + long, Kind: inventory.KindUser,
			SPNs: []string{"HTTP/svexpgg312.corp.example.test", `HTTP/"><svg onload=alert(3)>`, "HTTP/" + long}})
	snap.Objects[0].SPNs = append(snap.Objects[0].SPNs, "HTTP/svnlb301:8443") // undeclared port: an extra
	fx := auditedFarm(t, []audit.Farm{testFarm()}, snap)
	for _, q := range []string{"/", "/?view=account",
		"/?spn=" + url.QueryEscape(`"><script>alert(4)</script>`) + "&account=" + url.QueryEscape("'\x1b"+long)} {
		resp, body := serve(t, fx.handler, "GET", q)
		if resp.StatusCode != 200 {
			t.Fatalf("%.80s: status %d", q, resp.StatusCode)
		}
		for _, bad := range []string{"<script", "<img", "<svg onload", "\x1b", "onerror=alert(2)>'"} {
			if strings.Contains(body, bad) {
				t.Errorf("%.80s: page contains %q unescaped", q, bad)
			}
		}
	}
	_, body := serve(t, fx.handler, "GET", "/")
	svg := farmSVG(t, body, "intranet")
	var b strings.Builder
	if err := html.Render(&b, svg); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal([]byte(b.String()), new(any)); err != nil {
		t.Errorf("the farm's SVG is not XML: %v", err)
	}
	// Labels are cut; the whole value is in the element's <title>.
	for n := range svg.Descendants() {
		if n.Type == html.ElementNode && n.Data == "text" {
			if l := utf8.RuneCountInString(textOf(n)); l > maxLabelRunes+2 {
				t.Errorf("a label of %d characters: %.80s", l, textOf(n))
			}
		}
	}
	for _, want := range []string{"␛", "HTTP/svnlb301:8443", "not declared", "x&#34;&gt;&lt;script&gt;"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestFarmPictureProblems: a farm the audit cannot check (its account is not
// in the directory) gets no picture of SPNs that would all look registered,
// but farm-drift's reason, so the page and audit stay in step.
func TestFarmPictureProblems(t *testing.T) {
	unknown := testFarm()
	unknown.Name, unknown.Account = "nobody", `CORP\svc-nobody`
	unknown.VIP, unknown.Nodes = "web9", []string{"web91", "web92"}
	fx := auditedFarm(t, []audit.Farm{unknown}, nil)
	_, body := serve(t, fx.handler, "GET", "/")
	if strings.Contains(body, `data-farm="nobody"`) ||
		!strings.Contains(body, `No picture: Farm nobody cannot be checked: account &#34;CORP\\svc-nobody&#34; not found in the directory.`) {
		t.Errorf("farm with an unknown account:\n%s", body)
	}
	pics := farmPictures([]audit.Farm{{Name: "broken"}}, nil, nil)
	if len(pics) != 1 || !strings.HasPrefix(pics[0].Problem, "invalid configuration: ") {
		t.Errorf("invalid farm: %+v", pics)
	}
}

// TestFarmPictureWrongAccount: an SPN of the farm held only by another
// account is dashed on the farm's account and red on the other.
func TestFarmPictureWrongAccount(t *testing.T) {
	c := newClock()
	snap := farmtest.Snapshot(c.Now())
	pool := snap.Objects[0]
	pool.SPNs = slices.DeleteFunc(pool.SPNs, func(s string) bool { return s == "HTTP/svnlb301" })
	snap.Objects[1].SPNs = append(snap.Objects[1].SPNs, "HTTP/svnlb301")
	farm := testFarm()
	farm.Nodes = farm.Nodes[:3]
	fx := auditedFarm(t, []audit.Farm{farm}, snap)
	_, body := serve(t, fx.handler, "GET", "/")
	svg := farmSVG(t, body, "intranet")
	var missing, conflicts []string
	for n := range svg.Descendants() {
		if n.Type == html.ElementNode && n.Data == "g" {
			switch attrOf(n, "class") {
			case "spn spn-missing":
				missing = append(missing, textOf(n))
			case "spn spn-conflict":
				if strings.Contains(textOf(n), "HTTP/svnlb301:") {
					conflicts = append(conflicts, textOf(n))
				}
			}
		}
	}
	if len(missing) != 1 || !strings.Contains(missing[0], "HTTP/svnlb301: on another account") {
		t.Errorf("missing: %q", missing)
	}
	if len(conflicts) != 1 || !strings.Contains(conflicts[0], "HTTP/svnlb301: wrong account") {
		t.Errorf("conflicts: %q", conflicts)
	}
}
