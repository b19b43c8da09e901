package krb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	krb5config "github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/credentials"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Client holds spnaudit's Kerberos identity: it logs in, keeps a TGT fresh
// for as long as the process runs, and obtains service tickets. It is safe
// for concurrent use.
//
// gokrb5 renews TGTs itself but only while renew-till lasts, not at all for
// ccache clients, and keeps the times private; so Client does the AS and TGS
// exchanges with gokrb5's exported functions and keeps the TGT itself.
type Client struct {
	cfg      Config
	src      source
	user     string
	password string
	log      *slog.Logger
	now      func() time.Time

	mu       sync.Mutex
	krbConf  *krb5config.Config
	tgt      *heldTGT
	ccStamp  fileStamp
	services map[string]*serviceTicket
}

// heldTGT is a TGT with its session key and the gokrb5 client (only a
// transport and a client name holder here) used for TGS exchanges with it.
type heldTGT struct {
	transport *client.Client
	cname     types.PrincipalName
	crealm    string
	ticket    messages.Ticket
	key       types.EncryptionKey
	times     ticketTimes
}

type serviceTicket struct {
	ticket messages.Ticket
	key    types.EncryptionKey
	times  ticketTimes
	// cname and crealm name the client in the authenticator.
	cname  types.PrincipalName
	crealm string
}

// fileStamp identifies a version of a file cheaply.
type fileStamp struct {
	mod  time.Time
	size int64
}

// New checks cfg, reads the password file and checks that the keytab holds a
// key for the principal; it does not contact the KDC (call Login for that),
// so what fails here is the configuration, never an outage. logger may be
// nil.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	norm, src, user, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: norm, src: src, user: user, log: logger, now: time.Now, services: map[string]*serviceTicket{}}
	if src == fromPassword {
		if c.password, err = readPasswordFile(norm.PasswordFile); err != nil {
			return nil, err
		}
	}
	if src == fromKeytab {
		kt, err := loadKeytab(norm.KeytabFile)
		if err != nil {
			return nil, err
		}
		if err := checkKeytabHolds(kt, norm.KeytabFile, user, norm.Realm); err != nil {
			return nil, err
		}
	}
	if src != fromCCache {
		if c.krbConf, err = norm.loadKrb5Conf(norm.Realm); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// readPasswordFile returns the first line of the password file. Its errors
// never show the path, not even in the wrapped error: people put the
// password itself in kerberos.password_file by mistake (config's
// checkSecretFile hides it for the same reason).
func readPasswordFile(path string) (string, error) {
	const what = "the file named by kerberos.password_file (its name is not shown, in case it is the password itself)"
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // drop the path
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", &Error{Kind: KindPasswordFile, Cause: what + " does not exist", Fix: "check kerberos.password_file", Err: err}
		case errors.Is(err, fs.ErrPermission):
			return "", &Error{Kind: KindPasswordFile, Cause: what + " is not readable by this process", Fix: "give the spnaudit user read access (mode 0600, owned by it)", Err: err}
		}
		return "", &Error{Kind: KindPasswordFile, Cause: what + " cannot be read: " + err.Error(), Fix: "check kerberos.password_file", Err: err}
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", &Error{Kind: KindPasswordFile, Cause: what + " has an empty first line", Fix: "write the audit account's password on the first line"}
	}
	return pw, nil
}

// Principal returns the client principal as user@REALM once known.
func (c *Client) Principal() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tgt != nil {
		return c.tgt.cname.PrincipalNameString() + "@" + c.tgt.crealm
	}
	return c.user + "@" + c.cfg.Realm
}

// TGTExpiry returns when the TGT held now expires (zero before the first
// login). It backs the spnaudit_kerberos_tgt_expiry_timestamp_seconds metric.
func (c *Client) TGTExpiry() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tgt == nil {
		return time.Time{}
	}
	return c.tgt.times.end
}

// Login makes sure a TGT fit for use is held: it logs in, logs in again near
// expiry, or reloads or renews the ccache, as needed. Call it at start-up to
// fail fast and periodically so TGTExpiry stays current between scans.
func (c *Client) Login(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.freshTGT(ctx)
	return err
}

// freshTGT returns a TGT fit for use now; c.mu is held.
func (c *Client) freshTGT(ctx context.Context) (*heldTGT, error) {
	now := c.now()
	var held *ticketTimes
	if c.tgt != nil {
		held = &c.tgt.times
	}
	changed := false
	if c.src == fromCCache && c.tgt != nil {
		st, err := stat(c.cfg.CCacheFile)
		changed = err == nil && st != c.ccStamp
	}
	var next *heldTGT
	var err error
	switch nextAction(now, c.src, held, changed) {
	case useHeld:
	case login:
		next, err = c.login(ctx)
	case reloadCCache:
		next, err = c.loadCCache()
	case renew:
		next, err = c.renew(ctx)
	}
	switch {
	case next != nil:
		c.tgt = next
		c.log.Info("kerberos TGT obtained", "principal", next.cname.PrincipalNameString()+"@"+next.crealm, "expires", next.times.end)
	case err != nil && (c.tgt == nil || c.tgt.times.expired(now)):
		return nil, err
	case err != nil:
		// The held TGT still works: a KDC outage must not fail a scan.
		c.log.Warn("kerberos TGT refresh failed, using the current one", "expires", c.tgt.times.end, "err", err)
	}
	if c.tgt.times.expired(c.now()) {
		if c.src == fromCCache {
			return nil, &Error{Kind: KindCCache,
				Cause: fmt.Sprintf("the TGT in ccache %q expired at %s", c.cfg.CCacheFile, c.tgt.times.end.Format(time.RFC3339)),
				Fix:   "keep the ccache fresh (k5start, kinit -R from cron, sssd) or use kerberos.keytab"}
		}
		return nil, &Error{Kind: KindClockSkew,
			Cause: fmt.Sprintf("the KDC issued a TGT that has already expired by this host's clock (%s)", c.tgt.times.end.Format(time.RFC3339)),
			Fix:   fixSkew}
	}
	return c.tgt, nil
}

// login does an AS exchange with the keytab or password.
func (c *Client) login(ctx context.Context) (*heldTGT, error) {
	var cl *client.Client
	if c.src == fromKeytab {
		kt, err := loadKeytab(c.cfg.KeytabFile)
		if err != nil {
			return nil, err
		}
		cl = client.NewWithKeytab(c.user, c.cfg.Realm, kt, c.krbConf, client.DisablePAFXFAST(true))
	} else {
		cl = client.NewWithPassword(c.user, c.cfg.Realm, c.password, c.krbConf, client.DisablePAFXFAST(true))
	}
	op := "logging in as " + c.user + "@" + c.cfg.Realm
	if ok, err := cl.IsConfigured(); !ok {
		return nil, classify(op, err)
	}
	var rep messages.ASRep
	err := blocking(ctx, func() error {
		req, err := messages.NewASReqForTGT(c.cfg.Realm, c.krbConf, cl.Credentials.CName())
		if err != nil {
			return err
		}
		rep, err = cl.ASExchange(c.cfg.Realm, req, 0)
		return err
	})
	if err != nil {
		return nil, classify(op, err)
	}
	if _, err := supportedEType(rep.DecryptedEncPart.Key); err != nil {
		return nil, err
	}
	return &heldTGT{transport: cl, cname: rep.CName, crealm: rep.CRealm, ticket: rep.Ticket, key: rep.DecryptedEncPart.Key, times: kdcTimes(rep.DecryptedEncPart)}, nil
}

// loadKeytab reads the keytab, which is read again at every login so that a
// rotated one is picked up.
func loadKeytab(path string) (*keytab.Keytab, error) {
	kt, err := keytab.Load(path)
	if err != nil {
		if os.IsNotExist(err) || os.IsPermission(err) {
			return nil, fileError(KindKeytab, "keytab", path, err)
		}
		return nil, &Error{Kind: KindKeytab, Cause: fmt.Sprintf("keytab %q is not a valid keytab", path), Fix: "export it again (samba-tool domain exportkeytab, ktpass, ktutil)", Err: err}
	}
	return kt, nil
}

// checkKeytabHolds fails unless kt has a key for user@realm, naming the
// realm the keytab does hold the user's keys for when only the realm is
// wrong. AD compares account names without regard to case, so the keytab's
// spelling may differ.
func checkKeytabHolds(kt *keytab.Keytab, path, user, realm string) error {
	otherRealm := ""
	for _, e := range kt.Entries {
		if !strings.EqualFold(strings.Join(e.Principal.Components, "/"), user) {
			continue
		}
		if strings.EqualFold(e.Principal.Realm, realm) {
			return nil
		}
		otherRealm = e.Principal.Realm
	}
	if otherRealm != "" {
		return &Error{Kind: KindKeytab,
			Cause: fmt.Sprintf("keytab %q holds the keys of %s@%s, not of realm %s", path, user, otherRealm, realm),
			Fix:   fmt.Sprintf("set kerberos.realm to %s (the AD DNS domain in upper case) or export the keytab for the realm you meant", otherRealm)}
	}
	return &Error{Kind: KindKeytab,
		Cause: fmt.Sprintf("keytab %q holds no key for %s@%s", path, user, realm),
		Fix:   "export the audit account's keys into it (samba-tool domain exportkeytab --principal, ktpass) or correct kerberos.principal"}
}

// loadCCache reads the TGT from the ccache file.
func (c *Client) loadCCache() (*heldTGT, error) {
	path := c.cfg.CCacheFile
	st, err := stat(path)
	if err != nil {
		return nil, fileError(KindCCache, "ccache", path, err)
	}
	cc, err := credentials.LoadCCache(path)
	if err != nil {
		if os.IsNotExist(err) || os.IsPermission(err) {
			return nil, fileError(KindCCache, "ccache", path, err)
		}
		return nil, &Error{Kind: KindCCache, Cause: fmt.Sprintf("ccache %q is not a valid FILE ccache", path), Fix: "point kerberos.ccache at a FILE: ccache written by kinit (KEYRING/KCM caches are not supported)", Err: err}
	}
	realm := cc.GetClientRealm()
	if c.cfg.Realm != "" && !strings.EqualFold(c.cfg.Realm, realm) {
		return nil, &Error{Kind: KindCCache, Cause: fmt.Sprintf("ccache %q belongs to realm %s, not %s", path, realm, c.cfg.Realm), Fix: "kinit as the audit account of kerberos.realm"}
	}
	cname := cc.GetClientPrincipalName()
	if c.user != "" && !strings.EqualFold(c.user, cname.PrincipalNameString()) {
		return nil, &Error{Kind: KindCCache, Cause: fmt.Sprintf("ccache %q holds tickets of %s, not %s", path, cname.PrincipalNameString(), c.user), Fix: "kinit as kerberos.principal, or correct it"}
	}
	entry, ok := cc.GetEntry(types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", realm}})
	if !ok {
		return nil, &Error{Kind: KindCCache, Cause: fmt.Sprintf("ccache %q holds no TGT for realm %s", path, realm), Fix: "run kinit again"}
	}
	var tkt messages.Ticket
	if err := tkt.Unmarshal(entry.Ticket); err != nil {
		return nil, &Error{Kind: KindCCache, Cause: fmt.Sprintf("ccache %q holds a damaged TGT", path), Fix: "run kinit again", Err: err}
	}
	if c.krbConf == nil {
		if c.krbConf, err = c.cfg.loadKrb5Conf(realm); err != nil {
			return nil, err
		}
	}
	c.ccStamp = st
	c.services = map[string]*serviceTicket{}
	transport := client.NewWithPassword(cname.PrincipalNameString(), realm, "", c.krbConf, client.DisablePAFXFAST(true))
	return &heldTGT{transport: transport, cname: cname, crealm: realm, ticket: tkt, key: entry.Key,
		times: ticketTimes{auth: entry.AuthTime, start: entry.StartTime, end: entry.EndTime, renewTill: entry.RenewTill}}, nil
}

// renew extends the held ccache TGT with a TGS renewal, in memory only.
func (c *Client) renew(ctx context.Context) (*heldTGT, error) {
	old := c.tgt
	krbtgt := types.PrincipalName{NameType: nametype.KRB_NT_SRV_INST, NameString: []string{"krbtgt", old.crealm}}
	var rep messages.TGSRep
	err := blocking(ctx, func() (err error) {
		_, rep, err = old.transport.TGSREQGenerateAndExchange(krbtgt, old.crealm, old.ticket, old.key, true)
		return err
	})
	if err != nil {
		return nil, classify("renewing the TGT from ccache "+c.cfg.CCacheFile, err)
	}
	next := *old
	next.ticket, next.key, next.times = rep.Ticket, rep.DecryptedEncPart.Key, kdcTimes(rep.DecryptedEncPart)
	return &next, nil
}

// serviceTicket returns a ticket for spn valid for at least its refresh
// margin, obtained with a fresh TGT.
func (c *Client) serviceTicket(ctx context.Context, spn string) (*serviceTicket, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tgt, err := c.freshTGT(ctx)
	if err != nil {
		return nil, err
	}
	if st, ok := c.services[spn]; ok && !st.times.due(c.now()) && st.crealm == tgt.crealm {
		return st, nil
	}
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_INST, spn)
	var rep messages.TGSRep
	err = blocking(ctx, func() (err error) {
		_, rep, err = tgt.transport.TGSREQGenerateAndExchange(sname, tgt.crealm, tgt.ticket, tgt.key, false)
		return err
	})
	if err != nil {
		return nil, classify("requesting a service ticket for "+spn, err)
	}
	st := &serviceTicket{ticket: rep.Ticket, key: rep.DecryptedEncPart.Key, times: kdcTimes(rep.DecryptedEncPart), cname: tgt.cname, crealm: tgt.crealm}
	c.services[spn] = st
	return st, nil
}

func kdcTimes(p messages.EncKDCRepPart) ticketTimes {
	return ticketTimes{auth: p.AuthTime, start: p.StartTime, end: p.EndTime, renewTill: p.RenewTill}
}

func stat(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}, nil
}

// kdcAttempts bounds how often one exchange is tried when the KDC does not
// answer: a KDC restarting or starved of CPU for a few seconds must not fail
// a scan that has time left. AS and TGS requests are idempotent.
const kdcAttempts = 3

// kdcRetryPause is the wait between two attempts.
var kdcRetryPause = time.Second

// blocking runs a gokrb5 network exchange, which takes no context, so that
// the caller returns when ctx ends. gokrb5 bounds each KDC attempt itself
// (5-second dial and I/O deadlines), so an abandoned exchange ends soon. An
// exchange that could not reach the KDC is tried again, up to kdcAttempts
// times, while ctx lasts; any answer of the KDC, even an error, is final.
func blocking(ctx context.Context, exchange func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		done := make(chan error, 1)
		go func() { done <- exchange() }()
		select {
		case err = <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err == nil || attempt == kdcAttempts || !IsKind(classify("", err), KindKDCUnreachable) {
			return err
		}
		select {
		case <-time.After(kdcRetryPause):
		case <-ctx.Done():
			return err
		}
	}
}
