package inventory

// ScanMode says how a snapshot was read: a full read of the directory or an
// incremental, change-driven poll merged into the previous snapshot. It is the
// one mode type: ldapscan reports it in its Stats, the daemon schedules by it
// and metrics labels its series with it, so it lives here, below all three.
type ScanMode string

const (
	FullScan        ScanMode = "full"
	IncrementalScan ScanMode = "incremental"
)

// ScanModes lists every mode, for pre-initialised series.
var ScanModes = []ScanMode{FullScan, IncrementalScan}
