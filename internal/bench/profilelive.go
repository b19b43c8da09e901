package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spnaudit/spnaudit/krb"
	"github.com/spnaudit/spnaudit/lab"
	"github.com/spnaudit/spnaudit/ldapscan"
)

const profileLiveArg = "profile-live"

// profileLiveMain reads the lab DC's OU=Bulk as `spnaudit inventory` does
// (keytab, sealed GSSAPI) and says where the time goes: the Kerberos
// login, what comes before the first page of the inventory (connect, bind,
// rootDSE, the configuration and DNS reads), the pages, and the client's
// CPU, with an optional CPU profile:
//
//	go run ./internal/bench profile-live -cpu live.out && go tool pprof -top live.out
func profileLiveMain(args []string) int {
	fs := flag.NewFlagSet(profileLiveArg, flag.ExitOnError)
	base := fs.String("base", lab.BulkOU, "base DN")
	cpu := fs.String("cpu", "", "write a CPU profile of the scan here")
	_ = fs.Parse(args)
	l := lab.New(io.Discard)
	kc, err := krb.New(krb.Config{Realm: lab.Realm, Principal: lab.AuditUser, KeytabFile: l.Keytab(), Krb5ConfFile: l.Krb5Conf()}, nil)
	if err != nil {
		return exit(err)
	}
	ctx := context.Background()
	t0 := time.Now()
	if err := kc.Login(ctx); err != nil {
		return exit(err)
	}
	login := time.Since(t0)
	var start time.Time
	var pageAt []time.Duration
	sc, err := ldapscan.New(ldapscan.Config{
		URLs: []string{lab.LDAPURL()}, BaseDN: *base, Timeout: 2 * time.Minute,
		Logger:   slog.New(slog.DiscardHandler),
		Progress: func(ldapscan.Progress) { pageAt = append(pageAt, time.Since(start)) },
	}, ldapscan.Kerberos{Client: kc})
	if err != nil {
		return exit(err)
	}
	defer sc.Close()
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			return exit(err)
		}
		defer f.Close()
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start = time.Now()
	res, err := sc.Scan(ctx)
	if err != nil {
		return exit(err)
	}
	total := time.Since(start)
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpuUsed := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
	first := time.Duration(0)
	if len(pageAt) > 0 {
		first = pageAt[0]
	}
	last := first
	if len(pageAt) > 0 {
		last = pageAt[len(pageAt)-1]
	}
	fmt.Printf("login %v; scan %v: first inventory page after %v (connect, bind, rootDSE, configuration, DNS and the DC's first page), "+
		"last page after %v, %d pages, %d objects, %d SPNs, %d naming contexts; client CPU %v\n",
		login.Round(time.Millisecond), total.Round(time.Millisecond), first.Round(time.Millisecond), last.Round(time.Millisecond), len(pageAt),
		len(res.Snapshot.Objects), res.Snapshot.SPNCount(), res.Stats.NamingContexts, cpuUsed.Round(time.Millisecond))
	return 0
}
