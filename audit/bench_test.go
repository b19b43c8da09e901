package audit

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/spnaudit/spnaudit/inventory"
)

// syntheticForest builds a forest of the given number of accounts holding
// four SPNs each, shaped like a large real one: 96% computers (HOST and
// RestrictedKrbHost in both name forms) spread over four domains, 4% service
// accounts (SQL and web SPNs for machines and VIPs in DNS), with a sprinkle of
// every problem the rules look for: 1% of service accounts in duplicate
// pairs, one duplicate held by 10% of them (1,000 at 1M SPNs), 1% taking a node's HTTP alias,
// 0.5% ghosts, 0.1% malformed, 30% without AES, stale passwords, disabled
// accounts and unconstrained delegation.
func syntheticForest(accounts int) *inventory.Snapshot {
	domains := []string{"corp.example.test", "eu.corp.example.test", "us.corp.example.test", "lab.corp.example.test"}
	computers := accounts * 96 / 100
	users := accounts - computers
	snap := &inventory.Snapshot{
		Directory: inventory.Directory{ForestDNS: domains[0], Domains: domains, SPNMappings: defaultSPNMappings},
		Objects:   inventory.Pointers(make([]inventory.Object, 0, accounts)),
		Started:   testNow,
	}
	aes := ptr(inventory.EncRC4HMAC | inventory.EncAES128 | inventory.EncAES256)
	// Passwords older than 600 days predate the domains' AES support.
	snap.Directory.AESThresholds = map[string]time.Time{}
	for _, d := range domains {
		snap.Directory.AESThresholds[d] = testNow.AddDate(0, 0, -600)
	}
	fqdn := func(i int) string { return "srv" + strconv.Itoa(i) + "." + domains[i%len(domains)] }
	snap.Directory.DNSNames = make([]string, 0, computers+users)
	for i := range computers {
		name := "SRV" + strconv.Itoa(i)
		d := domains[i%len(domains)]
		o := inventory.Object{
			DN:                       "CN=" + name + ",OU=Servers," + dcComponents(d),
			Domain:                   d,
			SAMAccountName:           name + "$",
			Kind:                     inventory.KindComputer,
			UserAccountControl:       inventory.UACWorkstationTrustAccount,
			DNSHostName:              fqdn(i),
			SupportedEncryptionTypes: aes,
			PwdLastSet:               testNow.AddDate(0, 0, -i%30),
			SPNs:                     []string{"HOST/" + name, "HOST/" + fqdn(i), "RestrictedKrbHost/" + name, "RestrictedKrbHost/" + fqdn(i)},
		}
		switch {
		case i%1000 == 7:
			o.UserAccountControl |= inventory.UACTrustedForDelegation
		case i%500 == 3:
			o.UserAccountControl |= inventory.UACAccountDisable
		}
		snap.Objects = append(snap.Objects, new(o))
		snap.Directory.DNSNames = append(snap.Directory.DNSNames, fqdn(i))
	}
	for i := range users {
		d := domains[i%len(domains)]
		sam := "svc_" + strconv.Itoa(i)
		app := "app" + strconv.Itoa(i)
		snap.Directory.DNSNames = append(snap.Directory.DNSNames, app+"."+d)
		host := fqdn(i % computers)
		o := inventory.Object{
			DN:                       "CN=" + sam + ",OU=Service Accounts," + dcComponents(d),
			Domain:                   d,
			SAMAccountName:           sam,
			Kind:                     inventory.KindUser,
			UserAccountControl:       0x200,
			SupportedEncryptionTypes: ptr(inventory.EncAES128 | inventory.EncAES256),
			PwdLastSet:               testNow.AddDate(0, 0, -i%700),
			SPNs:                     []string{"MSSQLSvc/" + host + ":1433", "MSSQLSvc/" + host, "HTTP/" + app, "HTTP/" + app + "." + d},
		}
		switch {
		case i%10 == 9:
			o.SPNs[2] = "HTTP/shared.corp.example.test" // one group held by 10% of service accounts
		case i%100 == 1:
			o.SPNs[2] = "HTTP/app" + strconv.Itoa(i-1) // duplicates the previous account's
		case i%100 == 2:
			o.SPNs[2] = "HTTP/SRV" + strconv.Itoa(i%computers) // takes the node's HOST alias
		case i%200 == 3:
			o.SPNs[2] = "HTTP/gone" + strconv.Itoa(i)
		case i%1000 == 4:
			o.SPNs[2] = "HTTP/app" + strconv.Itoa(i) + "\u200b"
		}
		if i%10 < 3 {
			o.SupportedEncryptionTypes = nil
		}
		if i%10 == 3 { // an RC4 exception
			o.SupportedEncryptionTypes = ptr(inventory.EncRC4HMAC)
		}
		if i%250 == 5 {
			o.UserAccountControl |= inventory.UACAccountDisable
		}
		snap.Objects = append(snap.Objects, new(o))
	}
	return snap
}

// heapSampler records the largest heap (bytes in live and unswept objects)
// seen while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done sync.WaitGroup
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{stop: make(chan struct{})}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > s.peak.Load() {
				s.peak.Store(v)
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) Stop() uint64 {
	close(s.stop)
	s.done.Wait()
	return s.peak.Load()
}

const mib = 1 << 20

// processCPU is the user and system CPU time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRun runs every rule over synthetic forests of 100k and 1M SPNs.
// Run it on one core: go test -run '^$' -bench Run -cpu 1 ./audit/
// Besides ns/op it reports: findings per run; cpu-s/op, the CPU time the
// process used per run (GC included), which a busy machine inflates less than
// wall time; snapshot-MiB, the live heap of
// the inventory before the audit; alloc-MiB/op, what one Run allocates (an
// upper bound on what it adds to the heap); peak-heap-MiB, the largest heap
// (inventory included) sampled every millisecond while the audits ran.
func BenchmarkRun(b *testing.B) {
	for _, tc := range []struct {
		accounts int
		memLimit int64 // 0: the process default
	}{
		{accounts: 25_000},
		{accounts: 250_000},
		// A daemon holding a large inventory sets a memory limit; this shows
		// the audit fits under 300 MiB with the inventory.
		{accounts: 250_000, memLimit: 300 * mib},
	} {
		snap := syntheticForest(tc.accounts)
		name := fmt.Sprintf("accounts=%d/spns=%d", tc.accounts, snap.SPNCount())
		if tc.memLimit > 0 {
			name += fmt.Sprintf("/memlimit=%dMiB", tc.memLimit/mib)
		}
		b.Run(name, func(b *testing.B) {
			if tc.memLimit > 0 {
				defer debug.SetMemoryLimit(debug.SetMemoryLimit(tc.memLimit))
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpuBefore := processCPU(b)
			sampler := startHeapSampler()
			var res Result
			for b.Loop() {
				res = Run(snap, Config{})
			}
			peak := sampler.Stop()
			cpu := processCPU(b) - cpuBefore
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(len(res.Findings)), "findings")
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(before.HeapAlloc)/mib, "snapshot-MiB")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/mib/float64(b.N), "alloc-MiB/op")
			b.ReportMetric(float64(peak)/mib, "peak-heap-MiB")
		})
	}
}

// TestSyntheticForestExercisesEveryRule keeps the benchmark honest: the
// forest it measures must make the rules work, not skip.
func TestSyntheticForestExercisesEveryRule(t *testing.T) {
	snap := syntheticForest(25_000)
	if n := snap.SPNCount(); n != 100_000 {
		t.Fatalf("%d SPNs, want 100000", n)
	}
	res := Run(snap, Config{})
	count := make(map[string]int)
	var biggest int
	for _, f := range res.Findings {
		count[f.Rule]++
		if f.Rule == RuleDuplicateSPN {
			biggest = max(biggest, len(f.Accounts))
		}
	}
	for _, id := range []string{RuleDuplicateSPN, RuleHostAliasConflict, RuleGhostSPN, RuleMalformedSPN,
		RuleKerberoastableAccount, RuleWeakEncryption, RuleUnconstrainedDelegation, RuleDisabledAccountSPN,
		RuleMissingAESKeys} {
		if count[id] == 0 {
			t.Errorf("no %s finding in the synthetic forest", id)
		}
	}
	if biggest != 100 {
		t.Errorf("largest duplicate group has %d holders, want 100", biggest)
	}
	t.Logf("findings by rule: %v", count)
}
