package web

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// A farm picture is drawn from the farm's desired state (audit.Farm, from
// farms: or iis.config_files) and the findings the audit made of it: the
// page has no snapshot, and the findings already say, SPN by SPN, what is
// missing (farm-drift, medium), held by another account (farm-drift, high,
// and duplicate-spn naming every holder) or hiding a node's HOST alias
// (host-alias-conflict). Every other desired SPN is on the farm's account.

// spnState is how an SPN label is drawn. Each state has a marker and a word
// besides its colour, so that a printout in black and white says the same.
type spnState string

const (
	spnOK       spnState = "ok"       // registered where the farm wants it
	spnMissing  spnState = "missing"  // expected here, not registered: dashed
	spnConflict spnState = "conflict" // duplicated, on the wrong account or hiding a HOST alias: red
	spnExtra    spnState = "extra"    // on the farm's account, not declared by the farm
)

// SVG geometry, in user units (the picture scales to the page's width).
const (
	svgMargin     = 16
	hostW, hostH  = 200, 54
	hostGap       = 20
	accountW      = 420
	accountGap    = 24
	accountHead   = 44
	spnRowH       = 20
	legendH       = 64
	maxLabelRunes = 40 // longer SPNs and names are cut, in full in <title>
)

type farmPicture struct {
	Name    string
	Anchor  string
	Problem string // why no picture is drawn, "" when it is
	Width   int
	Height  int
	VIP     *hostBox
	Nodes   []hostBox
	Links   []svgLine
	Account []accountBox // the farm's account first, then other holders
	LegendY int
}

type hostBox struct {
	X, Y, W, H int
	Name, FQDN string // shown, cut to maxLabelRunes
	Full       string // the configured name, whole
}

type svgLine struct {
	X1, Y1, X2, Y2 int
}

type accountBox struct {
	X, Y, W, H  int
	RowW, NoteX int  // an SPN row's width, its note's right edge
	Owner       bool // the farm's account
	Name        string
	Full        string // DN or name, whole
	Caption     string
	SPNs        []spnLabel
}

type spnLabel struct {
	Y     int // top of the row, relative to its account box
	Text  string
	Full  string
	State spnState
	Note  string // why, for missing and conflict
}

// foldSPN is the case fold SPN comparisons use (AD compares them
// case-insensitively as whole strings).
func foldSPN(s string) string { return strings.Map(inventory.FoldRune, s) }

// farmFindings are the findings of one desired SPN.
type farmFindings struct {
	drift     *audit.Finding
	duplicate *audit.Finding
	aliases   []*audit.Finding
}

// farmPictures draws every farm; names maps DNs to NETBIOS\sAMAccountName.
func farmPictures(farms []audit.Farm, findings []audit.Finding, names map[string]string) []farmPicture {
	if len(farms) == 0 {
		return nil
	}
	// The findings of the rules a picture shows about the farms' SPNs and
	// hosts, by folded SPN: one pass over what may be tens of thousands of
	// findings, folding into one buffer.
	wanted := make(map[string]bool) // folded desired SPNs
	for _, farm := range farms {
		for _, spn := range farm.DesiredSPNs() {
			wanted[foldSPN(spn)] = true
		}
	}
	bySPN := make(map[string][]*audit.Finding)
	var badFarms []*audit.Finding
	var buf []byte
	for i := range findings {
		f := &findings[i]
		switch f.Rule {
		case audit.RuleFarmDrift, audit.RuleDuplicateSPN, audit.RuleHostAliasConflict:
		default:
			continue
		}
		if f.SPN == "" {
			badFarms = append(badFarms, f)
			continue
		}
		buf = appendFoldDisplay(buf[:0], f.SPN)
		// farm-drift's extras are SPNs the farms do not declare.
		if !wanted[string(buf)] && f.Rule != audit.RuleFarmDrift {
			continue
		}
		k := string(buf)
		bySPN[k] = append(bySPN[k], f)
	}
	out := make([]farmPicture, 0, len(farms))
	for _, farm := range farms {
		out = append(out, drawFarm(farm, bySPN, badFarms, names))
	}
	return out
}

func drawFarm(farm audit.Farm, bySPN map[string][]*audit.Finding, badFarms []*audit.Finding, names map[string]string) farmPicture {
	pic := farmPicture{Name: farm.Name, Anchor: "farm-" + anchorHash(farm.Name)}
	if err := farm.Validate(); err != nil {
		pic.Problem = "invalid configuration: " + err.Error()
		return pic
	}
	// farm-drift's finding for a farm it cannot check (account not found or
	// ambiguous) has no SPN and names the farm first.
	for _, f := range badFarms {
		if f.Rule == audit.RuleFarmDrift && strings.HasPrefix(f.Message, "Farm "+farm.Name+" cannot be checked") {
			pic.Problem = f.Message
			return pic
		}
	}
	desired := farm.DesiredSPNs()
	state := make([]farmFindings, len(desired))
	ownerDN := ""
	for i, spn := range desired {
		for _, f := range bySPN[foldSPN(spn)] {
			switch f.Rule {
			case audit.RuleFarmDrift:
				state[i].drift = f
				if len(f.Accounts) > 0 {
					ownerDN = f.Accounts[0]
				}
			case audit.RuleDuplicateSPN:
				state[i].duplicate = f
			case audit.RuleHostAliasConflict:
				state[i].aliases = append(state[i].aliases, f)
			}
		}
	}
	// Extras: farm-drift's low findings for a farm host the farm does not
	// declare the SPN of (another class or port).
	hosts := make(map[string]bool)
	for _, spn := range desired {
		if p, problems := audit.ParseSPN(spn); problems == nil {
			hosts[foldSPN(p.Host)] = true
		}
	}
	var extras []*audit.Finding
	for _, fs := range bySPN {
		for _, f := range fs {
			if f.Rule != audit.RuleFarmDrift || f.Severity != audit.SeverityLow || len(f.Accounts) == 0 {
				continue
			}
			if p, problems := audit.ParseSPN(f.SPN); problems == nil && hosts[foldSPN(p.Host)] &&
				strings.Contains(f.Message, "Farm "+farm.Name+":") {
				extras = append(extras, f)
				ownerDN = f.Accounts[0]
			}
		}
	}
	slices.SortFunc(extras, func(a, b *audit.Finding) int { return strings.Compare(a.SPN, b.SPN) })

	owner := &accountBox{Owner: true, Name: farm.Account, Full: farm.Account, Caption: "farm account (pool identity)"}
	if ownerDN != "" {
		owner.Name, owner.Full = nameOf(ownerDN, names), ownerDN
	}
	others := map[string]*accountBox{}
	var otherOrder []string
	other := func(dn, caption string) *accountBox {
		if a := others[dn]; a != nil {
			return a
		}
		a := &accountBox{Name: nameOf(dn, names), Full: dn, Caption: caption}
		others[dn] = a
		otherOrder = append(otherOrder, dn)
		return a
	}
	for i, spn := range desired {
		st := state[i]
		label := spnLabel{Full: spn, State: spnOK}
		var holders []string // other accounts holding spn
		holderNote := "duplicate"
		switch {
		case st.drift != nil && st.drift.Severity == audit.SeverityMedium:
			label.State, label.Note = spnMissing, "missing"
		case st.drift != nil && st.drift.Severity == audit.SeverityHigh:
			holders = st.drift.Accounts[1:]
			onOwner := st.duplicate != nil && slices.Contains(st.duplicate.Accounts, ownerDN)
			if onOwner {
				label.State, label.Note = spnConflict, "duplicate"
			} else {
				label.State, label.Note = spnMissing, "on another account"
				holderNote = "wrong account"
			}
		case st.duplicate != nil:
			label.State, label.Note = spnConflict, "duplicate"
			for _, dn := range st.duplicate.Accounts {
				if dn != ownerDN {
					holders = append(holders, dn)
				}
			}
		}
		for _, dn := range holders {
			a := other(dn, "also holds farm SPNs")
			a.SPNs = append(a.SPNs, spnLabel{Full: spn, State: spnConflict, Note: holderNote})
		}
		for _, f := range st.aliases {
			if label.State == spnOK {
				label.State, label.Note = spnConflict, "hides HOST alias"
			}
			if len(f.Accounts) > 1 {
				host := spn
				if p, problems := audit.ParseSPN(spn); problems == nil {
					host = p.Host
				}
				a := other(f.Accounts[1], "computer: its HOST/ is hidden")
				a.SPNs = append(a.SPNs, spnLabel{Full: "HOST/" + host, State: spnConflict, Note: "alias hidden"})
			}
		}
		owner.SPNs = append(owner.SPNs, label)
	}
	for _, f := range extras {
		owner.SPNs = append(owner.SPNs, spnLabel{Full: f.SPN, State: spnExtra, Note: "not declared"})
	}
	accounts := []accountBox{*owner}
	for _, dn := range otherOrder {
		accounts = append(accounts, *others[dn])
	}
	layoutFarm(&pic, farm, accounts)
	return pic
}

// layoutFarm places the VIP on top, the nodes below it, and the accounts
// below the nodes, every node linked to the farm's account it runs as.
func layoutFarm(pic *farmPicture, farm audit.Farm, accounts []accountBox) {
	nodesW := len(farm.Nodes)*(hostW+hostGap) - hostGap
	cols := min(len(accounts), 3)
	accountsW := cols*(accountW+accountGap) - accountGap
	pic.Width = max(nodesW, accountsW, 700) + 2*svgMargin
	center := pic.Width / 2

	y := svgMargin
	if farm.VIP != "" {
		pic.VIP = &hostBox{X: center - hostW/2, Y: y, W: hostW, H: hostH}
		pic.VIP.Name, pic.VIP.FQDN, pic.VIP.Full = hostNames(farm, farm.VIP)
		y += hostH + 50
	}
	x := center - nodesW/2
	for _, n := range farm.Nodes {
		b := hostBox{X: x, Y: y, W: hostW, H: hostH}
		b.Name, b.FQDN, b.Full = hostNames(farm, n)
		if pic.VIP != nil {
			pic.Links = append(pic.Links, svgLine{X1: center, Y1: pic.VIP.Y + hostH, X2: x + hostW/2, Y2: y})
		}
		pic.Nodes = append(pic.Nodes, b)
		x += hostW + hostGap
	}
	if len(farm.Nodes) > 0 {
		y += hostH + 60
	}
	// The farm's account in the first column; the other holders fill the
	// other columns, each box under the shortest column, so the picture stays
	// about as tall as the farm's account.
	x0 := center - accountsW/2
	bottom := make([]int, cols) // each column's next free y
	for c := range bottom {
		bottom[c] = y
	}
	for i := range accounts {
		a := &accounts[i]
		col := 0
		if i > 0 && cols > 1 {
			col = 1
			for c := 2; c < cols; c++ {
				if bottom[c] < bottom[col] {
					col = c
				}
			}
		}
		a.X, a.Y, a.W = x0+col*(accountW+accountGap), bottom[col], accountW
		a.RowW, a.NoteX = accountW-16, accountW-22
		a.H = accountHead + len(a.SPNs)*spnRowH + 8
		a.Name, a.Full = cut(a.Name), displayText(a.Full)
		for j := range a.SPNs {
			s := &a.SPNs[j]
			s.Y = accountHead + j*spnRowH
			s.Text, s.Full = cut(s.Full), displayText(s.Full)
		}
		bottom[col] = a.Y + a.H + accountGap
	}
	owner := &accounts[0]
	for _, n := range pic.Nodes {
		pic.Links = append(pic.Links, svgLine{X1: n.X + hostW/2, Y1: n.Y + hostH, X2: owner.X + owner.W/2, Y2: owner.Y})
	}
	pic.Account = accounts
	pic.LegendY = slices.Max(bottom)
	pic.Height = pic.LegendY + legendH
}

// hostNames returns the NetBIOS and DNS forms of a configured farm name, cut
// for display, and the name as configured.
func hostNames(farm audit.Farm, name string) (netbios, fqdn, full string) {
	netbios, fqdn = name, name
	if label, _, ok := strings.Cut(name, "."); ok {
		netbios = label
	} else if farm.DNSSuffix != "" {
		fqdn = name + "." + strings.TrimPrefix(farm.DNSSuffix, ".")
	}
	return cut(netbios), cut(fqdn), displayText(name)
}

func nameOf(dn string, names map[string]string) string {
	if n := names[dn]; n != "" {
		return n
	}
	return dn
}

// cut shortens directory text to maxLabelRunes for a label, with control
// characters made visible.
func cut(s string) string {
	s = displayText(s)
	if utf8.RuneCountInString(s) <= maxLabelRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxLabelRunes-1]) + "…"
}

// displayText makes control characters (an ESC in an SPN, say) visible as
// their Unicode control pictures: they cannot hide text, and the SVG stays
// valid XML when saved on its own.
func displayText(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r < 0x20:
			return 0x2400 + r
		case r == 0x7f:
			return 0x2421
		case unicode.IsControl(r):
			return unicode.ReplacementChar
		}
		return r
	}, s)
}
