// Package hostdns answers, for audit.resolve_dns, whether the host names of
// SPNs that nothing in the directory vouches for exist in DNS. It keeps three
// answers apart, because only one of them may make a ghost-spn finding: a
// definite "no such host" (NXDOMAIN or no address records for every name
// tried), "resolves", and "could not tell" (a timeout, SERVFAIL, a refused or
// unreachable server). Answers are cached for their DNS TTL (RFC 2308 for the
// negative ones), so a daemon polling every 15 s does not ask again.
//
// Go's net.Resolver hides both the TTL and the difference between a server
// failure and an absent name behind one error, so this package speaks DNS
// itself through github.com/miekg/dns.
package hostdns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Config configures a Resolver. The zero value asks the servers of
// /etc/resolv.conf.
type Config struct {
	// Servers are the DNS servers to ask, "host" or "host:port", in order;
	// empty means the nameservers of /etc/resolv.conf.
	Servers []string
	// Timeout bounds one query to one server; 0 means 3 s.
	Timeout time.Duration
	// MaxTTL caps how long an answer is kept; 0 means one hour.
	MaxTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Answers is the outcome of one Resolve.
type Answers struct {
	// Resolves maps every host that got a definite answer to true when it has
	// an address and to false when DNS said it has none.
	Resolves map[string]bool
	// Failed lists the hosts DNS could not answer for (sorted): neither
	// resolving nor absent, so a caller must not report them as ghosts.
	Failed []string
}

// Resolver looks host names up with a TTL cache. It is safe for concurrent
// use.
type Resolver struct {
	servers []string
	search  []string // from resolv.conf when Config.Servers is empty
	client  *dns.Client
	tcp     *dns.Client
	maxTTL  time.Duration
	now     func() time.Time

	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	resolves bool
	expires  time.Time
}

// New returns a resolver for cfg, reading /etc/resolv.conf when no server is
// configured.
func New(cfg Config) (*Resolver, error) {
	r := &Resolver{maxTTL: cfg.MaxTTL, now: cfg.Now, cache: make(map[string]entry)}
	if r.maxTTL <= 0 {
		r.maxTTL = time.Hour
	}
	if r.now == nil {
		r.now = time.Now
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	r.client = &dns.Client{Net: "udp", Timeout: timeout}
	r.tcp = &dns.Client{Net: "tcp", Timeout: timeout}
	servers := cfg.Servers
	if len(servers) == 0 {
		conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			return nil, fmt.Errorf("audit.resolve_dns: cannot read /etc/resolv.conf (%v); set audit.dns_servers", err)
		}
		for _, s := range conf.Servers {
			servers = append(servers, net.JoinHostPort(s, conf.Port))
		}
		r.search = conf.Search
	}
	for _, s := range servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			s = net.JoinHostPort(s, "53")
		}
		r.servers = append(r.servers, s)
	}
	if len(r.servers) == 0 {
		return nil, errors.New("audit.resolve_dns: no DNS server in /etc/resolv.conf; set audit.dns_servers")
	}
	return r, nil
}

// maxParallel bounds the lookups under way at once.
const maxParallel = 16

// Resolve answers for every host. A name without a dot is tried under each
// suffix of search (the forest's domains, say) and of resolv.conf's search
// list; a name with a dot is tried as it is. It returns an error only when
// ctx ended before every host had an answer or a failure: the caller's
// deadline passed, and the answers are incomplete.
func (r *Resolver) Resolve(ctx context.Context, hosts []string, search []string) (Answers, error) {
	out := Answers{Resolves: make(map[string]bool, len(hosts))}
	suffixes := r.suffixes(search)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxParallel)
	for _, h := range hosts {
		if ended(ctx) != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resolves, err := r.host(ctx, h, suffixes)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				out.Failed = append(out.Failed, h)
				return
			}
			out.Resolves[h] = resolves
		}()
	}
	wg.Wait()
	if err := ended(ctx); err != nil {
		return Answers{}, fmt.Errorf("DNS resolution of %d host names did not finish: %w", len(hosts), err)
	}
	slices.Sort(out.Failed)
	return out, nil
}

// ended reports whether ctx is over. A read that timed out at ctx's deadline
// can return a moment before ctx's own timer fires, so a passed deadline
// counts too: the failures it caused are the deadline's, not the DNS's.
func ended(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

func (r *Resolver) suffixes(search []string) []string {
	var out []string
	for _, s := range append(slices.Clone(search), r.search...) {
		s = strings.Trim(strings.ToLower(s), ".")
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// host answers for one host: it resolves when any name tried has an
// address, does not when every name definitely has none, and fails
// otherwise.
func (r *Resolver) host(ctx context.Context, host string, suffixes []string) (bool, error) {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	names := []string{host}
	if !strings.Contains(host, ".") {
		names = names[:0]
		for _, s := range suffixes {
			names = append(names, host+"."+s)
		}
		if len(names) == 0 {
			return false, fmt.Errorf("%s: a single-label name and no search domain", host)
		}
	}
	var failure error
	for _, name := range names {
		resolves, err := r.name(ctx, name)
		switch {
		case err != nil:
			failure = err
		case resolves:
			return true, nil
		}
	}
	return false, failure
}

// name answers for one fully qualified name, from the cache when fresh.
func (r *Resolver) name(ctx context.Context, name string) (bool, error) {
	now := r.now()
	r.mu.Lock()
	e, ok := r.cache[name]
	r.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.resolves, nil
	}
	resolves := false
	ttl := r.maxTTL
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		res, qttl, err := r.query(ctx, dns.Fqdn(name), qtype)
		if err != nil {
			return false, err
		}
		ttl = min(ttl, qttl)
		if res == hasAddress {
			resolves = true
		}
		if res != noData {
			break // an address, or no such name: AAAA cannot change that
		}
	}
	if ttl > 0 {
		r.mu.Lock()
		r.cache[name] = entry{resolves: resolves, expires: now.Add(ttl)}
		r.mu.Unlock()
	}
	return resolves, nil
}

// result is a definite answer to one query.
type result int

const (
	hasAddress result = iota // an address of the type asked for
	noData                   // the name exists without one (NOERROR, empty)
	noName                   // NXDOMAIN
)

// query asks the servers in turn for one name and type until one gives a
// definite answer, and says how long that answer holds.
func (r *Resolver) query(ctx context.Context, fqdn string, qtype uint16) (result, time.Duration, error) {
	m := new(dns.Msg)
	m.SetQuestion(fqdn, qtype)
	m.RecursionDesired = true
	var errs []error
	for _, server := range r.servers {
		resp, _, err := r.client.ExchangeContext(ctx, m, server)
		if err == nil && resp.Truncated {
			resp, _, err = r.tcp.ExchangeContext(ctx, m, server)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s at %s: %w", fqdn, dns.TypeToString[qtype], server, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		switch resp.Rcode {
		case dns.RcodeSuccess:
			res, ttl := answer(resp, qtype, r.maxTTL)
			return res, ttl, nil
		case dns.RcodeNameError:
			return noName, negativeTTL(resp), nil
		default:
			errs = append(errs, fmt.Errorf("%s %s at %s: %s", fqdn, dns.TypeToString[qtype], server, dns.RcodeToString[resp.Rcode]))
		}
	}
	return 0, 0, errors.Join(errs...)
}

// answer reads a NOERROR response: an address of qtype (after any CNAME
// chain the server followed) means the name resolves, for the smallest TTL
// of the records that say so; none is NODATA, negative as NXDOMAIN is.
func answer(resp *dns.Msg, qtype uint16, maxTTL time.Duration) (result, time.Duration) {
	ttl := maxTTL
	has := false
	for _, rr := range resp.Answer {
		h := rr.Header()
		if h.Rrtype != qtype && h.Rrtype != dns.TypeCNAME {
			continue
		}
		ttl = min(ttl, time.Duration(h.Ttl)*time.Second)
		has = has || h.Rrtype == qtype
	}
	if !has {
		return noData, negativeTTL(resp)
	}
	return hasAddress, ttl
}

// negativeTTL is how long a negative answer may be cached (RFC 2308 section
// 5): the smaller of the SOA record's TTL and its MINIMUM field; without an
// SOA, not at all.
func negativeTTL(resp *dns.Msg) time.Duration {
	for _, rr := range resp.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
		}
	}
	return 0
}
