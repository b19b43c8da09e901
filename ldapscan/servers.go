package ldapscan

import (
	"errors"
	"slices"
)

// ServerStatus is whether a server answered a scan: connected and bound,
// or a kept connection reused. A server that answered and then failed a
// search is up; the scan error says what failed.
type ServerStatus struct {
	Server        string // URL: an ldap.urls entry, or the Global Catalog derived from one
	GlobalCatalog bool
	Up            bool
}

// serverLog is the servers one scan or poll reached or failed to reach.
type serverLog []ServerStatus

// note records the outcome of a connection; a server noted again (the
// Global Catalog reconnected, a DC retried after a dropped connection)
// keeps its last outcome.
func (l *serverLog) note(server string, gc, up bool) {
	st := ServerStatus{Server: server, GlobalCatalog: gc, Up: up}
	if i := slices.IndexFunc(*l, func(s ServerStatus) bool { return s.Server == server }); i >= 0 {
		(*l)[i] = st
		return
	}
	*l = append(*l, st)
}

// attach gives the servers to the scan's outcome: in the result's Stats,
// or in the error for ServersOf.
func (l serverLog) attach(res *Result, err error) (*Result, error) {
	servers := slices.Clone([]ServerStatus(l))
	if err != nil {
		if len(servers) == 0 {
			return nil, err
		}
		return nil, &ServersError{Err: err, Servers: servers}
	}
	res.Stats.Servers = servers
	return res, nil
}

// ServersError is a failed scan's error with the servers it reached; it
// reads exactly as the error it wraps.
type ServersError struct {
	Err     error
	Servers []ServerStatus
}

func (e *ServersError) Error() string { return e.Err.Error() }
func (e *ServersError) Unwrap() error { return e.Err }

// ServersOf returns the servers a failed scan or poll connected to, or
// failed to connect to, before it failed; nil when it reached none (a
// Kerberos failure, a cancelled context).
func ServersOf(err error) []ServerStatus {
	var se *ServersError
	if errors.As(err, &se) {
		return se.Servers
	}
	return nil
}
