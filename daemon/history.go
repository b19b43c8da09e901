package daemon

import (
	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// History keeps what the daemon saw across restarts; *state.Store (through
// cmd's adapter) implements it.
type History interface {
	// Record journals what snap shows against the last recorded scan and
	// returns result's findings with FirstSeen set. On error it still
	// returns the findings, dated as well as it can, and nothing it
	// committed before is lost.
	//
	// Ownership (issue 9: a poll that changed k objects costs the history
	// O(k)): when snap and result say how they were made from the last
	// snapshot and findings it recorded (ChangeFrom), Record dates the
	// findings the change added IN PLACE, in result.Findings, and returns
	// that very slice: the daemon hands over the fresh findings of its
	// audit, which nothing else holds yet. Record never writes a finding
	// that already carries a FirstSeen, so a result already published (a
	// poll that reuses the last audit) may be recorded again. Otherwise it
	// returns the findings dated in a new slice. The daemon publishes the
	// returned findings and audits the next poll from them (lastState), so
	// that the next result's change is from the findings Record returned.
	Record(snap *inventory.Snapshot, result audit.Result, mode inventory.ScanMode) ([]audit.Finding, error)
}

// record hands a successful scan to the history. A failure there is
// counted (stage state) and logged, and never stops the audit or the
// metrics: the findings are published either way.
func (d *Daemon) record(snap *inventory.Snapshot, result audit.Result, mode inventory.ScanMode) []audit.Finding {
	findings := result.Findings
	if d.cfg.History == nil {
		return findings
	}
	dated, err := d.cfg.History.Record(snap, result, mode)
	if err != nil {
		d.cfg.Sink.CountFailure(mode, StageState)
		d.cfg.Logger.Error("recording history failed; the audit and the metrics go on", "mode", mode, "stage", StageState, "err", err)
	}
	if len(dated) != len(findings) { // a broken implementation must not drop findings
		return findings
	}
	return dated
}
