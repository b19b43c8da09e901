package hostdns

import (
	"context"
	"errors"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// zone is what the test DNS server answers, by lower-case FQDN.
type zone struct {
	addrs    map[string]string // name -> IPv4 address (TTL 60)
	servfail map[string]bool   // names answered SERVFAIL
	silent   map[string]bool   // names never answered (the client times out)
	nodata   map[string]bool   // names that exist with no address (NOERROR, empty)
	queries  atomic.Int64
}

// startServer runs a real DNS server on a loopback UDP port and returns its
// address.
func startServer(t *testing.T, z *zone) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	soa := func(name string) dns.RR {
		rr, _ := dns.NewRR("corp.test. 300 IN SOA ns.corp.test. admin.corp.test. 1 3600 600 86400 30")
		return rr
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, req *dns.Msg) {
		z.queries.Add(1)
		q := req.Question[0]
		name := dns.CanonicalName(q.Name)
		name = name[:len(name)-1]
		m := new(dns.Msg)
		m.SetReply(req)
		switch {
		case z.silent[name]:
			return
		case z.servfail[name]:
			m.Rcode = dns.RcodeServerFailure
		case z.addrs[name] != "":
			if q.Qtype == dns.TypeA {
				rr, _ := dns.NewRR(name + ". 60 IN A " + z.addrs[name])
				m.Answer = append(m.Answer, rr)
			} else {
				m.Ns = append(m.Ns, soa(name))
			}
		case z.nodata[name]:
			m.Ns = append(m.Ns, soa(name))
		default:
			m.Rcode = dns.RcodeNameError
			m.Ns = append(m.Ns, soa(name))
		}
		_ = w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: mux}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newZone() *zone {
	return &zone{
		addrs:    map[string]string{"web.corp.test": "192.0.2.10", "app.corp.test": "192.0.2.11"},
		servfail: map[string]bool{"broken.corp.test": true},
		silent:   map[string]bool{"slow.corp.test": true},
		nodata:   map[string]bool{"mx-only.corp.test": true},
	}
}

func TestResolveKeepsTheThreeAnswersApart(t *testing.T) {
	server := startServer(t, newZone())
	r, err := New(Config{Servers: []string{server}, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Resolve(context.Background(),
		[]string{"web.corp.test", "gone.corp.test", "mx-only.corp.test", "broken.corp.test", "slow.corp.test", "app", "nothing"},
		[]string{"corp.test"})
	if err != nil {
		t.Fatal(err)
	}
	want := Answers{
		Resolves: map[string]bool{"web.corp.test": true, "app": true, "gone.corp.test": false, "mx-only.corp.test": false, "nothing": false},
		Failed:   []string{"broken.corp.test", "slow.corp.test"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Resolve:\n got %+v\nwant %+v", got, want)
	}
}

func TestSingleLabelWithoutSearchDomainIsNotADefiniteNo(t *testing.T) {
	r, err := New(Config{Servers: []string{startServer(t, newZone())}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Resolve(context.Background(), []string{"web"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Resolves) != 0 || !reflect.DeepEqual(got.Failed, []string{"web"}) {
		t.Errorf("a single label with nothing to qualify it with must fail, got %+v", got)
	}
}

func TestAnswersAreCachedForTheirTTL(t *testing.T) {
	z := newZone()
	server := startServer(t, z)
	clk := &clock{t: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}
	r, err := New(Config{Servers: []string{server}, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	hosts := []string{"web.corp.test", "gone.corp.test", "broken.corp.test"}
	resolve := func() int64 {
		before := z.queries.Load()
		if _, err := r.Resolve(context.Background(), hosts, nil); err != nil {
			t.Fatal(err)
		}
		return z.queries.Load() - before
	}
	// web: A (positive, TTL 60); gone: A (NXDOMAIN, negative TTL min(300, 30)
	// = 30); broken: A SERVFAIL, never cached.
	if n := resolve(); n != 3 {
		t.Fatalf("first resolution asked %d queries, want 3", n)
	}
	clk.add(20 * time.Second)
	if n := resolve(); n != 1 {
		t.Errorf("within both TTLs: %d queries, want 1 (only the failed name is asked again)", n)
	}
	clk.add(15 * time.Second) // 35 s: the negative answer (30 s) expired, the positive (60 s) not
	if n := resolve(); n != 2 {
		t.Errorf("after the negative TTL: %d queries, want 2", n)
	}
	clk.add(30 * time.Second) // 65 s: both expired
	if n := resolve(); n != 3 {
		t.Errorf("after both TTLs: %d queries, want 3", n)
	}
}

func TestFailsOverToTheNextServer(t *testing.T) {
	bad := newZone()
	bad.servfail = map[string]bool{"web.corp.test": true}
	r, err := New(Config{Servers: []string{startServer(t, bad), startServer(t, newZone())}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Resolve(context.Background(), []string{"web.corp.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Resolves["web.corp.test"] || len(got.Failed) != 0 {
		t.Errorf("second server's answer not used: %+v", got)
	}
}

func TestDeadlineDuringResolutionIsAnError(t *testing.T) {
	r, err := New(Config{Servers: []string{startServer(t, newZone())}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = r.Resolve(ctx, []string{"web.corp.test", "slow.corp.test"}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Resolve past its deadline: err = %v, want DeadlineExceeded", err)
	}
}
