package daemon

import (
	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/inventory"
)

// History keeps what the daemon saw across restarts; *state.Store (through
// cmd's adapter) implements it.
type History interface {
	// Record journals what snap shows against the last recorded scan and
	// returns findings with FirstSeen set. On error it still returns the
	// findings, dated as well as it can, and nothing it committed before
	// is lost.
	Record(snap *inventory.Snapshot, findings []audit.Finding, mode inventory.ScanMode) ([]audit.Finding, error)
}

// record hands a successful scan to the history. A failure there is
// counted (stage state) and logged, and never stops the audit or the
// metrics: the findings are published either way.
func (d *Daemon) record(snap *inventory.Snapshot, findings []audit.Finding, mode inventory.ScanMode) []audit.Finding {
	if d.cfg.History == nil {
		return findings
	}
	dated, err := d.cfg.History.Record(snap, findings, mode)
	if err != nil {
		d.cfg.Sink.CountFailure(mode, StageState)
		d.cfg.Logger.Error("recording history failed; the audit and the metrics go on", "mode", mode, "stage", StageState, "err", err)
	}
	if len(dated) != len(findings) { // a broken implementation must not drop findings
		return findings
	}
	return dated
}
