package ldapscan

import (
	"errors"
	"fmt"
)

// Stage names the step of a scan that failed, so failures can be counted by
// stage (spnaudit_scan_failures_total{stage}).
type Stage string

const (
	StageConnect Stage = "connect" // TCP, TLS, StartTLS
	StageBind    Stage = "bind"    // authentication, SASL security layer
	StageRootDSE Stage = "rootdse" // reading the rootDSE or the DC's identity
	StageConfig  Stage = "config"  // partitions, directory service settings, DNS zones
	StageSearch  Stage = "search"  // the SPN inventory or change searches
	StageRange   Stage = "range"   // AD range retrieval of a multi-valued attribute
	// StageReferral: the server answered a search of a naming context in
	// scope with a referral (it does not hold that naming context); the scan
	// would miss its objects, so it fails instead.
	StageReferral Stage = "referral"
)

// Error is a failed scan: where it failed, against which server, and why.
type Error struct {
	Stage  Stage
	Server string // URL of the server, empty when none was reached
	Err    error
}

func (e *Error) Error() string {
	if e.Server == "" {
		return fmt.Sprintf("ldap %s: %v", e.Stage, e.Err)
	}
	return fmt.Sprintf("ldap %s %s: %v", e.Stage, e.Server, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// StageOf returns the stage of a scan error, or "" when err is not a scan
// error (for example a cancelled context before any network call).
func StageOf(err error) Stage {
	var se *Error
	if errors.As(err, &se) {
		return se.Stage
	}
	return ""
}

// stageError wraps err with its stage unless it already carries one, so the
// innermost (most precise) stage wins.
func stageError(stage Stage, server string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	return &Error{Stage: stage, Server: server, Err: err}
}
