// Package e2e holds spnaudit's end-to-end tests and benchmarks against the
// lab domain controller: the built `spnaudit serve` as a subprocess, a real
// Prometheus and Alertmanager, and a TCP proxy that cuts or refuses the LDAP
// connection. They live in their own package so that they do not slow the
// others' tests.
//
//	go test -v ./e2e                                    # tests, with latencies
//	go test -run '^$' -bench . ./e2e                    # scan benchmark (seeds 20,000 objects once)
package e2e
